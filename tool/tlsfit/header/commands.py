"""The tlsfit commands a header names: the `tlsfit gen` command that renders it again
(its Regenerate line) and the `tlsfit verify` command that proves it against its server."""
import os
import shlex
import tempfile


SYSTEM_STORE = "/etc/ssl/certs/ca-certificates.crt"


def ca_arg(source):
    """How the header names the CA file the probe found the anchor in: as given when
    relative, relative to here when below the current directory, else its file name
    (never a path from the probing machine's temporary directories)."""
    if not source or source in ("sent", SYSTEM_STORE):
        return None
    p = os.path.normpath(source)
    if not os.path.isabs(p):
        return p
    rel = os.path.relpath(p)
    return rel if not rel.startswith("..") and not p.startswith(tempfile.gettempdir()) \
        else os.path.basename(p)


def regenerate_command(profiles, opts, extra=()):
    """The `tlsfit gen` command that renders this header again, byte for byte: the
    profile(s) as named (a path relative to the repository root, where the CLI names
    them so), and every option that changes the text."""
    cmd = ["tlsfit gen", *profiles, "--mbedtls", opts.line, "--policy", opts.policy]
    if opts.tls != "auto":
        cmd += ["--tls", opts.tls]
    if not opts.time:
        cmd.append("--no-time")
    if opts.pem:
        cmd.append("--pem")
    if opts.ecc != "builtin":
        cmd += ["--ecc", opts.ecc]
    if opts.external_rng:
        cmd.append("--external-rng")
    if opts.alpn:
        cmd += ["--alpn", ",".join(opts.alpn)]
    if opts.resume:
        cmd.append("--resume")
    if opts.client is not None:
        cmd += ["--client-cert", str(opts.client.cert)]
    if opts.anchor is not None:
        cmd += ["--anchor", opts.anchor.name]
    if opts.psk is not None:
        cmd += psk_args(opts.psk)
    return " ".join([*cmd, *extra])


def psk_args(psk):
    """--psk-identity and --psk-key-file of a psk.PskSpec (the file's name: never the key)."""
    return ["--psk-identity", shlex.quote(psk.identity), "--psk-key-file", shlex.quote(psk.key_file)]


def prove_command(doc, line, client=None, psk=None):
    """The `tlsfit verify` command that proves the header against its server, with the
    server name and CA file the probe used (and the device's identity, when given to a
    server that asks for it)."""
    t = doc.target
    host = f"[{t.host}]" if ":" in t.host else t.host
    cmd = f"tlsfit verify --config tls_config.h {host}:{t.port}"
    if t.sni and t.sni != t.host:
        cmd += f" --sni {t.sni}"
    ca = ca_arg((doc.trust_anchor or {}).get("source"))
    if ca:
        cmd += f" --ca {ca}"
    if line == "2.28":
        cmd += " --mbedtls 2.28"
    if client is not None and doc.client_cert_requested:
        key = client.key.name if client.key is not None else "DEVICE_KEY.pem"
        cmd += f" --client-cert {client.cert.name} --client-key {key}"
    if psk is not None:
        cmd += " " + " ".join(psk_args(psk))
    return cmd
