"""README is the reference for operators and plugin authors: it must name every setting and hook."""

import inspect
from pathlib import Path

from symbolsrv import hookspecs
from symbolsrv.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    missing = [row.key for row in SETTINGS if f"`{row.key}`" not in README]
    assert missing == []


def test_every_hookspec_is_documented_with_its_arguments():
    specs = [
        (name, fn)
        for name, fn in vars(hookspecs).items()
        if name.startswith("symbolsrv_") and callable(fn)
    ]
    assert specs, "no hookspecs found"
    for name, fn in specs:
        signature = f"{name}({', '.join(inspect.signature(fn).parameters)})"
        assert signature in README, signature


def test_every_location_option_is_documented():
    from plugins import storage_gcs, storage_http, storage_local, storage_s3
    from symbolsrv import placement

    options = {f"{plugin.__name__}: {name}" for plugin in (storage_local, storage_s3, storage_gcs, storage_http)
               for name in plugin.OPTIONS}
    options |= {f"placement: {name}" for name in placement.OPTIONS}
    missing = sorted(o for o in options if f"| `{o.split(': ')[1]}` |" not in README)
    assert missing == []
    for value in (*placement.LAYOUTS, *placement.CASINGS):
        assert f"`{value}`" in README, value


def test_readme_gives_the_two_commands():
    assert "\n    make run\n" in README
    assert "\n    make test\n" in README
