"""Database trouble is a 503 with a JSON detail, and the server serves again by itself
within a second of the database coming back: no restart."""

import json
import os
import re
import shutil
import time
import urllib.parse

import pytest

import helpers

# PostgreSQL's outages (a restart, a stopped server, a wrong conninfo) are tests of their own.
pytestmark = pytest.mark.sqlite_only("the outage is the database file removed, unreadable or truncated")

UNAVAILABLE = {"detail": "Service temporarily unavailable, try again later."}


def assert_unavailable(server, path="/api/v4/packages/1/"):
    resp = server.request("GET", path)
    assert resp.status == 503, resp.body
    assert json.loads(resp.body) == UNAVAILABLE
    assert resp.headers["Retry-After"] == "1"
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert resp.headers["Content-Type"] == "application/json"


def assert_serving(server, path="/api/v4/packages/1/"):
    resp = server.request("GET", path)
    assert resp.status == 200, resp.body
    return resp


def eventually(check, seconds=5.0):
    """Re-prepared statements are retried at most once a second per connection, connections
    mod_dbd failed to open once a second per process."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def outage(module_so, conformance_inputs, driver):
    """A server whose database file the test may remove, break and restore."""
    workdir = helpers.make_www_tmpdir("pkgindex-outage-")
    dbdir = os.path.join(workdir, "db")
    os.mkdir(dbdir, 0o777)
    os.chmod(dbdir, 0o777)
    good = helpers.make_db(os.path.join(workdir, "good.sqlite3"), *conformance_inputs).path
    db = os.path.join(dbdir, "pkgindex.sqlite3")
    server = helpers.Server(db, f"PkgIndexBaseURL {helpers.BASE_URL}", workdir=workdir,
                            module=module_so)
    yield server, db, good
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def install(good, db):
    shutil.copyfile(good, db)
    os.chmod(db, 0o666)


def test_missing_at_startup_then_created(outage):
    server, db, good = outage
    server.start()
    assert_unavailable(server)
    assert_unavailable(server, "/api/v4/packages/")
    # Metadata and errors need no database.
    assert server.request("OPTIONS", "/api/v4/packages/1/").status == 200
    assert server.request("GET", "/api/v4/").status == 200
    assert not os.path.exists(db), "httpd must not create an empty database"
    install(good, db)
    eventually(lambda: assert_serving(server))
    assert "database unavailable" in server.error_log()


def test_removed_unreadable_and_truncated_while_running(outage):
    server, db, good = outage
    install(good, db)
    server.start()
    body = assert_serving(server).body

    os.rename(db, db + ".away")
    assert_unavailable(server)
    os.rename(db + ".away", db)
    # when mod_dbd could not reopen the file, the process asks it again after a second
    assert eventually(lambda: assert_serving(server)).body == body

    os.chmod(db, 0o000)
    os.chmod(os.path.dirname(db), 0o755)  # www-data may not bypass the file's mode
    assert_unavailable(server)
    os.chmod(db, 0o666)
    assert eventually(lambda: assert_serving(server)).body == body

    with open(db, "r+b") as f:  # in place: open connections see an empty file
        f.truncate(0)
    assert_unavailable(server)
    assert_unavailable(server, "/api/v4/grids/")
    shutil.copyfile(good, db)
    assert eventually(lambda: assert_serving(server)).body == body
    eventually(lambda: assert_serving(server, "/api/v4/grids/"))


def test_an_outage_is_logged_once_a_second(outage):
    """Every request of an outage is a 503, but the error log gets the first and then a line a
    second at most (per process), naming the database and counting the 503s left out; mod_dbd
    is asked for a connection once a second, so its own lines do not flood the log either."""
    server, db, good = outage
    server.start()
    for burst in range(2):  # a second of 503s
        if burst:
            time.sleep(1.1)
        for _ in range(150):
            assert server.request("GET", "/api/v4/packages/1/").status == 503
    lines = [line for line in server.error_log().splitlines() if "database unavailable" in line]
    # a process logs at most two lines in this second; httpd runs at most two
    assert 1 <= len(lines) <= 4, "\n".join(lines)
    uri = "file:" + urllib.parse.quote(db, safe="/") + "?mode=rw"
    assert all(f"PkgIndex: database unavailable ({uri}): " in line for line in lines), lines[0]
    counts = [int(n) for line in lines for n in re.findall(r" \((\d+) more 503s in the last \d+s\)$", line)]
    assert counts and len(lines) + sum(counts) <= 300, lines
    # mod_dbd logs two lines per failed connection attempt: a process tries once a second
    errors = [line for line in server.error_log().splitlines() if ":error]" in line]
    assert len(errors) <= 3 * 4, "\n".join(errors)
    install(good, db)
    eventually(lambda: assert_serving(server))
