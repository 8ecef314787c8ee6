"""Client identity (issue 14.1): mutual TLS with the device's own certificate and key.

A device CA (refservers.make_ca, P-256) issues a P-256 and an RSA-2048 device
certificate (refservers.make_client_cert).  mosquitto brokers on 127.0.0.1 serve the
ECDSA chain with `require_certificate true` and cafile = the device CA, one TLS 1.3
only and one TLS 1.2 only.  `tlsfit gen --client-cert` on their probes adds exactly
what signing with each key needs; `tlsfit verify` and `tlsfit measure` with
--client-cert/--client-key prove the session (MQTT CONNACK 0) for both keys on both
versions, and fail without them with the hint.  No file written under the test's
directories or the state directory holds the keys' PEM markers or bytes.
"""
import json
import os
import sys
from pathlib import Path

import pytest

from conftest import require_tools

from tlsfit.core.errors import IDENTITY, REFUSED, TARGET, VERIFY, TlsfitError
from tlsfit.core.identity import MISSING_HINT, ClientIdentity
from tlsfit.header import gen
from tlsfit.header.types import GenOptions, Refusal
from tlsfit.lab import refservers
from tlsfit.profile import model

REPO = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = "/usr/bin/python3"
KEYS = ("p256", "rsa")
VERSIONS = ("1.3", "1.2")
# Options whose reasons name the device's key, per key type, against the ECDSA broker
# (P-384 root -> P-256 -> P-256 leaf) with the device certificates signed
# ecdsa-with-SHA256 by the P-256 device CA.
P256_OPTIONS = {"MBEDTLS_ECDSA_C", "MBEDTLS_ECP_C", "MBEDTLS_ECP_DP_SECP256R1_ENABLED",
                "MBEDTLS_SHA256_C"}
RSA_OPTIONS = {"1.3": {"MBEDTLS_RSA_C", "MBEDTLS_PKCS1_V21", "MBEDTLS_X509_RSASSA_PSS_SUPPORT",
                       "MBEDTLS_ECDSA_C", "MBEDTLS_SHA256_C"},
               "1.2": {"MBEDTLS_RSA_C", "MBEDTLS_PKCS1_V15", "MBEDTLS_ECDSA_C",
                       "MBEDTLS_SHA256_C"}}


@pytest.fixture(scope="module", autouse=True)
def toolchain():
    require_tools()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The directory every output of this module goes to (grepped for key material)."""
    return tmp_path_factory.mktemp("identity-out")


@pytest.fixture(scope="module")
def devices(tmp_path_factory):
    d = tmp_path_factory.mktemp("device-pki")
    ca = refservers.make_ca(d, "devca", "tlsfit device CA", "ec:P-256")
    return {"ca": ca, "p256": refservers.make_client_cert(ca, d, "p256", "ec:P-256"),
            "rsa": refservers.make_client_cert(ca, d, "rsa", "rsa:2048")}


@pytest.fixture(scope="module")
def brokers(pki, server_logs, devices):
    with refservers.mosquitto_server(pki.ec, require_certificate=True, cafile=devices["ca"].pem,
                                     tls_version="tlsv1.3", log_dir=server_logs) as b13, \
            refservers.mosquitto_server(pki.ec, require_certificate=True,
                                        cafile=devices["ca"].pem, tls_version="tlsv1.2",
                                        log_dir=server_logs) as b12:
        yield {"1.3": b13, "1.2": b12}


def driver(work, prober, *args, timeout=300):
    """`python3 -m tlsfit.cli ARGS` with the state directory under `work`."""
    import subprocess
    env = dict(os.environ, PYTHONPATH=str(REPO / "tool"), PYTHONDONTWRITEBYTECODE="1",
               TLSFIT_PROBER=str(prober), TLSFIT_STATE_DIR=str(work / "state"))
    python = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    return subprocess.run([python, "-m", "tlsfit.cli", *map(str, args)], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def saved_json(work, name, proc):
    """stdout as JSON, also kept under `work` (so the grep sees what users see)."""
    (work / name).write_text(proc.stdout)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"exit {proc.returncode}, no JSON:\n{proc.stdout}\n{proc.stderr}",
                    pytrace=False)


@pytest.fixture(scope="module")
def profiles(work, prober, pki, brokers):
    out = {}
    for v, b in brokers.items():
        proc = driver(work, prober, "probe", b.hostport, "--sni", "localhost", "--ca",
                      pki.ec.root.pem, "--json")
        assert proc.returncode == 0, proc.stderr
        path = work / f"broker-{v}.json"
        path.write_text(proc.stdout)
        out[v] = path
    return out


@pytest.fixture(scope="module")
def headers(work, prober, profiles, devices):
    """(version, key) -> the header gen writes with --client-cert (no key given)."""
    out = {}
    for v in VERSIONS:
        for k in KEYS:
            h = work / f"tls_config-{v}-{k}.h"
            proc = driver(work, prober, "gen", profiles[v], "--client-cert", devices[k].pem,
                          "-o", h)
            assert proc.returncode == 0, proc.stderr
            out[v, k] = h
    return out


def identity(devices, k):
    return ClientIdentity.load(devices[k].pem, devices[k].key)


def device_options(plan):
    return {o for o, reasons in plan.options.items()
            if any(r.startswith(("the device's", "the device certificate")) for r in reasons)}


# ------------------------------------------------------------------ the identity

def test_identity_facts_and_refusals(devices, tmp_path):
    p = identity(devices, "p256")
    assert (p.key_type, p.bits, p.curve) == ("ec", 256, "secp256r1")
    assert p.subject == "CN=tlsfit device p256" and p.issuer == "CN=tlsfit device CA"
    assert p.signature_algorithm == "ecdsa-with-SHA256" and p.signature_hash == "sha256"
    r = identity(devices, "rsa")
    assert (r.key_type, r.bits, r.curve) == ("rsa", 2048, None)
    assert "PRIVATE" not in json.dumps(p.facts()) and p.facts()["key"] == str(devices["p256"].key)
    enc = tmp_path / "enc.key"
    enc.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
    cases = [((devices["p256"].pem, devices["rsa"].key), "does not belong to the certificate"),
             ((devices["p256"].key,), "holds no CERTIFICATE block"),
             ((devices["p256"].pem, devices["p256"].pem), "holds no PRIVATE KEY block"),
             ((devices["p256"].pem, enc), "the key is encrypted"),
             ((tmp_path / "missing.pem",), "cannot read the device certificate")]
    for args, why in cases:
        with pytest.raises(TlsfitError) as info:
            ClientIdentity.load(*args)
        assert info.value.code == IDENTITY and why in info.value.message
        assert "\n" not in info.value.message


# ------------------------------------------------------------------ gen

@pytest.mark.parametrize("v", VERSIONS)
def test_gen_adds_what_signing_needs(profiles, devices, v):
    doc = model.read(profiles[v], "broker")
    assert doc["client_cert_requested"] is True
    bare = gen.generate(doc, GenOptions())
    p256 = gen.generate(doc, GenOptions(client=ClientIdentity.load(devices["p256"].pem)))
    rsa = gen.generate(doc, GenOptions(client=ClientIdentity.load(devices["rsa"].pem)))
    assert device_options(p256) == P256_OPTIONS
    assert set(p256.options) == set(bare.options)        # an ECDSA header signs already
    assert device_options(rsa) == RSA_OPTIONS[v]
    added = set(rsa.options) - set(bare.options)
    assert added >= RSA_OPTIONS[v] - set(bare.options) and "MBEDTLS_RSA_C" in added
    scheme = "rsa_pss_rsae_sha256" if v == "1.3" else "rsa_pkcs1_sha256"
    assert any(scheme in r for r in rsa.options["MBEDTLS_RSA_C"])
    assert rsa.values["MBEDTLS_MPI_MAX_SIZE"][0] == 256
    assert "the device's RSA-2048 key" in rsa.values["MBEDTLS_MPI_MAX_SIZE"][1]
    for plan, k in ((p256, "p256"), (rsa, "rsa")):
        assert any("mbedtls_pk_parse_key()" in d and "mbedtls_ssl_conf_own_cert" in d and
                   "opaque PSA key" in d for d in plan.duties)
        assert "--client-cert device.pem --client-key DEVICE_KEY.pem" in plan.text
        assert "mbedtls_pk_parse_key()" in plan.text
    if v == "1.2":      # the RSA Certificate message (636 B) would overflow 512-byte records
        mfl = "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH"
        assert mfl in bare.options and mfl in p256.options and mfl not in rsa.options
        assert "mbedTLS does not split the handshake messages it sends" in \
            rsa.values["MBEDTLS_SSL_IN_CONTENT_LEN"][1]
    assert bare.text == gen.generate(doc, GenOptions()).text
    assert "client-cert" not in bare.text and "own_cert" not in bare.text


def test_gen_refuses_a_scheme_the_server_does_not_allow(profiles, devices):
    doc = json.loads(profiles["1.3"].read_text())
    doc["client_cert_request"]["signature_algorithms"] = ["rsa_pss_rsae_sha256"]
    with pytest.raises(Refusal) as info:
        gen.generate(model.validate(doc),
                     GenOptions(client=ClientIdentity.load(devices["p256"].pem)))
    msg = info.value.message
    assert info.value.code == REFUSED and "ecdsa_secp256r1_sha256" in msg
    assert "it allows: rsa_pss_rsae_sha256" in msg and "\n" not in msg
    doc12 = json.loads(profiles["1.2"].read_text())
    doc12["client_cert_request"]["signature_algorithms"] = ["ecdsa_secp256r1_sha256"]
    with pytest.raises(Refusal) as info:
        gen.generate(model.validate(doc12), GenOptions(client=ClientIdentity.load(devices["rsa"].pem)))
    assert "rsa_pkcs1_sha256" in info.value.message and "PKCS#1 v1.5" in info.value.message


def test_gen_without_a_request_adds_nothing(devices):
    doc = model.read(REPO / "tests" / "fixtures" / "compat" / "openssl-ec-13.json", "p")
    bare = gen.generate(doc, GenOptions())
    plan = gen.generate(doc, GenOptions(client=ClientIdentity.load(devices["rsa"].pem)))
    assert plan.options == bare.options and plan.values == bare.values
    assert any("did not ask for a client certificate" in w for w in plan.warnings)


# ------------------------------------------------------------------ verify

@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("k", KEYS)
def test_verify_presents_the_identity(work, prober, pki, brokers, devices, headers, v, k):
    b = brokers[v]
    proc = driver(work, prober, "verify", "--config", headers[v, k], b.hostport, "--sni",
                  "localhost", "--ca", pki.ec.root.pem, "--proof", "mqtt", "--client-cert",
                  devices[k].pem, "--client-key", devices[k].key, "--json")
    res = saved_json(work, f"verify-{v}-{k}.json", proc)
    assert proc.returncode == 0 and res["ok"], res
    assert res["version"] == f"TLSv{v}" and res["proof"] == "mqtt-connack"
    assert res["proof_result"]["mqtt_return_code"] == 0
    assert res["client"]["subject"] == f"CN=tlsfit device {k}"
    assert any(" as tlsfit " in ln for ln in b.connected_clients())


@pytest.mark.parametrize("v", VERSIONS)
def test_verify_without_identity_names_the_cause(work, prober, pki, brokers, headers, v):
    proc = driver(work, prober, "verify", "--config", headers[v, "p256"], brokers[v].hostport,
                  "--sni", "localhost", "--ca", pki.ec.root.pem, "--proof", "mqtt", "--json")
    res = saved_json(work, f"verify-{v}-none.json", proc)
    assert proc.returncode == VERIFY and not res["ok"]
    assert res["hint"] == MISSING_HINT
    assert res["alert"] == ("certificate_required (116)" if v == "1.3"
                            else "handshake_failure (40)")
    if v == "1.2":
        assert res["certificate_requested"] is True
    human = driver(work, prober, "verify", "--config", headers[v, "p256"], brokers[v].hostport,
                   "--sni", "localhost", "--ca", pki.ec.root.pem, "--proof", "mqtt")
    assert f"hint: {MISSING_HINT}" in human.stdout


def test_verify_228_presents_the_identity(work, prober, pki, brokers, devices, profiles):
    h = work / "tls_config-228-p256.h"
    assert driver(work, prober, "gen", profiles["1.2"], "--mbedtls", "2.28", "--client-cert",
                  devices["p256"].pem, "-o", h).returncode == 0
    proc = driver(work, prober, "verify", "--config", h, brokers["1.2"].hostport, "--sni",
                  "localhost", "--ca", pki.ec.root.pem, "--mbedtls", "2.28", "--proof", "mqtt",
                  "--client-cert", devices["p256"].pem, "--client-key", devices["p256"].key, "--json")
    res = saved_json(work, "verify-228.json", proc)
    assert proc.returncode == 0 and res["ok"] and res["mbedtls"].startswith("2.28"), res


# ------------------------------------------------------------------ measure

@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("k", KEYS)
def test_measure_presents_the_identity(work, prober, pki, brokers, devices, headers, v, k):
    proc = driver(work, prober, "measure", "--config", headers[v, k], "--target", "cortex-m4",
                  "--server", brokers[v].hostport, "--sni", "localhost", "--ca",
                  pki.ec.root.pem, "--proof", "mqtt", "--client-cert", devices[k].pem,
                  "--client-key", devices[k].key, "--json")
    doc = saved_json(work, f"measure-{v}-{k}.json", proc)
    hs = doc["handshake"]
    assert proc.returncode == 0 and hs["ok"], json.dumps(hs)
    assert hs["version"] == f"TLSv{v}" and hs["proof"] == "mqtt-connack"
    assert hs["proof_result"]["mqtt_return_code"] == 0
    assert doc["client"]["key_type"] == ("ec" if k == "p256" else "rsa")
    run_dir = Path(doc["artifacts"]["elf"]).parent
    assert not (run_dir / "run_params.c").exists()
    assert not (run_dir / "tls_client.obj" / "run_params.o").exists()


@pytest.mark.parametrize("v", VERSIONS)
def test_measure_without_identity_names_the_cause(work, prober, pki, brokers, headers, v):
    proc = driver(work, prober, "measure", "--config", headers[v, "p256"], "--target",
                  "cortex-m4", "--server", brokers[v].hostport, "--sni", "localhost", "--ca",
                  pki.ec.root.pem, "--proof", "mqtt", "--json")
    doc = saved_json(work, f"measure-{v}-none.json", proc)
    assert proc.returncode == TARGET and not doc["handshake"]["ok"]
    assert doc["handshake"]["hint"] == MISSING_HINT
    assert doc["client"] is None


def test_fit_with_the_device_identity(work, prober, pki, brokers, devices):
    """fit presents the identity in every measurement and configures what signing with
    it needs: against the broker that requires a certificate (TLS 1.3) the fitted header
    verified with CONNACK 0 and resumed (--resume: the fit's probe learns how the broker
    resumes only by presenting the identity too); its outputs go under `work`, so the
    last test greps them."""
    out = work / "fit-p256"
    proc = driver(work, prober, "fit", brokers["1.3"].hostport, "--sni", "localhost", "--ca",
                  pki.ec.root.pem, "--proof", "mqtt", "--client-cert", devices["p256"].pem,
                  "--client-key", devices["p256"].key, "--candidates", "1", "--objective",
                  "rom", "--resume", "--out", out, "--json", timeout=900)
    report = saved_json(work, "fit-p256.json", proc)
    assert proc.returncode == 0, proc.stderr
    hs = report["handshake"]
    assert (hs["ok"], hs["version"], hs["proof"]) == (True, "TLSv1.3", "mqtt-connack"), hs
    assert hs["proof_reply"].startswith("CONNACK return code 0"), hs
    assert report["baseline"]["handshake"]["ok"] is True, report["baseline"]
    assert (report["resumption"]["mode"], report["resumption"]["accepted"]) == \
        ("tls13-ticket", True), report["resumption"]
    text = (out / "tls_config.h").read_text()
    assert "#define MBEDTLS_ECDSA_C" in text and "mbedtls_ssl_conf_own_cert" in text


# ------------------------------------------------------------------ no key material

@pytest.mark.fit             # reads what the module's measures and fit wrote: it runs with them
@pytest.mark.server
def test_no_file_written_holds_key_material(work, devices):
    """Runs last: every file under the module's output and state directories."""
    secrets = []
    for k in KEYS:
        der = ClientIdentity.load(devices[k].pem, devices[k].key).key_der()
        secrets += [der[i:i + 32] for i in range(0, len(der) - 32, 32)]
    files = [f for f in work.rglob("*") if f.is_file()]
    assert any(f.name.startswith("measure-") for f in files) and \
        any(f.parent.name == "state" for f in files)
    for f in files:
        data = f.read_bytes()
        assert b"PRIVATE KEY" not in data, f
        assert not any(s in data for s in secrets), f


def test_a_key_whose_public_der_ends_in_a_whitespace_byte_is_its_certificates(tmp_path):
    """The key check compares DER bytes as openssl gives them: a P-256 public key whose
    last byte is 0x09-0x0d or 0x20 (about 1 key in 43) was refused as not the
    certificate's when the output was strip()ped (a flaky CI failure)."""
    import subprocess
    for i in range(3000):
        key = tmp_path / f"k{i}.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", str(key)], check=True,
                       capture_output=True)
        der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        if der[-1:] in (b"\t", b"\n", b"\v", b"\f", b"\r", b" "):
            break
        key.unlink()
    else:
        pytest.fail("no P-256 key ending in a whitespace byte in 3000 tries")
    cert = tmp_path / "device.pem"
    subprocess.run(["openssl", "req", "-new", "-x509", "-key", str(key), "-subj",
                    "/CN=tlsfit whitespace device", "-days", "2", "-out", str(cert)],
                   check=True, capture_output=True)
    ident = ClientIdentity.load(cert, key)
    assert (ident.key_type, ident.curve) == ("ec", "secp256r1")
