"""Scenario 12: 50 slixmpp clients on one asyncio loop exchange 1,000
messages (20 sent by each, spread over the 49 others).

usage: fifty.py ADDR PREFIX DOMAIN [--n 50] [--each 20]
       (user PREFIX<i>, password "pw-PREFIX<i>")
Prints {"event":"summary","sent":...,"received":...,"duplicates":...,
"missing":[...]} once every message arrived or the wait timed out.
"""
import argparse
import asyncio

from common import TIMEOUT, emit, make_client, must_connect, parse_addr, run

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("prefix")
ap.add_argument("domain")
ap.add_argument("--n", type=int, default=50)
ap.add_argument("--each", type=int, default=20)
args = ap.parse_args()


async def main():
    addr = parse_addr(args.addr)
    n, each = args.n, args.each
    got = [dict() for _ in range(n)]  # body -> count
    clients = []
    for i in range(n):
        name = "%s%d" % (args.prefix, i)
        c = make_client("%s@%s/r" % (name, args.domain), "pw-" + name)

        def on_msg(msg, i=i):
            b = msg["body"]
            if b:
                got[i][b] = got[i].get(b, 0) + 1
        c.add_event_handler("message", on_msg)
        clients.append(c)
    await asyncio.gather(*(must_connect(c, addr) for c in clients))
    for c in clients:
        c.send_presence()
    emit("online", clients=n)
    await asyncio.sleep(0.3)

    expected = [set() for _ in range(n)]
    for i, c in enumerate(clients):
        for k in range(each):
            to = (i + 1 + k % (n - 1)) % n
            body = "%d-%d" % (i, k)
            expected[to].add(body)
            c.send_message(mto="%s%d@%s" % (args.prefix, to, args.domain), mbody=body, mtype="chat")

    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    total = n * each
    while sum(len(g) for g in got) < total and loop.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # late duplicates
    received = sum(sum(g.values()) for g in got)
    distinct = sum(len(g) for g in got)
    dups = sum(v - 1 for g in got for v in g.values() if v > 1)
    missing = sorted("%s->%d" % (b, i) for i in range(n) for b in expected[i] - set(got[i]))
    unexpected = sorted("%s->%d" % (b, i) for i in range(n) for b in set(got[i]) - expected[i])
    emit("summary", sent=total, received=received, distinct=distinct, duplicates=dups,
         missing=missing[:20], missing_count=len(missing), unexpected=unexpected[:20])
    for c in clients:
        c.disconnect()


run(main)
