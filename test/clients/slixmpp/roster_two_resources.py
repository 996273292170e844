"""Scenario 3: roster pushes reach both resources of one account.

usage: roster_two_resources.py ADDR USER@DOMAIN CONTACT_JID   (password in $PASSWORD)
Both resources request the roster; resource "one" adds CONTACT_JID; prints a
{"event":"push","resource":...,"item":{...}} line per roster push received.
"""
import argparse

from common import emit, env, fail, make_client, must_connect, parse_addr, run, wait_for

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("bare")
ap.add_argument("contact")
args = ap.parse_args()

RQ = "{jabber:iq:roster}"


async def main():
    addr = parse_addr(args.addr)
    pushes = {"one": [], "two": []}
    clients = {}
    for res in ("one", "two"):
        c = make_client(args.bare + "/" + res, env("PASSWORD"))

        def on_push(iq, res=res):
            q = iq.xml.find(RQ + "query")
            for item in q.findall(RQ + "item") if q is not None else []:
                ev = {"jid": item.get("jid"), "name": item.get("name"),
                      "subscription": item.get("subscription"),
                      "groups": [g.text for g in item.findall(RQ + "group")]}
                pushes[res].append(ev)
                emit("push", resource=res, item=ev, ver=q.get("ver"), xml=str(iq))

        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        c.register_handler(Callback("push-" + res, StanzaPath("iq@type=set/roster"), on_push))
        await must_connect(c, addr)
        roster = await c.get_roster(timeout=10)
        emit("roster_result", resource=res, type=roster["type"], xml=str(roster))
        clients[res] = c

    result = await clients["one"].update_roster(args.contact, name="Bob", groups=["Friends"], timeout=10)
    emit("set_result", type=result["type"])
    await wait_for(lambda: pushes["one"] and pushes["two"], "a roster push on both resources", 10)
    for c in clients.values():
        c.disconnect()


run(main)
