"""Issue 3, in-band registration: slixmpp's xep_0077 registers an account
before authentication (over STARTTLS), then logs in with it, and may change
its password.

usage: register.py ADDR JID [--username NAME] [--new-password PW]
       (password in $PASSWORD; --username overrides the name sent in the
       registration form, to try one the server must refuse)
Prints {"event":"features","register":bool} (was the register stream
feature offered after TLS), {"event":"form","fields":[...]}, then
{"event":"registered"} and {"event":"session_start",...} (and
{"event":"password_changed"}), or {"event":"register_error","condition":C}.
Registration is attempted even when the server does not offer it, which
must then refuse.
"""
import argparse
import asyncio
import logging
import os

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import StreamFeatures
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from common import TIMEOUT, emit, env, fail, make_client, parse_addr, run

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("jid")
ap.add_argument("--username", default=None)
ap.add_argument("--new-password", default=None)
args = ap.parse_args()
if os.environ.get("SLIX_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)


async def main():
    password = env("PASSWORD")
    c = make_client(args.jid, password, plugins=["xep_0077"])
    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    def settle(v):
        if not outcome.done():
            outcome.set_result(v)

    def watch_features(st):
        # the features after STARTTLS carry the SASL mechanisms; slixmpp
        # 1.8.3's force_registration never fires over asyncio STARTTLS, so
        # the feature is forced here when the server does not offer it.
        if isinstance(st, StreamFeatures) and st.xml.find(
                "{urn:ietf:params:xml:ns:xmpp-sasl}mechanisms") is not None:
            offered = st.xml.find("{http://jabber.org/features/iq-register}register") is not None
            emit("features", register=offered)
            if not offered:
                st.enable("register")
            # slixmpp 1.8.3 holds every stanza but bind/session back until
            # the session starts ("NOT SENT"), xep_0077's own form request
            # included; let the registration iqs out before authentication.
            c._always_send_everything = True
        return st

    c.add_filter("in", watch_features)

    def on_iq_error(iq):
        # answers to xep_0077's own form request arrive here too
        if iq["type"] == "error" and iq.xml.find("{jabber:iq:register}query") is not None:
            emit("register_error", condition=iq["error"]["condition"], text=iq["error"]["text"])
            settle("refused")

    c.register_handler(Callback("register-errors", MatchXPath("{jabber:client}iq"), on_iq_error))

    async def on_register(form):
        q = form.xml.find("{jabber:iq:register}query")
        emit("form", fields=[el.tag.split("}")[-1] for el in q] if q is not None else [])
        resp = c.Iq()
        resp["type"] = "set"
        resp["register"]["username"] = args.username if args.username is not None else c.boundjid.user
        resp["register"]["password"] = password
        try:
            await resp.send(timeout=10)
            emit("registered")
        except IqError:
            settle("refused")  # reported by on_iq_error
        except IqTimeout:
            fail("registration timed out")

    c.add_event_handler("register", on_register)
    def on_session_start(_):
        c._always_send_everything = False
        settle("ok")

    c.add_event_handler("session_start", on_session_start)
    c.add_event_handler("failed_all_auth", lambda _: settle("failed_auth"))
    c.add_event_handler("disconnected", lambda r: settle("disconnected"))
    c.connect(parse_addr(args.addr), force_starttls=True)
    try:
        res = await asyncio.wait_for(outcome, TIMEOUT)
    except asyncio.TimeoutError:
        fail("no outcome within %ss" % TIMEOUT)
    if res == "ok":
        emit("session_start", jid=str(c.boundjid))
        if args.new_password:
            await c["xep_0077"].change_password(args.new_password, timeout=10)
            emit("password_changed")
    elif res != "refused":
        emit(res)
    c.abort()


run(main)
