"""Scenario 11: a second login with the same full JID replaces the first,
which gets a <conflict/> stream error.

usage: conflict.py ADDR FULLJID   (password in $PASSWORD)
Prints {"event":"stream_error","who":"first","condition":...} and whether
each session is still connected.
"""
import argparse
import asyncio

from common import emit, env, make_client, must_connect, parse_addr, run, wait_for

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("jid")
args = ap.parse_args()


async def main():
    addr = parse_addr(args.addr)
    state = {"first_closed": False}
    first = make_client(args.jid, env("PASSWORD"))
    first.add_event_handler("stream_error", lambda st: emit(
        "stream_error", who="first", condition=st["condition"], xml=str(st)))
    await must_connect(first, addr)
    emit("logged_in", who="first", jid=str(first.boundjid))
    first.add_event_handler("disconnected", lambda r: state.update(first_closed=True))

    second = make_client(args.jid, env("PASSWORD"))
    second.add_event_handler("stream_error", lambda st: emit(
        "stream_error", who="second", condition=st["condition"], xml=str(st)))
    await must_connect(second, addr)
    emit("logged_in", who="second", jid=str(second.boundjid))
    await wait_for(lambda: state["first_closed"], "the first session to be closed", 10)
    emit("closed", who="first")
    await asyncio.sleep(0.3)
    emit("state", second_connected=second.is_connected())
    second.disconnect()


run(main)
