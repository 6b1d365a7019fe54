"""plugins.storage_gcs against fake-gcs-server on 127.0.0.1 (STORAGE_EMULATOR_HOST).

The storage contract (present, absent, odd names whose public URL gives the bytes, server
down), plus a server that stops and comes back, and signed URLs with a service-account key.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plugins.storage_gcs import symbolsrv_storage_for
from symbolsrv.errors import StorageError
from symbolsrv.settings import load_settings
from tests.servers import FakeGcsServer, gcs_env, require_module
from tests.storage_contract import ID, KEY, StorageContract, fetch

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gcs_server():
    require_module("google.cloud.storage", "to talk to the GCS emulator")
    with FakeGcsServer() as server:
        yield server


@pytest.fixture
def cfg():
    return load_settings({"symbolsrv.locations": "file:///srv/symbols",
                          "sqlalchemy.url": "sqlite://"})


def point_at(monkeypatch, tmp_path, endpoint):
    """Point google-cloud-storage at `endpoint`, with no credentials whatever the machine has
    (a key file that does not exist makes google.auth.default() fail at once)."""
    for name, value in gcs_env(endpoint).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))


def make_bucket(name):
    from google.cloud import storage

    client = storage.Client(project="test-project")
    return client.create_bucket(name)


@pytest.fixture
def bucket(gcs_server, monkeypatch, tmp_path):
    """A fresh bucket on the shared emulator, with the environment pointed at it."""
    point_at(monkeypatch, tmp_path, gcs_server.endpoint)
    return make_bucket(f"symbols-{uuid.uuid4().hex[:12]}")


class TestGcsStorageContract(StorageContract):
    @pytest.fixture
    def storage(self, bucket, cfg):
        return symbolsrv_storage_for(location=f"gs://{bucket.name}/v1?timeout_seconds=2",
                                     cfg=cfg)

    @pytest.fixture
    def put(self, bucket):
        def put(key_path, data):
            bucket.blob("v1/" + key_path).upload_from_string(data)

        return put

    @pytest.fixture
    def stopped_storage(self, monkeypatch, tmp_path, cfg):
        with FakeGcsServer() as server:
            point_at(monkeypatch, tmp_path, server.endpoint)
            make_bucket("symbols")
            storage = symbolsrv_storage_for(location="gs://symbols?timeout_seconds=1", cfg=cfg)
            server.stop()
            yield storage


def test_public_location_is_the_emulator_url_and_gives_the_bytes(bucket, cfg):
    bucket.blob(f"Electron Framework/{ID}/Electron Framework.sym").upload_from_string(b"EF")
    storage = symbolsrv_storage_for(location=f"gs://{bucket.name}", cfg=cfg)
    from symbolsrv.keys import SymbolKey

    hit = storage.locate(SymbolKey("Electron Framework", ID, "Electron Framework.sym"))
    endpoint = storage.client.api_endpoint
    assert hit.url == (f"{endpoint}/{bucket.name}/Electron%20Framework/{ID}/"
                       "Electron%20Framework.sym")
    assert fetch(hit) == b"EF"


def test_server_stopped_is_a_storage_error_quickly_and_recovery_is_immediate(monkeypatch,
                                                                            tmp_path, cfg):
    with FakeGcsServer() as server:
        point_at(monkeypatch, tmp_path, server.endpoint)
        make_bucket("symbols").blob(KEY.path).upload_from_string(b"xul")
        storage = symbolsrv_storage_for(location="gs://symbols?timeout_seconds=1", cfg=cfg)
        assert storage.locate(KEY) is not None

        server.stop()
        started = time.monotonic()
        with pytest.raises(StorageError) as raised:
            storage.locate(KEY)
        assert time.monotonic() - started < 5  # refused at once, no library retries
        assert raised.value.location == "gs:symbols"

        server.start()  # the memory backend starts empty: put the object back
        make_bucket("symbols").blob(KEY.path).upload_from_string(b"xul")
        assert fetch(storage.locate(KEY)) == b"xul"


def test_missing_bucket_is_absent_for_keys_and_a_failure_for_ping(gcs_server, monkeypatch,
                                                                  tmp_path, cfg):
    point_at(monkeypatch, tmp_path, gcs_server.endpoint)
    storage = symbolsrv_storage_for(location="gs://no-such-bucket-here", cfg=cfg)
    assert storage.locate(KEY) is None
    with pytest.raises(StorageError, match="bucket not found"):
        storage.ping()


class _TokenHandler(BaseHTTPRequestHandler):
    """OAuth token endpoint on 127.0.0.1: a service account trades its signed JWT here for an
    access token (the emulator ignores the token; real GCS would check it)."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"access_token": "test-token", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def token_uri():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/token"
    server.shutdown()
    server.server_close()


def test_private_location_with_a_service_account_key_gives_a_signed_url(bucket, monkeypatch,
                                                                        tmp_path, cfg,
                                                                        token_uri):
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    from cryptography.hazmat.primitives import serialization

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({
        "type": "service_account", "project_id": "test-project", "private_key_id": "k1",
        "private_key": pem, "client_email": "symbolsrv@test-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri,
    }))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    bucket.blob(f"c++filt/{ID}/c++filt.sym").upload_from_string(b"plus")
    from symbolsrv.keys import SymbolKey

    storage = symbolsrv_storage_for(
        location=f"gs://{bucket.name}?private=true&expires_seconds=120", cfg=cfg)
    hit = storage.locate(SymbolKey("c++filt", ID, "c++filt.sym"))
    assert "X-Goog-Signature=" in hit.url and "c%2B%2Bfilt" in hit.url
    assert hit.max_age_seconds == 60
    assert fetch(hit) == b"plus"  # the emulator does not check signatures; GCS would
