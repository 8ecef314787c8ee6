"""target/request.py: the one value measure() and its phases read, checked before any
build.  Pure: no build, no QEMU, no server (the port is never connected to)."""
import dataclasses
from pathlib import Path

import pytest

from tlsfit.core import proof as proof_mod
from tlsfit.core.errors import USAGE, TlsfitError
from tlsfit.core.identity import ClientIdentity
from tlsfit.target import measure
from tlsfit.target.params import DEFAULT_SEED
from tlsfit.target.request import DEFAULT_TIMEOUT, MeasureRequest


def test_fields_keep_measures_old_argument_order():
    req = MeasureRequest("c.h", "cortex-m4", "h", 1, "sni", "ca.pem", None, 4096, 9, True, False,
                         line="2.28", lto="both")
    assert (req.sni, req.ca, req.heap_limit, req.timeout, req.baseline, req.progress) == \
        ("sni", "ca.pem", 4096, 9, True, False)
    assert (req.line, req.lto, req.seed, req.anchors) == ("2.28", "both", DEFAULT_SEED, None)
    with pytest.raises(TypeError):
        MeasureRequest("c.h", "cortex-m4", "h", 1, None, None, None, None, 60, False, True, "3.6")
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.port = 2
    assert MeasureRequest("c.h", "cortex-m4", "h", 1).timeout == DEFAULT_TIMEOUT


def test_server_brackets_ipv6():
    assert MeasureRequest("c.h", "cortex-m4", "::1", 8443).server == "[::1]:8443"
    assert MeasureRequest("c.h", "cortex-m4", "localhost", 443).server == "localhost:443"


def test_resolved_fills_in_sni_proof_target_and_tree():
    req = MeasureRequest("c.h", "cortex-m4", "127.0.0.1", 8883).resolved()
    assert req.sni == "127.0.0.1"
    assert req.target == "cortex-m4"
    assert req.proof == proof_mod.resolve(None, 8883)
    assert req.tree.line == "3.6"
    again = dataclasses.replace(req, sni="broker").resolved()
    assert again.sni == "broker" and again.tree is req.tree


def test_resolved_refuses_an_unknown_target_and_a_tree_of_another_line():
    with pytest.raises(TlsfitError) as e:
        MeasureRequest("c.h", "cortex-m0", "h", 1).resolved()
    assert e.value.code == USAGE and "unknown target 'cortex-m0'" in e.value.message
    tree = MeasureRequest("c.h", "cortex-m4", "h", 1).resolved().tree
    with pytest.raises(TlsfitError) as e:
        MeasureRequest("c.h", "cortex-m4", "h", 1, tree=tree, line="2.28").resolved()
    assert e.value.code == USAGE and f"is mbedTLS {tree.version}, not 2.28" in e.value.message


def test_resolved_refuses_a_client_certificate_without_its_key():
    client = ClientIdentity(Path("device.pem"))
    with pytest.raises(TlsfitError) as e:
        MeasureRequest("c.h", "cortex-m4", "h", 1, client=client).resolved()
    assert e.value.code == USAGE
    assert e.value.message == ("--client-cert device.pem needs --client-key: the device "
                               "signs the handshake with its key")


def test_measure_takes_a_request_or_its_fields_not_both(tmp_path):
    req = MeasureRequest(tmp_path / "missing.h", "cortex-m4", "h", 1)
    with pytest.raises(TypeError):
        measure.measure(req, "cortex-m4")
    with pytest.raises(TlsfitError) as e:          # the header is read before any build
        measure.measure(req)
    assert "cannot read the configuration header" in e.value.message
    with pytest.raises(TlsfitError) as same:
        measure.measure(tmp_path / "missing.h", "cortex-m4", "h", 1)
    assert same.value.message == e.value.message
