"""`tlsfit verify`: prove a tls_config.h on the host against a server."""
import json

from ..core.errors import VERIFY
from ..core import resumption
from ..core.hostport import format_hostport
from ..host import verify
from . import pskargs
from ..mbedtls.tree import LINES
from .common import add_session_args, client_identity, seconds

HELP = """\
Builds mbedTLS with the configuration header (--config) on this machine and
makes one TLS handshake with certificate verification (authmode REQUIRED, the
host name checked) against HOST[:PORT], with a small client of tlsfit's own.
Then it proves the server accepted the session: in TLS 1.3 the client's
handshake ends before the server has judged the client (a broker that
requires a client certificate rejects it only afterwards, with an alert), so
the client reads the server's post-handshake flight and makes one exchange
(--proof: by default an MQTT CONNECT on port 8883, an HTTP HEAD on 443 and
8443, otherwise "no alert and no close within 2 s").  Prints the negotiated
version, cipher suite and group and the proof, or where and why it failed,
by the mbedTLS error name (e.g. MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) and the
server's alert (e.g. "FAILED at proof: ... alert certificate_required (116)").

A server that requires a client certificate (mutual TLS: AWS IoT Core, Azure
IoT Hub, mosquitto with require_certificate true) gets the device's own
certificate, and the handshake is signed with its key: --client-cert FILE
--client-key FILE (PEM or DER; the key unencrypted, only its path is passed
on).  Without them such a server fails with the hint "the server requires a
client certificate: pass --client-cert and --client-key".

The build is cached per header content and mbedTLS tree in
$TLSFIT_CACHE/verify/ (the first build of a header takes 10-60 s, depending
on the machine; later runs take well under a second).  A header that
mbedTLS's check_config.h rejects fails at once with its #error text.

--mbedtls 2.28 builds against the 2.28 LTS tree fetched by ./tlsfit setup;
--mbedtls 4.0 against the 4.x tree `./tlsfit setup --mbedtls-archive FILE`
unpacked, with X_crypto.h beside --config X.h as the crypto half; the default is
the 3.x tree (--mbedtls-dir, $MBEDTLS_DIR, or the set-up one).

examples:
  tlsfit verify --config tls_config.h 127.0.0.1:4433 --sni localhost --ca root.pem
  tlsfit verify --config tls_config.h broker.example.com:8883     # system CA store
  tlsfit verify --config tls_config.h --profile mosquitto-tls      # offline, a replica
  tlsfit verify --config config-2.28.h --mbedtls 2.28 192.0.2.7 --json
  tlsfit verify --config tls_config.h 127.0.0.1:1883 --ca root.pem --proof mqtt
  tlsfit verify --config tls_config.h smtp.example.com:465 --proof send:,expect:323230
  tlsfit verify --config tls_config.h broker.example.com:8883 --ca root.pem \\
                --client-cert device.pem --client-key device.key

With --resume (or a header from gen --resume, which defines TLSFIT_RESUME),
the client then saves the session (in TLS 1.3 it waits for the server's
NewSessionTicket), closes, connects again and resumes it: the server must
accept the resumption (it must not send its certificate again) and the proof
must pass on the resumed session.  The result shows both connections' bytes
sent and received side by side; a server that refuses the resumption, or gives
no session ID and no ticket, fails with exit status 55.

exit status: 0 verified; 37 the handshake or the proof failed; 55 the
resumption failed (--resume); 36 mbedTLS
rejects the header or cannot be built with it; 30 the build failed
otherwise; 44 the device certificate or key is unusable; 2 usage.
"""


def configure(p):
    p.add_argument("target", metavar="HOST[:PORT]", nargs="?",
                   help="server to verify against; port 443 when omitted; IPv6 as [::1]:4433")
    p.add_argument("--profile", metavar="NAME|FILE",
                   help="without HOST: verify against a local replica of this profile "
                        "(tlsfit replay; its name, trust anchor and proof)")
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the mbedTLS configuration header to prove (MBEDTLS_CONFIG_FILE)")
    p.add_argument("--sni", metavar="NAME",
                   help="server name to send and to check the certificate against "
                        "(default: HOST)")
    p.add_argument("--ca", metavar="FILE",
                   help="the device's trust anchor(s), PEM or DER (default: the system store "
                        f"{verify.SYSTEM_STORE}); for a header made with gen/fit --anchor "
                        "CERT, CERT (the header's Prove line names it)")
    p.add_argument("--mbedtls", choices=LINES,
                   help="mbedTLS line to build against (default: the 3.x tree)")
    p.add_argument("--timeout", type=seconds, default=verify.DEFAULT_TIMEOUT, metavar="SEC",
                   help=f"give up on a silent server after SEC seconds (default "
                        f"{verify.DEFAULT_TIMEOUT})")
    p.add_argument("--min-version", choices=("1.2", "1.3"), help="lowest TLS version to offer")
    p.add_argument("--max-version", choices=("1.2", "1.3"), help="highest TLS version to offer")
    add_session_args(p, "it signs the handshake")
    p.add_argument("--resume", action="store_true",
                   help="after the proof, close and resume the session on a second connection "
                        "(session ID or ticket); it must be accepted by the server and proven "
                        "again (always done for a header from gen --resume)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    pskargs.add(p)



def run(args):
    from .endpoint import server_or_replica
    client = client_identity(args)
    psk = pskargs.load(args)
    with server_or_replica(args.target, args.profile, args.sni, args.ca, args.proof,
                           client=client, psk=psk) as t:
        result = verify.verify(args.config, t.host, t.port, sni=t.sni, ca=t.ca,
                               line=args.mbedtls, timeout=args.timeout,
                               min_version=args.min_version, max_version=args.max_version,
                               proof=t.proof, client=t.client, resume=args.resume, psk=psk)
    if args.json:
        print(json.dumps(result.to_json(), sort_keys=False))
    else:
        print("\n".join(verify.format_result(result, format_hostport(t.host, t.port))))
    return 0 if result.ok else resumption.exit_code(result, VERIFY)
