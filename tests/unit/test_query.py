"""symbolsrv.query: only `try` changes the answer; code_file/code_id are cleaned or ''."""


import pytest

from symbolsrv.query import EMPTY, MAX_RAW_VALUE_LENGTH, SymbolQuery, clean_code_file, parse_query


def test_empty_query_string_is_the_empty_query():
    assert parse_query("") is EMPTY
    assert EMPTY == SymbolQuery(try_=False, code_file="", code_id="")


def test_code_file_and_code_id_are_kept_as_sent():
    query = parse_query("code_file=xul.dll&code_id=5F3B2C1A9e4000")
    assert query == SymbolQuery(try_=False, code_file="xul.dll", code_id="5F3B2C1A9e4000")


def test_percent_encoded_utf8_code_file_is_decoded():
    assert parse_query("code_file=%E6%B1%89%20App.exe").code_file == "汉 App.exe"


def test_last_value_wins_for_repeated_parameters():
    query = parse_query("code_file=a.dll&code_id=AAA&code_file=b.dll&code_id=BBB")
    assert query.code_file == "b.dll"
    assert query.code_id == "BBB"


def test_a_bad_last_value_wins_over_a_good_earlier_one():
    assert parse_query("code_id=ABC&code_id=A-B").code_id == ""


def test_stackwalk_style_empty_values_give_empty_strings():
    # minidump-stackwalk sends ?code_file=&code_id= on every request.
    assert parse_query("code_file=&code_id=") == SymbolQuery(try_=False, code_file="", code_id="")


@pytest.mark.parametrize("query_string", ["try", "try=", "try=1", "try=0", "code_id=AB&try"])
def test_try_is_true_whenever_the_parameter_is_present(query_string):
    assert parse_query(query_string).try_ is True


@pytest.mark.parametrize("query_string", ["code_file=x.dll", "tr=1", "trying=1", "x=try"])
def test_try_is_false_when_the_parameter_is_absent(query_string):
    assert parse_query(query_string).try_ is False


@pytest.mark.parametrize(
    "query_string, refresh, trace",
    [("_refresh", True, False), ("_trace=1", False, True), ("_refresh&_trace", True, True),
     ("refresh&trace", False, False), ("code_file=x.dll", False, False)],
)
def test_refresh_and_trace_flags_are_true_when_present(query_string, refresh, trace):
    query = parse_query(query_string)
    assert (query.refresh, query.trace) == (refresh, trace)


def test_unknown_parameters_are_ignored():
    assert parse_query("foo=bar&code_file=x.dll&baz") == SymbolQuery(False, "x.dll", "")


@pytest.mark.parametrize(
    "code_file",
    [
        "a" * 5000,
        "a" * 201,
        "x%00.dll",
        "x%0A.dll",
        "x%7F.dll",
        "x%C2%85.dll",  # U+0085, a C1 control
        "x%22.dll",  # "
        "x%27.dll",  # '
        "x%60.dll",  # `
        "x%5C.dll",  # backslash
        "x%3C.dll",  # <
        "..",
        ".",
        "a%2Fb.dll",  # a slash is a path, not a file name
        "%FF%FE.dll",  # not UTF-8
        "%E6%B1.dll",  # truncated UTF-8
    ],
)
def test_unusable_code_file_is_stored_as_empty(code_file):
    assert parse_query(f"code_file={code_file}").code_file == ""


def test_code_file_of_exactly_200_characters_is_kept():
    assert parse_query("code_file=" + "a" * 200).code_file == "a" * 200


@pytest.mark.parametrize("code_id", ["BAR", "5F3B2C1A9e4000", "a", "Z" * 64])
def test_alphanumeric_code_id_up_to_64_characters_is_kept_as_sent(code_id):
    assert parse_query(f"code_id={code_id}").code_id == code_id


@pytest.mark.parametrize(
    "code_id",
    ["5F3B-2C1A", "Z" * 65, "AB%00", "AB%20CD", "%C3%BC", "AB'--", "", "AB+CD"],
)
def test_code_id_that_is_not_1_to_64_letters_and_digits_is_stored_as_empty(code_id):
    assert parse_query(f"code_id={code_id}").code_id == ""


def test_ten_thousand_parameters_parse_without_error():
    query_string = "&".join(f"p{i}=v{i}" for i in range(10_000)) + "&code_file=late.dll"
    query = parse_query(query_string)
    assert isinstance(query, SymbolQuery)
    assert query.code_file == "late.dll"  # read after the noise, never cut off
    assert query.try_ is False


def test_known_parameters_after_a_long_query_string_are_still_read():
    query_string = "x=" + "a" * 10_000 + "&code_id=0123456789ABCDEF&try&code_file=xul.dll"
    assert parse_query(query_string) == SymbolQuery(True, "xul.dll", "0123456789ABCDEF")


def test_over_long_last_value_replaces_an_earlier_good_one_with_empty():
    assert parse_query("code_file=xul.dll&code_file=" + "a" * 5000).code_file == ""


def test_raw_value_of_exactly_the_limit_is_decoded_and_one_more_is_dropped():
    # 200 four-byte characters, percent-encoded: the longest valid code_file.
    encoded = "%F0%9F%98%80" * 200
    assert len(encoded) == MAX_RAW_VALUE_LENGTH
    assert parse_query("code_file=" + encoded).code_file == "\U0001F600" * 200
    assert parse_query("code_file=" + encoded + "a").code_file == ""


def test_plus_in_a_value_is_a_space():
    assert parse_query("code_file=Demo+App.exe").code_file == "Demo App.exe"
    assert parse_query("code_file=libc%2B%2B.so").code_file == "libc++.so"


def test_parameter_names_match_as_sent():
    assert parse_query("Code_File=x.dll&TRY&code%5Fid=ABC") == EMPTY


@pytest.mark.parametrize("code_file", ["ü.dll", "Grüße.dll", "汉.dll"])
def test_unencoded_utf8_in_the_query_string_is_decoded_like_percent_encoded_utf8(code_file):
    # QUERY_STRING reaches the app as latin-1-decoded bytes (PEP 3333), like PATH_INFO.
    # A client that sends ?code_file=ü.dll without percent-encoding must not be logged as
    # the mojibake "Ã¼.dll" (nor dropped because a UTF-8 byte looks like a C1 control).
    raw = f"code_file={code_file}".encode("utf-8").decode("latin-1")
    assert parse_query(raw).code_file == code_file


def test_ten_thousand_repeated_code_ids_parse_to_a_valid_value():
    query = parse_query("&".join("code_id=ABC" for _ in range(10_000)))
    assert query.code_id == "ABC"


@pytest.mark.parametrize("value", ["xul.dll", "Demo App.exe", "libc++.so", "汉.dll"])
def test_clean_code_file_keeps_plausible_file_names(value):
    assert clean_code_file(value) == value


@pytest.mark.parametrize("value", ["", "a/b", "bad\ufffd.dll", "x\x00", 'x"y', "a" * 201])
def test_clean_code_file_empties_anything_else(value):
    assert clean_code_file(value) == ""
