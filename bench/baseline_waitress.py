"""Ceiling 1: a bare WSGI callable answering every request with a fixed 302, under waitress.

    python bench/baseline_waitress.py --port 8001 --threads 8 [--location URL]

No framework, no routing: what waitress alone costs per redirect on this machine.
"""

import argparse

import waitress

DEFAULT_LOCATION = "http://127.0.0.1:9/bench-1/v1/xul.pdb/88FD491257B2E0F54C4C44205044422E1/xul.sym"


def make_app(location):
    status = "302 Found"
    headers = [("Location", location), ("Content-Length", "0")]
    body = [b""]

    def app(environ, start_response):
        start_response(status, headers)
        return body

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--location", default=DEFAULT_LOCATION)
    args = parser.parse_args()
    waitress.serve(make_app(args.location), listen=f"127.0.0.1:{args.port}", threads=args.threads)


if __name__ == "__main__":
    main()
