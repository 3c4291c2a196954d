"""The module among what a production Debian Apache runs in front of it: mod_reqtimeout
against clients that send their request slowly, and mod_deflate compressing the browsable
pages (whose ETags it rewrites)."""

import gzip
import json
import os
import select
import socket
import time

import pytest

import helpers

DEBIAN_REQTIMEOUT = "/etc/apache2/mods-available/reqtimeout.conf"

# Debian's deflate.conf (mods-available/), and request timeouts short enough for a test:
# 2 s for the headers, up to 4 s for a client sending 500 bytes/s. Guarded, so that without
# mod_reqtimeout the server starts and the slow-client test fails on its own.
CONF = f"""
PkgIndexBaseURL {helpers.BASE_URL}
LoadModule filter_module /usr/lib/apache2/modules/mod_filter.so
LoadModule deflate_module /usr/lib/apache2/modules/mod_deflate.so
<IfModule mod_filter.c>
    AddOutputFilterByType DEFLATE text/html text/plain text/xml text/css text/javascript
    AddOutputFilterByType DEFLATE application/x-javascript application/javascript application/ecmascript
    AddOutputFilterByType DEFLATE application/rss+xml
    AddOutputFilterByType DEFLATE application/wasm
    AddOutputFilterByType DEFLATE application/xml
</IfModule>
<IfModule reqtimeout_module>
    RequestReadTimeout header=2-4,minrate=500
</IfModule>
"""

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "Accept-Encoding": "gzip, deflate, br"}

# More than the 32 worker threads pkgindex-serve configures.
SLOW_CLIENTS = 40


@pytest.fixture(scope="module")
def server(module_so, conformance_inputs, driver):
    yield from helpers.serving(conformance_inputs, CONF, "pkgindex-stack-", module_so, driver)


def test_generated_config_has_debians_request_timeouts(server):
    with open(os.path.join(server.rundir, "httpd.conf"), encoding="utf-8") as f:
        generated = [line.strip() for line in f]
    assert "LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so" in generated
    assert "RequestReadTimeout header=20-40,minrate=500" in generated
    assert "RequestReadTimeout body=10,minrate=500" in generated
    # the same as Debian's own (apache2 ships it; a test dependency)
    with open(DEBIAN_REQTIMEOUT, encoding="utf-8") as f:
        debian = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
    assert debian and all(line in generated for line in debian), debian
    # the test's own timeouts come later, so they win
    assert generated.index("RequestReadTimeout header=20-40,minrate=500") < generated.index(
        f'Include "{os.path.join(server.workdir, "extra.conf")}"')


def test_slow_clients_are_cut_off(server):
    """Connections sending their headers a byte at a time would hold every worker thread for
    as long as they keep sending; mod_reqtimeout closes them, and the server answers again."""
    clients = []
    try:
        for _ in range(SLOW_CLIENTS):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"GET /api/v4/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            clients.append(s)
        received = {s: b"" for s in clients}
        open_ = set(clients)
        # 5 bytes a second each, far under minrate=500: the header timeout (2 s once a worker
        # reads the connection) is all they get. The deadline only stops a failing test: without
        # mod_reqtimeout nothing closes them (httpd's Timeout counts from the last byte).
        deadline = time.monotonic() + 20
        while open_ and time.monotonic() < deadline:
            for s in list(open_):
                try:
                    s.send(b"a")
                except OSError:  # reset after the server closed it
                    open_.discard(s)
            readable, _, _ = select.select(list(open_), [], [], 0.2)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                received[s] += data
                if not data:
                    open_.discard(s)
        assert not open_, f"{len(open_)} of {SLOW_CLIENTS} slow connections still open"
        # what the server sent before closing, if anything, is a 408
        assert all(not r or r.startswith(b"HTTP/1.1 408 ") for r in received.values())
    finally:
        for s in clients:
            s.close()
    resp = server.request("GET", "/api/v4/")
    assert resp.status == 200 and json.loads(resp.body)["packages"].endswith("/api/v4/packages/")


@pytest.mark.parametrize("path", ["/api/v4/", "/api/v4/packages/?limit=3", "/api/v4/grids/2/"])
def test_304_behind_mod_deflate(server, path):
    """mod_deflate sends a compressed page's ETag "T" as "T-gzip"; a browser sends that back."""
    first = server.request("GET", path, headers=BROWSER)
    assert first.status == 200 and first.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.body).startswith(b"<!DOCTYPE html>")
    etag = first.headers["ETag"]
    assert etag.endswith('-gzip"') and len(etag) == 23

    again = server.request("GET", path, headers={**BROWSER, "If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    # what the 200 said: mod_deflate leaves body-less responses alone
    assert again.headers["ETag"] == etag
    assert again.headers["Vary"] == "Accept,Accept-Encoding"
    assert server.request("GET", path, headers={**BROWSER, "If-None-Match": f'"x", W/{etag}'}).status == 304
    # the tag without the suffix (DeflateAlterETag NoChange, or a client without gzip)
    plain = etag[:-6] + '"'
    assert server.request("GET", path, headers={**BROWSER, "If-None-Match": plain}).status == 304

    changed = etag[:1] + ("0" if etag[1] != "0" else "1") + etag[2:]
    for inm in (changed, changed[:-6] + '"', '"gzip"'):
        resp = server.request("GET", path, headers={**BROWSER, "If-None-Match": inm})
        assert resp.status == 200 and resp.body == first.body, inm

    resp = server.request("GET", path, headers={**BROWSER, "If-Match": etag})
    assert resp.status == 200 and resp.body == first.body
    resp = server.request("GET", path, headers={**BROWSER, "If-Match": changed})
    assert resp.status == 412 and resp.headers["Content-Type"] == "application/json"
    assert json.loads(resp.body) == {"detail": "Precondition failed."}
