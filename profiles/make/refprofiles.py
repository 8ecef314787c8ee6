#!/usr/bin/python3
"""Rebuilds the shipped reference profiles: profiles/NAME.json, one per server below.

    profiles/make/refprofiles.py NAME...     # e.g. nginx-intermediate mosquitto-mtls
    profiles/make/refprofiles.py --all       # every one (profiles/make/all.sh)
    profiles/make/refprofiles.py --list      # the names and what each one is

For each NAME: installs the server's Debian package (tool/apt-ensure.sh; services are
kept from starting), generates a fresh PKI (root <- intermediate <- leaf CN=localhost,
the key types given below), stands the server up on 127.0.0.1 with the configuration
people deploy (tlsfit.lab.refservers / tlsfit.lab.daemons), probes it as
`tlsfit probe 127.0.0.1:PORT --sni localhost --ca ROOT --no-system-store` would, and
writes the profile with its provenance: the prober build, this script's command line,
the server software, its Debian package and version, and the configuration.

What varies between runs: the port, dates, serials, keys and signatures (and so a
certificate's size by a byte or two), stats.elapsed_ms.  The rest is the server's.
trust_anchor.source is written relative to the throwaway PKI directory.
Progress goes to stderr; nothing is written for a server that fails.
"""
import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tool"))

from tlsfit.core import paths, pskkey  # noqa: E402
from tlsfit.core.errors import SERVERS, TlsfitError  # noqa: E402
from tlsfit.lab import daemons, refservers, udpservers  # noqa: E402
from tlsfit.profile import model, probing as probe  # noqa: E402

SCRIPT = "profiles/make/refprofiles.py"
MOSQUITTO_PORT = 8883       # the MQTT-over-TLS port; a free port when it is taken

# Mozilla's server-side TLS guidelines v5.7 (ssl-config.mozilla.org), nginx:
# intermediate = TLS 1.2 + 1.3, ECDHE(-ECDSA/-RSA) AES-GCM and CHACHA20 (+ DHE-RSA,
# unusable with the ECDSA certificate below), client order, these groups, no tickets;
# modern = TLS 1.3 only, client order, the same groups.
MOZILLA_GROUPS = "X25519:prime256v1:secp384r1"
NGINX_MOZILLA = {
    "intermediate": f"""ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ecdh_curve {MOZILLA_GROUPS};
        ssl_ciphers {daemons.MOZILLA_INTERMEDIATE_CIPHERS};
        ssl_prefer_server_ciphers off;
        ssl_session_timeout 1d;
        ssl_session_cache shared:MozSSL:10m;
        ssl_session_tickets off;""",
    "modern": f"""ssl_protocols TLSv1.3;
        ssl_ecdh_curve {MOZILLA_GROUPS};
        ssl_prefer_server_ciphers off;
        ssl_session_timeout 1d;
        ssl_session_cache shared:MozSSL:10m;
        ssl_session_tickets off;""",
}

@dataclass(frozen=True)
class Reference:
    """One shipped profile: the Debian package(s), the PKI key specs (root, inter, leaf)
    as refservers.make_chain takes them, what is configured, and how to serve it."""
    name: str
    packages: tuple
    software: str            # what runs, as its users call it
    version_of: str          # the package whose version is the software's
    chain: tuple
    configuration: str
    serve: str               # the name of the serving function below
    dtls: bool = False       # probed over UDP (tlsfit probe --dtls)
    psk: tuple = None        # (identity, key): the lab server's throwaway PSK; the probe's
                             # --psk-identity (the profile keeps the identity, never the key)


REFERENCES = (
    Reference("nginx-intermediate", ("nginx-light",), "nginx", "nginx-light",
              ("ec:P-384", "ec:P-256", "ec:P-256"),
              "Mozilla server-side TLS v5.7 \"intermediate\" for nginx: TLSv1.2 TLSv1.3, "
              f"ssl_ciphers as published, ssl_ecdh_curve {MOZILLA_GROUPS}, "
              "ssl_prefer_server_ciphers off, ssl_session_tickets off; ECDSA chain",
              "nginx_intermediate"),
    Reference("nginx-modern", ("nginx-light",), "nginx", "nginx-light",
              ("rsa:4096", "rsa:2048", "rsa:2048"),
              "Mozilla server-side TLS v5.7 \"modern\" for nginx: TLSv1.3 only, "
              f"ssl_ecdh_curve {MOZILLA_GROUPS}, ssl_prefer_server_ciphers off; "
              "RSA-2048 chain under an RSA-4096 root",
              "nginx_modern"),
    Reference("mosquitto-tls", ("mosquitto",), "mosquitto", "mosquitto",
              ("rsa:2048", "rsa:2048", "rsa:2048"),
              "a TLS listener on 8883 (certfile, keyfile; tls_version and ciphers left at "
              "mosquitto's defaults), require_certificate false; RSA-2048 chain",
              "mosquitto_tls"),
    Reference("mosquitto-mtls", ("mosquitto",), "mosquitto", "mosquitto",
              ("ec:P-256", "ec:P-256", "ec:P-256"),
              "a TLS listener on 8883 with require_certificate true and cafile a device CA "
              "(ECDSA P-256), defaults otherwise; ECDSA P-256 chain",
              "mosquitto_mtls"),
    Reference("lighttpd", ("lighttpd", "lighttpd-mod-openssl"), "lighttpd", "lighttpd",
              ("rsa:4096", "rsa:2048", "ec:P-256"),
              "lighttpd 1.4 with mod_openssl, MinProtocol TLSv1.2 and Mozilla's intermediate "
              "CipherString; ECDSA P-256 leaf under an RSA-2048 intermediate and RSA-4096 root",
              "lighttpd"),
    Reference("lighttpd-mbedtls", ("lighttpd", "lighttpd-mod-mbedtls"), "lighttpd", "lighttpd",
              ("ec:P-256", "ec:P-256", "ec:P-256"),
              "lighttpd 1.4 with mod_mbedtls (Debian's mbedTLS 2.28 as its TLS library), "
              "MinProtocol TLSv1.2, mbedTLS's own suites and order; ECDSA P-256 chain",
              "lighttpd_mbedtls"),
    Reference("apache-intermediate", ("apache2",), "Apache httpd", "apache2",
              ("rsa:4096", "rsa:2048", "rsa:2048"),
              "Apache httpd 2.4 mod_ssl: SSLProtocol -all +TLSv1.2 +TLSv1.3, SSLCipherSuite "
              "Mozilla intermediate; RSA-2048 chain under an RSA-4096 root",
              "apache"),
    Reference("haproxy", ("haproxy",), "HAProxy", "haproxy",
              ("rsa:4096", "rsa:2048", "rsa:2048"),
              "HAProxy terminating TLS: ssl-default-bind-ciphers Mozilla intermediate, "
              "ssl-min-ver TLSv1.2, no-tls-tickets; RSA-2048 chain under an RSA-4096 root",
              "haproxy"),
    Reference("openssl-s_server", ("openssl",), "OpenSSL s_server", "openssl",
              ("rsa:2048", "rsa:2048", "rsa:2048"),
              "openssl s_server -www with its defaults (and Debian's openssl.cnf); "
              "RSA-2048 chain",
              "openssl_defaults"),
    Reference("gnutls-serv", ("gnutls-bin",), "GnuTLS gnutls-serv", "gnutls-bin",
              ("ec:P-384", "ec:P-256", "ec:P-256"),
              "gnutls-serv with its defaults (priority NORMAL, client certificate requested "
              "but optional); ECDSA chain",
              "gnutls_defaults"),
    Reference("mbedtls-ssl_server2", (), "mbedTLS ssl_server2", "",
              ("ec:P-256", "ec:P-256", "rsa:2048"),
              "mbedTLS's programs/ssl/ssl_server2 built with the library's default "
              "configuration, auth_mode=none; RSA-2048 leaf under ECDSA P-256 CAs",
              "mbedtls_defaults"),
)
# DTLS 1.2 over UDP (issue 28): each peer on 127.0.0.1, probed with --dtls.  The PSKs are
# throwaway lab keys (printable: coap-server takes its key as a string).
LAB_PSK = ("tlsfit-device", b"tlsfit-lab-psk-1")
COAP_DTLS_PORT = 5684        # coaps: a free port when it is taken
# NORMAL has no PSK key exchange: the two a DTLS-PSK device uses, added
GNUTLS_UDP_PRIORITY = "NORMAL:+ECDHE-PSK:+PSK"
REFERENCES += (
    Reference("openssl-dtls", ("openssl",), "OpenSSL s_server -dtls1_2", "openssl",
              ("ec:P-256", "ec:P-256", "ec:P-256"),
              "openssl s_server -dtls1_2 -listen (cookie exchange) with its defaults (and "
              "Debian's openssl.cnf); ECDSA P-256 chain",
              "openssl_dtls", dtls=True),
    Reference("openssl-dtls-psk", ("openssl",), "OpenSSL s_server -dtls1_2", "openssl", None,
              "openssl s_server -dtls1_2 -listen -nocert -psk KEY -psk_identity "
              f"{LAB_PSK[0]} -cipher PSK-AES128-CCM8 (the LwM2M / CoAP device suite); no "
              "certificate",
              "openssl_dtls_psk", dtls=True, psk=LAB_PSK),
    Reference("gnutls-serv-udp", ("gnutls-bin",), "GnuTLS gnutls-serv --udp", "gnutls-bin",
              ("ec:P-256", "ec:P-256", "ec:P-256"),
              f"gnutls-serv --udp --echo with priority {GNUTLS_UDP_PRIORITY}, certificates and --pskpasswd "
              f"(identity {LAB_PSK[0]}); no client certificate asked; ECDSA P-256 chain",
              "gnutls_udp", dtls=True, psk=LAB_PSK),
    Reference("mbedtls-ssl_server2-dtls-cid", (), "mbedTLS ssl_server2", "",
              ("ec:P-256", "ec:P-256", "ec:P-256"),
              "mbedTLS's programs/ssl/ssl_server2 dtls=1 cid=1 cid_val=beefcafe (a 4-byte "
              "Connection ID, RFC 9146) with the library's default configuration, "
              "auth_mode=none; ECDSA P-256 chain",
              "mbedtls_dtls_cid", dtls=True),
    Reference("coap-server-psk", ("libcoap3-bin",), "libcoap coap-server-openssl",
              "libcoap3-bin", None,
              "coap-server-openssl -k KEY -h CoAP (DTLS-PSK, any identity) with CoAP over "
              f"DTLS on {COAP_DTLS_PORT}; libcoap's own suites; no certificate",
              "coap_psk", dtls=True, psk=LAB_PSK),
)
BY_NAME = {r.name: r for r in REFERENCES}


def say(text):
    print(f"refprofiles: {text}", file=sys.stderr, flush=True)


def package_version(package):
    """The installed Debian version of package ("1.22.1-9+deb12u11")."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0 or not out.stdout.strip():
        raise TlsfitError(SERVERS, f"{package} is not installed")
    return out.stdout.strip()


def upstream(version):
    """The upstream part of a Debian version: 1.22.1-9+deb12u11 -> 1.22.1."""
    v = version.split(":", 1)[-1]
    return v.rsplit("-", 1)[0] if "-" in v else v


# ------------------------------------------------------------------ serving

def _nginx(chain, log_dir, tls):
    return refservers.nginx_server(chain, log_dir=log_dir, tls=tls)


def nginx_intermediate(chain, log_dir, pki):
    return _nginx(chain, log_dir, NGINX_MOZILLA["intermediate"])


def nginx_modern(chain, log_dir, pki):
    return _nginx(chain, log_dir, NGINX_MOZILLA["modern"])


@contextlib.contextmanager
def _mosquitto(chain, log_dir, require_certificate, cafile=None):
    """mosquitto on 8883 when that port is free, else on a free port."""
    d = Path(log_dir) / "mosquitto"
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "mosquitto.conf"
    conf.write_text(refservers.mosquitto_conf(chain, MOSQUITTO_PORT, require_certificate,
                                              cafile))
    srv = refservers.MosquittoServer("mosquitto", ["mosquitto", "-c", str(conf)],
                                     MOSQUITTO_PORT, d / "mosquitto.log")
    try:
        srv.start()
    except TlsfitError:
        say(f"port {MOSQUITTO_PORT} is taken: mosquitto on a free port instead")
        with refservers.mosquitto_server(chain, log_dir=log_dir, cafile=cafile,
                                         require_certificate=require_certificate) as other:
            yield other
        return
    try:
        yield srv
    finally:
        srv.stop()


def mosquitto_tls(chain, log_dir, pki):
    return _mosquitto(chain, log_dir, False)


def mosquitto_mtls(chain, log_dir, pki):
    ca = refservers.make_ca(pki, "devices", "tlsfit device CA", "ec:P-256")
    return _mosquitto(chain, log_dir, True, ca.pem)


def lighttpd(chain, log_dir, pki):
    return daemons.lighttpd(chain, log_dir=log_dir, tls="openssl")


def lighttpd_mbedtls(chain, log_dir, pki):
    return daemons.lighttpd(chain, log_dir=log_dir, tls="mbedtls")


def apache(chain, log_dir, pki):
    return daemons.apache(chain, log_dir=log_dir)


def haproxy(chain, log_dir, pki):
    return daemons.haproxy(chain, log_dir=log_dir)


def openssl_defaults(chain, log_dir, pki):
    return refservers.openssl_server(chain, log_dir=log_dir)


def gnutls_defaults(chain, log_dir, pki):
    return refservers.gnutls_server(chain, log_dir=log_dir, request_client_cert=True)


def mbedtls_defaults(chain, log_dir, pki):
    from tlsfit.host.verify import ssl_server2_path
    return refservers.mbedtls_server(ssl_server2_path(), chain, log_dir=log_dir)


def openssl_dtls(chain, log_dir, pki):
    return udpservers.openssl_dtls_server(chain, log_dir=log_dir)


def openssl_dtls_psk(chain, log_dir, pki):
    identity, key = LAB_PSK
    return udpservers.openssl_dtls_psk_server(identity, key, "-cipher", "PSK-AES128-CCM8",
                                              log_dir=log_dir)


def gnutls_udp(chain, log_dir, pki):
    return udpservers.gnutls_dtls_server(chain, priority=GNUTLS_UDP_PRIORITY, psk=LAB_PSK,
                                         log_dir=log_dir)


def mbedtls_dtls_cid(chain, log_dir, pki):
    from tlsfit.host.verify import ssl_server2_path
    return udpservers.mbedtls_dtls_server(ssl_server2_path(), chain, "cid=1", "cid_val=beefcafe",
                                          log_dir=log_dir)


@contextlib.contextmanager
def coap_psk(chain, log_dir, pki):
    """coap-server with DTLS on 5684 (CoAP on 5683) when both are free, else a free pair."""
    key = LAB_PSK[1].decode("ascii")
    base = COAP_DTLS_PORT - udpservers.COAP_DTLS_PORT_OFFSET
    if udpservers._udp_free(base) and udpservers._udp_free(COAP_DTLS_PORT):
        argv = [udpservers.COAP_SERVER, "-A", refservers.LOCALHOST, "-p", str(base), "-k", key,
                "-h", "CoAP"]
        srv = udpservers.UdpServer(f"{udpservers.COAP_SERVER} -k", argv, COAP_DTLS_PORT,
                                   Path(log_dir) / "coap-server-psk.log")
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()
        return
    say(f"port {COAP_DTLS_PORT} is taken: coap-server on a free pair of ports instead")
    with udpservers.coap_psk_server(LAB_PSK[1], log_dir=log_dir) as other:
        yield other


def _server_facts(ref):
    """provenance.server of ref (installs its packages first)."""
    if ref.packages:
        rc = subprocess.run(["bash", str(REPO / "tool" / "apt-ensure.sh"), *ref.packages],
                            timeout=1800).returncode
        if rc != 0:
            raise TlsfitError(SERVERS, f"tool/apt-ensure.sh {' '.join(ref.packages)} "
                                                  f"failed (exit {rc})")
    if ref.version_of:
        full = package_version(ref.version_of)
        return {"software": ref.software, "version": upstream(full), "package": ref.version_of,
                "package_version": full, "configuration": ref.configuration}
    from tlsfit.mbedtls.tree import prober_tree
    tree = prober_tree()
    return {"software": ref.software, "version": tree.version,
            "package": "mbedtls (Debian source package, upstream tarball)",
            "configuration": ref.configuration}


def make(ref, out_dir):
    """Probes ref's server and writes out_dir/NAME.json; returns its path."""
    started = time.monotonic()
    server = _server_facts(ref)
    with tempfile.TemporaryDirectory(prefix=f"refprofile-{ref.name}-") as tmp:
        pki = Path(tmp) / "pki"
        chain = None
        if ref.chain:
            root, inter, leaf = ref.chain
            say(f"{ref.name}: PKI {leaf} <- {inter} <- {root}")
            chain = refservers.make_chain(pki, "server", root=root, inter=inter, leaf=leaf,
                                          label=ref.name)
        with getattr(sys.modules[__name__], ref.serve)(chain, Path(tmp) / "logs", pki) as srv:
            say(f"{ref.name}: {server['software']} {server['version']} on {srv.hostport}; "
                "probing" + (" over UDP" if ref.dtls else ""))
            opts = probe.Options(sni="localhost", cas=(str(chain.root.pem),) if chain else (),
                                 no_system_store=True, dtls=ref.dtls,
                                 psk=pskkey.Psk(*ref.psk) if ref.psk else None)
            doc = probe.run(srv.hostport, opts)
        anchor = doc.get("trust_anchor")
        if anchor and anchor["source"] != "sent":
            anchor["source"] = str(Path(anchor["source"]).relative_to(pki))
        doc = probe.with_provenance(doc, server, f"{SCRIPT} {ref.name}")
    path = model.save(doc, Path(out_dir) / f"{ref.name}.json")
    say(f"{ref.name}: wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
        f"({time.monotonic() - started:.0f} s)")
    return path


def main(argv=None):
    p = argparse.ArgumentParser(prog=SCRIPT, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="NAME", help="profiles to rebuild")
    p.add_argument("--all", action="store_true", help="rebuild every shipped profile")
    p.add_argument("--list", action="store_true", help="list the names and stop")
    p.add_argument("--out", type=Path, default=None,
                   help="directory to write to (default: the repository's profiles/)")
    args = p.parse_args(argv)
    if args.list:
        for r in REFERENCES:
            print(f"{r.name:20} {r.software}: {r.configuration}")
        return 0
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown or not (args.names or args.all):
        print(f"{SCRIPT}: {'unknown profile ' + unknown[0] if unknown else 'name a profile'}"
              f" (one of: {', '.join(BY_NAME)}; or --all)", file=sys.stderr)
        return 2
    out = args.out or paths.profiles_dir()
    failed = []
    for ref in REFERENCES if args.all else [BY_NAME[n] for n in args.names]:
        try:
            make(ref, out)
        except TlsfitError as e:
            say(f"{ref.name}: FAILED: {e.message or 'the prober failed (its line is above)'}")
            failed.append(ref.name)
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
