"""Scenario 10: stream management with slixmpp's xep_0198.

usage: sm_resume.py ADDR BOB_FULLJID ALICE_FULLJID [--to bare|full]
       (passwords in $BOB_PASSWORD and $ALICE_PASSWORD)

1. bob enables SM (with resumption), sends 3 messages to alice and requests
   an ack: prints {"event":"acked",...}.
2. alice sends "before drop" to bob; bob's TCP connection is then aborted
   (no </stream:stream>): prints {"event":"dropped"}.
3. alice sends "while away 1..3" to bob (bare or full JID), then pings the
   server so they were processed.
4. bob reconnects and resumes: prints {"event":"resumed"} and one
   {"event":"message","phase":...,"body":...} per message bob receives, for
   1.5 s after the third one (to catch duplicates).
"""
import argparse
import asyncio

from common import emit, env, fail, make_client, must_connect, parse_addr, request_ack, run, wait_for

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("bob")
ap.add_argument("alice")
ap.add_argument("--to", choices=["bare", "full"], default="bare")
args = ap.parse_args()


async def main():
    addr = parse_addr(args.addr)
    state = {"phase": "before", "received": [], "acked": 0, "enabled": False,
             "resumed": False, "alice_got": 0, "sm_failed": None}

    bob = make_client(args.bob, env("BOB_PASSWORD"), plugins=["xep_0198"])
    bob["xep_0198"].window = 1000  # we request acks explicitly

    def on_msg(msg):
        if msg["body"]:
            state["received"].append((state["phase"], msg["body"]))
            emit("message", phase=state["phase"], body=msg["body"], **{"from": str(msg["from"])})

    bob.add_event_handler("message", on_msg)
    bob.add_event_handler("sm_enabled", lambda st: (state.update(enabled=True), emit("sm_enabled", id=st["id"], resume=st["resume"])))
    bob.add_event_handler("stanza_acked", lambda st: state.update(acked=state["acked"] + 1))
    bob.add_event_handler("session_resumed", lambda st: (state.update(resumed=True), emit("resumed", h=st["h"])))
    bob.add_event_handler("sm_failed", lambda st: (state.update(sm_failed=str(st)), emit("sm_failed", xml=str(st))))
    await must_connect(bob, addr)
    await wait_for(lambda: state["enabled"], "bob's <enabled/>", 10)
    bob.send_presence()

    alice = make_client(args.alice, env("ALICE_PASSWORD"), plugins=["xep_0199"])
    alice["xep_0199"].keepalive = False
    alice.add_event_handler("message", lambda m: state.update(alice_got=state["alice_got"] + 1))
    await must_connect(alice, addr)
    alice.send_presence()
    await asyncio.sleep(0.2)

    # 1. acks for what bob sent (presence + 3 messages)
    for i in range(1, 4):
        bob.send_message(mto=alice.boundjid.full, mbody="ack me %d" % i, mtype="chat")
    await request_ack(bob)
    await wait_for(lambda: state["acked"] >= 4, "acks for bob's 4 stanzas", 10)
    emit("acked", count=state["acked"], last_ack=bob["xep_0198"].last_ack,
         unacked=len(bob["xep_0198"].unacked_queue))
    await wait_for(lambda: state["alice_got"] >= 3, "alice receiving bob's 3 messages", 10)

    # 2. a message, then the drop
    alice.send_message(mto=bob.boundjid.full, mbody="before drop", mtype="chat")
    await wait_for(lambda: state["received"], "bob receiving 'before drop'", 10)
    state["phase"] = "dropped"
    bob.abort()
    emit("dropped", handled=bob["xep_0198"].handled, sm_id=bob["xep_0198"].sm_id)
    await asyncio.sleep(0.3)

    # 3. messages while bob is away
    to = bob.boundjid.bare if args.to == "bare" else bob.boundjid.full
    for i in range(1, 4):
        alice.send_message(mto=to, mbody="while away %d" % i, mtype="chat")
    rtt = await alice["xep_0199"].ping(jid=alice.boundjid.domain, timeout=10)
    emit("sent_while_away", to=to, ping_rtt=rtt)

    # 4. resume
    state["phase"] = "after"
    if not bob["xep_0198"].sm_id:
        fail("bob has no SM id to resume with (session_end fired on the drop?)")
    bob.connect(addr, force_starttls=True)
    await wait_for(lambda: state["resumed"] or state["sm_failed"], "<resumed/> or <failed/>", 10)
    if state["sm_failed"]:
        emit("not_resumed")
    after = lambda: [b for p, b in state["received"] if p == "after"]
    await wait_for(lambda: len(after()) >= 3 or state["sm_failed"], "3 messages after resumption", 10)
    await asyncio.sleep(1.5)
    emit("done", after=after())
    bob.disconnect()
    alice.disconnect()


run(main)
