"""symbolsrv.csvreport: spreadsheet-safe, RFC 4180 CSV that stays split(',')-friendly."""

import csv
import io

import pytest

from symbolsrv.csvreport import HEADER, cell, line, render

ROW = ("xul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "xul.dll", "5F3B2C1A9e4000")


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    "value",
    ["xul.pdb", "libc++.so", "Demo App.exe", "汉.dll", "a@b.dll", "x-y.so", "", "'quoted"],
)
def test_ordinary_names_are_unchanged(value):
    assert cell(value) == value


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx.dll", "'\tx.dll"),
    ],
)
def test_formula_starts_get_a_leading_apostrophe(value, expected):
    assert cell(value) == expected


def test_leading_carriage_return_gets_apostrophe_and_quotes():
    assert cell("\rx.dll") == "\"'\rx.dll\""


@pytest.mark.parametrize(
    "value, expected",
    [
        ("a,b.dll", '"a,b.dll"'),
        ('a"b.dll', '"a""b.dll"'),
        ("a\nb.dll", '"a\nb.dll"'),
        ("a\rb.dll", '"a\rb.dll"'),
        ('=1,"2"', '"\'=1,""2"""'),
    ],
)
def test_commas_quotes_and_line_breaks_are_quoted_rfc4180(value, expected):
    assert cell(value) == expected


@pytest.mark.parametrize(
    "values",
    [
        ("a,b.pdb", "ID", 'q"uote.dll', "line\nbreak"),
        ('"', ",", "a\r\nb", "x"),
        ("plain", "", "", ""),
    ],
)
def test_quoted_lines_round_trip_through_the_csv_module(values):
    assert parse_csv(line(values)) == [list(values)]


def test_formula_values_round_trip_with_only_the_apostrophe_added():
    values = ("=HYPERLINK(1)", "+x", "-y", "@z")
    assert parse_csv(line(values)) == [["'" + v for v in values]]


def test_plain_rows_split_on_commas():
    text = line(ROW)
    assert text == ",".join(ROW) + "\n"
    assert text.rstrip("\n").split(",") == list(ROW)


def test_header_is_exact():
    assert HEADER == "debug_file,debug_id,code_file,code_id\n"


def test_render_with_no_rows_yields_just_the_header():
    assert list(render([])) == [HEADER.encode()]


def test_render_yields_header_then_rows_as_utf8():
    rows = [ROW, ("汉.pdb", "ABCDEF0123", "", "")]
    body = b"".join(render(rows)).decode("utf-8")
    assert body == HEADER + ",".join(ROW) + "\n" + "汉.pdb,ABCDEF0123,,\n"
    assert parse_csv(body)[0] == ["debug_file", "debug_id", "code_file", "code_id"]


def test_render_groups_rows_into_chunks_of_about_chunk_bytes():
    rows = [(f"m{i:04d}.pdb", "ABCDEF0123", "", "") for i in range(1000)]
    row_len = len(line(rows[0]))
    chunks = list(render(rows, chunk_bytes=1000))
    assert len(chunks) > 1
    # Every chunk but the last reaches the threshold and exceeds it by less than a row.
    for chunk in chunks[:-1]:
        assert 1000 <= len(chunk) < 1000 + row_len
    assert 0 < len(chunks[-1]) < 1000 + row_len
    assert b"".join(chunks) == (HEADER + "".join(line(r) for r in rows)).encode()


def test_render_never_yields_an_empty_chunk():
    header_len = len(HEADER)
    row = ("a" * (100 - header_len - 6), "B", "C", "")  # 3 commas, B, C, newline
    rows = [row]
    assert len(HEADER) + len(line(row)) == 100  # header + row exactly fill one chunk
    chunks = list(render(rows, chunk_bytes=100))
    assert chunks == [(HEADER + line(row)).encode()]


def test_render_is_lazy_over_its_rows():
    def rows():
        yield ROW
        raise AssertionError("render read past the first chunk before it was asked")

    chunks = render(rows(), chunk_bytes=10)
    assert next(chunks) == (HEADER + line(ROW)).encode()


@pytest.mark.parametrize("value", [" =1+1", "\u00a0@SUM(A1)", "\ufeff-2", "\t=x"])
def test_a_formula_behind_leading_blanks_is_neutralised(value):
    assert cell(value).startswith("'")


def test_unicode_line_separators_are_quoted_so_rows_never_split():
    assert cell("a\u2028b") == '"a\u2028b"'
