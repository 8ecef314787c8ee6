#!/usr/bin/python3
"""Probe benchmark: tlsfit-probe side by side with sslscan, testssl.sh and nmap.

Starts three local TLS servers on 127.0.0.1 (throwaway PKI made with the openssl
CLI), runs every selected tool against each of them, and prints per server:
wall time, ratio to tlsfit-probe, what each tool found (versions, cipher suites
per version, groups, signature schemes) and what it found that the others did
not / missed compared to the union of all tools.  Also checks each tool against
what the server was configured with.

Not a test: it prints figures and is not run by CI.  Stdlib only; run it with
Debian's /usr/bin/python3.  bench/setup.sh installs the third-party scanners.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_scanners import (  # noqa: E402
    Suites, empty_findings, log, norm_group, run_nmap, run_sslscan, run_testssl,
    sslscan_has_sigs, timed)

REPO = Path(__file__).resolve().parent.parent
TOOLS = ("tlsfit", "sslscan", "testssl", "nmap")
TOOL_LABEL = {"tlsfit": "tlsfit-probe", "sslscan": "sslscan", "testssl": "testssl.sh",
              "nmap": "nmap ssl-enum"}


# --------------------------------------------------------------------------
# Throwaway PKI
# --------------------------------------------------------------------------
def run_quiet(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"probe_bench: {' '.join(argv)} failed:\n{r.stderr}")


def make_pki(openssl, d):
    """Two chains: RSA-2048 and ECDSA P-256, each root -> intermediate -> leaf (CN=localhost)."""
    d = Path(d)
    ext = d / "ext.cnf"
    ext.write_text(
        "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n"
        "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        "[int]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        "[leaf_rsa]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        "[leaf_ec]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    pki = {}
    for kind, keyopt in (("rsa", ["-newkey", "rsa:2048"]), ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])):
        p = lambda n: str(d / f"{kind}-{n}")  # noqa: E731
        run_quiet([openssl, "req", "-x509", *keyopt, "-nodes", "-keyout", p("root.key"), "-out", p("root.pem"),
                   "-subj", f"/O=tlsfit bench/CN=bench {kind} root", "-days", "2", "-sha256",
                   "-config", str(ext), "-extensions", "ca"], d)
        for name, issuer, section, cn in (("int", "root", "int", f"bench {kind} intermediate"),
                                          ("leaf", "int", f"leaf_{kind}", "localhost")):
            run_quiet([openssl, "req", "-new", *keyopt, "-nodes", "-keyout", p(f"{name}.key"), "-out", p(f"{name}.csr"),
                       "-subj", f"/O=tlsfit bench/CN={cn}", "-config", str(ext)], d)
            run_quiet([openssl, "x509", "-req", "-in", p(f"{name}.csr"), "-CA", p(f"{issuer}.pem"),
                       "-CAkey", p(f"{issuer}.key"), "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
                       "-days", "2", "-sha256", "-extfile", str(ext), "-extensions", section, "-out", p(f"{name}.pem")], d)
        Path(p("leaf+int.pem")).write_text(Path(p("leaf.pem")).read_text() + Path(p("int.pem")).read_text())
        pki[kind] = {k: p(f"{k}.pem") for k in ("root", "int", "leaf", "leaf+int")}
        pki[kind]["key"] = p("leaf.key")
    return pki


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_defs(openssl, pki):
    """name -> (description, argv builder(port), configured expectations)."""
    rsa, ec = pki["rsa"], pki["ec"]
    defs = {}
    # (a) RSA chain, TLS 1.2 + 1.3, explicit restricted lists, server order.
    a_tls12 = ["ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
               "DHE-RSA-AES256-GCM-SHA384", "AES128-GCM-SHA256"]
    a_tls13 = ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"]
    defs["openssl-rsa"] = {
        "desc": "openssl s_server, RSA-2048 chain, TLS 1.2+1.3, explicit suites, -serverpref",
        "argv": lambda port: [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", rsa["leaf"],
                              "-key", rsa["key"], "-cert_chain", rsa["int"], "-min_protocol", "TLSv1.2",
                              "-max_protocol", "TLSv1.3", "-cipher", ":".join(a_tls12),
                              "-ciphersuites", ":".join(a_tls13), "-groups", "x25519:secp384r1",
                              "-serverpref", "-quiet", "-www"],
        "expect": {"versions": ["TLSv1.2", "TLSv1.3"],
                   "suites": {"TLSv1.2": a_tls12, "TLSv1.3": a_tls13},
                   "groups": ["x25519", "secp384r1"], "server_order": True},
    }
    # (b) ECDSA P-256 chain, TLS 1.3 only, client order.
    b_tls13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]
    defs["openssl-ecdsa13"] = {
        "desc": "openssl s_server, ECDSA P-256 chain, TLS 1.3 only, client order",
        "argv": lambda port: [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", ec["leaf"],
                              "-key", ec["key"], "-cert_chain", ec["int"], "-tls1_3",
                              "-ciphersuites", ":".join(b_tls13), "-groups", "secp256r1:x25519:secp521r1",
                              "-quiet", "-www"],
        "expect": {"versions": ["TLSv1.3"], "suites": {"TLSv1.3": b_tls13},
                   "groups": ["secp256r1", "x25519", "secp521r1"], "server_order": False},
    }
    # (c) GnuTLS, RSA chain (leaf+intermediate in one file), TLS 1.2 only, a few suites.
    prio = ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC"
            ":-KX-ALL:+ECDHE-RSA:+RSA:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP384R1")
    defs["gnutls-rsa12"] = {
        "desc": f"gnutls-serv, RSA-2048 chain, TLS 1.2 only, --priority {prio}",
        "argv": lambda port: ["gnutls-serv", "-q", "--http", "-p", str(port), "--x509certfile", rsa["leaf+int"],
                              "--x509keyfile", rsa["key"], "--priority", prio],
        "binds_all": True,
        "expect": {"versions": ["TLSv1.2"],
                   "suites": {"TLSv1.2": ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                                          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                                          "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA"]},
                   "groups": ["x25519", "secp384r1"], "server_order": False},
    }
    return defs


class Server:
    def __init__(self, name, d, logdir):
        self.name, self.d, self.logdir = name, d, logdir
        self.proc = None
        self.port = None
        self.argv = None

    def start(self, tries=5):
        for _ in range(tries):
            self.port = free_port()
            self.argv = self.d["argv"](self.port)
            logf = open(Path(self.logdir) / f"{self.name}.log", "ab")
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            logf.close()
            if self._wait_listening():
                return
            self.stop()
        raise SystemExit(f"probe_bench: server {self.name} did not start; see {self.logdir}/{self.name}.log")

    def _wait_listening(self, limit=10.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:      # e.g. the port was taken meanwhile
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                time.sleep(0.05)
                return self.proc.poll() is None
            except OSError:
                time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# --------------------------------------------------------------------------
# Findings: a dict with versions, suites {(ver, code)}, groups, sigs {(ver, name)}
# --------------------------------------------------------------------------
def run_tlsfit(probe, srv, pki_kind, suites, reps, work):
    times, prof, err, rc = [], None, "", 0
    argv = [probe, "--no-system-store", "--ca", srv.pki[pki_kind]["root"], f"127.0.0.1:{srv.port}"]
    for i in range(reps):
        t, rc, out, err = timed(argv, 60)
        times.append(t)
        log(f"  tlsfit-probe run {i + 1}/{reps}: {t:.3f} s (exit {rc})")
        if rc == 0:
            prof = json.loads(out)
    f = empty_findings()
    extra = {"times": times, "argv": argv}
    if prof is None:
        extra["error"] = f"exit {rc}: {err.strip()[-400:]}"
        return statistics.median(times), f, extra
    f["versions"] = set(prof.get("versions", []))
    f["groups"] = set()
    f["sigs"] = set()
    for ver, lst in (prof.get("ciphersuites") or {}).items():
        for s in lst:
            f["suites"].add((ver, suites.code(hexid=s["id"])))
        f["order"][ver] = [suites.code(hexid=s["id"]) for s in lst] if (prof.get("server_preference") or {}).get(ver) else None
    for ver, lst in (prof.get("groups") or {}).items():
        f["groups"].update(norm_group(g) for g in lst)
    for ver, lst in (prof.get("signature_algorithms") or {}).items():
        f["sigs"].update((ver, s) for s in lst)
    stats = prof.get("stats") or {}
    extra.update(connections=stats.get("connections"), elapsed_ms=stats.get("elapsed_ms"),
                 server_preference=prof.get("server_preference"),
                 failed_steps={k: v for k, v in (prof.get("steps") or {}).items() if v.get("status") != "ok"},
                 chain_len=len(prof.get("chain") or []), chain_complete=prof.get("chain_complete"),
                 profile=prof)
    return statistics.median(times), f, extra


def items(f):
    """Flatten findings into comparable items."""
    out = set()
    out.update(("version", v) for v in f["versions"])
    out.update(("suite", v, c) for v, c in f["suites"])
    if f["groups"] is not None:
        out.update(("group", g) for g in f["groups"])
    if f["sigs"] is not None:
        out.update(("sig", v, s) for v, s in f["sigs"])
    if f["dhe"] is not None:
        out.update(("dhe", d) for d in f["dhe"])
    return out


def item_str(it, suites):
    if it[0] == "version":
        return it[1]
    if it[0] == "suite":
        return f"{it[1]} {suites.name(it[2]) if isinstance(it[2], int) else it[2]}"
    if it[0] == "group":
        return f"group {it[1]}"
    if it[0] == "dhe":
        return f"TLS 1.2 DHE prime: {it[1]}"
    return f"sig {it[1]} {it[2]}"


def compare(results):
    """Per tool: items no other tool found, and items of the union it missed.

    A tool only "misses" kinds of item it reports at all (nmap does not
    enumerate groups, so it misses none)."""
    ok = {t: r for t, r in results.items() if "error" not in r["extra"]}
    sets = {t: items(r["findings"]) for t, r in ok.items()}
    reports = {t: {"version", "suite"} | {k for k, key in (("group", "groups"), ("sig", "sigs"), ("dhe", "dhe"))
                                          if r["findings"][key] is not None} for t, r in ok.items()}
    union = set().union(*sets.values()) if sets else set()
    out = {}
    for t in ok:
        others = set().union(*[s for u, s in sets.items() if u != t])
        out[t] = (sets[t] - others, {i for i in union - sets[t] if i[0] in reports[t]})
    return out


def expected_items(exp, suites):
    out = {("version", v) for v in exp["versions"]}
    for ver, lst in exp["suites"].items():
        out.update(("suite", ver, suites.code(n)) for n in lst)
    out.update(("group", g) for g in exp["groups"])
    return out


def check_config(f, exp, suites):
    got = items(f)
    want = expected_items(exp, suites)
    kinds = {"version", "suite"} | ({"group"} if f["groups"] is not None else set())
    got = {i for i in got if i[0] in kinds}
    want = {i for i in want if i[0] in kinds}
    return want - got, got - want


def order_check(f, exp, suites):
    """Server-order suites: does the tool's order match the configured one?"""
    notes = []
    for ver, names in exp["suites"].items():
        o = f["order"].get(ver)
        if exp["server_order"] and o:
            want = [suites.code(n) for n in names]
            if o != want:
                notes.append(f"{ver} order {[suites.name(c) for c in o]} != configured")
    return notes


def fmt_list(strs, width=100, indent="      "):
    lines, cur = [], ""
    for s in strs:
        add = (", " if cur else "") + s
        if len(indent) + len(cur) + len(add) > width and cur:
            lines.append(indent + cur + ",")
            cur = s
        else:
            cur += add
    if cur:
        lines.append(indent + cur)
    return "\n".join(lines)


def print_server(name, srv, results, suites, expect):
    print(f"\n=== {name}: {srv.d['desc']} (127.0.0.1:{srv.port})")
    exp_s = sum(len(v) for v in expect["suites"].values())
    print(f"    configured: {', '.join(expect['versions'])}; {exp_s} suites; groups {','.join(expect['groups'])}; "
          f"{'server' if expect['server_order'] else 'client'} order")
    if srv.d.get("binds_all"):
        print("    note: gnutls-serv has no listen-address option; it listened on 0.0.0.0 and [::] during the run")
    base = results.get("tlsfit", {}).get("time")
    cmp_ = compare(results)
    hdr = f"    {'tool':<14}{'time s':>9}{'x tlsfit':>10}{'suites':>8}  {'groups':<34}{'only':>5}{'missed':>7}"
    print(hdr)
    print("    " + "-" * (len(hdr) - 4))
    for t, r in results.items():
        f, ex = r["findings"], r["extra"]
        ratio = f"{r['time'] / base:.1f}" if base and "error" not in results["tlsfit"]["extra"] else "-"
        if "error" in ex:
            print(f"    {TOOL_LABEL[t]:<14}{r['time']:>9.3f}{ratio:>10}   FAILED: {ex['error'][:120]}")
            continue
        groups = ",".join(sorted(f["groups"])) if f["groups"] is not None else "(not enumerated)"
        only, missed = cmp_[t]
        print(f"    {TOOL_LABEL[t]:<14}{r['time']:>9.3f}{ratio:>10}{len(f['suites']):>8}  {groups:<34}"
              f"{len(only):>5}{len(missed):>7}")
    tl = results.get("tlsfit")
    if tl and "error" not in tl["extra"]:
        ex = tl["extra"]
        print(f"    tlsfit-probe: median of {len(ex['times'])} runs ({', '.join(f'{x:.3f}' for x in ex['times'])} s); "
              f"{ex['connections']} TCP connections, {ex['elapsed_ms']} ms by its own clock"
              + (f"; failed steps: {ex['failed_steps']}" if ex["failed_steps"] else ""))
    for t, r in results.items():
        if "error" in r["extra"]:
            continue
        only, missed = cmp_[t]
        if only:
            print(f"    found by {TOOL_LABEL[t]} only:")
            print(fmt_list(sorted(item_str(i, suites) for i in only)))
        if missed:
            print(f"    missed by {TOOL_LABEL[t]} (found by another tool):")
            print(fmt_list(sorted(item_str(i, suites) for i in missed)))
    print("    against the configuration:")
    for t, r in results.items():
        if "error" in r["extra"]:
            continue
        missing, extra = check_config(r["findings"], expect, suites)
        notes = order_check(r["findings"], expect, suites)
        if r["extra"].get("note"):
            notes.append(r["extra"]["note"])
        if t == "nmap":
            notes.append(f"groups not enumerated (negotiated: {','.join(r['extra'].get('kex_seen', [])) or '-'})")
        verdict = "matches" if not missing and not extra else ""
        parts = []
        if missing:
            parts.append("missing " + "; ".join(sorted(item_str(i, suites) for i in missing)))
        if extra:
            parts.append("not configured " + "; ".join(sorted(item_str(i, suites) for i in extra)))
        print(f"      {TOOL_LABEL[t]:<14}{verdict}{' | '.join(parts)}" + (f"  [{'; '.join(notes)}]" if notes else ""))


def print_summary(all_results, tools):
    if not all_results:
        return
    print("\n=== summary: wall time in seconds (ratio to tlsfit-probe)")
    print(f"    {'server':<18}" + "".join(f"{TOOL_LABEL[t]:>18}" for t in tools))
    conns = 0
    for n, results in all_results.items():
        base = results.get("tlsfit", {}).get("time")
        cells = []
        for t in tools:
            r = results[t]
            cell = f"{r['time']:.3f}"
            if "error" in r["extra"]:
                cell += " FAIL"
            elif base and t != "tlsfit":
                cell += f" ({r['time'] / base:.0f}x)"
            cells.append(f"{cell:>18}")
        print(f"    {n:<18}" + "".join(cells))
        if "tlsfit" in results:
            conns += results["tlsfit"]["extra"].get("connections") or 0
    if "tlsfit" in tools:
        print(f"    tlsfit-probe made {conns} TCP connections in total for one probe of each server")


def to_json(f, suites):
    return {"versions": sorted(f["versions"]),
            "suites": sorted(f"{v} {suites.name(c) if isinstance(c, int) else c}" for v, c in f["suites"]),
            "groups": sorted(f["groups"]) if f["groups"] is not None else None,
            "signature_algorithms": sorted(f"{v} {s}" for v, s in f["sigs"]) if f["sigs"] is not None else None,
            "dhe_prime": sorted(f["dhe"]) if f["dhe"] is not None else None}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma-separated subset of {','.join(TOOLS)} (default: all)")
    ap.add_argument("--servers", default=None,
                    help="comma-separated subset of openssl-rsa,openssl-ecdsa13,gnutls-rsa12 (default: all)")
    ap.add_argument("--quick", action="store_true", help="skip testssl.sh (the slow one)")
    ap.add_argument("--reps", type=int, default=5, help="tlsfit-probe repetitions, median reported (default 5)")
    ap.add_argument("--probe", default=os.environ.get("TLSFIT_PROBER", str(REPO / "build-bench" / "tlsfit-probe")),
                    help="tlsfit-probe binary (default: $TLSFIT_PROBER or build-bench/tlsfit-probe)")
    ap.add_argument("--testssl-timeout", type=int, default=300, help="seconds (default 300)")
    ap.add_argument("--testssl-checks", default="-p -E -f -S",
                    help="testssl.sh check options (default: '-p -E -f -S': protocols, ciphers per protocol, "
                         "forward secrecy incl. groups, server defaults incl. chain)")
    ap.add_argument("--json", metavar="FILE", help="also write machine-readable results to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (PKI, tool outputs, server logs)")
    args = ap.parse_args()
    chosen = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in chosen if t not in TOOLS]
    if bad:
        ap.error(f"unknown tool(s) {bad}; choose from {TOOLS}")
    args.tool_list = [t for t in TOOLS if t in chosen]      # tlsfit-probe first: the reference
    if args.quick and "testssl" in args.tool_list:
        args.tool_list.remove("testssl")
    return args


def check_tools(args):
    """Exit with the command that installs or builds the first missing tool."""
    exe = {"tlsfit": args.probe, "sslscan": "sslscan", "testssl": "testssl", "nmap": "nmap"}
    for t in args.tool_list:
        if not shutil.which(exe[t]):
            hint = ("cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && "
                    "cmake --build build-bench --target tlsfit-probe" if t == "tlsfit" else "bench/setup.sh")
            raise SystemExit(f"probe_bench: {exe[t]} not found; {hint}")
    if not shutil.which("openssl"):
        raise SystemExit("probe_bench: openssl not found")


def start_servers(args, openssl, work, servers):
    """Make the PKI and start the chosen servers, appending each to `servers` as it starts
    (so the caller stops every one that started, whatever fails next)."""
    log(f"work directory {work}; making the throwaway PKI")
    pki = make_pki(openssl, work)
    defs = server_defs(openssl, pki)
    names = list(defs) if not args.servers else [s.strip() for s in args.servers.split(",")]
    for n in names:
        if n not in defs:
            raise SystemExit(f"probe_bench: unknown server {n}; choose from {list(defs)}")
    for n in names:
        srv = Server(n, defs[n], work)
        srv.pki = pki
        srv.start()
        servers.append(srv)
        log(f"server {n} on 127.0.0.1:{srv.port} (pid {srv.proc.pid})")
        if defs[n].get("binds_all"):
            log(f"  note: gnutls-serv has no listen-address option; it listens on 0.0.0.0 and [::] "
                f"port {srv.port} for the duration of the run")


def run_tools(args, srv, suites, openssl, work, show_sigs):
    """{tool: {"time", "findings", "extra"}} for one server, restarting it if a tool kills it."""
    results = {}
    kind = "ec" if "ecdsa" in srv.name else "rsa"
    for t in args.tool_list:
        log(f"{srv.name}: running {TOOL_LABEL[t]}")
        if t == "tlsfit":
            tm, f, ex = run_tlsfit(args.probe, srv, kind, suites, args.reps, work)
        elif t == "sslscan":
            tm, f, ex = run_sslscan(srv, suites, work, show_sigs)
        elif t == "testssl":
            tm, f, ex = run_testssl(srv, suites, work, openssl, args.testssl_timeout, args.testssl_checks)
        else:
            tm, f, ex = run_nmap(srv, suites, work)
        log(f"{srv.name}: {TOOL_LABEL[t]} took {tm:.3f} s" + (f" -- {ex['error']}" if "error" in ex else ""))
        if not srv.alive():
            log(f"{srv.name}: server died during {TOOL_LABEL[t]}; restarting")
            ex.setdefault("error", "server exited during the run")
            srv.stop()
            srv.start()
        results[t] = {"time": tm, "findings": f, "extra": ex}
    return results


def results_json(args, servers, all_results, suites):
    doc = {"tools": args.tool_list, "reps": args.reps, "servers": {}}
    for n, results in all_results.items():
        srv = next(s for s in servers if s.name == n)
        doc["servers"][n] = {
            "description": srv.d["desc"], "server_argv": srv.argv, "configured": srv.d["expect"],
            "tools": {t: {"time_s": r["time"], "ratio_to_tlsfit": (r["time"] / results["tlsfit"]["time"])
                          if "tlsfit" in results else None,
                          "found": to_json(r["findings"], suites),
                          "error": r["extra"].get("error"),
                          "argv": r["extra"].get("argv"),
                          **({"runs_s": r["extra"]["times"], "connections": r["extra"].get("connections"),
                              "elapsed_ms": r["extra"].get("elapsed_ms")} if t == "tlsfit" else {})}
                      for t, r in results.items()},
        }
        for t, (only, missed) in compare(results).items():
            doc["servers"][n]["tools"][t]["only"] = sorted(item_str(i, suites) for i in only)
            doc["servers"][n]["tools"][t]["missed"] = sorted(item_str(i, suites) for i in missed)
    return doc


def main():
    args = parse_args()
    check_tools(args)
    openssl = shutil.which("openssl")
    suites = Suites(openssl)
    show_sigs = "sslscan" in args.tool_list and sslscan_has_sigs()
    work = Path(tempfile.mkdtemp(prefix="tlsfit-bench-"))
    servers, all_results = [], {}
    # A server must never outlive the bench, even on ^C.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    try:
        start_servers(args, openssl, work, servers)
        for srv in servers:
            results = run_tools(args, srv, suites, openssl, work, show_sigs)
            all_results[srv.name] = results
            print_server(srv.name, srv, results, suites, srv.d["expect"])
            sys.stdout.flush()
    finally:
        for srv in servers:
            srv.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(all_results, args.tool_list)
    if args.json:
        Path(args.json).write_text(json.dumps(results_json(args, servers, all_results, suites),
                                              indent=2) + "\n")
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
