"""The contract every storage plugin keeps, as a mixin for its tests.

A test class inherits StorageContract and overrides three fixtures:

- `storage`: the Storage under test, built the way main() builds it (through the hook);
- `put(key_path, data)`: store `data` under `key_path` (a SymbolKey.path, relative to the
  location's root or prefix) in that storage's backend;
- `stopped_storage`: a Storage of the same kind whose backend is down (stopped server,
  refused port, missing directory).

The contract: a present key is a Hit whose URL (or path) gives the stored bytes; a missing
key is None, even next to a similar name; odd names (`+`, spaces, `@`, `{}`, non-ASCII)
are found and their URL is pure ASCII; a key laid out in two tiers (core's
layout=index2) is found under its extra directory; a backend that is down raises StorageError naming
the location, from locate() and from ping(), and never answers None.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import urllib3

from symbolsrv.errors import StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.placement import Placement
from symbolsrv.storage import Hit

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = SymbolKey("xul.pdb", ID, "xul.sym")
ABSENT = SymbolKey("yul.pdb", ID, "yul.sym")
ODD_KEYS = [
    SymbolKey("libc++abi.dylib", ID, "libc++abi.dylib.sym"),
    SymbolKey("c++filt", ID, "c++filt.sym"),
    SymbolKey("Electron Framework", ID, "Electron Framework.sym"),
    SymbolKey("odd@{name}.pdb", ID, "odd@{name}.sym"),
    SymbolKey("汉.pdb", ID, "汉.sym"),
    SymbolKey("xül.pdb", ID, "xül.sym"),
]

_http = urllib3.PoolManager(retries=urllib3.Retry(total=0, redirect=5))


def fetch(hit: Hit) -> bytes:
    """The bytes a client gets for `hit`: the local file, or a GET of its URL (loopback only)."""
    if hit.path is not None:
        with open(hit.path, "rb") as f:
            return f.read()
    assert hit.url.isascii(), hit.url
    assert urlsplit(hit.url).hostname == "127.0.0.1", f"tests only talk to 127.0.0.1: {hit.url}"
    response = _http.request("GET", hit.url, timeout=10)
    assert response.status == 200, (response.status, hit.url, response.data[:200])
    return response.data


class StorageContract:
    """Mixin: inherit it in a `Test…` class and override the three fixtures below."""

    @pytest.fixture
    def storage(self):
        pytest.fail("a StorageContract test class must override the `storage` fixture")

    @pytest.fixture
    def put(self):
        pytest.fail("a StorageContract test class must override the `put` fixture")

    @pytest.fixture
    def stopped_storage(self):
        pytest.fail("a StorageContract test class must override the `stopped_storage` fixture")

    def test_present_key_is_a_hit_that_gives_the_bytes(self, storage, put):
        put(KEY.path, b"MODULE windows x86_64 " + ID.encode() + b" xul.pdb\n")
        hit = storage.locate(KEY)
        assert isinstance(hit, Hit)
        assert hit.location == storage.name
        assert (hit.url is None) != (hit.path is None)
        assert fetch(hit) == b"MODULE windows x86_64 " + ID.encode() + b" xul.pdb\n"

    def test_missing_key_is_none(self, storage, put):
        put(KEY.path, b"other")
        assert storage.locate(ABSENT) is None

    @pytest.mark.parametrize("key", ODD_KEYS, ids=lambda k: k.debug_file)
    def test_odd_names_are_found_and_their_url_gives_the_bytes(self, storage, put, key):
        data = f"MODULE {key.debug_file}\n".encode()
        put(key.path, data)
        hit = storage.locate(key)
        assert hit is not None, key
        assert fetch(hit) == data

    def test_plus_is_never_a_space(self, storage, put):
        put("c++filt/" + ID + "/c++filt.sym", b"plus")
        assert storage.locate(SymbolKey("c  filt", ID, "c  filt.sym")) is None
        assert storage.locate(SymbolKey("c%2B%2Bfilt", ID, "c%2B%2Bfilt.sym")) is None

    @pytest.mark.parametrize("key", [KEY, *ODD_KEYS[:3]], ids=lambda k: k.debug_file)
    def test_a_two_tier_stored_key_is_found_under_its_directory(self, storage, put, key):
        # Core's layout=index2 hands the plugin a StoredKey: its path has one more directory.
        [(_, stored)] = Placement("index2").stored_keys(key)
        put(stored.path, b"two-tier")
        hit = storage.locate(stored)
        assert hit is not None and fetch(hit) == b"two-tier"
        assert storage.locate(key) is None

    def test_ping_answers_when_the_backend_is_up(self, storage):
        storage.ping()

    def test_backend_down_is_a_storage_error_never_none(self, stopped_storage):
        with pytest.raises(StorageError) as raised:
            stopped_storage.locate(KEY)
        assert raised.value.location == stopped_storage.name

    def test_backend_down_fails_ping(self, stopped_storage):
        with pytest.raises(StorageError):
            stopped_storage.ping()
