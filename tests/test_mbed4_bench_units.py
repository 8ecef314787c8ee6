"""Unit tests of bench/mbed4_bench.py's pure parts (tool/tlsfit/bench/linecompare.py): the
records made from fit reports, the 3.6 -> 4.x object matching, the side-by-side
document and its table, and the bench's cell plan.  The bench itself runs fits and is
not part of the suite."""
import importlib.util
import json

from conftest import REPO
from tlsfit.bench import linecompare as lc

V = lc.Variant(lto=True, external_rng=True, ecc="auto")


def mod(name, library, rom):
    return {"name": name, "library": library, "rom_bytes": rom, "text": rom, "rodata": 0,
            "data": 0, "bss": 0}


MODS36 = [mod("rsa.o", "libmbedcrypto.a", 3000), mod("bignum.o", "libmbedcrypto.a", 6000),
          mod("oid.o", "libmbedcrypto.a", 1500), mod("ssl_tls.o", "libmbedtls.a", 9000),
          mod("md5.o", "libmbedcrypto.a", 700)]
MODS40 = [mod("rsa.o", "libtfpsacrypto.a", 3100), mod("bignum.o", "libtfpsacrypto.a", 6000),
          mod("oid.o", "libtfpsacrypto.a", 400), mod("x509_oid.o", "libmbedx509.a", 1300),
          mod("ssl_tls.o", "libmbedtls.a", 8500), mod("psa_crypto_rsa.o", "libtfpsacrypto.a", 2500)]


def report(rom_tls, modules, ok=True, lto_rom_tls=None, base_ok=True, heap=6000):
    figs = {"rom_bytes": rom_tls + 9000, "rom_tls_bytes": rom_tls, "ram_static_bytes": 4000,
            "heap_peak_bytes": heap, "stack_peak_bytes": 1500,
            "handshake_instructions": 500_000_000}
    rep = {"handshake": {"ok": ok, "ciphersuite": "TLS_CHACHA20_POLY1305_SHA256",
                         "group": "secp256r1", "error": None if ok else "X509 failed"},
           "mbedtls": "x", "chosen": "TLS 1.3 CHACHA20", **figs, "modules": modules,
           "baseline": {"handshake": {"ok": base_ok, "error": None if base_ok else "heap"},
                        **{k: v * 5 for k, v in figs.items()}},
           "lto": None, "candidates_tried": 7, "phases_s": {"total": 30.0}}
    if lto_rom_tls is not None:
        rep["lto"] = {**figs, "rom_tls_bytes": lto_rom_tls, "ok": True, "failures": []}
    return rep


def cell(line, rom_tls, modules, server="rsa2048-tls12", v=V, **kw):
    rec = lc.cell_record(server, "cortex-m33", line, v, report(rom_tls, modules, **kw), None, 42.0)
    rec["what"] = "TLS 1.2, RSA-2048 x3"
    return rec


def test_objects_are_matched_by_name_across_the_trees_and_the_oid_split_counts_together():
    rows = {r["object"]: r for r in lc.module_growth(MODS36, MODS40)}
    assert rows["psa_crypto_rsa.o"] == {"object": "psa_crypto_rsa.o", "where_40": "tf-psa-crypto",
                                        "rom_36": 0, "rom_40": 2500, "change": 2500}
    oid = rows["oid.o (4.x: + x509_oid.o)"]
    assert (oid["rom_36"], oid["rom_40"], oid["change"]) == (1500, 1700, 200)
    assert oid["where_40"] == "library + tf-psa-crypto"
    assert rows["md5.o"]["change"] == -700 and rows["md5.o"]["where_40"] is None
    assert rows["ssl_tls.o"]["where_40"] == "library"
    assert "bignum.o" not in rows                     # unchanged objects are left out
    order = [r["change"] for r in lc.module_growth(MODS36, MODS40)]
    assert order == sorted(order, reverse=True)
    assert [r["object"] for r in lc.module_growth(MODS36, MODS40, top=2)] == \
        ["psa_crypto_rsa.o", "oid.o (4.x: + x509_oid.o)"]


def test_a_record_keeps_the_fit_its_lto_and_default_figures_and_which_ecc_was_linked():
    rec = cell("4.0", 40000, MODS40 + [mod("p256-m.o", "libtfpsacrypto.a", 3500)],
               lto_rom_tls=33000)
    assert rec["ok"] and rec["error"] is None and rec["ecc"] == "p256m"
    assert rec["fitted"]["rom_tls_bytes"] == 40000 and rec["fitted_lto"]["rom_tls_bytes"] == 33000
    assert rec["default"]["rom_tls_bytes"] == 200000 and rec["default"]["ok"]
    assert lc.cell_record("s", "cortex-m4", "3.6", V, None, "fit failed (exit 40): x", 3.0) \
        ["error"] == "fit failed (exit 40): x"
    assert lc.ecc_used([mod("ecp.o", "libmbedcrypto.a", 1)]) == "builtin"
    assert lc.ecc_used(MODS36) is None
    assert lc.cell_file("s", "cortex-m4", "4.0", lc.Variant(False, True, "p256m")) == \
        "s.cortex-m4.4.0.os-rng-p256m.json"


def test_the_document_pairs_the_lines_with_ratios_and_names_the_objects_where_4x_grew():
    doc = lc.document([cell("3.6", 30000, MODS36, lto_rom_tls=25000),
                       cell("4.0", 33000, MODS40, lto_rom_tls=26000, base_ok=False)],
                      order=["p256-tls13", "rsa2048-tls12"])
    json.dumps(doc)
    (row,) = doc["rows"]
    assert row["fitted"]["rom_tls_bytes"] == {"3.6": 30000, "4.0": 33000, "ratio": 1.1}
    assert row["fitted_lto"]["rom_tls_bytes"]["ratio"] == round(26000 / 25000, 3)
    # the 4.0 default's handshake failed: its heap is not compared, its flash is
    assert row["default"]["heap_peak_bytes"]["ratio"] is None
    assert row["default"]["rom_tls_bytes"]["ratio"] == 1.1
    (g,) = doc["growth"]
    assert (g["change"], g["objects"][0]["object"]) == (3000, "psa_crypto_rsa.o")
    smaller = lc.document([cell("3.6", 30000, MODS36), cell("4.0", 29000, MODS40)])
    assert smaller["growth"] == []


def test_the_table_shows_both_lines_side_by_side_and_the_issue_test_verdict():
    p256 = dict(server="p256-tls13", lto_rom_tls=36000)
    mods = MODS40 + [mod("p256-m.o", "libtfpsacrypto.a", 3500)]
    doc = lc.document([cell("3.6", 30000, MODS36), cell("4.0", 33000, MODS40),
                       cell("3.6", 44000, MODS36, **p256), cell("4.0", 43000, mods, **p256)],
                      order=["p256-tls13", "rsa2048-tls12"])
    text = lc.render(doc)
    lines = text.splitlines()
    assert lines.index("p256-tls13 -- TLS 1.2, RSA-2048 x3") < \
        lines.index("rsa2048-tls12 -- TLS 1.2, RSA-2048 x3")
    fitted = next(ln for ln in lines if "cortex-m33 fitted +rng -Os" in ln and "30,000" in ln)
    assert "33,000" in fitted and "1.100" in fitted
    assert "psa_crypto_rsa.o +2,500" in text and "shrank: md5.o -700" in text
    assert "mbedTLS share 36,000 B, no larger than 3.6's best 44,261 B (-8,261)" in text
    assert "wolfNanoTLS" in text and "54,280 B" in text
    failed = lc.render(lc.document([cell("3.6", 30000, MODS36, base_ok=False),
                                    cell("4.0", 33000, MODS40)]))
    assert "3.6: CHACHA20_POLY1305_SHA256 secp256r1 no ECC, fit 42.0 s (its default's " \
        "handshake FAILED: heap)" in failed


def test_the_bench_plans_both_lines_together_and_forced_ecc_only_where_p256m_can_serve():
    spec = importlib.util.spec_from_file_location("mbed4_bench", REPO / "bench" / "mbed4_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert set(bench.fit_bench.SERVERS) < set(bench.SERVERS) and len(bench.SERVERS) == 8
    vs = [lc.Variant(True, True, "auto"), lc.Variant(True, True, "p256m")]
    cells = bench.plan_cells(["p256-tls13", "rsa2048-tls12"], ["cortex-m33", "cortex-m4"], vs)
    assert cells[:2] == [("p256-tls13", "cortex-m33", "3.6", vs[0]),
                         ("p256-tls13", "cortex-m33", "4.0", vs[0])]
    assert len(cells) == 8 + 4
    assert {c[0] for c in cells if c[3].ecc == "p256m"} == {"p256-tls13"}
