"""model_signing's Sigstore options from Python, offline: where the identity token comes
from (an explicit token, the environment's only when `use_ambient_credentials` asks for it,
else the interactive login), which OIDC issuer the login uses, and which instance wins when
both `use_staging` and `trust_config` are given. A loopback server stands in for the
instance and records what msign asks it; it answers nothing useful, so every sign fails
after the request that shows which way msign went."""

import http.server
import json
import pathlib
import socket
import threading

import pytest

import msign
from conftest import FIXTURES

LEGACY = FIXTURES / "msign-legacy-dsse-v2"
DISCOVERY = "/.well-known/openid-configuration"


class Recorder:
    """A loopback HTTP server answering 404 to everything and keeping the paths asked."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.paths.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            do_GET = do_POST = _answer  # noqa: N815 - the http.server hooks

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def instance(tmp_path: pathlib.Path, monkeypatch):
    """The recorder, and a trust configuration whose Fulcio, Rekor, timestamp authority
    and OIDC issuer are all on it. No identity token is in the environment."""
    for var in ("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    rec = Recorder()
    config = json.loads((LEGACY / "trust_config_v2.json").read_text())
    for key, path in (("caUrls", "/fulcio"), ("oidcUrls", "/oidc"), ("rekorTlogUrls", "/rekor"), ("tsaUrls", "/tsa")):
        for service in config["signingConfig"][key]:
            service["url"] = rec.url + path
    trust = tmp_path / "trust_config.json"
    trust.write_text(json.dumps(config))
    yield rec, trust
    rec.stop()


def sign_with(model: pathlib.Path, tmp_path: pathlib.Path, **sigstore) -> Exception:
    """Signs with Sigstore and returns what it raised (it must raise: the instance is fake)."""
    cfg = msign.signing.Config().use_sigstore_signer(force_oob=True, **sigstore)
    with pytest.raises(Exception) as raised:
        cfg.sign(model, tmp_path / "model.sig")
    assert not (tmp_path / "model.sig").exists()
    return raised.value


def test_ambient_token_is_not_used_unless_asked(instance, model, tmp_path, monkeypatch):
    rec, trust = instance
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "not-a-jwt")
    # Not asked: the environment's token is left alone and the login starts.
    err = sign_with(model, tmp_path, trust_config=trust)
    assert rec.paths == ["/oidc" + DISCOVERY], (rec.paths, err)
    assert "JWT" not in str(err)
    # Asked: the environment's token is the one used (and this one is refused).
    rec.paths.clear()
    err = sign_with(model, tmp_path, trust_config=trust, use_ambient_credentials=True)
    assert "not a JWT" in str(err)
    assert rec.paths == []


def test_asking_for_an_absent_ambient_token_falls_back_to_the_login(instance, model, tmp_path):
    rec, trust = instance
    err = sign_with(model, tmp_path, trust_config=trust, use_ambient_credentials=True)
    assert rec.paths == ["/oidc" + DISCOVERY], (rec.paths, err)


def test_oidc_issuer_replaces_the_instances(instance, model, tmp_path):
    rec, trust = instance
    err = sign_with(model, tmp_path, trust_config=trust, oidc_issuer=rec.url + "/mine")
    assert rec.paths == ["/mine" + DISCOVERY], (rec.paths, err)


def test_signer_takes_staging_over_a_trust_config(instance, model, tmp_path, monkeypatch):
    rec, trust = instance
    # Nothing may leave the machine: every non-loopback request goes to a closed port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,::1")
    err = sign_with(model, tmp_path, trust_config=trust, use_staging=True)
    assert rec.paths == [], err
    assert "sigstage.dev" in str(err), err


def test_verifier_takes_a_trust_config_over_staging():
    issuer = (LEGACY / "issuer").read_text().strip()
    msign.verifying.Config().use_sigstore_verifier(
        identity="alice@example.com",
        oidc_issuer=issuer,
        use_staging=True,
        trust_config=LEGACY / "trust_config_v2.json",
    ).verify(LEGACY / "model", LEGACY / "model.sig")
