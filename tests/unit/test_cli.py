"""The `symbolsrv` command line, run through its main(argv) over a generated INI: local
directories in tmp_path as file:// locations and SQLite in tmp_path."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import sqlalchemy as sa

from symbolsrv import db
from symbolsrv.db import MissCount, MissKey
from symbolsrv.scripts import cli
from symbolsrv.settings import DEFAULT_PLUGINS

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = f"xul.pdb/{ID}/xul.sym"


def write_ini(tmp_path: Path, locations, try_locations=(), extra: str = "", database=None) -> Path:
    """An INI like production's: [app:main] with the locations (directories) and SQLite."""
    def block(dirs):
        return "".join(f"\n    {Path(d).as_uri()}" for d in dirs)

    database = database or f"sqlite:///{tmp_path / 'db.sqlite'}"
    ini = tmp_path / "symbolsrv.ini"
    ini.write_text(
        "[app:main]\n"
        "use = egg:symbolsrv\n"
        f"symbolsrv.locations ={block(locations)}\n"
        f"symbolsrv.try_locations ={block(try_locations)}\n"
        f"sqlalchemy.url = {database}\n"
        f"{extra}",
        encoding="utf-8",
    )
    return ini


def store(tmp_path: Path, name: str, *keys: str) -> Path:
    """A local symbol directory holding `keys` (paths debug_file/debug_id/symbol_file)."""
    root = tmp_path / name
    root.mkdir()
    for key in keys:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("MODULE windows x86_64 " + key + "\n")
    return root


def run(capsys, *argv) -> tuple[int, str, str]:
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def without_times(text: str) -> str:
    return re.sub(r"\d+\.\d ms\)?", lambda m: "<ms>" + (")" if m.group().endswith(")") else ""), text)


# ------------------------------------------------------------------ check


def test_check_reports_one_ok_line_per_check(tmp_path, capsys):
    a, b = store(tmp_path, "a"), store(tmp_path, "b")
    t = store(tmp_path, "try")
    ini = write_ini(tmp_path, [a, b], [t])

    status, out, err = run(capsys, "check", ini)

    assert status == 0, err
    assert without_times(out).splitlines() == [
        f"ok      settings {ini} (2 locations, 1 try location, plugins: "
        f"{' '.join(DEFAULT_PLUGINS.split())})",
        f"ok      database sqlite:///{tmp_path / 'db.sqlite'} (<ms>)",
        f"ok      location 1 file:{a} (<ms>)",
        f"ok      location 2 file:{b} (<ms>)",
        f"ok      try location 1 file:{t} (<ms>)",
        "symbolsrv: all 5 checks ok",
    ]


def test_check_reads_location_sections_and_shows_their_layout_and_casing(tmp_path, capsys):
    a = store(tmp_path, "a")
    ini = tmp_path / "symbolsrv.ini"
    ini.write_text(
        "[app:main]\n"
        "use = egg:symbolsrv\n"
        "symbolsrv.locations = symstore\n"
        f"sqlalchemy.url = sqlite:///{tmp_path / 'db.sqlite'}\n"
        "\n[location:symstore]\n"
        "url = file://%(here)s/a\n"
        "layout = index2\n"
        "casing = as-is, lower\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "check", ini)
    assert status == 0, err
    assert f"ok      location 1 file:{a} (layout=index2 casing=as-is,lower) (<ms>)" in (
        without_times(out).splitlines())


def test_check_with_a_failing_location_prints_FAILED_and_exits_1(tmp_path, capsys):
    a = store(tmp_path, "a")
    gone = tmp_path / "unmounted"
    ini = write_ini(tmp_path, [a, gone])

    status, out, _ = run(capsys, "check", ini)

    assert status == 1
    lines = without_times(out).splitlines()
    assert f"ok      location 1 file:{a} (<ms>)" in lines
    assert f"FAILED  location 2 file:{gone}: directory missing or unreadable (<ms>)" in lines
    assert lines[-1] == "symbolsrv: 1 of 4 checks FAILED"


def test_check_with_an_unreachable_database_prints_FAILED(tmp_path, capsys):
    a = store(tmp_path, "a")
    ini = write_ini(tmp_path, [a], database=f"sqlite:///{a}")  # a directory is no database

    status, out, _ = run(capsys, "check", ini)

    assert status == 1
    database = [line for line in out.splitlines() if " database " in line]
    assert len(database) == 1 and database[0].startswith(f"FAILED  database sqlite:///{a}: ")
    assert "\n" not in database[0]
    assert out.splitlines()[-1] == "symbolsrv: 1 of 3 checks FAILED"


def test_check_never_prints_the_database_password(tmp_path, capsys):
    a = store(tmp_path, "a")
    ini = write_ini(tmp_path, [a], database="postgresql+psycopg2://me:s3cret@127.0.0.1:1/x"
                    "?connect_timeout=1")
    status, out, err = run(capsys, "check", ini)
    assert status == 1
    assert "s3cret" not in out + err
    assert "FAILED  database postgresql+psycopg2://me:***@127.0.0.1:1/x" in out


# ------------------------------------------------------------------ bad INI


@pytest.mark.parametrize("command", ["check", "lookup", "missing", "initdb"])
def test_an_unknown_setting_is_an_error_naming_it_with_status_1(tmp_path, capsys, command):
    ini = write_ini(tmp_path, [store(tmp_path, "a")], extra="symbolsrv.locatons = file:///x\n")
    argv = [command, ini] + ([f"/{KEY}"] if command == "lookup" else [])

    status, out, err = run(capsys, *argv)

    assert status == 1
    assert out == ""
    assert err.startswith("symbolsrv: error: unknown setting 'symbolsrv.locatons'")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "symbolsrv: error: cannot read "),
        ("[app:main\nuse = egg:symbolsrv\n", "symbolsrv: error: cannot read "),
        ("[server:main]\nport = 1\n", "symbolsrv: error: cannot read "),
        ("[app:main]\nuse = egg:symbolsrv\nsqlalchemy.url = sqlite://\n",
         "symbolsrv: error: missing required setting 'symbolsrv.locations'"),
        ("[app:main]\nuse = egg:symbolsrv\nsymbolsrv.locations = ftp://x/\nsqlalchemy.url = sqlite://\n",
         "symbolsrv: error: no plugin handles location 'ftp://x/'"),
        ("[app:main]\nuse = egg:symbolsrv\nsymbolsrv.locations = file:///x\n"
         "symbolsrv.concurrent_lookups = ture\nsqlalchemy.url = sqlite://\n",
         "symbolsrv: error: bad value for symbolsrv.concurrent_lookups"),
    ],
    ids=["no-file", "malformed", "no-app-section", "missing-key", "no-plugin", "bad-value"],
)
def test_a_bad_ini_is_one_error_line_and_status_1(tmp_path, capsys, content, message):
    ini = tmp_path / "bad.ini"
    if content is not None:
        ini.write_text(content, encoding="utf-8")

    status, out, err = run(capsys, "check", ini)

    assert status == 1
    assert out == ""
    assert err.startswith(message), err
    assert err.count("\n") == 1


# ------------------------------------------------------------------ lookup


@pytest.fixture
def two_stores(tmp_path):
    a = store(tmp_path, "a")
    b = store(tmp_path, "b", KEY)
    t = store(tmp_path, "try", f"try.pdb/{ID}/try.sym")
    return a, b, t, write_ini(tmp_path, [a, b], [t])


def test_lookup_hit_prints_every_location_the_winner_and_the_status(two_stores, capsys):
    a, b, _, ini = two_stores

    status, out, _ = run(capsys, "lookup", ini, f"/{KEY}")

    assert status == 0
    lines = out.splitlines()
    assert lines[:3] == [f"path     /{KEY}", f"key      {KEY}", "try      no"]
    assert re.fullmatch(rf"   1  file:{re.escape(str(a))}  absent\s+\d+\.\d ms", lines[3]), lines[3]
    assert re.fullmatch(rf"   2  file:{re.escape(str(b))}  hit\s+\d+\.\d ms", lines[4]), lines[4]
    assert lines[5:] == [
        f"winner   file:{b}",
        f"url      {b / KEY}",
        "outcome  hit",
        "status   200 OK (symbolsrv serves the file)",
    ]


def test_lookup_miss_prints_absent_everywhere_and_exits_1(two_stores, tmp_path, capsys):
    a, b, _, ini = two_stores

    status, out, _ = run(capsys, "lookup", ini, f"/nope.pdb/{ID.lower()}/nope.sym?code_file=x")

    assert status == 1
    lines = without_times(out).splitlines()
    assert lines[1] == f"key      nope.pdb/{ID}/nope.sym"  # upper-cased, as the server does
    assert [line.split()[:3] for line in lines[3:5]] == [
        ["1", f"file:{a}", "absent"], ["2", f"file:{b}", "absent"]]
    assert lines[5:] == ["winner   -", "outcome  miss", "status   404 Symbol Not Found"]
    # Nothing served, nothing counted: the CLI never writes the miss log.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert not sa.inspect(engine).has_table("missing_symbols")
    finally:
        engine.dispose()


def test_lookup_with_try_asks_the_try_locations_last(two_stores, capsys):
    _, _, t, ini = two_stores

    status, out, _ = run(capsys, "lookup", ini, f"http://symbols.example/try.pdb/{ID}/try.sym?try")

    assert status == 0
    lines = out.splitlines()
    assert lines[2] == "try      yes"
    assert [line.split()[:3] for line in lines[3:6]] == [
        ["1", f"file:{tmp_path_of(t) / 'a'}", "absent"],
        ["2", f"file:{tmp_path_of(t) / 'b'}", "absent"],
        ["3", f"file:{t}", "hit"],
    ]
    assert f"winner   file:{t}" in lines


def tmp_path_of(directory: Path) -> Path:
    return directory.parent


@pytest.mark.parametrize(
    ("path", "outcome", "status"),
    [
        ("/xul.pdb/not-hex/xul.sym", "rejected", "400 Bad Request: "),
        (f"/xul.pdb/{ID}/file.ptr", "ignored", "404 Not Found: file.ptr is not served"),
        ("/just/two", "ignored", "404 Not Found: not a symbol path"),
    ],
)
def test_lookup_of_a_path_that_is_never_looked_up_asks_no_location(two_stores, capsys, path,
                                                                   outcome, status):
    status_code, out, _ = run(capsys, "lookup", two_stores[3], path)
    assert status_code == 1
    assert "  (no location asked)" in out.splitlines()
    assert f"outcome  {outcome}" in out.splitlines()
    assert out.splitlines()[-1].startswith(f"status   {status}")


def test_lookup_when_a_location_fails_and_none_has_the_key_is_a_503(tmp_path, capsys):
    a = store(tmp_path, "a")
    ini = write_ini(tmp_path, [a, tmp_path / "unmounted"])

    status, out, _ = run(capsys, "lookup", ini, f"/{KEY}")

    assert status == 1
    assert [line.split()[:3] for line in out.splitlines()[3:5]] == [
        ["1", f"file:{a}", "absent"], ["2", f"file:{tmp_path / 'unmounted'}", "error"]]
    assert out.splitlines()[-1] == "status   503 Storage Unavailable"


# ------------------------------------------------------------------ missing


def miss(key: MissKey, day: dt.date, count: int = 1) -> MissCount:
    when = dt.datetime.combine(day, dt.time(12))
    return MissCount(day, key, count, when, when)


@pytest.fixture
def misses(tmp_path):
    """An INI whose database holds misses on 2024-05-01 and on today and yesterday (UTC)."""
    ini = write_ini(tmp_path, [store(tmp_path, "a")])
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.create_tables(engine)
    today = dt.datetime.now(dt.timezone.utc).date()
    db.upsert_misses(engine, [
        miss(MissKey("xul.pdb", ID, "xul.sym", "xul.dll", "5F3B2C1A9E4000"), dt.date(2024, 5, 1), 3),
        miss(MissKey("libxul.so", "0A1B2C3D4E5F60718293A4B5C6D7E8F90", "libxul.so.sym", "", ""),
             dt.date(2024, 5, 1)),
        miss(MissKey("=cmd.pdb", ID, "cmd.sym", "a,b.dll", ""), dt.date(2024, 5, 1)),
        miss(MissKey("xul.pdb", ID, "xul.sym", "xul.dll", "OTHER"), dt.date(2024, 5, 2)),
        miss(MissKey("today.pdb", ID, "today.sym", "", ""), today),
        miss(MissKey("yesterday.pdb", ID, "yesterday.sym", "", ""), today - dt.timedelta(days=1)),
    ])
    engine.dispose()
    return ini


def test_missing_writes_the_days_csv_exactly_as_the_report(misses, capsysbinary):
    status = cli.main(["missing", str(misses), "--date", "2024-05-01"])
    out, err = capsysbinary.readouterr()
    assert status == 0
    assert err == b""  # no progress lines when stderr is not a terminal
    assert out == (
        b"debug_file,debug_id,code_file,code_id\n"
        b"'=cmd.pdb,44E4EC8C2F41492B9369D6B9A059577C2,\"a,b.dll\",\n"
        b"libxul.so,0A1B2C3D4E5F60718293A4B5C6D7E8F90,,\n"
        b"xul.pdb,44E4EC8C2F41492B9369D6B9A059577C2,xul.dll,5F3B2C1A9E4000\n"
    )


def test_missing_microsoft_only(misses, capsysbinary):
    assert cli.main(["missing", str(misses), "--date", "2024-05-01", "--microsoft-only"]) == 0
    assert capsysbinary.readouterr().out.splitlines()[1:] == [
        b"'=cmd.pdb,44E4EC8C2F41492B9369D6B9A059577C2,\"a,b.dll\",",
        b"xul.pdb,44E4EC8C2F41492B9369D6B9A059577C2,xul.dll,5F3B2C1A9E4000",
    ]


def test_missing_defaults_to_yesterday_and_today_is_today(misses, capsysbinary):
    assert cli.main(["missing", str(misses)]) == 0
    assert capsysbinary.readouterr().out.splitlines()[1:] == [
        b"yesterday.pdb,44E4EC8C2F41492B9369D6B9A059577C2,,"]
    assert cli.main(["missing", str(misses), "--today"]) == 0
    assert capsysbinary.readouterr().out.splitlines()[1:] == [
        b"today.pdb,44E4EC8C2F41492B9369D6B9A059577C2,,"]


def test_missing_of_a_day_without_misses_is_the_header_alone(misses, capsysbinary):
    assert cli.main(["missing", str(misses), "--date", "2020-01-01"]) == 0
    assert capsysbinary.readouterr().out == b"debug_file,debug_id,code_file,code_id\n"


@pytest.mark.parametrize("argv", [["--date", "2024-13-01"], ["--date", "20240501"],
                                  ["--date", "2024-05-01", "--today"]])
def test_missing_with_bad_arguments_is_a_usage_error(misses, capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["missing", str(misses), *argv])
    assert exit_info.value.code == 2
    assert "symbolsrv missing: error:" in capsys.readouterr().err


def test_missing_without_tables_is_a_database_error_line(tmp_path, capsys):
    ini = write_ini(tmp_path, [store(tmp_path, "a")])
    status, out, err = run(capsys, "missing", ini, "--today")
    assert status == 1
    assert err.startswith("symbolsrv: error: database: OperationalError: no such table")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_counts_rows_on_a_terminal_only():
    terminal = FakeTerminal()
    assert list(cli.progress(iter(range(7)), terminal, every=3)) == list(range(7))
    assert terminal.getvalue() == "\rsymbolsrv: 3 rows\rsymbolsrv: 6 rows\rsymbolsrv: 7 rows\n"

    pipe = io.StringIO()
    assert list(cli.progress(iter(range(7)), pipe, every=3)) == list(range(7))
    assert pipe.getvalue() == ""

    few = FakeTerminal()
    assert list(cli.progress(iter(range(2)), few, every=3)) == [0, 1]
    assert few.getvalue() == ""  # a quick command stays quiet
    assert cli.PROGRESS_EVERY == 100_000


# ------------------------------------------------------------------ initdb, the script


def test_initdb_creates_the_tables(tmp_path, capsys):
    ini = write_ini(tmp_path, [store(tmp_path, "a")])
    status, out, _ = run(capsys, "initdb", ini)
    assert status == 0
    assert out == f"symbolsrv: tables ready in sqlite:///{tmp_path / 'db.sqlite'}\n"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert sa.inspect(engine).has_table("missing_symbols")
    finally:
        engine.dispose()


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2


def test_symbolsrv_is_a_console_script():
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("symbolsrv") == "symbolsrv.scripts.cli:main"


def test_the_module_runs_as_a_program(tmp_path):
    ini = write_ini(tmp_path, [store(tmp_path, "a")])
    proc = subprocess.run([sys.executable, "-m", "symbolsrv.scripts.cli", "check", str(ini)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "symbolsrv: all 3 checks ok"
