"""Ceiling 2: a minimal Pyramid app (one route, one view returning a plain
Response(status=302, location=...)), under waitress with the same threads as symbolsrv.

    python bench/baseline_pyramid.py --port 8002 --threads 8 [--location URL]

What the framework alone costs per redirect: the bar symbolsrv's cached hit is held to.
"""

import argparse

import waitress
from pyramid.config import Configurator
from pyramid.response import Response

from baseline_waitress import DEFAULT_LOCATION


def make_app(location):
    def redirect(request):
        return Response(status=302, location=location)

    config = Configurator()
    config.add_route("symbol", "/{debug_file}/{debug_id}/{symbol_file}")
    config.add_view(redirect, route_name="symbol")
    return config.make_wsgi_app()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--location", default=DEFAULT_LOCATION)
    args = parser.parse_args()
    waitress.serve(make_app(args.location), listen=f"127.0.0.1:{args.port}", threads=args.threads)


if __name__ == "__main__":
    main()
