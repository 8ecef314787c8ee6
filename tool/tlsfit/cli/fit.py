"""`tlsfit fit`: search for the smallest verified configuration on a Cortex-M target."""
import json
import os

from ..core import proof
from ..fit import search
from ..fit.objective import OBJECTIVES
from ..fit.report import summary_lines
from ..header.policy import POLICIES
from ..mbedtls.tree import LINES, default_line

HELP = """\
Probes the server, builds candidate configurations, measures each with a real
handshake under QEMU (tlsfit measure), keeps only verified ones, tries smaller
output buffers (MBEDTLS_SSL_OUT_CONTENT_LEN 256, 512), then removes options one
at a time while the handshake still verifies (1-minimal).  Writes
DIR/tls_config.h, DIR/report.md (for a pull request) and DIR/report.json.

objectives:
  rom       smallest flash            heap   smallest peak heap
  ram       smallest heap+stack+static speed  fewest handshake instructions
  balanced  ROM, heap and instructions, each relative to the best seen (default)

Verified means the server accepted the session: after each handshake the
firmware reads the server's post-handshake flight and completes one exchange
(--proof), so a server that rejects the client after the handshake (a broker
that requires a client certificate, say) fails the candidate with its alert
named, the mbedTLS default beside it too.

A server mbedTLS cannot talk to is refused (exit 38) and no tls_config.h is
written; when no candidate verifies, exit 42.

examples:
  ./tlsfit fit broker.example.com:8883 --target cortex-m4 --out fit-broker
  ./tlsfit fit 127.0.0.1:4433 --sni localhost --ca root.pem --objective rom --json
  ./tlsfit fit 127.0.0.1:18883 --ca broker-root.pem --proof mqtt
"""


def configure(p):
    p.add_argument("server", metavar="HOST[:PORT]", help="the server; port 443 when omitted")
    p.add_argument("--target", default="cortex-m4", help="target in targets/ (default cortex-m4)")
    p.add_argument("--sni", help="server name to send and check (default HOST)")
    p.add_argument("--ca", help="trust anchor file (default: the system store)")
    p.add_argument("--objective", choices=OBJECTIVES, default="balanced")
    p.add_argument("--policy", choices=tuple(POLICIES), default="default")
    p.add_argument("--mbedtls", choices=LINES, help="mbedTLS line (default: as gen)")
    p.add_argument("--candidates", type=int, default=3, metavar="N",
                   help="suites/groups to measure from the cost model's top (default 3)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, metavar="N",
                   help="measurements run at once (default: the number of CPUs)")
    p.add_argument("--profile", metavar="FILE", help="use this profile instead of probing")
    p.add_argument("--proof", type=proof.proof_arg,
                   metavar="mqtt|http|no-alert|send:HEX,expect:HEX",
                   help="how every measured session proves the server accepted it (default "
                        "by port: 8883 MQTT CONNECT, 443/8443 HTTP HEAD, else no alert "
                        "within 2 s); a header counts only when the proof passes")
    p.add_argument("--out", default="fit", metavar="DIR", help="output directory (default fit/)")
    p.add_argument("--json", action="store_true", help="print report.json on stdout, nothing else")


def run(args):
    opts = search.FitOptions(target=args.target, objective=args.objective, policy=args.policy,
                             line=args.mbedtls or default_line(), sni=args.sni, ca=args.ca,
                             candidates=max(1, args.candidates), jobs=max(1, args.jobs),
                             profile=args.profile, proof=args.proof)
    report = search.fit(args.server, opts, args.out)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(summary_lines(report))
    return 0
