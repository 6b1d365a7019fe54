"""Field case C-02: a debug id asked for upper-cased first, then byte for byte as sent.

StorageChain.locate(key, alternate=...) asks each location for the canonical key and, only
when it says absent, for the as-sent key, in the same per-location task; the Resolver
passes the as-sent key only when the id was sent in another case.
"""

import pytest

from symbolsrv.chain import StorageChain
from symbolsrv.errors import StorageError, StorageUnavailable
from symbolsrv.keys import SymbolKey
from symbolsrv.lookup import HIT, MISS, Resolver, as_sent_key
from symbolsrv.plugin_manager import make_plugin_manager
from symbolsrv.storage import Hit

SENT_ID = "61015E74442b000"  # `%08X%x`: timestamp upper-case, image size lower-case
KEY = SymbolKey("renderdoc.dll", SENT_ID.upper(), "renderdoc.dl_")
AS_SENT = SymbolKey("renderdoc.dll", SENT_ID, "renderdoc.dl_")
PATH = f"/renderdoc.dll/{SENT_ID}/renderdoc.dl_"


class CaseSensitiveStorage:
    """Holds exactly the paths in `paths` (byte for byte); `fail` makes every call raise.
    Every key asked is appended, as a path, to the shared `log` as (name, path)."""

    def __init__(self, name, paths=(), log=None, fail=False):
        self.name = name
        self.paths = set(paths)
        self.log = log if log is not None else []
        self.fail = fail

    def locate(self, key):
        self.log.append((self.name, key.path))
        if self.fail:
            raise StorageError(self.name, "connection refused")
        if key.path in self.paths:
            return Hit(self.name, url=f"https://{self.name}/{key.path}")
        return None

    def ping(self):
        pass


@pytest.fixture(params=[False, True], ids=["sequential", "concurrent"])
def chains(request):
    """chains(regular, try_=(), **kwargs), sequential and with the lookup thread pool."""
    built = []

    def build(regular, try_=(), **kwargs):
        chain = StorageChain(regular, try_, concurrent=request.param, **kwargs)
        built.append(chain)
        return chain

    yield build
    for chain in built:
        chain.close()


# ------------------------------------------------------------------ StorageChain


def test_canonical_key_is_asked_first_and_a_hit_needs_no_second_probe(chains):
    log = []
    chain = chains([CaseSensitiveStorage("m", [KEY.path], log)])
    assert chain.locate(KEY, alternate=AS_SENT).url == f"https://m/{KEY.path}"
    assert log == [("m", KEY.path)]


def test_the_id_as_sent_is_asked_only_when_the_canonical_key_is_absent(chains):
    log = []
    chain = chains([CaseSensitiveStorage("m", [AS_SENT.path], log)])
    hit = chain.locate(KEY, alternate=AS_SENT)
    assert hit.url == f"https://m/renderdoc.dll/{SENT_ID}/renderdoc.dl_"
    assert log == [("m", KEY.path), ("m", AS_SENT.path)]


def test_both_absent_is_none_after_at_most_two_probes_per_location(chains):
    log = []
    chain = chains([CaseSensitiveStorage("a", (), log), CaseSensitiveStorage("b", (), log)])
    assert chain.locate(KEY, alternate=AS_SENT) is None
    assert sorted(log) == sorted([("a", KEY.path), ("a", AS_SENT.path),
                                  ("b", KEY.path), ("b", AS_SENT.path)])


def test_without_an_alternate_only_the_canonical_key_is_asked(chains):
    log = []
    chain = chains([CaseSensitiveStorage("m", [AS_SENT.path], log)])
    assert chain.locate(KEY) is None
    assert chain.locate(KEY, alternate=KEY, refresh=True) is None  # same spelling: no variant
    assert log == [("m", KEY.path), ("m", KEY.path)]


def test_ranking_holds_across_spellings_a_higher_location_as_sent_beats_a_lower_canonical(chains):
    log = []
    chain = chains([CaseSensitiveStorage("first", [AS_SENT.path], log),
                    CaseSensitiveStorage("second", [KEY.path], log)])
    assert chain.locate(KEY, alternate=AS_SENT).location == "first"


def test_a_failure_of_the_as_sent_probe_is_a_failure_never_absent(chains):
    class FailsOnSecondProbe(CaseSensitiveStorage):
        def locate(self, key):
            if key == AS_SENT:
                raise StorageError(self.name, "timeout")
            return super().locate(key)

    chain = chains([FailsOnSecondProbe("m")])
    with pytest.raises(StorageUnavailable) as exc_info:
        chain.locate(KEY, alternate=AS_SENT)
    assert exc_info.value.failed == ["m"]


def test_trace_says_which_spelling_hit(chains):
    steps = []
    chain = chains([CaseSensitiveStorage("a"), CaseSensitiveStorage("b", [AS_SENT.path])])
    chain.locate(KEY, alternate=AS_SENT, trace=steps)
    outcomes = {step.location: step.outcome for step in steps}
    assert outcomes == {"a": "absent", "b": "hit (as sent)"}
    steps.clear()
    chains([CaseSensitiveStorage("c", [KEY.path])]).locate(KEY, alternate=AS_SENT, trace=steps)
    assert [step.outcome for step in steps] == ["hit"]


def test_metrics_observer_counts_an_as_sent_hit_as_a_hit(chains):
    seen = []
    chain = chains([CaseSensitiveStorage("m", [AS_SENT.path])],
                   observer=lambda location, outcome, seconds: seen.append((location, outcome)))
    chain.locate(KEY, alternate=AS_SENT)
    assert seen == [("m", "hit")]


# ------------------------------------------------------------------ cache


def test_an_as_sent_hit_is_cached_under_the_canonical_key(chains, cache):
    log = []
    chain = chains([CaseSensitiveStorage("m", [AS_SENT.path], log)], cache=cache)
    first = chain.locate(KEY, alternate=AS_SENT)
    assert cache.get(StorageChain.cache_key(KEY, False)) == first
    assert chain.locate(KEY, alternate=AS_SENT) == first
    assert chain.locate(KEY) == first  # the same object, whichever spelling asks
    assert len(log) == 2


def test_a_miss_of_both_spellings_is_cached_and_asked_again_only_after_expiry(chains, cache, ticks):
    log = []
    storage = CaseSensitiveStorage("m", (), log)
    chain = chains([storage], cache=cache)
    assert chain.locate(KEY, alternate=AS_SENT) is None
    storage.paths.add(AS_SENT.path)  # uploaded since
    assert chain.locate(KEY, alternate=AS_SENT) is None  # remembered
    assert len(log) == 2
    ticks.now += 31
    assert chain.locate(KEY, alternate=AS_SENT).location == "m"


def test_a_cached_miss_of_the_canonical_key_alone_does_not_hide_the_id_as_sent(chains, cache):
    log = []
    chain = chains([CaseSensitiveStorage("m", [AS_SENT.path], log)], cache=cache)
    assert chain.locate(KEY) is None  # an upper-case request: only the canonical key asked
    assert chain.locate(KEY, alternate=AS_SENT).location == "m"
    assert chain.locate(KEY, alternate=AS_SENT).location == "m"  # now cached
    assert log == [("m", KEY.path), ("m", KEY.path), ("m", AS_SENT.path)]


def test_forget_with_the_as_sent_key_drops_its_cached_miss(chains, cache):
    log = []
    storage = CaseSensitiveStorage("m", (), log)
    chain = chains([storage], cache=cache)
    assert chain.locate(KEY, alternate=AS_SENT) is None
    storage.paths.add(AS_SENT.path)
    chain.forget(KEY, AS_SENT)
    assert chain.locate(KEY, alternate=AS_SENT).location == "m"


# ------------------------------------------------------------------ Resolver


class RecordingChain:
    def __init__(self, hits=None):
        self.hits = hits or {}
        self.calls = []  # (key, alternate)

    def locate(self, key, include_try=False, refresh=False, trace=None, alternate=None):
        self.calls.append((key, alternate))
        return self.hits.get(key) or (self.hits.get(alternate) if alternate else None)


@pytest.fixture
def pm():
    return make_plugin_manager(("plugins.rewrite_legacy",))


@pytest.mark.parametrize("path, alternate", [
    (PATH, AS_SENT),
    (f"/renderdoc.dll/{SENT_ID.lower()}/renderdoc.dl_",
     SymbolKey("renderdoc.dll", SENT_ID.lower(), "renderdoc.dl_")),
    (f"/try/renderdoc.dll/{SENT_ID}/renderdoc.dl_", AS_SENT),
    (f"/renderdoc.dll/{SENT_ID.upper()}/renderdoc.dl_", None),  # already canonical: one probe
])
def test_resolver_passes_the_id_as_sent_only_when_it_differs(cfg, pm, path, alternate):
    chain = RecordingChain()
    Resolver(cfg, pm, chain).resolve(path)
    assert chain.calls == [(KEY, alternate)]


def test_resolver_product_prefixed_path_keeps_the_id_as_sent(make_cfg, pm):
    cfg = make_cfg({"symbolsrv.legacy_products": "firefox"})
    chain = RecordingChain()
    Resolver(cfg, pm, chain).resolve(f"/firefox{PATH}")
    assert chain.calls == [(KEY, AS_SENT)]


def test_resolver_hit_through_the_as_sent_key_is_answered_under_the_canonical_key(cfg, pm):
    hit = Hit("m", url=f"https://m/{AS_SENT.path}")
    answer = Resolver(cfg, pm, RecordingChain({AS_SENT: hit})).resolve(PATH)
    assert (answer.outcome, answer.key, answer.hit) == (HIT, KEY, hit)


def test_resolver_miss_of_both_is_one_miss_of_the_canonical_key(cfg, pm):
    answer = Resolver(cfg, pm, RecordingChain()).resolve(PATH)
    assert (answer.outcome, answer.key) == (MISS, KEY)


@pytest.mark.parametrize("segments, expected", [
    (("a.pdb", "abc123def", "a.sym"), SymbolKey("a.pdb", "abc123def", "a.sym")),
    (("a.pdb", "ABC123DEF", "a.sym"), None),
    (("a.pdb", "0123456789", "a.sym"), None),  # digits only: no case to differ
    (("a.pdb",), None),
])
def test_as_sent_key(segments, expected):
    key = SymbolKey("a.pdb", segments[1].upper() if len(segments) > 1 else "X", "a.sym")
    assert as_sent_key(key, segments) == expected


def test_as_sent_key_ignores_a_hook_that_built_the_id_from_elsewhere():
    key = SymbolKey("a.debug", "0123456789ABCDEF", "debuginfo")
    assert as_sent_key(key, ("buildid", "fedcba9876543210", "debuginfo")) is None
