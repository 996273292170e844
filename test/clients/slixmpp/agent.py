"""A slixmpp client driven line by line from stdin, for the scenarios where
slixmpp and xmpp.js talk to each other (the Go harness sequences both).

usage: agent.py ADDR FULLJID [--sm] [--direct-tls] [--mam] [--pep] [--muc] [--jmi]   (password in $PASSWORD)

Commands (JSON lines on stdin):
  {"cmd":"send","xml":"<message to='..'>...</message>"}  sent as a slixmpp
        stanza (through the send queue, so XEP-0198 counts it)
  {"cmd":"iq","xml":"<iq type='get' ...>...</iq>"}  waits for the answer:
        {"event":"iq_result"|"iq_error",...}
  {"cmd":"roster"}            get_roster(): {"event":"roster",...}
  {"cmd":"last","jid":J}      xep_0012 get_last_activity(J):
        {"event":"last","seconds":N,"status":S} or {"event":"last_error","condition":C}
  {"cmd":"publish_avatar","id":H,"bytes":N}  xep_0084 publish_avatar_metadata
        (--pep): {"event":"published","id":H} or {"event":"publish_error","condition":C}
  {"cmd":"csi","state":"inactive"|"active"}  xep_0352 send_inactive/send_active:
        {"event":"csi","state":S,"enabled":B} (enabled: the server offered <csi/>)
  {"cmd":"mam","max":N,"after":ID,"before":ID,"with":J}  one page of the
        account's archive through the xep_0313 plugin's stanzas (--mam);
        "before":"" asks for the last page: {"event":"mam_page","ids":[..],
        "bodies":[..],"stanza_ids":[..],"count":N,"first":ID,"first_index":N,
        "last":ID,"complete":B} or {"event":"mam_error","condition":C}
        "to": a room's address queries the room's archive instead
  {"cmd":"join","room":R,"nick":N}  xep_0045 join_muc_wait (--muc), no
        history: {"event":"joined","nick":N,"codes":[..],"subject":S,
        "occupants":[..]} or {"event":"join_error","condition":C}
  {"cmd":"muc_send","room":R,"body":B,"id":ID}  a groupchat message
  {"cmd":"configure","room":R}  xep_0045 get_room_config, then the form
        submitted as it came: {"event":"configured"} or {"event":"config_error",...}
  {"cmd":"affiliation","room":R,"jid":J,"affiliation":A}  xep_0045
        set_affiliation: {"event":"affiliation_set"} or {"event":"affiliation_error",...}
  {"cmd":"leave","room":R,"nick":N}  xep_0045 leave_muc
  {"cmd":"jmi","action":"propose"|"retract"|"accept"|"proceed"|"reject","to":J,"sid":S,
        "media":"audio"}  a Jingle Message Initiation message through the
        xep_0353 plugin (--jmi): {"event":"jmi_sent","action":A}
  {"cmd":"request_ack"}       XEP-0198 <r/>
  {"cmd":"quit"}              graceful </stream:stream>, exit 0
  {"cmd":"drop"}              abort the TCP connection, exit 0
Events (JSON lines on stdout): ready, stanza (every incoming message,
presence and iq, bodiless ones included), acked, sm_enabled, stream_error,
disconnected, fail.
"""
import argparse
import asyncio
import json
import sys

from slixmpp.exceptions import IqError, IqTimeout, PresenceError
from slixmpp.stanza import Iq, Message, Presence
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from common import (TIMEOUT, emit, env, fail, make_client, must_connect, parse_addr,
                    record_all, request_ack, summarize)

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("jid")
ap.add_argument("--sm", action="store_true")
ap.add_argument("--direct-tls", action="store_true")
ap.add_argument("--mam", action="store_true")
ap.add_argument("--muc", action="store_true", help="xep_0045 multi-user chat")
ap.add_argument("--jmi", action="store_true", help="xep_0353 Jingle Message Initiation")
ap.add_argument("--pep", action="store_true",
                help="xep_0115 caps, xep_0163 PEP and xep_0084 avatars (+notify for avatar metadata); "
                     "emits avatar_metadata events")
args = ap.parse_args()

KINDS = {"message": Message, "presence": Presence, "iq": Iq}


def to_stanza(c, text):
    el = ET.fromstring("<w xmlns='jabber:client'>%s</w>" % text)[0]
    kind = el.tag.split("}", 1)[-1]
    if kind not in KINDS:
        fail("not a stanza: %s" % text)
    return KINDS[kind](stream=c, xml=el)


async def handle(c, cmd):
    op = cmd.get("cmd")
    if op == "send":
        to_stanza(c, cmd["xml"]).send()
        emit("sent", tag=cmd.get("tag"))
    elif op == "iq":
        try:
            res = await to_stanza(c, cmd["xml"]).send(timeout=10)
            emit("iq_result", tag=cmd.get("tag"), **summarize(res))
        except IqError as e:
            emit("iq_error", tag=cmd.get("tag"), condition=e.iq["error"]["condition"], **summarize(e.iq))
        except IqTimeout:
            emit("iq_timeout", tag=cmd.get("tag"))
    elif op == "roster":
        res = await c.get_roster(timeout=10)
        q = res.xml.find("{jabber:iq:roster}query")
        items = [dict(i.attrib) for i in q] if q is not None else []
        emit("roster", items=items, xml=str(res))
    elif op == "last":
        try:
            res = await c["xep_0012"].get_last_activity(cmd["jid"], timeout=10)
            emit("last", seconds=res["last_activity"]["seconds"],
                 status=res["last_activity"]["status"], xml=str(res))
        except IqError as e:
            emit("last_error", condition=e.iq["error"]["condition"], xml=str(e.iq))
        except IqTimeout:
            emit("last_timeout")
    elif op == "csi":
        csi = c["xep_0352"]
        if cmd["state"] == "inactive":
            csi.send_inactive()
        else:
            csi.send_active()
        emit("csi", state=cmd["state"], enabled=csi.enabled)
    elif op == "mam":
        await mam_page(c, cmd)
    elif op == "publish_avatar":
        try:
            await c["xep_0084"].publish_avatar_metadata(
                items=[{"id": cmd["id"], "type": "image/png", "bytes": cmd["bytes"]}], timeout=10)
            emit("published", id=cmd["id"])
        except IqError as e:
            emit("publish_error", condition=e.iq["error"]["condition"], xml=str(e.iq))
    elif op in ("join", "muc_send", "configure", "affiliation", "leave"):
        await muc(c, op, cmd)
    elif op == "jmi":
        jmi = c["xep_0353"]
        if cmd["action"] == "propose":
            jmi.propose(cmd["to"], cmd["sid"], [("urn:xmpp:jingle:apps:rtp:1", cmd.get("media", "audio"))])
        else:
            getattr(jmi, cmd["action"])(cmd["to"], cmd["sid"])
        emit("jmi_sent", action=cmd["action"])
    elif op == "request_ack":
        await request_ack(c)
    elif op == "quit":
        c.disconnect()
        try:
            await asyncio.wait_for(c.disconnected, 5)
        except asyncio.TimeoutError:
            pass
        return False
    elif op == "drop":
        c.abort()
        return False
    else:
        fail("unknown command %r" % cmd)
    return True


async def muc(c, op, cmd):
    """XEP-0045 through slixmpp's xep_0045 plugin."""
    m = c["xep_0045"]
    room = cmd["room"]
    try:
        if op == "join":
            pres, subject, occupants, _ = await m.join_muc_wait(room, cmd["nick"], maxstanzas=0, timeout=10)
            emit("joined", room=room, nick=pres["from"].resource, codes=sorted(pres["muc"]["status_codes"]),
                 subject=subject["subject"], occupants=[str(p["from"]) for p in occupants], xml=str(pres))
        elif op == "muc_send":
            msg = c.make_message(mto=room, mbody=cmd["body"], mtype="groupchat")
            if cmd.get("id"):
                msg["id"] = cmd["id"]
            msg.send()
            emit("sent", tag=cmd.get("tag"))
        elif op == "configure":
            form = await m.get_room_config(room, timeout=10)
            await m.set_room_config(room, form, timeout=10)
            emit("configured", room=room)
        elif op == "affiliation":
            await m.set_affiliation(room, cmd["affiliation"], jid=cmd["jid"], timeout=10)
            emit("affiliation_set", room=room, jid=cmd["jid"])
        elif op == "leave":
            m.leave_muc(room, cmd["nick"])
            emit("left", room=room)
    except PresenceError as e:
        emit("join_error", condition=e.presence["error"]["condition"], xml=str(e.presence))
    except IqError as e:
        emit(op + "_error" if op != "affiliation" else "affiliation_error",
             condition=e.iq["error"]["condition"], xml=str(e.iq))
    except (IqTimeout, asyncio.TimeoutError):
        emit(op + "_timeout")


async def mam_page(c, cmd):
    """One MAM query (XEP-0313) with RSM paging, built with the xep_0313
    plugin's stanza interfaces; results are collected by queryid."""
    iq = c.make_iq_set()
    if cmd.get("to"):
        iq["to"] = cmd["to"]
    qid = iq["id"]
    iq["mam"]["queryid"] = qid
    if cmd.get("with"):
        iq["mam"]["with"] = cmd["with"]
    iq["mam"]["rsm"]["max"] = str(cmd.get("max", 10))
    if cmd.get("after"):
        iq["mam"]["rsm"]["after"] = cmd["after"]
    if "before" in cmd:
        iq["mam"]["rsm"]["before"] = cmd["before"] or True
    results = []

    def collect(msg):
        if msg["mam_result"]["queryid"] == qid:
            results.append(msg)

    name = "mam-" + qid
    c.register_handler(Callback(name, MatchXPath("{jabber:client}message/{urn:xmpp:mam:2}result"), collect))
    try:
        res = await iq.send(timeout=10)
    except IqError as e:
        emit("mam_error", condition=e.iq["error"]["condition"], xml=str(e.iq))
        return
    finally:
        c.remove_handler(name)
    rsm = res["mam_fin"]["rsm"]
    fin = res.xml.find("{urn:xmpp:mam:2}fin")
    fwd = [m["mam_result"]["forwarded"]["stanza"] for m in results]
    emit("mam_page", ids=[m["mam_result"]["id"] for m in results],
         bodies=[f["body"] for f in fwd],
         stanza_ids=[(f.xml.find("{urn:xmpp:sid:0}stanza-id").get("id")
                      if f.xml.find("{urn:xmpp:sid:0}stanza-id") is not None else "") for f in fwd],
         count=int(rsm["count"] or -1), first=rsm["first"], first_index=int(rsm["first_index"] or -1),
         last=rsm["last"], complete=fin is not None and fin.get("complete") == "true", xml=str(res))


async def main():
    plugins = ["xep_0012", "xep_0199", "xep_0352"] + (["xep_0198"] if args.sm else []) + (["xep_0313"] if args.mam else [])
    if args.pep:
        plugins += ["xep_0030", "xep_0115", "xep_0163", "xep_0084"]
    if args.muc:
        plugins += ["xep_0030", "xep_0004", "xep_0045"]
    if args.jmi:
        plugins += ["xep_0030", "xep_0353"]
    c = make_client(args.jid, env("PASSWORD"), plugins=plugins)
    record_all(c, "agent", lambda st: emit("stanza", **summarize(st)))
    c.add_event_handler("stream_error", lambda st: emit("stream_error", condition=st["condition"]))
    if args.pep:
        c.add_event_handler("avatar_metadata_publish", lambda msg: emit(
            "avatar_metadata", **{"from": str(msg["from"]), "id": msg["pubsub_event"]["items"]["item"]["id"]}))
    if args.sm:
        c["xep_0198"].window = 1
        c.add_event_handler("sm_enabled", lambda st: emit("sm_enabled", id=st["id"]))
        c.add_event_handler("stanza_acked", lambda st: emit("acked", **summarize(st)))
    await must_connect(c, parse_addr(args.addr), use_ssl=args.direct_tls)
    c.add_event_handler("disconnected", lambda r: emit("disconnected", reason=str(r)))
    emit("ready", jid=str(c.boundjid))

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            c.disconnect()
            await asyncio.sleep(0.2)
            return
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except ValueError:
            fail("bad command line %r" % line)
        if not await asyncio.wait_for(handle(c, cmd), TIMEOUT):
            return


if __name__ == "__main__":
    # no overall deadline: the Go harness ends the agent (stdin EOF / kill)
    try:
        asyncio.run(main())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        fail("unexpected %s: %s" % (type(e).__name__, e))
    sys.stdout.flush()
    import os
    os._exit(0)
