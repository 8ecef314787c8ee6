"""The fit's DTLS guards, pure: sessions to one DTLS server take turns
(target/dgramturns.py) and a server that stops answering mid-fit ends it with exit 61
(fit/dgramwatch.py).  The live proof is test_dtls_gnutls.py's fit of gnutls-serv --udp."""
import threading

import pytest

from tlsfit.core.errors import DTLS_SERVER_STOPPED, TlsfitError
from tlsfit.fit.dgramwatch import ServerWatch
from tlsfit.target.dgramturns import server_turn
from tlsfit.target.outcome import SILENT
from tlsfit.target.result import Measurement


def _m(heard, ok=False, error=None, cached=False):
    doc = {"target": "cortex-m4", "handshake": {"ok": ok, "error": error},
           "wire": {"transport": "udp", "datagrams_from_server": heard}}
    if cached:
        doc["cached_result"] = {"image_sha256": "0" * 64}
    return Measurement.from_json(doc)


def test_a_server_silent_from_the_start_is_left_to_measure():
    w = ServerWatch(1)
    w.note(0, "127.0.0.1:5684", _m(0, error=SILENT))     # measure's exit 60 says it


def test_a_server_that_answered_then_went_silent_ends_the_fit():
    w = ServerWatch(2)
    w.note(0, "127.0.0.1:5684", _m(3, error="MBEDTLS_ERR_SSL_TIMEOUT"))   # answered, failed
    w.note(1, "127.0.0.1:5685", _m(0, error=SILENT))      # the other server: not yet heard
    w.note(0, "127.0.0.1:5684", _m(0, error=SILENT, cached=True))   # not asked: no verdict
    with pytest.raises(TlsfitError) as e:
        w.note(0, "127.0.0.1:5684", _m(0, error=SILENT))
    assert e.value.code == DTLS_SERVER_STOPPED
    assert "127.0.0.1:5684" in e.value.message and "restart the server" in e.value.message
    assert "\n" not in e.value.message


def test_sessions_to_one_server_take_turns_and_others_do_not_wait():
    inside, most, lock = [], [0], threading.Lock()
    go = threading.Barrier(4)

    def session(port):
        go.wait()
        with server_turn("127.0.0.1", port):
            with lock:
                inside.append(port)
                most[0] = max(most[0], inside.count(5684))
            threading.Event().wait(0.05)
            with lock:
                inside.remove(port)

    threads = [threading.Thread(target=session, args=(p,)) for p in (5684, 5684, 5684, 5685)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1 and inside == []
    with server_turn("127.0.0.1", 5685):     # another server's turn is its own
        with server_turn("localhost", 5684):
            pass


def test_a_dtls_timeout_is_not_stored_as_a_fact_about_the_image(tmp_path, monkeypatch):
    from types import SimpleNamespace
    from tlsfit.target import runcache
    monkeypatch.setenv("TLSFIT_RUNCACHE", str(tmp_path / "cache"))
    elf = tmp_path / "tls_client.elf"
    elf.write_bytes(b"\x7fELF image")
    out = SimpleNamespace(ended="exit", connect_error=None, result={"ok": 0})

    def request(dtls):
        return SimpleNamespace(server_facts="f" * 64, host="127.0.0.1", timeout=60,
                               target="cortex-m4", resume=False, client=None, psk=None,
                               live=False, dtls=dtls)

    def stored(dtls, error):
        report = {"handshake": {"ok": False, "error": error}}
        runcache.store(elf, request(dtls), report, out)
        found = runcache.lookup(elf, request(dtls))
        for f in (tmp_path / "cache").rglob("*.json"):
            f.unlink()
        return found is not None

    assert not stored(True, "MBEDTLS_ERR_SSL_TIMEOUT")      # the server's state, maybe
    assert not stored(True, SILENT)
    assert stored(True, "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE")   # a refusal: a fact
    assert stored(False, "MBEDTLS_ERR_SSL_TIMEOUT")          # TCP: as before
