"""Media scenario: XEP-0363 HTTP File Upload with slixmpp's xep_0363 plugin.

usage: upload.py ADDR JID FILE [--too-large SIZE]   (password in $PASSWORD)
Finds the upload service by disco (as the plugin does), uploads FILE with
upload_file (slot request + HTTP PUT) and downloads the GET URL back.
Prints {"event":"service",...}, {"event":"uploaded","url":...,
"sha256":...}, {"event":"downloaded","sha256":...,"size":...}; with
--too-large, a slot request for SIZE bytes and {"event":"slot_error",...}.
"""
import argparse
import hashlib

import aiohttp

from common import emit, env, fail, make_client, must_connect, parse_addr, run

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("jid")
ap.add_argument("file")
ap.add_argument("--too-large", type=int, default=0)
args = ap.parse_args()


def fix_get_info_from_domain(disco):
    """slixmpp 1.8.3's get_info_from_domain hands coroutines to
    asyncio.wait, which Python 3.11+ refuses; this is the same walk (the
    domain's disco#info and one level of disco#items) with tasks, so that
    the xep_0363 plugin's own find_upload_service runs unchanged."""
    import asyncio

    async def get_info_from_domain(domain=None, timeout=None, cached=True, callback=None):
        if domain is None:
            domain = disco.xmpp.boundjid.domain
        if not cached or domain not in disco.domain_infos:
            infos = [asyncio.ensure_future(disco.get_info(domain, timeout=timeout))]
            items = await disco.get_items(domain, timeout=timeout)
            infos += [asyncio.ensure_future(disco.get_info(i[0], timeout=timeout))
                      for i in items["disco_items"]["items"]]
            done, _ = await asyncio.wait(infos, timeout=timeout)
            disco.domain_infos[domain] = [f.result() for f in done if not f.exception()]
        return disco.domain_infos[domain]

    disco.get_info_from_domain = get_info_from_domain


async def main():
    c = make_client(args.jid, env("PASSWORD"), plugins=["xep_0030", "xep_0128", "xep_0363"])
    fix_get_info_from_domain(c["xep_0030"])
    await must_connect(c, parse_addr(args.addr))
    from slixmpp.exceptions import IqError
    up = c["xep_0363"]
    info = await up.find_upload_service(timeout=10)
    if info is None:
        fail("no upload service found by disco")
    emit("service", jid=str(info["from"]),
         identities=[list(i[:2]) for i in info["disco_info"]["identities"]])
    if args.too_large:
        try:
            await up.request_slot(info["from"], "big.bin", args.too_large, "application/octet-stream", timeout=10)
            emit("slot_granted")
        except IqError as e:
            err = e.iq["error"]
            emit("slot_error", condition=err["condition"], text=err["text"], xml=str(e.iq))
        c.disconnect()
        return
    with open(args.file, "rb") as f:
        data = f.read()
    url = await up.upload_file(args.file, timeout=30)
    emit("uploaded", url=url, sha256=hashlib.sha256(data).hexdigest(), max_file_size=up.max_file_size)
    async with aiohttp.ClientSession() as s:
        async with s.get(url) as r:
            body = await r.read()
            emit("downloaded", http_status=r.status, size=len(body), sha256=hashlib.sha256(body).hexdigest(),
                 content_type=r.headers.get("Content-Type"), etag=r.headers.get("ETag"))
    c.disconnect()


run(main)
