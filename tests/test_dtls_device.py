"""A device file's `dtls` key and fit --dtls's hosts (fit/device.py): pure."""
import pytest

from tlsfit.core.errors import DEVICE, TlsfitError
from tlsfit.fit import device


def test_a_dtls_server_defaults_to_port_5684(tmp_path):
    (tmp_path / "node.key").write_text("00112233")
    (tmp_path / "d.toml").write_text('[[server]]\nhost = "coap.local"\ndtls = true\n'
                                     'psk_identity = "n"\npsk_key_file = "node.key"\n'
                                     '[[server]]\nhost = "ota.local"\n')
    coap, ota = device.load(tmp_path / "d.toml").servers
    assert (coap.port, coap.dtls) == (5684, True) and (ota.port, ota.dtls) == (443, False)


def test_dtls_must_be_a_boolean(tmp_path):
    (tmp_path / "d.toml").write_text('[[server]]\nhost = "coap.local"\ndtls = "yes"\n')
    with pytest.raises(TlsfitError) as e:
        device.load(tmp_path / "d.toml")
    assert e.value.code == DEVICE and "server[1].dtls: expected true or false" in e.value.message


def test_fit_dtls_hosts():
    a, b = device.from_hosts(["a", "b:5000"], dtls=True).servers
    assert (a.port, b.port, a.dtls, b.dtls) == (5684, 5000, True, True)
    assert device.from_hosts(["a"]).servers[0].port == 443
