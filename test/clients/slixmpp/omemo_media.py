"""XEP-0454 (OMEMO Media Sharing) with slixmpp's own xep_0454 plugin: the
encryption and decryption an OMEMO app does, to check Parley's format.

usage: omemo_media.py decrypt CIPHERTEXT FRAGMENT OUT   writes the plaintext
       omemo_media.py encrypt PLAINTEXT OUT             writes the ciphertext,
                                                        prints the aesgcm:// URL
"""
import sys

from slixmpp.plugins.xep_0454 import XEP_0454

cmd = sys.argv[1]
if cmd == "decrypt":
    with open(sys.argv[2], "rb") as f:
        plain = XEP_0454.decrypt(f, sys.argv[3])
    with open(sys.argv[4], "wb") as out:
        out.write(plain)
elif cmd == "encrypt":
    payload, fragment = XEP_0454.encrypt(filename=sys.argv[2])
    with open(sys.argv[3], "wb") as out:
        out.write(payload)
    print(XEP_0454.format_url("https://media.example.org/media/u/s/f.bin?exp=1&sig=x", fragment))
else:
    sys.exit("unknown command " + cmd)
