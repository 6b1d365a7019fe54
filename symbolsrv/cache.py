"""Existence cache: remembers "found at URL" and "absent" for a while; never a failure.

A cold lookup costs 4-13x a whole cached request (NOTES.md), so this is the throughput
feature. In-process LRU by default; Redis when several processes or hosts share answers.
A cached presigned URL is kept at most its Hit.max_age_seconds (half its lifetime), so a
client never receives one past expiry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from symbolsrv.errors import ConfigurationError
from symbolsrv.storage import Hit

log = logging.getLogger(__name__)

MISSING = object()  # "not in the cache", distinct from a cached None ("absent")


def ttl_for(value: Hit | None, hit_seconds: int, miss_seconds: int) -> int:
    if value is None:
        return miss_seconds
    if value.path is not None:
        return 0  # local files: a stat is cheaper than a stale answer
    if value.max_age_seconds is not None:
        return min(hit_seconds, value.max_age_seconds)
    return hit_seconds


class NoCache:
    name = "none"

    def get(self, key: str):
        return MISSING

    def put(self, key: str, value: Hit | None) -> None:
        pass

    def delete(self, key: str) -> None:
        pass


class MemoryCache:
    name = "memory"

    def __init__(self, hit_seconds: int, miss_seconds: int, max_entries: int, clock=time.monotonic):
        self.hit_seconds = hit_seconds
        self.miss_seconds = miss_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Hit | None]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str):
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= now:
                self.misses += 1
                return MISSING
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: str, value: Hit | None) -> None:
        ttl = ttl_for(value, self.hit_seconds, self.miss_seconds)
        if ttl <= 0:
            self.delete(key)  # an uncacheable fresh answer still replaces a stale one
            return
        with self._lock:
            self._entries[key] = (self.clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class RedisCache:
    """Shared by every process that points at the same Redis. A Redis fault is a cache miss,
    never a failed request."""

    name = "redis"

    def __init__(self, url: str, hit_seconds: int, miss_seconds: int, timeout_seconds: float):
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        self.hit_seconds = hit_seconds
        self.miss_seconds = miss_seconds
        self.hits = 0
        self.misses = 0

    def get(self, key: str):
        try:
            raw = self.client.get("symbolsrv:" + key)
        except Exception as exc:
            log.warning("cache: redis get failed: %s", exc)
            return MISSING
        if raw is None:
            self.misses += 1
            return MISSING
        if raw == b"-":
            self.hits += 1
            return None
        try:
            data = json.loads(raw)
            hit = Hit(location=data["l"], url=data["u"], max_age_seconds=data.get("m"))
            if type(hit.max_age_seconds) not in (int, type(None)) or not (
                    isinstance(hit.location, str) and isinstance(hit.url, str)):
                raise TypeError("not an answer symbolsrv wrote")  # else a 500 in the view
        except (ValueError, TypeError, KeyError):
            # Written by another version or another app: not ours to trust.
            self.misses += 1
            return MISSING
        self.hits += 1
        return hit

    def put(self, key: str, value: Hit | None) -> None:
        ttl = ttl_for(value, self.hit_seconds, self.miss_seconds)
        if ttl <= 0:
            self.delete(key)  # an uncacheable fresh answer still replaces a stale one
            return
        raw = "-" if value is None else json.dumps(
            {"l": value.location, "u": value.url, "m": value.max_age_seconds}
        )
        try:
            self.client.set("symbolsrv:" + key, raw, ex=ttl)
        except Exception as exc:
            log.warning("cache: redis set failed: %s", exc)

    def delete(self, key: str) -> None:
        try:
            self.client.delete("symbolsrv:" + key)
        except Exception as exc:
            log.warning("cache: redis delete failed: %s", exc)

    def ping(self) -> None:
        self.client.ping()


def make_cache(cfg):
    """The cache named by symbolsrv.cache_url: `memory` (default), `none`, or redis://…"""
    url = cfg.cache_url
    if url == "none" or (cfg.cache_hit_seconds == 0 and cfg.cache_miss_seconds == 0):
        return NoCache()
    if url == "memory":
        return MemoryCache(cfg.cache_hit_seconds, cfg.cache_miss_seconds, cfg.cache_max_entries)
    if urlsplit(url).scheme in ("redis", "rediss", "unix"):
        return RedisCache(url, cfg.cache_hit_seconds, cfg.cache_miss_seconds, 0.5)
    raise ConfigurationError(
        f"bad value for symbolsrv.cache_url: {url!r} (expected memory, none or redis://…)"
    )
