"""Pre-shared keys: the key file, the probe's psk step, gen's PSK candidates and the host
verify, against `openssl s_server -psk -nocert` and `gnutls-serv --pskpasswd`.

One server of each kind per module; the probes take well under a second each, the two
verify builds are the cost (ccache keeps them cheap after the first run).
"""
import json
import re
from pathlib import Path

import pytest

from conftest import require_tools, run_tlsfit
from tlsfit.core import pskkey
from tlsfit.core.errors import PSK_KEY, PSK_PROFILE, REFUSED, VERIFY, TlsfitError
from tlsfit.lab.pskservers import gnutls_psk_server, openssl_psk_server

IDENTITY = "dev-7"
KEY = bytes.fromhex("3c1f0a9e5b7d2468ace013579bdf0246")       # 16 bytes
PSK_OPTIONS = ("MBEDTLS_X509_", "MBEDTLS_PK_", "MBEDTLS_SSL_SERVER_NAME_INDICATION")


# ------------------------------------------------------------------ the key file (pure)

def test_hex_key_with_whitespace_and_raw_key():
    assert pskkey.parse_key(b"3c1f 0a9e\n5b7d2468\tACE013579bdf0246\n") == KEY
    assert pskkey.parse_key(b"not hex: a passphrase") == b"not hex: a passphrase"
    assert pskkey.parse_key(bytes(range(256))[:40]) == bytes(range(40))


@pytest.mark.parametrize("data, why", [
    (b"", "it is empty"),
    (b" \n\t", "it is empty"),
    (b"abc", "odd number of hex digits (3)"),
    (b"00" * 65, "the key is 65 bytes, over the 64 bytes"),
    (b"x" * 65, "the key is 65 bytes, over the 64 bytes"),
])
def test_unusable_key_data_says_why(data, why):
    with pytest.raises(ValueError) as e:
        pskkey.parse_key(data)
    assert why in str(e.value)


def test_load_errors_are_one_line_with_code_62(tmp_path):
    with pytest.raises(TlsfitError) as e:
        pskkey.load(IDENTITY, tmp_path / "missing.key")
    assert e.value.code == PSK_KEY
    assert e.value.message == (f"--psk-key-file {tmp_path / 'missing.key'}: cannot read it: "
                               "No such file or directory")
    empty = tmp_path / "empty.key"
    empty.write_bytes(b"")
    with pytest.raises(TlsfitError) as e:
        pskkey.load(IDENTITY, empty)
    assert (e.value.code, "\n" in e.value.message) == (PSK_KEY, False)
    assert e.value.message.endswith("it is empty (give the key as hex digits or raw bytes)")
    with pytest.raises(TlsfitError) as e:
        pskkey.load(None, empty)
    assert e.value.code == PSK_KEY and "go together" in e.value.message
    with pytest.raises(TlsfitError) as e:
        pskkey.load("x" * 129, empty)
    assert e.value.message == "--psk-identity must be 1 to 128 bytes, not 129"
    assert pskkey.load(None, None) is None


def test_the_key_stays_out_of_repr(tmp_path):
    f = tmp_path / "k.hex"
    f.write_text(KEY.hex())
    psk = pskkey.load(IDENTITY, f)
    assert psk.key == KEY
    assert repr(psk) == str(psk) == "Psk(identity='dev-7', key=<16 bytes>)"


def test_uart_frame_and_certificate_objects():
    from tlsfit.target import linkmap
    psk = pskkey.Psk(IDENTITY, KEY)
    assert pskkey.uart_frame(psk) == b"\x10" + KEY
    assert pskkey.uart_frame(None) == b""
    mods = [{"name": n} for n in ("x509_crt.o", "pkparse.o", "ssl_tls.o", "pk_wrap.o", "oid.o")]
    assert linkmap.certificate_objects(mods) == ["pk_wrap.o", "pkparse.o", "x509_crt.o"]


def test_a_device_file_names_one_key_per_device(tmp_path):
    from tlsfit.core.errors import DEVICE
    from tlsfit.fit import device
    (tmp_path / "k.hex").write_text(KEY.hex())
    (tmp_path / "other.hex").write_text(KEY.hex())
    dev = device.parse({"server": [{"host": "a", "psk_identity": IDENTITY, "psk_key_file": "k.hex"},
                                   {"host": "b"}]}, "d.toml", tmp_path)
    first = dev.servers[0]
    assert (first.psk_identity, first.psk_key_file) == (IDENTITY, tmp_path / "k.hex")
    assert dev.servers[1].psk_identity is None
    for servers, field, what in (
            ([{"host": "a", "psk_identity": IDENTITY}], "server[1].psk_identity", "go together"),
            ([{"host": "a", "psk_identity": IDENTITY, "psk_key_file": "k.hex"},
              {"host": "b", "psk_identity": IDENTITY, "psk_key_file": "other.hex"}],
             "server[2].psk_identity", "a device has one pre-shared key")):
        with pytest.raises(TlsfitError) as e:
            device.parse({"server": servers}, "d.toml", tmp_path)
        assert e.value.code == DEVICE and e.value.message.startswith(f"d.toml: {field}: ")
        assert what in e.value.message


# ------------------------------------------------------------------ live: openssl s_server

@pytest.fixture(scope="module")
def lab(prober, server_logs, tmp_path_factory):
    """openssl s_server -psk and gnutls-serv --pskpasswd, probed; gen's TLS 1.2 and TLS 1.3
    headers from the openssl profile; the TLS 1.2 one measured under QEMU (cortex-m4),
    the TLS 1.3 one (one verify build) verified on the host against both servers, and
    with a wrong key.  Every file the commands wrote is under `dir`, the verify build or
    the measure's build."""
    require_tools("openssl", "gnutls-serv")
    d = tmp_path_factory.mktemp("psk")
    key_file = d / "device.key"
    key_file.write_text(" ".join(re.findall("....", KEY.hex())) + "\n")    # hex, spaced
    bad = d / "bad.key"
    bad.write_bytes(b"\x01" * 16)

    def tlsfit(*args):
        return run_tlsfit(prober, d / "state", *args, timeout=600)
    out = {"dir": d, "key_file": key_file}
    psk_args = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)
    with openssl_psk_server(IDENTITY, KEY, log_dir=server_logs) as srv, \
            gnutls_psk_server(IDENTITY, KEY, log_dir=server_logs) as gsrv:
        out["probe"] = tlsfit("probe", srv.hostport, *psk_args, "--json")
        (d / "openssl.json").write_text(out["probe"].stdout)
        out["gnutls_probe"] = tlsfit("probe", gsrv.hostport, *psk_args, "--json")
        out["wrong"] = tlsfit("probe", srv.hostport, "--psk-identity", IDENTITY,
                              "--psk-key-file", d / "state" / "missing")
        out["wrong_key"] = tlsfit("probe", srv.hostport, "--psk-identity", IDENTITY,
                                  "--psk-key-file", bad)
        for name, extra in (("h12", ()), ("h13", ("--tls", "1.3"))):
            out[f"gen_{name}"] = tlsfit("gen", d / "openssl.json", *psk_args, *extra,
                                        "-o", d / f"{name}.h")
        with openssl_psk_server(IDENTITY, KEY, "-tls1_3", log_dir=server_logs) as only13:
            out["probe13"] = tlsfit("probe", only13.hostport, *psk_args, "--json")
            out["probe13_nokey"] = tlsfit("probe", only13.hostport)
        (d / "only13.json").write_text(out["probe13"].stdout)
        out["gen_only13"] = tlsfit("gen", d / "only13.json", *psk_args)
        out["measure"] = tlsfit("measure", "--config", d / "h12.h", "--target", "cortex-m4",
                                "--server", srv.hostport, *psk_args, "--json")
        for name, target, key in (("openssl", srv, key_file), ("gnutls", gsrv, key_file),
                                  ("bad", srv, bad)):
            out[f"verify_{name}"] = tlsfit("verify", "--config", d / "h13.h", target.hostport,
                                           "--psk-identity", IDENTITY, "--psk-key-file", key,
                                           "--json")
    return out


@pytest.mark.server
def test_probe_proves_the_openssl_psk_suites_and_modes(lab):
    assert lab["probe"].returncode == 0, lab["probe"].stderr
    psk = json.loads(lab["probe"].stdout)["psk"]
    names = [s["name"] for s in psk["tls12_suites"]]
    assert psk["identity"] == IDENTITY
    assert {"TLS_PSK_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"} <= set(names)
    assert all("_PSK_" in n for n in names)
    # OpenSSL accepts an external PSK in TLS 1.3 only with a key exchange (psk_dhe_ke)
    assert psk["tls13_modes"] == ["psk_dhe_ke"]
    assert psk["tls13_group"] == "x25519"
    assert json.loads(lab["probe"].stdout)["chain"] == []


@pytest.mark.server
def test_a_server_that_answers_only_with_the_key(lab):
    """openssl s_server -tls1_3 -psk -nocert refuses every hello without the key: the
    versions step finds nothing (exit 16 without a key), the psk step TLS 1.3."""
    assert lab["probe13_nokey"].returncode == 16
    assert lab["probe13"].returncode == 0, lab["probe13"].stderr
    doc = json.loads(lab["probe13"].stdout)
    assert doc["versions"] == ["TLSv1.3"]
    assert doc["ciphersuites"]["TLSv1.3"] == [doc["psk"]["tls13_suite"]]
    assert doc["groups"]["TLSv1.3"] == ["x25519"]
    assert doc["steps"]["versions"]["status"] == "ok"
    assert doc["steps"]["versions"]["note"].startswith("no version without the pre-shared key")
    assert doc["psk"]["tls13_modes"] == ["psk_dhe_ke"] and doc["psk"]["tls12_suites"] == []
    assert 0 < doc["records"]["max_record_len"] < 1024
    gen = lab["gen_only13"]
    assert gen.returncode == 0, gen.stderr
    assert "#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED " in gen.stdout
    assert "#define MBEDTLS_SSL_PROTO_TLS1_2 " not in gen.stdout


@pytest.mark.server
def test_wrong_or_missing_key_is_one_line_with_its_code(lab):
    assert lab["wrong"].returncode == PSK_KEY
    assert lab["wrong"].stderr.count("\n") == 1 and "cannot read it" in lab["wrong"].stderr
    assert lab["wrong_key"].returncode == 25, lab["wrong_key"].stderr
    line, = lab["wrong_key"].stderr.strip().splitlines()[-1:]
    assert "no pre-shared-key handshake completed for identity \"dev-7\"" in line
    assert line.endswith("[TF_ERR_PSK_REFUSED]")


@pytest.mark.server
def test_gen_picks_ecdhe_psk_and_leaves_x509_out(lab):
    assert lab["gen_h12"].returncode == 0, lab["gen_h12"].stderr
    text = (lab["dir"] / "h12.h").read_text()
    assert "#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 " \
           in text
    assert "#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED " in text
    assert re.search(r"#define MBEDTLS_PSK_MAX_LEN 16 ", text)
    assert '#define TLSFIT_PSK_IDENTITY "dev-7" ' in text
    assert "mbedtls_ssl_conf_psk(&conf" in text
    defined = re.findall(r"^#define (\S+)", text, re.M)
    assert not [o for o in defined if o.startswith(PSK_OPTIONS)]
    # plain PSK (no forward secrecy) is left out while ECDHE-PSK is there
    assert "MBEDTLS_KEY_EXCHANGE_PSK_ENABLED" not in defined


@pytest.mark.server
def test_host_verify_proves_the_tls13_header_against_both_servers(lab):
    assert lab["gen_h13"].returncode == 0, lab["gen_h13"].stderr
    text = (lab["dir"] / "h13.h").read_text()
    assert "#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED " in text
    assert "#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256 " in text
    assert not [o for o in re.findall(r"^#define (\S+)", text, re.M) if o.startswith(PSK_OPTIONS)]
    for server in ("openssl", "gnutls"):
        proc = lab[f"verify_{server}"]
        assert proc.returncode == 0, proc.stdout + proc.stderr
        res = json.loads(proc.stdout)
        assert (res["ok"], res["version"], res["ciphersuite"], res["group"]) == \
            (True, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", "x25519")
        assert res["psk_identity"] == IDENTITY
    bad = lab["verify_bad"]
    assert bad.returncode == VERIFY
    assert json.loads(bad.stdout)["ok"] is False


@pytest.mark.server
@pytest.mark.qemu
def test_qemu_measure_of_the_tls12_header_has_no_x509_code(lab):
    """The firmware gets the key over the UART from the relay (never in the image) and
    completes the handshake; its link map holds no X.509 or public-key object."""
    proc = lab["measure"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    rep = json.loads(proc.stdout)
    hs = rep["handshake"]
    assert (hs["ok"], hs["version"], hs["ciphersuite"], hs["group"]) == \
        (True, "TLSv1.2", "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "x25519")
    objects = [m["name"] for m in rep["modules"]]
    assert "ssl_tls12_client.o" in objects
    assert not [o for o in objects if o.startswith(("x509", "pk", "oid", "asn1"))], objects
    assert rep["psk"] == {"identity": IDENTITY, "certificate_objects": []}


@pytest.mark.server
def test_no_file_the_commands_wrote_holds_the_key(lab):
    """The profile, the headers, the state directory and the verify builds (the
    header's copy, the build log, the client) never hold the key, as hex or raw."""
    builds = {json.loads(lab[f"verify_{n}"].stdout)["build"] for n in ("openssl", "gnutls")}
    builds.add(str(Path(json.loads(lab["measure"].stdout)["artifacts"]["elf"]).parent))
    files = [p for p in lab["dir"].rglob("*") if p.is_file() and p != lab["key_file"]]
    for b in builds:
        files += [p for p in Path(b).rglob("*") if p.is_file()]
    assert len(files) > 5
    needles = (KEY, KEY.hex().encode(), KEY.hex().upper().encode(),
               " ".join(re.findall("....", KEY.hex())).encode())
    for p in files:
        data = p.read_bytes()
        assert not [n for n in needles if n in data], p


def test_gen_without_psk_facts_for_the_identity_is_code_63(tmp_path):
    from tlsfit.header import gen, psk as psk_mod
    from tlsfit.header.types import GenOptions
    from tlsfit.profile import model
    doc = model.load("tests/fixtures/compat/openssl-ec-13.json")
    with pytest.raises(TlsfitError) as e:
        gen.generate(doc, GenOptions(psk=psk_mod.PskSpec(IDENTITY, 16, "k.hex")))
    assert e.value.code == PSK_PROFILE
    assert e.value.message.endswith("the profile holds no PSK facts; probe the server with "
                                    "--psk-identity dev-7 --psk-key-file FILE first")


# ------------------------------------------------------------------ live: gnutls-serv

@pytest.mark.server
def test_gnutls_psk_modes_and_policy(lab, prober, tmp_path):
    """gnutls-serv accepts psk_ke too; under default gen takes psk_dhe_ke (forward
    secrecy); a server with plain PSK alone is a warning under default and a refusal
    under strict.  The key file here holds raw bytes."""
    key_file = tmp_path / "k.bin"
    key_file.write_bytes(KEY)
    psk_args = ("--psk-identity", IDENTITY, "--psk-key-file", key_file)
    probe = lab["gnutls_probe"]
    assert probe.returncode == 0, probe.stderr
    psk = json.loads(probe.stdout)["psk"]
    assert psk["tls13_modes"] == ["psk_ke", "psk_dhe_ke"]
    assert "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" in [s["name"] for s in psk["tls12_suites"]]
    (tmp_path / "g.json").write_text(probe.stdout)
    gen13 = run_tlsfit(prober, tmp_path / "s", "gen", tmp_path / "g.json", *psk_args,
                       "--tls", "1.3")
    assert gen13.returncode == 0, gen13.stderr
    assert "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED " in gen13.stdout
    assert "MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED " not in gen13.stdout

    doc = json.loads(probe.stdout)
    plain = [s for s in psk["tls12_suites"] if s["name"] == "TLS_PSK_WITH_AES_128_GCM_SHA256"]
    doc["psk"] = dict(psk, tls12_suites=plain, tls13_modes=[], tls13_suite=None, tls13_group=None)
    (tmp_path / "plain.json").write_text(json.dumps(doc))
    default = run_tlsfit(prober, tmp_path / "s", "gen", tmp_path / "plain.json", *psk_args)
    assert default.returncode == 0, default.stderr
    assert " * WARNING: TLS_PSK_WITH_AES_128_GCM_SHA256: the pre-shared key alone (no " \
           "ephemeral key exchange) has no forward secrecy\n" in default.stdout
    assert "#define MBEDTLS_KEY_EXCHANGE_PSK_ENABLED " in default.stdout
    strict = run_tlsfit(prober, tmp_path / "s", "gen", tmp_path / "plain.json", *psk_args,
                        "--policy", "strict")
    assert strict.returncode == REFUSED
    assert "has no forward secrecy" in strict.stderr
