"""Per-location layout and casing (symbolsrv/placement.py): which stored paths a key is asked
for, in which order, and the option parsing core does before a plugin sees the URL."""

from __future__ import annotations

import pytest

from symbolsrv.errors import ConfigurationError
from symbolsrv.keys import SymbolKey
from symbolsrv.placement import Placement, split_placement

KEY = SymbolKey("XUL.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "XUL.sym")
SENT = SymbolKey("XUL.pdb", "44e4ec8c2f41492b9369d6b9a059577c2", "XUL.sym")
BUILDID = SymbolKey("buildid", "0123456789abcdef0123456789abcdef01234567", "debuginfo")


def paths(placement: Placement, key=KEY, sent=None):
    return [(form, stored.path) for form, stored in placement.stored_keys(key, sent)]


def test_default_asks_the_canonical_key_then_the_id_as_sent():
    assert paths(Placement(), KEY, SENT) == [
        ("", "XUL.pdb/44E4EC8C2F41492B9369D6B9A059577C2/XUL.sym"),
        ("as sent", "XUL.pdb/44e4ec8c2f41492b9369d6b9a059577c2/XUL.sym"),
    ]


def test_default_also_asks_lower_case_names_for_a_windows_file():
    key = SymbolKey("NTDLL.PDB", "1EB9FACB04EA273BB4BA52C3F2DE1E761", "NTDLL.PDB")
    sent = SymbolKey("NTDLL.PDB", "1eb9facb04ea273bb4ba52c3f2de1e761", "NTDLL.PDB")
    assert paths(Placement(), key, sent) == [
        ("", "NTDLL.PDB/1EB9FACB04EA273BB4BA52C3F2DE1E761/NTDLL.PDB"),
        ("as sent", "NTDLL.PDB/1eb9facb04ea273bb4ba52c3f2de1e761/NTDLL.PDB"),
        ("lower names", "ntdll.pdb/1EB9FACB04EA273BB4BA52C3F2DE1E761/ntdll.pdb"),
    ]
    cab = SymbolKey("Crash.pdb", "ABCDEF0123456789", "Crash.pd_")
    assert [p for _, p in paths(Placement(), cab)] == [
        "Crash.pdb/ABCDEF0123456789/Crash.pd_", "crash.pdb/ABCDEF0123456789/crash.pd_"]
    # Lower-case names already: one probe. Breakpad's .sym: never re-cased.
    lower = SymbolKey("ntdll.pdb", "1EB9FACB04EA273BB4BA52C3F2DE1E761", "ntdll.pdb")
    assert len(paths(Placement(), lower)) == 1
    assert paths(Placement(), KEY) == [("", KEY.path)]


def test_default_asks_once_when_the_client_sent_the_canonical_key():
    assert paths(Placement(), KEY, None) == [("", "XUL.pdb/44E4EC8C2F41492B9369D6B9A059577C2/XUL.sym")]


@pytest.mark.parametrize("casing, sent, expected", [
    (("as-is",), SENT, ["XUL.pdb/44e4ec8c2f41492b9369d6b9a059577c2/XUL.sym"]),
    (("as-is",), None, ["XUL.pdb/44E4EC8C2F41492B9369D6B9A059577C2/XUL.sym"]),
    (("upper-id",), SENT, ["XUL.pdb/44E4EC8C2F41492B9369D6B9A059577C2/XUL.sym"]),
    (("lower",), SENT, ["xul.pdb/44e4ec8c2f41492b9369d6b9a059577c2/xul.sym"]),
    (("lower",), None, ["xul.pdb/44e4ec8c2f41492b9369d6b9a059577c2/xul.sym"]),
    # A list: each distinct form once, in order.
    (("upper-id", "lower"), SENT, ["XUL.pdb/44E4EC8C2F41492B9369D6B9A059577C2/XUL.sym",
                                   "xul.pdb/44e4ec8c2f41492b9369d6b9a059577c2/xul.sym"]),
    (("upper-id", "as-is", "auto"), None, ["XUL.pdb/44E4EC8C2F41492B9369D6B9A059577C2/XUL.sym"]),
])
def test_casing_forms(casing, sent, expected):
    assert [p for _, p in paths(Placement("flat", casing), KEY, sent)] == expected


def test_later_forms_are_named_in_traces():
    assert [form for form, _ in paths(Placement("flat", ("upper-id", "lower")), KEY, SENT)] == [
        "", "lower"]


@pytest.mark.parametrize("debug_file, directory", [
    ("xul.pdb", "xu"),
    ("a.pdb", "a"),  # one character when the second is a dot
    ("ab", "ab"),
    ("汉字.pdb", "汉字"),
])
def test_index2_puts_the_first_two_characters_in_front(debug_file, directory):
    key = SymbolKey(debug_file, "ABCDEF0123456789ABCDEF01234567891", debug_file)
    [(_, stored)] = Placement("index2").stored_keys(key)
    assert stored.path == f"{directory}/{key.path}"
    assert stored.quoted_path.count("/") == 3


def test_index2_with_lower_casing_lowers_the_directory_too():
    [(_, stored)] = Placement("index2", ("lower",)).stored_keys(KEY)
    assert stored.path == "xu/xul.pdb/44e4ec8c2f41492b9369d6b9a059577c2/xul.sym"


def test_index2_quoted_path_encodes_odd_characters():
    key = SymbolKey("c++filt", "ABCDEF0123456789ABCDEF01234567891", "c++filt.sym")
    [(_, stored)] = Placement("index2").stored_keys(key)
    assert stored.quoted_path == "c%2B/c%2B%2Bfilt/ABCDEF0123456789ABCDEF01234567891/c%2B%2Bfilt.sym"


@pytest.mark.parametrize("casing", [("upper-id",), ("upper-id", "lower"), ("as-is",), ("auto",)])
def test_a_build_id_is_never_upper_cased(casing):
    assert [p for _, p in paths(Placement("debuginfod", casing), BUILDID)] == [BUILDID.path]


def test_debuginfod_layout_is_asked_only_for_debuginfod_keys():
    placement = Placement("debuginfod")
    assert placement.stored_keys(KEY, SENT) == []
    assert paths(placement, BUILDID) == [("", BUILDID.path)]


# ------------------------------------------------------------------ split_placement


def test_split_takes_out_only_core_options():
    url, placement = split_placement(
        "s3://bucket/v1?region=eu-west-1&layout=index2&casing=upper-id,lower&private=true")
    assert url == "s3://bucket/v1?region=eu-west-1&private=true"
    assert placement == Placement("index2", ("upper-id", "lower"))


def test_split_leaves_a_url_without_core_options_untouched():
    url = "http://user:pw@mirror.example/sym/?timeout_seconds=2"
    assert split_placement(url) == (url, Placement())
    assert split_placement("file:///srv/symbols") == ("file:///srv/symbols", Placement())


def test_split_gives_an_empty_query_when_only_core_options_were_there():
    assert split_placement("gs://b/p?casing=lower") == ("gs://b/p", Placement("flat", ("lower",)))


@pytest.mark.parametrize("query, message", [
    ("layout=two-tier", "bad value for layout: 'two-tier'"),
    ("casing=LOWER", "bad value for casing: 'LOWER'"),
    ("casing=", "bad value for casing: ''"),
    ("casing=lower,,as-is", "bad value for casing"),
    ("layout=flat&layout=index2", "option 'layout' given twice"),
])
def test_split_refuses_bad_values_naming_the_location_without_secrets(query, message):
    with pytest.raises(ConfigurationError) as info:
        split_placement(f"http://user:secret@mirror.example/sym?{query}")
    assert message in str(info.value)
    assert "mirror.example/sym" in str(info.value)
    assert "secret" not in str(info.value)


# ------------------------------------------------------------------ in the chain


class Recording:
    """A storage that records what it is asked and fails while `failing` is set."""

    def __init__(self, name, failing=False, holds=()):
        self.name, self.failing, self.holds, self.asked = name, failing, set(holds), []

    def locate(self, key):
        from symbolsrv.errors import StorageError
        from symbolsrv.storage import Hit

        self.asked.append(key.path)
        if self.failing:
            raise StorageError(self.name, "down")
        return Hit(self.name, url=f"https://x/{key.path}") if key.path in self.holds else None

    def ping(self):
        pass


@pytest.mark.parametrize("concurrent", [False, True])
def test_a_location_with_nothing_to_ask_is_skipped_without_touching_its_circuit(concurrent):
    from symbolsrv.chain import StorageChain
    from symbolsrv.errors import StorageUnavailable

    plain = Recording("plain")
    debuginfod = Recording("debuginfod", failing=True)
    observed = []
    chain = StorageChain([plain, debuginfod], concurrent=concurrent, breaker_failures=2,
                         placements=[Placement(), Placement("debuginfod")],
                         observer=lambda location, outcome, seconds: observed.append(
                             (location, outcome)))
    try:
        for _ in range(3):  # a failing debuginfod location opens its circuit…
            with pytest.raises(StorageUnavailable):
                chain.locate(BUILDID, refresh=True)
        assert chain.breaker(debuginfod).state == "open"
        observed.clear()
        # …and a PDB request still gets its honest miss, asking only the plain location.
        trace = []
        assert chain.locate(KEY, trace=trace) is None
        assert debuginfod.asked == [BUILDID.path] * 2
        assert [step.location for step in trace] == ["plain"]
        assert observed == [("plain", "absent")]
    finally:
        chain.close()


def test_a_url_too_broken_to_parse_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"'http://…': not a valid URL"):
        split_placement("http://[::1/x?casing=lower")


def test_a_forwarded_request_leaves_forwarding_locations_out_and_is_cached_apart():
    from symbolsrv.cache import MemoryCache
    from symbolsrv.chain import StorageChain

    upstream = Recording("http:peer", holds={KEY.path})
    upstream.forwards = True
    own = Recording("file:own")
    chain = StorageChain([upstream, own], cache=MemoryCache(300, 30, 100))
    try:
        assert chain.locate(KEY, forward=False) is None
        assert upstream.asked == [] and own.asked == [KEY.path]
        # The forwarded request's miss does not hide the peer's copy from a client's request…
        assert chain.locate(KEY).location == "http:peer"
        # …and each is answered from its own cache entry afterwards.
        assert chain.locate(KEY, forward=False) is None
        assert chain.locate(KEY).location == "http:peer"
        assert upstream.asked == [KEY.path] and own.asked == [KEY.path]
        chain.forget(KEY)
        assert chain.locate(KEY, forward=False) is None
        assert own.asked == [KEY.path] * 2
    finally:
        chain.close()
