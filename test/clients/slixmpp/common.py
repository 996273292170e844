"""Shared helpers for Parley's slixmpp scenario scripts.

Run with Debian's interpreter (/usr/bin/python3) and python3-slixmpp 1.8.3.
Every script prints JSON lines ({"event": ...}) describing what it observed;
the Go harness (internal/server/realclients_test.go) decides pass/fail.
A script exits non-zero (after printing {"event": "fail", ...}) when it
could not complete its steps, e.g. a timeout.
"""
import asyncio
import json
import os
import ssl
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

TIMEOUT = float(os.environ.get("SCENARIO_TIMEOUT", "20"))


def emit(event, **kw):
    kw = {"event": event, **kw}
    print(json.dumps(kw), flush=True)


def fail(msg):
    emit("fail", error=msg)
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)


def parse_addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def env(name):
    v = os.environ.get(name)
    if v is None:
        fail("environment variable %s is not set" % name)
    return v


# slixmpp 1.8.3 only knows tls-unique channel binding and, over TLS, sends
# the SCRAM gs2 flag "y" (RFC 5802 downgrade detection); a server offering
# SCRAM-*-PLUS with tls-exporter only refuses both. Scenario 1 (login.py)
# tests that interplay; the other scenarios log in with PLAIN so that they
# test what they are about.
DEFAULT_MECH = "PLAIN"


def make_client(jid, password, plugins=(), mech=DEFAULT_MECH, **kw):
    c = slixmpp.ClientXMPP(jid, password, sasl_mech=mech, **kw)
    # Parley's test server uses a self-signed certificate.
    c.ssl_context.check_hostname = False
    c.ssl_context.verify_mode = ssl.CERT_NONE
    for p in plugins:
        c.register_plugin(p)
    # Subscriptions are answered by the scenario, never automatically.
    c.auto_authorize = None
    c.auto_subscribe = False
    return c


def local(tag):
    return tag.split("}", 1)[-1]


def ns(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def summarize(stanza):
    """A JSON-friendly summary of a stanza (slixmpp stanza or ET element)."""
    el = getattr(stanza, "xml", stanza)
    out = {"kind": local(el.tag)}
    for a in ("from", "to", "type", "id"):
        if el.get(a) is not None:
            out[a] = el.get(a)
    body = el.find("{jabber:client}body")
    if body is not None:
        out["body"] = body.text or ""
    status = el.find("{jabber:client}status")
    if status is not None:
        out["status"] = status.text or ""
    out["children"] = ["%s %s" % (ns(c.tag), local(c.tag)) for c in el]
    out["xml"] = str(stanza)
    return out


def record_all(c, name, callback):
    """Calls callback(stanza) for every incoming message, presence and iq,
    including bodiless messages that slixmpp's 'message' event ignores."""
    for kind in ("message", "presence", "iq"):
        c.register_handler(Callback("%s-all-%s" % (name, kind),
                                    MatchXPath("{jabber:client}%s" % kind),
                                    callback))


async def connect(c, address, use_ssl=False, timeout=TIMEOUT):
    """Connects and waits for session_start. Returns ("ok", None) or
    ("failed_auth", condition) or ("disconnected", reason)."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def settle(v):
        if not fut.done():
            fut.set_result(v)

    c.add_event_handler("session_start", lambda _: settle(("ok", None)))
    c.add_event_handler("session_resumed", lambda _: settle(("ok", None)))
    failures = []

    def on_failed_auth(st):
        # slixmpp then tries the next offered mechanism, if any is left
        mech = c["feature_mechanisms"].mech
        failures.append(st["condition"])
        emit("auth_attempt_failed", mechanism=mech.name if mech else None,
             condition=st["condition"], text=st["text"])

    c.add_event_handler("failed_auth", on_failed_auth)
    c.add_event_handler("failed_all_auth", lambda _: settle(("failed_auth", failures[-1] if failures else None)))
    c.add_event_handler("stream_error", lambda st: settle(("stream_error", st["condition"])))
    c.add_event_handler("disconnected", lambda r: settle(("disconnected", str(r))))
    c.add_event_handler("connection_failed", lambda r: settle(("disconnected", str(r))))
    c.connect(address, use_ssl=use_ssl, force_starttls=not use_ssl,
              disable_starttls=use_ssl)
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        fail("timed out after %ss connecting %s to %s" % (timeout, c.requested_jid, address))


async def must_connect(c, address, use_ssl=False):
    res, detail = await connect(c, address, use_ssl)
    if res != "ok":
        fail("%s could not log in: %s %s" % (c.requested_jid, res, detail))


def run(main):
    """Runs main() with an overall deadline."""
    async def guarded():
        try:
            await asyncio.wait_for(main(), TIMEOUT * 2)
        except asyncio.TimeoutError:
            fail("scenario timed out after %ss" % (TIMEOUT * 2))
    try:
        asyncio.run(guarded())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - report anything, never hang
        fail("unexpected %s: %s" % (type(e).__name__, e))
    sys.stdout.flush()
    os._exit(0)


async def wait_for(cond, what, timeout=TIMEOUT):
    """Polls cond() until true or fails the script."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            fail("timed out after %ss waiting for %s" % (timeout, what))
        await asyncio.sleep(0.02)


async def request_ack(c):
    """Sends an XEP-0198 <r/> after every queued stanza was written.

    slixmpp 1.8.3 writes the <r/> of its ack window (send_raw, from the
    out_sync filter) *before* the stanza that triggered it, so the server's
    <a/> never covers the last stanza sent; an explicit <r/> once the send
    queue is empty does."""
    await c.waiting_queue.join()
    c["xep_0198"].request_ack()
