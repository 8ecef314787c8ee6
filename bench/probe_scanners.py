"""The probe benchmark's other side: running sslscan, testssl.sh and nmap ssl-enum-ciphers
against a local server and reading what each found into one shape (findings: versions,
(version, suite code) pairs, groups, signature schemes, DHE primes, server order).

Used by bench/probe_bench.py; stdlib only.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Cipher-suite names: everything is keyed by the 16-bit IANA code point.
# --------------------------------------------------------------------------
class Suites:
    """IANA <-> OpenSSL names from `openssl ciphers -V -stdname`."""

    def __init__(self, openssl):
        out = subprocess.run([openssl, "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                             capture_output=True, text=True, check=True).stdout
        self.iana = {}      # code -> IANA name
        self.by_name = {}   # IANA or OpenSSL name -> code
        for line in out.splitlines():
            m = re.match(r"\s*0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2}) - (\S+)\s+- (\S+)", line)
            if not m:
                continue
            code = int(m.group(1) + m.group(2), 16)
            self.iana[code] = m.group(3)
            self.by_name[m.group(3)] = code
            self.by_name[m.group(4)] = code

    def code(self, name=None, hexid=None):
        if hexid:
            return int(hexid.lower().replace("0x", "").replace("x", ""), 16)
        if name.startswith("TLS_AKE_WITH_"):          # nmap's TLS 1.3 spelling
            name = "TLS_" + name[len("TLS_AKE_WITH_"):]
        return self.by_name.get(name)

    def name(self, code, fallback=None):
        return self.iana.get(code) or fallback or f"0x{code:04X}"


GROUP_ALIASES = {"prime256v1": "secp256r1", "x25519": "x25519", "x448": "x448",
                 "secp256r1": "secp256r1", "secp384r1": "secp384r1", "secp521r1": "secp521r1"}


def norm_group(name):
    name = re.sub(r"\s*\(.*\)$", "", name.strip())
    return GROUP_ALIASES.get(name.lower(), name.lower())


def norm_version(v):
    v = v.strip()
    return {"TLSv1": "TLSv1.0", "SSLv3.0": "SSLv3", "SSLv2.0": "SSLv2"}.get(v, v)


def empty_findings():
    return {"versions": set(), "suites": set(), "groups": None, "sigs": None, "dhe": None, "order": {}}


def timed(argv, timeout, **kw):
    """Run argv; (wall seconds, exit code or "timeout", stdout, stderr).

    The tool gets its own process group so that a timeout also ends what it
    started (testssl.sh runs many openssl children)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc, err = "timeout", f"timed out after {timeout} s"
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    return time.perf_counter() - t0, rc, out, err


def sslscan_has_sigs():
    r = subprocess.run(["sslscan", "--help"], capture_output=True, text=True)
    return "--show-sigs" in (r.stdout + r.stderr)


def run_xml_tool(argv, xml):
    """Runs a scanner that writes XML to `xml`:
    (time, its stdout, empty findings, extra, XML root or None)."""
    t, rc, out, err = timed(argv, 300)
    f = empty_findings()
    extra = {"argv": argv}
    try:
        return t, out, f, extra, ET.parse(xml).getroot()
    except (OSError, ET.ParseError) as e:
        extra["error"] = f"exit {rc}: no XML ({e}) {err.strip()[-300:]}"
        return t, out, f, extra, None


def run_sslscan(srv, suites, work, show_sigs):
    xml = Path(work) / f"sslscan-{srv.name}.xml"
    argv = ["sslscan", "--no-colour", f"--xml={xml}", f"127.0.0.1:{srv.port}"]
    if show_sigs:
        argv.insert(2, "--show-sigs")
    t, out, f, extra, root = run_xml_tool(argv, xml)
    if root is None:
        return t, f, extra
    test = root.find("ssltest")
    for p in test.findall("protocol"):
        if p.get("enabled") == "1":
            kind = "SSLv" if p.get("type") == "ssl" else "TLSv"
            f["versions"].add(kind + p.get("version"))
    for c in test.findall("cipher"):
        f["suites"].add((norm_version(c.get("sslversion")), suites.code(c.get("cipher"), c.get("id"))))
    f["groups"] = {norm_group(g.get("name")) for g in test.findall("group")}
    if show_sigs:
        f["sigs"] = set()
        for s in test.findall("connection-signature-algorithm"):
            f["sigs"].add((norm_version(s.get("sslversion")), s.get("name")))
        if "accepts all signature algorithms" in out:
            # sslscan's verdict when every scheme it tried worked, including ones
            # the server cannot sign with: no list to compare.
            extra["note"] = "signature schemes: sslscan printed 'Server accepts all signature algorithms'"
            f["sigs"] = None
    return t, f, extra


def run_testssl(srv, suites, work, openssl, timeout, checks):
    js = Path(work) / f"testssl-{srv.name}.json"
    argv = ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
            "--openssl", openssl, "--jsonfile", str(js), *checks.split(), f"127.0.0.1:{srv.port}"]
    # testssl.sh writes temporary files into $TMPDIR; keep them in our work dir.
    env = dict(os.environ, TMPDIR=str(work))
    t, rc, out, err = timed(argv, timeout, env=env, cwd=work)
    f = empty_findings()
    extra = {"argv": argv}
    if rc == "timeout":
        extra["error"] = err
        return t, f, extra
    try:
        data = json.loads(js.read_text())
    except (OSError, ValueError) as e:
        extra["error"] = f"exit {rc}: no JSON ({e}) {err.strip()[-300:]}"
        return t, f, extra
    vmap = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLSv1.0", "TLS1_1": "TLSv1.1",
            "TLS1_2": "TLSv1.2", "TLS1_3": "TLSv1.3"}
    groups = set()
    for item in data:
        i, finding = item.get("id", ""), item.get("finding", "")
        if i in vmap and finding.startswith("offered"):
            f["versions"].add(vmap[i])
        m = re.match(r"cipher-(tls1(?:_[123])?|ssl[23])_x([0-9a-f]+)$", i)
        if m:
            ver = {"tls1": "TLSv1.0", "tls1_1": "TLSv1.1", "tls1_2": "TLSv1.2", "tls1_3": "TLSv1.3",
                   "ssl3": "SSLv3", "ssl2": "SSLv2"}[m.group(1)]
            f["suites"].add((ver, suites.code(hexid=m.group(2))))
        if i in ("PFS_ECDHE_curves", "FS_ECDHE_curves"):
            groups.update(norm_group(g) for g in finding.split())
        if i == "DH_groups":
            # RFC 7919 named groups, and/or the name of a well-known prime the
            # server's TLS 1.2 DHE parameters match ("RFC3526/Oakley Group 14").
            ffdhe = re.findall(r"\bffdhe\d+\b", finding)
            groups.update(ffdhe)
            rest = re.sub(r"\bffdhe\d+\b", "", finding).strip()
            if rest:
                f["dhe"] = {rest}
        if item.get("severity") == "FATAL" or i == "scanProblem":
            extra["error"] = f"{i}: {finding}"
    f["groups"] = groups
    return t, f, extra


def run_nmap(srv, suites, work):
    xml = Path(work) / f"nmap-{srv.name}.xml"
    argv = ["nmap", "-Pn", "-n", "-sT", "--script", "ssl-enum-ciphers", "-p", str(srv.port), "-oX", str(xml),
            "127.0.0.1"]
    t, out, f, extra, root = run_xml_tool(argv, xml)
    if root is None:
        return t, f, extra
    script = root.find(".//script[@id='ssl-enum-ciphers']")
    if script is None:
        extra["error"] = "ssl-enum-ciphers produced no output"
        return t, f, extra
    kex = set()
    for vt in script.findall("table"):
        ver = norm_version(vt.get("key"))
        f["versions"].add(ver)
        order = []
        for c in vt.findall("table[@key='ciphers']/table"):
            name = c.findtext("elem[@key='name']")
            code = suites.code(name)
            f["suites"].add((ver, code if code is not None else name))
            order.append(code)
            k = c.findtext("elem[@key='kex_info']") or ""
            k = k[5:] if k.startswith("ecdh_") else k
            if re.match(r"(secp|sect|brainpool|x25519|x448|ffdhe|prime)", k.lower()):
                kex.add(norm_group(k))
        pref = vt.findtext("elem[@key='cipher preference']")
        f["order"][ver] = order if pref == "server" else None
    extra["kex_seen"] = sorted(kex)   # negotiated curves only; nmap does not enumerate groups
    return t, f, extra


# --------------------------------------------------------------------------
# Comparison and printing
# --------------------------------------------------------------------------
