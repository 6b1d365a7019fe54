"""symbolsrv.cache: TTL rules, the in-process LRU, the Redis cache with a stub client, make_cache."""

import pytest

from symbolsrv.cache import MISSING, MemoryCache, NoCache, RedisCache, make_cache, ttl_for
from symbolsrv.errors import ConfigurationError
from symbolsrv.storage import Hit

URL_HIT = Hit("s3:org-symbols", url="https://org-symbols.s3.amazonaws.com/v1/a/B/a.sym")
SIGNED_HIT = Hit("s3:private", url="https://x.test/a?X-Amz-Signature=1", max_age_seconds=150)
FILE_HIT = Hit("file:/srv/symbols", path="/srv/symbols/a/B/a.sym")


@pytest.mark.parametrize(
    "value, ttl",
    [(None, 30), (URL_HIT, 300), (SIGNED_HIT, 150), (Hit("s3:p", url="u", max_age_seconds=900), 300),
     (FILE_HIT, 0)],
)
def test_ttl_depends_on_the_kind_of_answer(value, ttl):
    assert ttl_for(value, hit_seconds=300, miss_seconds=30) == ttl


def test_no_cache_remembers_nothing():
    cache = NoCache()
    cache.put("k", URL_HIT)
    assert cache.get("k") is MISSING


# ---------------------------------------------------------------- MemoryCache


@pytest.fixture
def cache(ticks):
    return MemoryCache(hit_seconds=300, miss_seconds=30, max_entries=3, clock=ticks)


def test_unknown_key_is_missing_not_none(cache):
    assert cache.get("k") is MISSING


def test_hit_and_absent_are_remembered_distinctly(cache):
    cache.put("hit", URL_HIT)
    cache.put("absent", None)
    assert cache.get("hit") == URL_HIT
    assert cache.get("absent") is None


@pytest.mark.parametrize("value, ttl", [(URL_HIT, 300), (None, 30), (SIGNED_HIT, 150)])
def test_entries_expire_after_their_ttl(cache, ticks, value, ttl):
    cache.put("k", value)
    ticks.now += ttl - 0.5
    assert cache.get("k") == value
    ticks.now += 0.5
    assert cache.get("k") is MISSING


def test_local_file_hits_are_not_stored(cache):
    cache.put("k", FILE_HIT)
    assert cache.get("k") is MISSING


def test_uncacheable_answer_replaces_a_stale_cached_one(cache):
    cache.put("k", None)  # absent, remembered for 30 s
    cache.put("k", FILE_HIT)  # uploaded since, found as a local file: never cached
    assert cache.get("k") is MISSING


def test_zero_ttl_stores_nothing(ticks):
    cache = MemoryCache(hit_seconds=0, miss_seconds=30, max_entries=10, clock=ticks)
    cache.put("hit", URL_HIT)
    cache.put("absent", None)
    assert cache.get("hit") is MISSING
    assert cache.get("absent") is None


def test_least_recently_used_entry_goes_first(cache):
    for name in "abc":
        cache.put(name, None)
    cache.get("a")  # a is now the most recently used
    cache.put("d", None)
    assert cache.get("b") is MISSING
    assert [cache.get(n) for n in "acd"] == [None, None, None]


def test_delete_forgets_one_key(cache):
    cache.put("a", URL_HIT)
    cache.put("b", URL_HIT)
    cache.delete("a")
    cache.delete("never-stored")
    assert cache.get("a") is MISSING
    assert cache.get("b") == URL_HIT


def test_hits_and_misses_are_counted(cache):
    cache.put("a", None)
    cache.get("a")
    cache.get("b")
    cache.get("c")
    assert (cache.hits, cache.misses) == (1, 2)


# ---------------------------------------------------------------- RedisCache, stub client


class StubRedis:
    def __init__(self, fail=False):
        self.data = {}
        self.ttls = {}
        self.fail = fail

    def _check(self):
        if self.fail:
            raise ConnectionError("redis is down")

    def get(self, name):
        self._check()
        return self.data.get(name)

    def set(self, name, value, ex):
        self._check()
        self.data[name] = value.encode() if isinstance(value, str) else value
        self.ttls[name] = ex

    def delete(self, name):
        self._check()
        self.data.pop(name, None)


@pytest.fixture
def redis_cache():
    cache = RedisCache("redis://127.0.0.1:1/0", hit_seconds=300, miss_seconds=30, timeout_seconds=0.1)
    cache.client = StubRedis()
    return cache


@pytest.mark.parametrize("value, ttl", [(URL_HIT, 300), (SIGNED_HIT, 150), (None, 30)])
def test_redis_round_trips_answers_with_their_ttl(redis_cache, value, ttl):
    redis_cache.put("a/B/a.sym", value)
    assert redis_cache.client.ttls == {"symbolsrv:a/B/a.sym": ttl}
    assert redis_cache.get("a/B/a.sym") == value


def test_redis_does_not_store_local_file_hits(redis_cache):
    redis_cache.put("k", FILE_HIT)
    assert redis_cache.client.data == {}


def test_redis_unknown_key_is_missing(redis_cache):
    assert redis_cache.get("k") is MISSING


def test_redis_delete_forgets_the_key(redis_cache):
    redis_cache.put("k", URL_HIT)
    redis_cache.delete("k")
    assert redis_cache.get("k") is MISSING


def test_redis_down_is_a_cache_miss_and_never_an_error(redis_cache):
    redis_cache.client.fail = True
    redis_cache.put("k", URL_HIT)
    redis_cache.delete("k")
    assert redis_cache.get("k") is MISSING


@pytest.mark.parametrize("raw", [b"not json", b'{"x": 1}', b"[]"])
def test_redis_value_it_cannot_read_is_a_cache_miss(redis_cache, raw):
    # Another version or another app wrote this key: treat it as not cached, never a 500.
    redis_cache.client.data["symbolsrv:k"] = raw
    assert redis_cache.get("k") is MISSING


# ---------------------------------------------------------------- make_cache


def test_make_cache_builds_memory_by_default(cfg):
    cache = make_cache(cfg)
    assert isinstance(cache, MemoryCache)
    assert (cache.hit_seconds, cache.miss_seconds, cache.max_entries) == (300, 30, 200000)


def test_make_cache_none_disables_caching(make_cfg):
    assert isinstance(make_cache(make_cfg({"symbolsrv.cache_url": "none"})), NoCache)


def test_make_cache_with_both_ttls_zero_disables_caching(make_cfg):
    cfg = make_cfg({"symbolsrv.cache_hit_seconds": "0", "symbolsrv.cache_miss_seconds": "0"})
    assert isinstance(make_cache(cfg), NoCache)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://cache.example.test:6380/1"])
def test_make_cache_builds_redis_for_redis_urls_without_connecting(make_cfg, url):
    assert isinstance(make_cache(make_cfg({"symbolsrv.cache_url": url})), RedisCache)


@pytest.mark.parametrize("url", ["memcached://127.0.0.1", "Memory", "lru"])
def test_make_cache_rejects_unknown_cache_urls(make_cfg, url):
    with pytest.raises(ConfigurationError, match="symbolsrv.cache_url"):
        make_cache(make_cfg({"symbolsrv.cache_url": url}))
