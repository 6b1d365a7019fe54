"""symbolsrv-initdb <config.ini>: create the miss-log tables (the server also does at start)."""

from __future__ import annotations

import argparse
import sys

from symbolsrv import db
from symbolsrv.errors import SymbolsrvError
from symbolsrv.scripts.cli import load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symbolsrv-initdb", description=__doc__)
    parser.add_argument("config_uri", help="INI file, e.g. production.ini")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config_uri)  # logging set up, [location:<name>] sections read
        engine = db.make_engine(cfg)
        db.create_tables(engine)
    except SymbolsrvError as exc:
        print(f"symbolsrv: error: {exc}", file=sys.stderr)
        return 1
    print(f"symbolsrv: tables ready in {engine.url.render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
