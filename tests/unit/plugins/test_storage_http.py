"""plugins.storage_http against real loopback HTTP servers that each test scripts.

`Upstream` is a ThreadingHTTPServer on 127.0.0.1 in a thread: `routes` maps a raw request
path (exactly as on the wire) to an answer, and `requests` records what it was asked.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plugins.storage_http import (
    HttpOptions,
    HttpStorage,
    make_pool,
    parse_options,
    redact,
    symbolsrv_storage_for,
)
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.storage import Hit
from tests.servers import free_port
from tests.storage_contract import StorageContract

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = SymbolKey("xul.pdb", ID, "xul.sym")
KEY_PATH = f"/symbols/xul.pdb/{ID}/xul.sym"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real upstreams do

    def _answer(self):
        server = self.server
        server.requests.append((self.command, self.path, dict(self.headers.items())))
        answer = server.routes.get(self.path, 404)
        if callable(answer):
            answer = answer(self)
        if isinstance(answer, dict):
            answer = answer.get(self.command, 404)
        status, headers, body = answer if isinstance(answer, tuple) else (answer, {}, b"")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET = _answer

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-body (the plugin closing a GET) is expected here


class Upstream:
    """A scripted HTTP server on 127.0.0.1. Route values: a status, (status, headers, body),
    a {method: answer} dict, or a callable(handler) returning one of those."""

    def __init__(self):
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.routes = {}
        self.server.requests = []
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    @property
    def routes(self):
        return self.server.routes

    @property
    def requests(self):
        return self.server.requests

    @property
    def paths(self):
        return [(method, path) for method, path, _ in self.requests]

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def second():
    server = Upstream()
    yield server
    server.close()


@pytest.fixture
def blackhole():
    """A port whose kernel completes the TCP handshake but where nobody ever answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def make_storage(base, timeout=2.0, **options):
    return HttpStorage(make_pool(), base, HttpOptions(**options), timeout)


# ---------------------------------------------------------------- options and the hook


def test_options_default_to_upstream_urls_five_hops_and_the_global_timeout():
    assert parse_options("http://h/", "") == HttpOptions(
        timeout_seconds=None, forbidden_is_absent=False, max_redirects=5, redirect_to="upstream"
    )


def test_options_are_parsed_from_the_query_string():
    options = parse_options(
        "https://h/v1",
        "timeout_seconds=2&forbidden_is_absent=true&max_redirects=3&redirect_to=final",
    )
    assert options == HttpOptions(2.0, True, 3, "final")


def test_unknown_option_names_the_location_and_the_option():
    with pytest.raises(ConfigurationError, match=r"'http://h/\?tmeout=1'.*'tmeout'"):
        parse_options("http://h/?tmeout=1", "tmeout=1")


@pytest.mark.parametrize(
    "query",
    ["timeout_seconds=0", "timeout_seconds=-1", "timeout_seconds=soon", "timeout_seconds=nan",
     "max_redirects=-1", "max_redirects=two", "redirect_to=elsewhere",
     "public_url=cdn.example.com", "public_url=https://cdn.example.com/?sig=1"],
)
def test_bad_option_values_are_configuration_errors(query):
    with pytest.raises(ConfigurationError, match=query.split("=")[0]):
        parse_options("http://h/", query)


@pytest.mark.parametrize("location", ["s3://b/p", "file:///srv", "gs://b", "ftp://h/x"])
def test_hook_ignores_other_schemes(location, cfg):
    assert symbolsrv_storage_for(location=location, cfg=cfg) is None


@pytest.mark.parametrize("location", ["http:///symbols", "https://", "http://h:99999/",
                                      "http://h/symbols#frag"])
def test_hook_rejects_unusable_urls(location, cfg):
    with pytest.raises(ConfigurationError):
        symbolsrv_storage_for(location=location, cfg=cfg)


def test_hook_takes_the_global_timeout_unless_the_location_sets_one(make_cfg):
    cfg = make_cfg({"symbolsrv.storage_timeout_seconds": "7"})
    assert symbolsrv_storage_for(location="http://h/s", cfg=cfg).timeout_seconds == 7
    assert symbolsrv_storage_for(
        location="https://h/s?timeout_seconds=0.5", cfg=cfg).timeout_seconds == 0.5


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("http://127.0.0.1:8000/symbols/", "http:127.0.0.1:8000/symbols"),
        ("https://symbols.example.com/v1?timeout_seconds=2", "https:symbols.example.com/v1"),
        ("https://user:s3cret@symbols.example.com/", "https:symbols.example.com"),
        ("http://[::1]:81/s", "http:[::1]:81/s"),
    ],
)
def test_name_has_no_query_and_no_credentials(location, name, cfg):
    assert symbolsrv_storage_for(location=location, cfg=cfg).name == name


def test_configuration_errors_never_show_credentials(cfg):
    with pytest.raises(ConfigurationError) as raised:
        symbolsrv_storage_for(location="https://user:s3cret@h/?bogus=1", cfg=cfg)
    assert "s3cret" not in str(raised.value)
    assert redact("https://user:s3cret@h/v1?a=b") == "https://***@h/v1?a=b"


# ---------------------------------------------------------------- the URL the mirror sees


@pytest.mark.parametrize("base", ["/symbols/", "/symbols", "/symbols//"])
def test_both_base_url_forms_ask_for_exactly_one_slash(upstream, base):
    upstream.routes[KEY_PATH] = 200
    hit = make_storage(upstream.url(base)).locate(KEY)
    assert upstream.paths == [("HEAD", KEY_PATH)]
    assert hit == Hit(f"http:127.0.0.1:{upstream.port}/symbols", url=upstream.url(KEY_PATH))


@pytest.mark.parametrize("base", ["", "/"])
def test_a_root_base_url_asks_for_the_key_at_the_root(upstream, base):
    make_storage(upstream.url(base)).locate(KEY)
    assert upstream.paths == [("HEAD", f"/xul.pdb/{ID}/xul.sym")]


@pytest.mark.parametrize(
    ("key", "wire"),
    [
        (SymbolKey("c++filt", ID, "c++filt.sym"), f"/symbols/c%2B%2Bfilt/{ID}/c%2B%2Bfilt.sym"),
        (SymbolKey("Electron Framework", ID, "Electron Framework.sym"),
         f"/symbols/Electron%20Framework/{ID}/Electron%20Framework.sym"),
        (SymbolKey("汉.pdb", ID, "汉.sym"), f"/symbols/%E6%B1%89.pdb/{ID}/%E6%B1%89.sym"),
        (SymbolKey("renderdoc.dll", "61015E74442b000", "renderdoc.dl_"),
         "/symbols/renderdoc.dll/61015E74442b000/renderdoc.dl_"),
    ],
)
def test_names_are_percent_encoded_on_the_wire_and_in_the_hit(upstream, key, wire):
    upstream.routes[wire] = 200
    hit = make_storage(upstream.url("/symbols/")).locate(key)
    assert upstream.paths == [("HEAD", wire)]
    assert hit.url == upstream.url(wire)


def test_requests_carry_user_agent_and_hop_count(upstream):
    make_storage(upstream.url("/symbols")).locate(KEY)
    headers = upstream.requests[0][2]
    assert headers["User-Agent"].startswith("symbolsrv/")
    assert headers["Symbolsrv-Hops"] == "1"
    assert "Authorization" not in headers


def test_connections_are_reused(upstream):
    upstream.routes[KEY_PATH] = 200
    storage = make_storage(upstream.url("/symbols"))
    ports = []
    upstream.routes[KEY_PATH] = lambda h: (ports.append(h.client_address[1]), 200)[1]
    for _ in range(3):
        storage.locate(KEY)
    assert len(set(ports)) == 1


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize("status", [200, 204])
def test_2xx_to_head_is_a_hit(upstream, status):
    upstream.routes[KEY_PATH] = status
    assert make_storage(upstream.url("/symbols")).locate(KEY).url == upstream.url(KEY_PATH)


@pytest.mark.parametrize("status", [404, 410])
def test_404_and_410_are_absent(upstream, status):
    upstream.routes[KEY_PATH] = status
    assert make_storage(upstream.url("/symbols")).locate(KEY) is None


def test_403_is_a_failure_by_default(upstream):
    upstream.routes[KEY_PATH] = 403
    with pytest.raises(StorageError, match="403"):
        make_storage(upstream.url("/symbols")).locate(KEY)


def test_403_is_absent_with_forbidden_is_absent(upstream):
    upstream.routes[KEY_PATH] = 403
    assert make_storage(upstream.url("/symbols"), forbidden_is_absent=True).locate(KEY) is None


@pytest.mark.parametrize("status", [500, 502, 503, 400, 401, 429])
def test_errors_are_storage_errors_naming_the_location(upstream, status):
    upstream.routes[KEY_PATH] = status
    storage = make_storage(upstream.url("/symbols"))
    with pytest.raises(StorageError, match=str(status)) as raised:
        storage.locate(KEY)
    assert raised.value.location == storage.name


@pytest.mark.parametrize("refusal", [405, 501])
def test_head_refused_falls_back_to_a_one_byte_get(upstream, refusal):
    upstream.routes[KEY_PATH] = {"HEAD": refusal, "GET": (206, {"Content-Range": "bytes 0-0/9"},
                                                          b"M")}
    hit = make_storage(upstream.url("/symbols")).locate(KEY)
    assert hit.url == upstream.url(KEY_PATH)
    assert upstream.paths == [("HEAD", KEY_PATH), ("GET", KEY_PATH)]
    assert upstream.requests[1][2]["Range"] == "bytes=0-0"


def test_get_fallback_that_ignores_range_is_a_hit_without_reading_the_body(upstream):
    upstream.routes[KEY_PATH] = {"HEAD": 405, "GET": (200, {}, b"x" * 4_000_000)}
    started = time.monotonic()
    assert make_storage(upstream.url("/symbols")).locate(KEY) is not None
    assert time.monotonic() - started < 5  # not stuck reading 4 MB


def test_get_fallback_404_is_absent(upstream):
    upstream.routes[KEY_PATH] = {"HEAD": 405, "GET": 404}
    assert make_storage(upstream.url("/symbols")).locate(KEY) is None


def test_empty_file_answering_416_to_the_range_is_a_hit(upstream):
    upstream.routes[KEY_PATH] = {"HEAD": 501, "GET": 416}
    assert make_storage(upstream.url("/symbols")).locate(KEY) is not None


# ---------------------------------------------------------------- redirects


def test_redirect_to_another_host_is_followed_and_the_mirror_url_returned(upstream, second):
    upstream.routes[KEY_PATH] = (302, {"Location": second.url("/blob/xul.sym?sig=abc")}, b"")
    second.routes["/blob/xul.sym?sig=abc"] = 200
    hit = make_storage(upstream.url("/symbols/")).locate(KEY)
    assert hit.url == upstream.url(KEY_PATH)
    assert upstream.paths == [("HEAD", KEY_PATH)]
    assert second.paths == [("HEAD", "/blob/xul.sym?sig=abc")]


def test_public_url_puts_the_cdn_in_location_after_the_upstream_said_found(upstream):
    upstream.routes[KEY_PATH] = 200
    storage = make_storage(upstream.url("/symbols"), public_url="https://cdn.example.com/s")
    assert storage.locate(KEY).url == "https://cdn.example.com/s/" + KEY_PATH.split("/symbols/", 1)[1]
    assert upstream.paths == [("HEAD", KEY_PATH)]


def test_public_url_and_redirect_to_final_exclude_each_other():
    with pytest.raises(ConfigurationError, match="public_url and redirect_to=final"):
        parse_options("http://h/", "public_url=https://cdn.example.com&redirect_to=final")


def test_a_redirect_to_another_path_of_the_upstream_itself_is_the_location(upstream, second):
    # Another symbol server answering a code-id path with its debug key (README: code-id
    # lookup): clients read the key from the end of Location, so it must be the debug key's.
    code_path = "/symbols/xul.dll/54AF957E1B34000/xul.sym"
    upstream.routes[code_path] = (302, {"Location": f"/symbols/xul.pdb/{ID}/xul.sym?x=1"}, b"")
    upstream.routes[f"/symbols/xul.pdb/{ID}/xul.sym?x=1"] = 200
    storage = make_storage(upstream.url("/symbols"))
    key = SymbolKey("xul.dll", "54AF957E1B34000", "xul.sym")
    assert storage.locate(key).url == upstream.url(code_path)  # a query string: not kept
    upstream.routes[code_path] = (302, {"Location": f"/symbols/xul.pdb/{ID}/xul.sym"}, b"")
    upstream.routes[f"/symbols/xul.pdb/{ID}/xul.sym"] = 200
    assert storage.locate(key).url == upstream.url(f"/symbols/xul.pdb/{ID}/xul.sym")
    # Outside the base path, or on to another host: the key's own URL, as before.
    upstream.routes[code_path] = (302, {"Location": f"/elsewhere/xul.pdb/{ID}/xul.sym"}, b"")
    upstream.routes[f"/elsewhere/xul.pdb/{ID}/xul.sym"] = 200
    assert storage.locate(key).url == upstream.url(code_path)


def test_redirect_to_final_option_returns_where_the_redirects_ended(upstream, second):
    upstream.routes[KEY_PATH] = (302, {"Location": second.url("/blob/xul.sym?sig=abc")}, b"")
    second.routes["/blob/xul.sym?sig=abc"] = 200
    hit = make_storage(upstream.url("/symbols"), redirect_to="final").locate(KEY)
    assert hit.url == second.url("/blob/xul.sym?sig=abc")


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_every_redirect_status_is_followed_with_relative_locations(upstream, status):
    upstream.routes[KEY_PATH] = (status, {"Location": "../moved/xul.sym"}, b"")
    upstream.routes["/symbols/xul.pdb/moved/xul.sym"] = 200
    hit = make_storage(upstream.url("/symbols"), redirect_to="final").locate(KEY)
    assert hit.url == upstream.url("/symbols/xul.pdb/moved/xul.sym")


def test_redirect_to_a_missing_object_is_absent(upstream, second):
    upstream.routes[KEY_PATH] = (302, {"Location": second.url("/gone")}, b"")
    assert make_storage(upstream.url("/symbols")).locate(KEY) is None


def test_redirect_target_refusing_head_with_403_gets_a_one_byte_get(upstream, second):
    # A URL presigned for GET answers 403 to HEAD (S3); the GET is the real question.
    upstream.routes[KEY_PATH] = (302, {"Location": second.url("/signed?X-Amz-Signature=s")}, b"")
    second.routes["/signed?X-Amz-Signature=s"] = {"HEAD": 403, "GET": 206}
    hit = make_storage(upstream.url("/symbols"), redirect_to="final").locate(KEY)
    assert hit.url == second.url("/signed?X-Amz-Signature=s")


def test_redirect_loop_is_a_storage_error(upstream):
    upstream.routes[KEY_PATH] = (302, {"Location": "/a"}, b"")
    upstream.routes["/a"] = (302, {"Location": KEY_PATH}, b"")
    with pytest.raises(StorageError, match="loop"):
        make_storage(upstream.url("/symbols")).locate(KEY)
    assert len(upstream.requests) == 2


def test_more_hops_than_max_redirects_is_a_storage_error(upstream):
    upstream.routes[KEY_PATH] = (302, {"Location": "/hop/1"}, b"")
    for n in range(1, 10):
        upstream.routes[f"/hop/{n}"] = (302, {"Location": f"/hop/{n + 1}"}, b"")
    with pytest.raises(StorageError, match="more than 3 redirects"):
        make_storage(upstream.url("/symbols"), max_redirects=3).locate(KEY)
    assert len(upstream.requests) == 4


def test_max_redirects_zero_refuses_any_redirect(upstream):
    upstream.routes[KEY_PATH] = (302, {"Location": "/a"}, b"")
    upstream.routes["/a"] = 200
    with pytest.raises(StorageError):
        make_storage(upstream.url("/symbols"), max_redirects=0).locate(KEY)


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/xul.sym", "file:///etc/passwd",
                                    "javascript:alert(1)"])
def test_redirect_to_a_non_http_scheme_is_a_storage_error(upstream, target):
    upstream.routes[KEY_PATH] = (302, {"Location": target}, b"")
    with pytest.raises(StorageError, match="non-HTTP"):
        make_storage(upstream.url("/symbols")).locate(KEY)


def test_redirect_without_location_is_a_storage_error(upstream):
    upstream.routes[KEY_PATH] = 302
    with pytest.raises(StorageError, match="without Location"):
        make_storage(upstream.url("/symbols")).locate(KEY)


def test_non_ascii_location_from_upstream_is_percent_encoded(upstream):
    # The raw UTF-8 bytes of "汉 x.sym", as a sloppy upstream sends them.
    upstream.routes[KEY_PATH] = (302, {"Location": "/raw/汉 x.sym".encode().decode("latin-1")},
                                 b"")
    upstream.routes["/raw/%E6%B1%89%20x.sym"] = 200
    hit = make_storage(upstream.url("/symbols"), redirect_to="final").locate(KEY)
    assert hit.url == upstream.url("/raw/%E6%B1%89%20x.sym")


def test_credentials_go_to_the_configured_host_only(upstream, second):
    upstream.routes[KEY_PATH] = (302, {"Location": second.url("/blob")}, b"")
    second.routes["/blob"] = 200
    storage = make_storage(f"http://us%40er:p%3Ass@127.0.0.1:{upstream.port}/symbols")
    hit = storage.locate(KEY)
    assert hit.url == upstream.url(KEY_PATH)
    assert upstream.requests[0][2]["Authorization"] == "Basic dXNAZXI6cDpzcw=="  # us@er:p:ss
    assert "Authorization" not in second.requests[0][2]
    assert "us%40er" not in storage.name and "p%3Ass" not in hit.url


# ---------------------------------------------------------------- failures and time limits


def test_upstream_that_never_answers_fails_within_the_timeout(blackhole):
    storage = make_storage(f"http://127.0.0.1:{blackhole}/symbols", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StorageError) as raised:
        storage.locate(KEY)
    assert time.monotonic() - started < 5  # the 0.5 s timeout, not a hang
    assert raised.value.location == storage.name


def test_the_timeout_bounds_a_whole_chain_of_slow_redirects(upstream):
    def slow_redirect(handler):
        time.sleep(0.3)
        n = int(handler.path.rsplit("/", 1)[1]) if handler.path.startswith("/slow/") else 0
        return (302, {"Location": f"/slow/{n + 1}"}, b"")

    upstream.routes[KEY_PATH] = slow_redirect
    for n in range(1, 6):
        upstream.routes[f"/slow/{n}"] = slow_redirect
    storage = make_storage(upstream.url("/symbols"), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StorageError, match="timed out|Read timed out"):
        storage.locate(KEY)
    # Cut off by the 0.5 s budget after about two 0.3 s hops, not followed through all six.
    assert len([p for p in upstream.paths if p[1].startswith("/slow/")]) < 4
    assert time.monotonic() - started < 5


def test_connection_refused_is_a_storage_error():
    storage = make_storage(f"http://127.0.0.1:{free_port()}/symbols")
    with pytest.raises(StorageError):
        storage.locate(KEY)


def test_failures_are_never_remembered(upstream):
    storage = make_storage(upstream.url("/symbols"))
    upstream.routes[KEY_PATH] = 503
    with pytest.raises(StorageError):
        storage.locate(KEY)
    upstream.routes[KEY_PATH] = 200
    assert storage.locate(KEY) is not None


# ---------------------------------------------------------------- ping


@pytest.mark.parametrize("status", [200, 403, 404])
def test_ping_accepts_any_answer_below_500(upstream, status):
    upstream.routes["/symbols/"] = status
    make_storage(upstream.url("/symbols")).ping()
    assert upstream.paths == [("HEAD", "/symbols/")]


def test_ping_fails_on_5xx(upstream):
    upstream.routes["/symbols/"] = 503
    with pytest.raises(StorageError, match="503"):
        make_storage(upstream.url("/symbols")).ping()


def test_ping_fails_when_refused_or_silent(blackhole):
    with pytest.raises(StorageError):
        make_storage(f"http://127.0.0.1:{free_port()}/").ping()
    with pytest.raises(StorageError):
        make_storage(f"http://127.0.0.1:{blackhole}/", timeout=0.3).ping()


# ---------------------------------------------------------------- the storage contract


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class TestStaticMirrorContract(StorageContract):
    """A plain static file server (Python's http.server over a directory) as the mirror."""

    @pytest.fixture
    def mirror_root(self, tmp_path):
        root = tmp_path / "www"
        (root / "symbols").mkdir(parents=True)
        server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        yield root, server.server_address[1]
        server.shutdown()
        server.server_close()

    @pytest.fixture
    def storage(self, mirror_root, cfg):
        _, port = mirror_root
        return symbolsrv_storage_for(location=f"http://127.0.0.1:{port}/symbols/", cfg=cfg)

    @pytest.fixture
    def put(self, mirror_root):
        root, _ = mirror_root

        def put(key_path, data):
            path = root / "symbols" / key_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        return put

    @pytest.fixture
    def stopped_storage(self, cfg):
        return symbolsrv_storage_for(
            location=f"http://127.0.0.1:{free_port()}/symbols?timeout_seconds=1", cfg=cfg)
