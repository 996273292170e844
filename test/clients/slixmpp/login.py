"""Scenario 1: slixmpp logs in with one SASL mechanism over STARTTLS or
direct TLS.

usage: login.py ADDR JID [--mech MECH] [--direct-tls]   (password in $PASSWORD)
Prints {"event":"session_start",...} or {"event":"failed_auth","condition":...}.
"""
import argparse

from common import connect, emit, env, make_client, parse_addr, run

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("jid")
ap.add_argument("--mech", default=None)
ap.add_argument("--direct-tls", action="store_true")
args = ap.parse_args()


async def main():
    c = make_client(args.jid, env("PASSWORD"), mech=args.mech)
    res, detail = await connect(c, parse_addr(args.addr), use_ssl=args.direct_tls)
    if res == "ok":
        mech = c["feature_mechanisms"].mech
        sslobj = c.transport.get_extra_info("ssl_object") if c.transport else None
        emit("session_start", jid=str(c.boundjid),
             mechanism=mech.name if mech else None,
             tls=sslobj.version() if sslobj else None)
        c.disconnect()
        await c.disconnected
    else:
        emit(res, condition=detail)


run(main)
