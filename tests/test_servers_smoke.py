"""The helpers in tests/servers.py start real servers that answer, go away on stop()
and answer again on start(), on the same port."""

import socket
from urllib.parse import urlsplit

import pytest

from tests.servers import (
    MotoServer,
    PostgresServer,
    RedisServer,
    aws_env,
    moto_s3_server,
    postgres_server,
    redis_server,
    require,
    require_module,
)

integration = pytest.mark.integration


def redis_ping(port):
    """Send PING in RESP framing over a raw socket and return the raw reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        return sock.recv(64)


@pytest.fixture
def s3(monkeypatch):
    """A moto server, with boto3 pointed at it through the environment, as the app will be."""
    require_module("boto3", "to talk to the S3 emulator")
    with MotoServer() as server:
        for name, value in aws_env(server.endpoint).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield server


@integration
def test_moto_serves_s3_and_comes_back_empty_after_restart(s3):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError, EndpointConnectionError

    # One attempt and short timeouts, so "server down" is an error now, not after retries.
    client = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 1},
                                              connect_timeout=2, read_timeout=5))
    assert client.meta.endpoint_url == s3.endpoint
    client.create_bucket(Bucket="symbols")
    client.put_object(Bucket="symbols", Key="xul.pdb/ABC1/xul.sym", Body=b"MODULE")
    assert client.head_object(Bucket="symbols", Key="xul.pdb/ABC1/xul.sym")["ContentLength"] == 6

    s3.stop()
    with pytest.raises(EndpointConnectionError):
        client.head_object(Bucket="symbols", Key="xul.pdb/ABC1/xul.sym")

    s3.start()
    # moto keeps its state in memory only: after a restart the bucket is gone.
    with pytest.raises(ClientError) as excinfo:
        client.head_object(Bucket="symbols", Key="xul.pdb/ABC1/xul.sym")
    assert excinfo.value.response["Error"]["Code"] == "404"
    client.create_bucket(Bucket="symbols")


@integration
def test_postgres_answers_refuses_when_stopped_and_keeps_data_over_restart():
    require_module("sqlalchemy", "to talk to PostgreSQL")
    require_module("psycopg2", "as SQLAlchemy's PostgreSQL driver")
    import sqlalchemy
    from sqlalchemy.exc import OperationalError

    with PostgresServer() as pg:
        # pool_pre_ping: pooled connections die with the server and must be replaced.
        engine = sqlalchemy.create_engine(pg.url, pool_pre_ping=True,
                                          connect_args={"connect_timeout": 2})
        try:
            with engine.begin() as conn:
                assert conn.scalar(sqlalchemy.text("select 1")) == 1
                assert conn.scalar(sqlalchemy.text("select current_database()")) == "symbolsrv"
                conn.execute(sqlalchemy.text("create table t (n int); insert into t values (7)"))

            pg.stop()
            with pytest.raises(OperationalError):
                with engine.connect() as conn:
                    conn.scalar(sqlalchemy.text("select 1"))

            pg.start()
            with engine.connect() as conn:
                assert conn.scalar(sqlalchemy.text("select n from t")) == 7
        finally:
            engine.dispose()


@integration
def test_redis_answers_ping_refuses_when_stopped_and_answers_after_restart():
    with RedisServer() as redis:
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
        assert redis_ping(redis.port) == b"+PONG\r\n"
        redis.stop()
        with pytest.raises(ConnectionRefusedError):
            redis_ping(redis.port)
        redis.start()
        assert redis_ping(redis.port) == b"+PONG\r\n"


@integration
@pytest.mark.parametrize("server, scheme", [
    (moto_s3_server, "http"),
    (postgres_server, "postgresql+psycopg2"),
    (redis_server, "redis"),
])
def test_context_managers_yield_a_local_url_and_free_the_port_on_exit(server, scheme):
    with server() as url:
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname) == (scheme, "127.0.0.1")
        socket.create_connection(("127.0.0.1", parts.port), timeout=2).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", parts.port), timeout=2)


def test_missing_program_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-server.*needed for this test"):
        require("no-such-server", "for this test")


def test_missing_program_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no-such-server"):
        require("no-such-server", "for this test")
    with pytest.raises(pytest.fail.Exception, match="no_such_module"):
        require_module("no_such_module", "for this test")

