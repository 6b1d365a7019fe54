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


def test_readme_gives_the_two_commands():
    assert "\n    make run\n" in README
    assert "\n    make test\n" in README
