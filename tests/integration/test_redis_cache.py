"""The Redis existence cache against a real redis-server on 127.0.0.1.

(a) RedisCache on its own: answers round-trip with their TTLs, deletion, values it did not
    write, and Redis going away and coming back (a fault is a cache miss, never an error).
(b) Two symbolsrv processes under waitress sharing one Redis over the session's moto
    buckets: an absence one process learned is served by the other without asking S3, stays
    cached after the upload, and one purge on either process makes both see the upload.
"""

from __future__ import annotations

import json
import uuid

import pytest

from symbolsrv.cache import MISSING, RedisCache
from symbolsrv.storage import Hit
from tests.integration.expect import SYMBOL_NOT_FOUND
from tests.integration.s3data import PREFIX, A, public_url, s3_client
from tests.servers import RedisServer

pytestmark = pytest.mark.integration

HIT_SECONDS, MISS_SECONDS = 300, 30
TTL_SLACK = 5  # seconds Redis may have counted down between SET and TTL on a loaded machine
TOKEN = "t0ken"


@pytest.fixture
def redis_srv():
    with RedisServer() as server:
        yield server


@pytest.fixture
def cache(redis_srv):
    cache = RedisCache(redis_srv.url, HIT_SECONDS, MISS_SECONDS, timeout_seconds=0.5)
    yield cache
    cache.client.close()


def assert_ttl(cache, key: str, expected: int) -> None:
    ttl = cache.client.ttl("symbolsrv:" + key)
    assert expected - TTL_SLACK <= ttl <= expected, (key, ttl, expected)


# ------------------------------------------------------------------------- (a) RedisCache


def test_answers_round_trip_with_their_ttls(cache):
    public = Hit(location="s3:org-symbols", url="http://127.0.0.1:1/org-symbols/v1/a/B/a.sym")
    presigned = Hit(location="s3:org-private", url="http://127.0.0.1:1/p?X-Amz-Signature=s",
                    max_age_seconds=120)
    cache.put("a/B/a.sym", public)
    cache.put("b/B/b.sym", None)
    cache.put("try:c/B/c.sym", presigned)

    assert cache.get("a/B/a.sym") == public
    assert cache.get("b/B/b.sym") is None  # a cached absence, not MISSING
    assert cache.get("try:c/B/c.sym") == presigned
    assert (cache.hits, cache.misses) == (3, 0)
    assert_ttl(cache, "a/B/a.sym", HIT_SECONDS)
    assert_ttl(cache, "b/B/b.sym", MISS_SECONDS)
    assert_ttl(cache, "try:c/B/c.sym", 120)  # a presigned URL: at most half its lifetime
    assert cache.client.get("symbolsrv:b/B/b.sym") == b"-"

    assert cache.get("never/B/put.sym") is MISSING
    assert (cache.hits, cache.misses) == (3, 1)


def test_local_file_hits_are_not_stored_and_replace_a_stale_answer(cache):
    cache.put("a/B/a.sym", None)
    assert cache.client.exists("symbolsrv:a/B/a.sym") == 1
    cache.put("a/B/a.sym", Hit(location="file:/srv/symbols", path="/srv/symbols/a/B/a.sym"))
    assert cache.client.exists("symbolsrv:a/B/a.sym") == 0
    assert cache.get("a/B/a.sym") is MISSING


def test_delete_forgets_one_key(cache):
    cache.put("a/B/a.sym", None)
    cache.put("b/B/b.sym", None)
    cache.delete("a/B/a.sym")
    assert cache.get("a/B/a.sym") is MISSING
    assert cache.get("b/B/b.sym") is None
    assert cache.client.keys("symbolsrv:*") == [b"symbolsrv:b/B/b.sym"]
    cache.delete("a/B/a.sym")  # deleting what is gone is fine


@pytest.mark.parametrize("raw", [
    b"\xff\xfe not json", b"{not json", b"[1, 2]", b"null", b'"a string"',
    b'{"u": "http://x/"}', b'{"l": "s3:x"}',
    # The right keys, the wrong types: trusted, these made the view fail with a 500.
    b'{"l": 1, "u": 2}', b'{"l": "s3:x", "u": null}', b'{"l": "s3:x", "u": "http://x/", "m": "soon"}',
    b'{"l": "s3:x", "u": "http://x/", "m": true}',
])
def test_values_it_did_not_write_are_missing(cache, raw):
    cache.client.set("symbolsrv:a/B/a.sym", raw)
    assert cache.get("a/B/a.sym") is MISSING
    assert (cache.hits, cache.misses) == (0, 1)


def test_redis_down_is_a_cache_miss_and_put_does_not_raise(cache, redis_srv):
    cache.put("a/B/a.sym", None)
    assert cache.get("a/B/a.sym") is None

    redis_srv.stop()
    assert cache.get("a/B/a.sym") is MISSING
    cache.put("b/B/b.sym", None)  # must not raise
    cache.delete("a/B/a.sym")  # must not raise

    redis_srv.start()  # same port, empty (no persistence)
    assert cache.get("a/B/a.sym") is MISSING
    hit = Hit(location="s3:org-symbols", url="http://127.0.0.1:1/org-symbols/v1/b/B/b.sym")
    cache.put("b/B/b.sym", hit)
    assert cache.get("b/B/b.sym") == hit
    assert_ttl(cache, "b/B/b.sym", HIT_SECONDS)


# ------------------------------------------------------------- (b) two processes, one Redis


@pytest.fixture
def uploaded_keys(moto):
    """Keys the test puts into bucket A; deleted afterwards whatever happens."""
    client = s3_client(moto.endpoint)
    keys: list[str] = []
    yield client, keys
    for key in keys:
        client.delete_object(Bucket=A.name, Key=PREFIX + key)


def test_two_processes_share_answers_and_purges_through_redis(
    start_symbolsrv, redis_srv, moto, uploaded_keys
):
    settings = {
        "symbolsrv.cache_url": redis_srv.url,
        "symbolsrv.purge_token": TOKEN,
        # Long enough that the cached absence cannot expire during the test: only the purge
        # may make the upload visible.
        "symbolsrv.cache_miss_seconds": "600",
    }
    first = start_symbolsrv(settings=settings, name="redis-1", wait=False)
    second = start_symbolsrv(settings=settings, name="redis-2", wait=False)
    first.wait_ready()
    second.wait_ready()

    key = f"sharedcache.pdb/{uuid.uuid4().hex.upper()}1/sharedcache.sym"  # in no bucket yet
    target = "/" + key
    debug = {"Debug": "true"}

    # Process 1 asks S3 (all three buckets say absent) and caches the absence in Redis.
    miss = first.get(target, headers=debug)
    assert (miss.status, miss.body) == (404, SYMBOL_NOT_FOUND), miss
    trace = miss.header("symbolsrv-trace")
    assert [step.split(" ")[:3] for step in trace.split("; ")[:-1]] == [
        ["1", "s3:symbols-a", "absent"], ["2", "s3:symbols-b", "absent"],
        ["3", "s3:symbols-c", "absent"]], trace
    redis = RedisCache(redis_srv.url, HIT_SECONDS, MISS_SECONDS, 0.5).client
    assert redis.get("symbolsrv:" + key) == b"-"
    assert 600 - TTL_SLACK <= redis.ttl("symbolsrv:" + key) <= 600

    # Process 2 never saw the key: its answer comes from Redis, no location is asked.
    shared = second.get(target, headers=debug)
    assert (shared.status, shared.body) == (404, SYMBOL_NOT_FOUND), shared
    assert shared.header("symbolsrv-trace") == "0 cache absent 0.0ms; winner=-", shared

    # Upload it: both processes still answer the cached absence.
    client, keys = uploaded_keys
    keys.append(key)
    client.put_object(Bucket=A.name, Key=PREFIX + key, Body=b"MODULE shared cache",
                      ACL="public-read")
    stale = second.get(target)
    assert (stale.status, stale.body) == (404, SYMBOL_NOT_FOUND), stale

    # A wrong token purges nothing.
    for auth in ("Bearer wrong", f"Bearer {TOKEN}x", TOKEN, ""):
        denied = first.request("DELETE", f"/__cache__/{key}", headers={"Authorization": auth})
        assert denied.status == 403, (auth, denied)
    assert second.get(target).status == 404
    assert redis.get("symbolsrv:" + key) == b"-"

    # One purge on process 1 is seen by process 2: the next lookup asks S3 and finds it.
    purged = first.request("DELETE", f"/__cache__/{key}",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert purged.status == 200, purged
    assert redis.exists("symbolsrv:" + key) == 0
    found = second.get(target)
    assert found.status == 302, found
    assert found.header("location") == public_url(moto.endpoint, A, key), found
    assert found.body == b""

    # And the hit process 2 found is now shared with process 1.
    cached = json.loads(redis.get("symbolsrv:" + key))
    assert (cached["l"], cached["u"]) == ("s3:symbols-a", public_url(moto.endpoint, A, key))
    from_cache = first.get(target, headers=debug)
    assert from_cache.status == 302, from_cache
    assert from_cache.header("location") == public_url(moto.endpoint, A, key)
    assert from_cache.header("symbolsrv-trace") == "0 cache hit 0.0ms; winner=s3:symbols-a"
    redis.close()
