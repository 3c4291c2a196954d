"""The module among what a production Debian Apache runs in front of it: mod_reqtimeout
against clients that send their request slowly."""

import json
import os
import select
import shutil
import socket
import time

import pytest

import helpers

DEBIAN_REQTIMEOUT = "/etc/apache2/mods-available/reqtimeout.conf"

# Request timeouts short enough for a test:
# 2 s for the headers, up to 4 s for a client sending 500 bytes/s. Guarded, so that without
# mod_reqtimeout the server starts and the slow-client test fails on its own.
CONF = f"""
PkgIndexBaseURL {helpers.BASE_URL}
<IfModule reqtimeout_module>
    RequestReadTimeout header=2-4,minrate=500
</IfModule>
"""

# More than the 32 worker threads pkgindex-serve configures.
SLOW_CLIENTS = 40


@pytest.fixture(scope="module")
def server(module_so, conformance_inputs):
    workdir = helpers.make_www_tmpdir("pkgindex-stack-")
    os.mkdir(os.path.join(workdir, "db"), 0o755)
    db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), *conformance_inputs)
    srv = helpers.Server(db, CONF, workdir=workdir, module=module_so).start()
    yield srv
    srv.stop()
    shutil.rmtree(workdir, ignore_errors=True)


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
