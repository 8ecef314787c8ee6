"""`tlsfit probe`: record what a TLS server accepts into a profile."""
import argparse
import sys

from . import pskargs
from .common import add_client_args, alpn_list, client_identity, int_range

HELP = """\
Records what a TLS server accepts into a JSON profile (docs/profile-schema.md):
versions, cipher suites and their order, groups, signature algorithms, the
certificate chain and its trust anchor, record and handshake-message sizes,
max_fragment_length / record_size_limit, extensions, client-certificate
requests.  The probe makes a few dozen short connections and never sends
application data.

The profile is always stored as .tlsfit/last-profile.json; --save NAME also
stores it as profiles/NAME.json, the profile library (tlsfit profiles lists it;
gen/fit --profile NAME read it).  Every profile records its provenance: the
prober's version and the SHA-256 of its sources; --server-software adds what
the server runs.  Prints a summary, or the JSON with --json.

examples:
  tlsfit probe example.com                  # port 443, SNI example.com
  tlsfit probe 192.0.2.10:8883 --sni broker.example.com --save broker \
      --server-software "mosquitto 2.0.11"
  tlsfit probe localhost:4433 --ca root.pem --json > profile.json
  tlsfit probe abc123-ats.iot.eu-west-1.amazonaws.com --alpn x-amzn-mqtt-ca
                                            # AWS IoT Core's MQTT on 443: it drops a
                                            # hello without this ALPN
  tlsfit probe --dtls coap.example.com      # DTLS 1.2 over UDP, port 5684

A step that fails (a server that stalls, floods or sends what the prober
cannot read in one part of the probe) is recorded in the profile's "steps" and
named on stderr and in the summary; the rest of the profile is kept and the
exit status is still 0.  Time is bounded: --timeout per read, twice that per
connection, --deadline for the whole probe.

exit status: 0 when the profile was written (even with failed steps);
46 when the probe passed --deadline (no profile written); otherwise the
prober's code, e.g. 10 name did not resolve, 11 refused, 12 timeout, 13 not
TLS, 14 closed mid-handshake, 15 malformed TLS, 16 no common version; with
--dtls 26 UDP port unreachable, 27 cookie exchange unanswered, 28 silent
(all: tlsfit errors).
"""


def _save_name(text):
    from ..profile.probing import check_save_name
    try:
        return check_save_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _software(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (e.g. \"nginx 1.22.1\")")
    return text.strip()


def configure(p):
    p.add_argument("target", metavar="HOST[:PORT]",
                   help="server to probe; port 443 when omitted; IPv6 as [::1]:4433")
    p.add_argument("--sni", metavar="NAME",
                   help="server name sent in the handshake (default: HOST when it is a name, "
                        "none for an IP address)")
    p.add_argument("--alpn", type=alpn_list, metavar="PROTO[,PROTO]",
                   help="ALPN protocols to offer in every hello, e.g. x-amzn-mqtt-ca for AWS IoT "
                        "Core's MQTT on port 443 (which drops a hello without it); the profile "
                        "records the one the server selects and whether it requires ALPN")
    p.add_argument("--dtls", action="store_true",
                   help="probe DTLS 1.2 over UDP (default port 5684, CoAP over DTLS): the cookie "
                        "exchange, fragmentation across datagrams and Connection ID go into the "
                        "profile's \"dtls\" object (docs/probe.md, DTLS)")
    p.add_argument("--timeout", type=int_range(1, 600, "seconds"), metavar="SEC",
                   help="per-operation I/O timeout: give up on a silent server after SEC "
                        "seconds (1-600, default 5); each connection ends at twice SEC")
    p.add_argument("--deadline", type=int_range(1, 3600, "seconds"), metavar="SEC",
                   help="stop the whole probe after SEC seconds (1-3600; default 120, plus "
                        "0.2 s per ms of --delay): exit 46, no profile written")
    p.add_argument("--ca", action="append", default=[], metavar="FILE",
                   help="PEM bundle to look for the trust anchor in when the server does not "
                        "send its root (repeatable; searched before the system store)")
    p.add_argument("--no-system-store", action="store_true",
                   help="do not look for the anchor in /etc/ssl/certs/ca-certificates.crt")
    p.add_argument("--delay", type=int_range(0, 60000, "ms"), metavar="MS",
                   help="pause MS milliseconds between connections (rate-limited servers)")
    p.add_argument("--json", action="store_true",
                   help="print the profile JSON instead of the summary")
    p.add_argument("--save", type=_save_name, metavar="NAME",
                   help="also store the profile as profiles/NAME.json (NAME: letters, digits, "
                        "'.', '_', '-')")
    p.add_argument("--server-software", type=_software, metavar="TEXT",
                   help="record what the server runs (e.g. \"nginx 1.22.1\") as the profile's "
                        "provenance.server.software; tlsfit profiles shows it")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="one line per probe step on stderr (default: when stderr is a terminal)")
    add_client_args(p, "the device's certificate (PEM or DER): presented when the server asks "
                       "for one, so that the resumption step can complete handshakes with a "
                       "server that requires mutual TLS (without it that step is not tried "
                       "there); needs --client-key",
                    "the device's private key (PEM or DER, unencrypted); the prober reads "
                    "it to sign its handshakes, nothing stores it")
    pskargs.add(p)


def warn_failed_steps(failed):
    """One stderr line naming the failed steps, those failing alike grouped:
    "tlsfit: warning: 3 probe steps failed, the rest of the profile is kept: a, b: WHY
    [TF_ERR_X]; c: WHY [TF_ERR_Y]"."""
    if not failed:
        return
    groups = {}
    for name, step in failed:
        groups.setdefault((step["reason"], step.get("error") or f"code {step['code']}"),
                          []).append(name)
    parts = "; ".join(f"{', '.join(names)}: {reason} [{error}]"
                      for (reason, error), names in groups.items())
    n = len(failed)
    print(f"tlsfit: warning: {n} probe step{'' if n == 1 else 's'} failed, the rest of the "
          f"profile is kept: {parts}", file=sys.stderr)


def show_profile(doc, written, as_json):
    """Prints a profile: its JSON, or the summary and where it was stored."""
    if as_json:
        from ..profile.model import dump
        sys.stdout.write(dump(doc))
    else:
        from ..core.text import display_path
        from ..profile.summary import format_summary
        print(format_summary(doc))
        print(f"profile: {', '.join(display_path(p) for p in written)}")


def run(args):
    from ..profile import probing
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    opts = probing.Options(sni=args.sni, alpn=args.alpn, timeout=args.timeout, cas=args.ca,
                           no_system_store=args.no_system_store, delay=args.delay,
                           progress=progress, deadline=args.deadline, psk=pskargs.load(args),
                           dtls=args.dtls, client=client_identity(args))
    doc = probing.run(args.target, opts)
    server = {"software": args.server_software} if args.server_software else None
    written = probing.keep(doc, args.save, server=server)
    if server:
        doc = probing.with_provenance(doc, server)
    from ..profile import model
    warn_failed_steps(model.failed_steps(doc))
    show_profile(doc, written, args.json)
    return 0
