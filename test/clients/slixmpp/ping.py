"""Scenario 9: XEP-0199 ping from slixmpp to the server.

usage: ping.py ADDR JID   (password in $PASSWORD)
Prints {"event":"pong","rtt":seconds} or {"event":"ping_error",...}.
"""
import argparse

from common import emit, env, make_client, must_connect, parse_addr, run

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("jid")
args = ap.parse_args()


async def main():
    c = make_client(args.jid, env("PASSWORD"), plugins=["xep_0199"])
    c["xep_0199"].keepalive = False
    await must_connect(c, parse_addr(args.addr))
    from slixmpp.exceptions import IqError, IqTimeout
    try:
        rtt = await c["xep_0199"].ping(jid=c.boundjid.domain, timeout=10)
        emit("pong", rtt=rtt)
    except IqError as e:
        emit("ping_error", condition=e.iq["error"]["condition"], xml=str(e.iq))
    except IqTimeout:
        emit("ping_timeout")
    c.disconnect()


run(main)
