"""The storage contract (tests/storage_contract.py) for the file:// and s3:// plugins.

HTTP runs it in tests/unit/plugins/test_storage_http.py (an in-process static server), GCS in
tests/integration/test_storage_gcs.py (fake-gcs-server).
"""

from __future__ import annotations

import shutil
import uuid

import pytest

from plugins import storage_local, storage_s3
from symbolsrv.settings import load_settings
from tests.servers import MotoServer, aws_env, require_module
from tests.storage_contract import StorageContract

pytestmark = pytest.mark.integration


@pytest.fixture
def cfg():
    return load_settings({"symbolsrv.locations": "file:///srv/symbols",
                          "sqlalchemy.url": "sqlite://"})


class TestLocalStorageContract(StorageContract):
    @pytest.fixture
    def root(self, tmp_path):
        root = tmp_path / "symbols"
        root.mkdir()
        return root

    @pytest.fixture
    def storage(self, root, cfg):
        return storage_local.symbolsrv_storage_for(location=f"file://{root}", cfg=cfg)

    @pytest.fixture
    def put(self, root):
        def put(key_path, data):
            path = root / key_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        return put

    @pytest.fixture
    def stopped_storage(self, tmp_path, cfg):
        # An unmounted share: the directory itself is gone.
        root = tmp_path / "unmounted"
        root.mkdir()
        storage = storage_local.symbolsrv_storage_for(location=f"file://{root}", cfg=cfg)
        shutil.rmtree(root)
        return storage


@pytest.fixture(scope="module")
def moto_server():
    require_module("boto3", "to talk to the S3 emulator")
    with MotoServer() as server:
        yield server


def s3_client(endpoint):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


class TestS3StorageContract(StorageContract):
    @pytest.fixture
    def bucket(self, moto_server, monkeypatch):
        for name, value in aws_env(moto_server.endpoint).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        name = f"symbols-{uuid.uuid4().hex[:12]}"
        s3_client(moto_server.endpoint).create_bucket(Bucket=name)
        return name

    @pytest.fixture
    def storage(self, bucket, cfg):
        return storage_s3.symbolsrv_storage_for(location=f"s3://{bucket}/v1?timeout_seconds=2",
                                                cfg=cfg)

    @pytest.fixture
    def put(self, bucket, moto_server):
        client = s3_client(moto_server.endpoint)

        def put(key_path, data):
            # public-read: moto, like S3, answers 403 to an anonymous GET otherwise.
            client.put_object(Bucket=bucket, Key="v1/" + key_path, Body=data, ACL="public-read")

        return put

    @pytest.fixture
    def stopped_storage(self, monkeypatch, cfg):
        with MotoServer() as server:
            for name, value in aws_env(server.endpoint).items():
                monkeypatch.setenv(name, value)
            s3_client(server.endpoint).create_bucket(Bucket="symbols")
            storage = storage_s3.symbolsrv_storage_for(
                location="s3://symbols?timeout_seconds=1", cfg=cfg)
            server.stop()
            yield storage
