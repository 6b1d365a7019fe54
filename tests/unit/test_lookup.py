"""symbolsrv.lookup.Resolver: every decision of a symbol request, with a recording fake chain."""

import pytest

from symbolsrv.errors import StorageUnavailable
from symbolsrv.keys import SymbolKey
from symbolsrv.lookup import ERROR, HIT, IGNORED, MISS, REJECTED, Answer, Resolver
from symbolsrv.plugin_manager import make_plugin_manager
from symbolsrv.storage import Hit

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = SymbolKey("xul.pdb", ID, "xul.sym")


def wsgi(path: str) -> str:
    return path.encode("utf-8").decode("latin-1")


class RecordingChain:
    """Answers from a dict of key -> Hit; records every locate() call."""

    def __init__(self, hits=None, fail=False):
        self.hits = hits or {}
        self.fail = fail
        self.calls = []  # (key, include_try)
        self.refreshes = []

    def locate(self, key, include_try=False, refresh=False, **options):
        self.calls.append((key, include_try))
        self.refreshes.append(refresh)
        if self.fail:
            raise StorageUnavailable(["s3:org-symbols"])
        return self.hits.get(key)


@pytest.fixture
def pm():
    return make_plugin_manager(("plugins.rewrite_legacy",))


@pytest.fixture
def chain():
    return RecordingChain({KEY: Hit("s3:org-symbols", url="https://example.test/x")})


@pytest.fixture
def resolver(cfg, pm, chain):
    return Resolver(cfg, pm, chain)


def test_hit_returns_the_chains_hit(resolver, chain):
    answer = resolver.resolve(f"/xul.pdb/{ID}/xul.sym")
    assert answer == Answer(HIT, key=KEY, hit=chain.hits[KEY], is_try=False)
    assert chain.calls == [(KEY, False)]


def test_miss_asks_the_chain_once_and_answers_miss(resolver, chain):
    other = "0123456789ABCDEF0123456789ABCDEF0"
    answer = resolver.resolve(f"/libxul.so/{other}/libxul.so.sym")
    assert answer.outcome == MISS
    assert answer.key == SymbolKey("libxul.so", other, "libxul.so.sym")
    assert answer.hit is None
    assert chain.calls == [(answer.key, False)]


def test_lower_case_id_is_upper_cased_before_the_lookup(resolver, chain):
    answer = resolver.resolve(f"/xul.pdb/{ID.lower()}/xul.sym")
    assert answer.outcome == HIT
    assert chain.calls == [(KEY, False)]


def test_legacy_product_url_looks_up_the_same_key(resolver, chain):
    answer = resolver.resolve(f"/firefox/xul.pdb/{ID.lower()}/xul.sym")
    assert answer.outcome == HIT
    assert chain.calls == [(KEY, False)]


def test_utf8_names_reach_the_chain_decoded(resolver, chain):
    resolver.resolve(wsgi(f"/汉 App.pdb/{ID}/汉 App.sym"))
    assert chain.calls == [(SymbolKey("汉 App.pdb", ID, "汉 App.sym"), False)]


@pytest.mark.parametrize(
    "path, outcome, reason",
    [
        (f"/xul.pdb/{ID}/file.ptr", IGNORED, "file.ptr is not served"),
        (f"/xul.pdb/{ID}/FILE.PTR", IGNORED, "file.ptr is not served"),
        ("/libfont.so/000000000000000000000000000000000/libfont.so.sym", IGNORED, "all-zero debug_id"),
        (f"/xul.pdb/{ID}/xul.txt", IGNORED, "symbol file extension not served"),
        (f"/xul.pdb/{ID}/xul", IGNORED, "symbol file extension not served"),
        (f"/chrome/xul.pdb/{ID}/xul.sym", IGNORED, "not a symbol path"),
        (f"/xul.pdb/{ID}", IGNORED, "not a symbol path"),
        ("/favicon.ico", IGNORED, "not a symbol path"),
        ("/xul.pdb/null/xul.sym", REJECTED, "debug_id must be 9 to 64 hexadecimal digits"),
        ("/xul.pdb/44E4EC8C-2F41-492B-9369-D6B9A059577C/xul.sym", REJECTED, "debug_id must be 9 to 64 hexadecimal digits"),
        ("/xul.pdb/00000000/xul.sym", REJECTED, "debug_id must be 9 to 64 hexadecimal digits"),
        (f"/xul<script>.pdb/{ID}/xul.sym", REJECTED, "forbidden character in path"),
        (f"/xul.pdb/{ID}/xul.sym\x00", REJECTED, "control character in path"),
        (f"/../{ID}/xul.sym", REJECTED, "dot segment in path"),
        (f"//{ID}/xul.sym", REJECTED, "empty path segment"),
        ("/\xff\xfe/a/b.sym", REJECTED, "path is not valid UTF-8"),
        ("/" + "a" * 1100, REJECTED, "path longer than 1024 bytes"),
    ],
)
def test_rejected_and_ignored_paths_never_reach_the_chain(resolver, chain, path, outcome, reason):
    answer = resolver.resolve(path)
    assert (answer.outcome, answer.reason) == (outcome, reason)
    assert answer.hit is None
    assert chain.calls == []


def test_rejected_answer_for_a_bad_id_carries_the_parsed_key(resolver):
    answer = resolver.resolve("/xul.pdb/null/xul.sym")
    assert answer.key == SymbolKey("xul.pdb", "NULL", "xul.sym")


def test_allowed_extensions_come_from_settings(make_cfg, pm):
    chain = RecordingChain()
    resolver = Resolver(make_cfg({"symbolsrv.allowed_extensions": ".txt"}), pm, chain)
    assert resolver.resolve(f"/xul.pdb/{ID}/xul.sym").outcome == IGNORED
    assert resolver.resolve(f"/xul.pdb/{ID}/XUL.TXT").outcome == MISS
    assert len(chain.calls) == 1


BUILD_ID = "8f3a1c2b4d5e6f708192a3b4c5d6e7f809a1b2c3"


def test_allowed_names_are_looked_up_without_an_allowed_extension(make_cfg):
    chain = RecordingChain()
    pm = make_plugin_manager(("plugins.rewrite_legacy", "plugins.rewrite_debuginfod"))
    resolver = Resolver(make_cfg(), pm, chain)
    for name in ("debuginfo", "executable"):
        answer = resolver.resolve(f"/buildid/{BUILD_ID.upper()}/{name}")
        assert (answer.outcome, answer.key) == (MISS, SymbolKey("buildid", BUILD_ID, name))
    # Exact names only: no other extension-less name, no other case.
    assert resolver.resolve(f"/buildid/{BUILD_ID}/DEBUGINFO").outcome == IGNORED
    assert resolver.resolve(f"/libfoo.so/{BUILD_ID}/libfoo").outcome == IGNORED
    # A bad build id is a 400 like any bad debug id; an all-zero one a quiet 404.
    assert resolver.resolve("/buildid/xyz/debuginfo").outcome == REJECTED
    assert resolver.resolve(f"/buildid/{'0' * 40}/debuginfo").outcome == IGNORED
    assert len(chain.calls) == 2


def test_allowed_names_come_from_settings(make_cfg):
    chain = RecordingChain()
    pm = make_plugin_manager(("plugins.rewrite_legacy", "plugins.rewrite_debuginfod"))
    resolver = Resolver(make_cfg({"symbolsrv.allowed_names": "libfoo"}), pm, chain)
    assert resolver.resolve(f"/buildid/{BUILD_ID}/debuginfo").outcome == IGNORED
    assert resolver.resolve(f"/libfoo.so/{BUILD_ID}/libfoo").outcome == MISS
    assert len(chain.calls) == 1


def test_try_prefix_is_stripped_and_searches_try_locations(resolver, chain):
    answer = resolver.resolve(f"/try/xul.pdb/{ID}/xul.sym")
    assert answer.outcome == HIT
    assert answer.key == KEY
    assert answer.is_try is True
    assert chain.calls == [(KEY, True)]


def test_try_prefix_works_with_a_legacy_product_url(resolver, chain):
    answer = resolver.resolve(f"/try/firefox/xul.pdb/{ID}/xul.sym")
    assert answer.is_try is True
    assert chain.calls == [(KEY, True)]


def test_try_flag_from_the_query_searches_try_locations(resolver, chain):
    answer = resolver.resolve(f"/xul.pdb/{ID}/xul.sym", try_flag=True)
    assert answer.is_try is True
    assert chain.calls == [(KEY, True)]


def test_a_debug_file_named_try_is_not_a_try_prefix(resolver, chain):
    answer = resolver.resolve(f"/try/{ID}/try.sym")
    assert answer.is_try is False
    assert chain.calls == [(SymbolKey("try", ID, "try.sym"), False)]


def test_ignored_try_request_remembers_it_was_try(resolver, chain):
    answer = resolver.resolve(f"/try/xul.pdb/{ID}/file.ptr")
    assert (answer.outcome, answer.is_try) == (IGNORED, True)
    assert chain.calls == []


def test_storage_unavailable_becomes_an_error_answer(cfg, pm):
    chain = RecordingChain(fail=True)
    answer = Resolver(cfg, pm, chain).resolve(f"/xul.pdb/{ID}/xul.sym", try_flag=True)
    assert answer.outcome == ERROR
    assert answer.key == KEY
    assert answer.is_try is True
    assert "s3:org-symbols" in answer.reason
    assert chain.calls == [(KEY, True)]


def test_refresh_is_passed_to_the_chain(resolver, chain):
    resolver.resolve(f"/xul.pdb/{ID}/xul.sym")
    resolver.resolve(f"/xul.pdb/{ID}/xul.sym", refresh=True)
    assert chain.refreshes == [False, True]


def test_core_parser_alone_keeps_the_id_as_sent(cfg):
    chain = RecordingChain()
    resolver = Resolver(cfg, make_plugin_manager(()), chain)
    resolver.resolve(f"/xul.pdb/{ID.lower()}/xul.sym")
    assert chain.calls == [(SymbolKey("xul.pdb", ID.lower(), "xul.sym"), False)]


def test_a_repeated_path_is_parsed_once_but_looked_up_every_time(cfg, pm, chain, monkeypatch):
    resolver = Resolver(cfg, pm, chain)
    parses = []
    real_prepare = resolver.prepare
    monkeypatch.setattr(resolver, "prepare", lambda *a: parses.append(a) or real_prepare(*a))
    path = wsgi("/xul.pdb/44e4ec8c2f41492b9369d6b9a059577c2/xul.sym")
    first, second = resolver.resolve(path), resolver.resolve(path)
    assert first == second and first.outcome == HIT
    assert len(parses) == 1
    assert len(chain.calls) == 2  # storage answers are never memoised here (the cache decides)
    assert resolver.resolve(path, try_flag=True).is_try  # the try flag is part of the memo key


def test_the_parse_memo_stays_bounded(cfg, pm, chain, monkeypatch):
    monkeypatch.setattr("symbolsrv.lookup.PREPARED_MAX", 3)
    resolver = Resolver(cfg, pm, chain)
    for n in range(10):
        resolver.resolve(wsgi(f"/junk{n}.pdb//x.sym"))
    assert len(resolver._prepared) <= 3
