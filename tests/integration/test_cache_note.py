"""The response cache is observable: the request note `pkgindex-cache` says `hit` or `miss`,
and an access log with `%{pkgindex-cache}n` shows it, as an admin would configure it.

Without this, a cache that never hits would go unnoticed: its answers are the same bytes."""

import json
import os
import shutil
import time
import uuid

import pytest

import helpers

# The request id header is not part of the cache key (Accept is, other headers are not): it
# only finds a request's line in the log.
LOG_CONF = """
LogFormat "%{{X-Test-Id}}i %{{pkgindex-cache}}n %>s" pkicache
CustomLog "{log}" pkicache
{extra}
"""
# The log line is written when the response has gone out, possibly after the client read it.
LOG_WAIT = 10.0


def serve(workdir, extra, module, driver):
    os.makedirs(os.path.join(workdir, "db"), 0o755, exist_ok=True)
    db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), driver=driver)
    log = os.path.join(workdir, "access.log")
    conf = LOG_CONF.format(log=log, extra=extra)
    return helpers.Server(db, conf, workdir=workdir, module=module).start(), db, log


@pytest.fixture(scope="module")
def cached(module_so, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-cachenote-")
    srv, db, log = serve(workdir, "PkgIndexCacheSize 1M", module_so, driver)
    yield srv, db, log
    srv.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def cache_note(srv, log, path, headers=None):
    """GET PATH; return (status, the request's pkgindex-cache note as logged: '-' for none)."""
    rid = uuid.uuid4().hex
    resp = srv.request("GET", path, headers={**(headers or {}), "X-Test-Id": rid})
    deadline = time.monotonic() + LOG_WAIT
    while True:
        with open(log, encoding="utf-8") as f:
            for line in f:
                fields = line.split()
                if fields[0] == rid:
                    assert int(fields[2]) == resp.status
                    return resp.status, fields[1]
        if time.monotonic() > deadline:
            pytest.fail(f"no access log line for {path} ({rid}) in {log}\n{srv.logs()}")
        time.sleep(0.02)


def test_first_get_misses_the_second_hits(cached):
    srv, _, log = cached
    for path in ("/api/v4/packages/wagtail-whoosh/", "/api/v4/packages/?limit=2&offset=2",
                 "/api/v4/grids/2/", "/api/v4/search/?q=wagtail"):
        assert cache_note(srv, log, path) == (200, "miss"), path
        assert cache_note(srv, log, path) == (200, "hit"), path
    # another representation of the same URL is another entry
    indent = {"Accept": "application/json; indent=4"}
    assert cache_note(srv, log, "/api/v4/grids/2/", indent) == (200, "miss")
    assert cache_note(srv, log, "/api/v4/grids/2/", indent) == (200, "hit")


def test_no_note_where_the_cache_is_not_asked(cached):
    srv, _, log = cached
    assert cache_note(srv, log, "/api/v4/") == (200, "-")  # the root reads no data
    assert cache_note(srv, log, "/api/v4/nothing/") == (404, "-")
    assert cache_note(srv, log, "/api/v4/packages/wagtail-whoosh/", {"Accept": "text/html"}) == (200, "-")


def test_an_import_that_changes_the_data_misses(cached, tmp_path):
    srv, db, log = cached
    path = "/api/v4/categories/1/"
    cache_note(srv, log, path)
    assert cache_note(srv, log, path) == (200, "hit")
    category = json.loads(srv.request("GET", path).body)
    category["description"] += " (changed upstream)"
    changed = tmp_path / "category.json"
    changed.write_text(json.dumps(category), encoding="utf-8")
    res = helpers.run_import(db, "--quiet", str(changed), init=False)
    assert res.returncode == 0, res.stdout
    assert cache_note(srv, log, path) == (200, "miss")
    assert json.loads(srv.request("GET", path).body)["description"].endswith("(changed upstream)")
    assert cache_note(srv, log, path) == (200, "hit")


def test_never_a_hit_with_the_cache_off(module_so, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-cachenote-off-")
    try:
        srv, _, log = serve(workdir, "PkgIndexCacheSize 0", module_so, driver)
        try:
            for _ in range(3):
                for path in ("/api/v4/packages/wagtail-whoosh/", "/api/v4/categories/1/"):
                    assert cache_note(srv, log, path) == (200, "-")
        finally:
            srv.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
