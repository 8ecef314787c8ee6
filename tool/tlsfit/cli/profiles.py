"""`tlsfit profiles`: list the profile library (profiles/NAME.json) and its key facts."""
import json
import sys

HELP = """\
Lists the profile library: every profiles/NAME.json, shipped with tlsfit or saved
by `tlsfit probe HOST --save NAME`, with its key facts -- the TLS versions, the
suite the server picks by default (the first of its newest version, in its own
order or, in "client order", the first tlsfit offered), the shape of the
certification path (leaf first, ending with the anchor; "root sent" says whether
the server sends the root itself), the largest record, whether it asks for a
client certificate, and the server software it was probed from.  Use one by
name: tlsfit gen NAME (or its file: tlsfit fit --profile profiles/NAME.json).

The shipped profiles come from real Debian server software on 127.0.0.1 with a
generated PKI (nginx with Mozilla's intermediate and modern settings, mosquitto
with and without client certificates, lighttpd with OpenSSL and with mbedTLS,
Apache httpd, HAProxy, openssl s_server, gnutls-serv, mbedTLS's ssl_server2;
over DTLS 1.2: openssl s_server -dtls1_2 with certificates and with a PSK,
gnutls-serv --udp, ssl_server2 dtls=1 with a Connection ID, libcoap's
coap-server with DTLS-PSK); each records the script, package and
configuration that produced it (provenance in the JSON).

add one:
  tlsfit probe broker.example.com:8883 --save broker --server-software "mosquitto 2.0.18"
regenerate the shipped ones (installs the Debian packages, ~1 min):
  profiles/make/refprofiles.py nginx-modern      # one
  profiles/make/all.sh                           # every one
  profiles/make/refprofiles.py --list            # what each one is

examples:
  tlsfit profiles
  tlsfit profiles --json | python3 -m json.tool

exit status: 0; 32 when a profile of the library is not a valid profile (the
message names the file and the field) or --dir is not a directory.
"""


def configure(p):
    p.add_argument("--json", action="store_true",
                   help="print the list as JSON (one object per profile) instead of text")
    p.add_argument("--dir", metavar="DIR",
                   help="list the profiles of DIR instead of the repository's profiles/")


def _order(entry):
    return {True: "server order", False: "client order", None: "one suite"}[entry.server_order]


def format_entries(entries, where):
    """The text listing: one block per profile, then a count."""
    out = []
    for e in entries:
        software = e.software or "server software not recorded"
        out.append(f"{e.name}  ({software})")
        suite = f"{e.default_suite} ({_order(e)})" if e.default_suite else "none"
        out.append(f"  versions {', '.join(e.versions)}; default suite {suite}")
        out.append(f"  chain {e.chain}")
        cert = "requested" if e.client_cert else "not requested"
        out.append(f"  largest record {e.largest_record} B; client certificate {cert}")
    n = len(entries)
    out.append(f"{n} profile{'' if n == 1 else 's'} in {where}")
    return "\n".join(out)


def run(args):
    from pathlib import Path
    from ..core.errors import PROFILE, TlsfitError
    from ..core.text import display_path
    from ..profile import library
    if args.dir is not None and not Path(args.dir).is_dir():
        raise TlsfitError(PROFILE, f"--dir {args.dir}: no such directory (name the directory "
                                   "that holds the NAME.json profiles)")
    entries = library.entries(args.dir)
    if args.json:
        json.dump([e.to_json() for e in entries], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        where = display_path(library.library_dir(args.dir)).rstrip("/") + "/"
        print(format_entries(entries, where))
    return 0
