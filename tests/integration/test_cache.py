"""Rendered responses are cached per process for one data generation; ETags and conditional
requests. A cached answer must never differ from a fresh one."""

import json
import os
import shutil

import pytest

import helpers


@pytest.fixture(scope="module")
def server(module_so, conformance_inputs, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-cache-")
    os.mkdir(os.path.join(workdir, "db"), 0o755)
    db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), *conformance_inputs,
                         driver=driver)
    srv = helpers.Server(db, "PkgIndexCacheSize 1M", workdir=workdir, module=module_so).start()
    yield srv, db
    srv.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def test_etag_and_304(server):
    srv, _ = server
    first = srv.request("GET", "/api/v4/packages/1/")
    etag = first.headers["ETag"]
    assert first.status == 200 and etag.startswith('"') and len(etag) == 18
    again = srv.request("GET", "/api/v4/packages/1/")
    assert again.body == first.body and again.headers["ETag"] == etag
    assert srv.request("HEAD", "/api/v4/packages/1/").headers["ETag"] == etag
    for inm in (etag, f'"x", {etag}', "*"):
        resp = srv.request("GET", "/api/v4/packages/1/", headers={"If-None-Match": inm})
        assert resp.status == 304 and resp.body == b""
        assert resp.headers["ETag"] == etag and resp.headers["Vary"] == "Accept"
    resp = srv.request("GET", "/api/v4/packages/1/", headers={"If-None-Match": '"other"'})
    assert resp.status == 200 and resp.body == first.body
    resp = srv.request("GET", "/api/v4/packages/1/", headers={"If-Match": '"other"'})
    assert resp.status == 412 and json.loads(resp.body) == {"detail": "Precondition failed."}
    # The ETag is the body's: another representation has another one.
    pretty = srv.request("GET", "/api/v4/packages/1/", headers={"Accept": "application/json; indent=2"})
    assert pretty.headers["ETag"] != etag and json.loads(pretty.body) == json.loads(first.body)
    assert srv.request("GET", "/api/v4/packages/424242/").headers.get("ETag") is None


def test_a_write_by_anyone_is_seen_at_once(server):
    srv, db = server
    before = json.loads(srv.request("GET", "/api/v4/packages/2/").body)
    page = json.loads(srv.request("GET", "/api/v4/packages/?limit=50").body)
    db.execute("UPDATE package_package SET title = 'renamed' WHERE id = 2")  # another writer
    after = json.loads(srv.request("GET", "/api/v4/packages/2/").body)
    assert before["title"] != "renamed" and after["title"] == "renamed"
    page2 = json.loads(srv.request("GET", "/api/v4/packages/?limit=50").body)
    assert [p["title"] for p in page2["results"] if p["id"] == 2] == ["renamed"]
    assert page2 != page
    db.execute("DELETE FROM grid_gridpackage WHERE package_id = 2")
    assert json.loads(srv.request("GET", "/api/v4/packages/2/").body)["grids"] == []


def test_keyed_by_host_format_and_indent(server):
    srv, _ = server
    a = json.loads(srv.request("GET", "/api/v4/categories/1/", headers={"Host": "a.example"}).body)
    b = srv.request("GET", "/api/v4/packages/3/", headers={"Host": "b.example"})
    c = srv.request("GET", "/api/v4/packages/3/", headers={"Host": "c.example"})
    assert json.loads(b.body)["category"].startswith("http://b.example/")
    assert json.loads(c.body)["category"].startswith("http://c.example/")
    fmt = json.loads(srv.request("GET", "/api/v4/packages/3/?format=json", headers={"Host": "c.example"}).body)
    assert fmt["category"].endswith("?format=json")
    assert a["id"] == 1


def test_no_cache_gives_the_same_bytes(module_so, conformance_inputs, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-nocache-")
    servers = []
    try:
        for name, conf in (("plain", "PkgIndexCacheSize 0"), ("cached", "PkgIndexCacheSize 64K")):
            os.makedirs(os.path.join(workdir, name, "db"), 0o755)
            os.chmod(os.path.join(workdir, name), 0o755)
            db = helpers.make_db(os.path.join(workdir, name, "db", "pkgindex.sqlite3"),
                                 *conformance_inputs, driver=driver)
            conf += f"\nPkgIndexBaseURL {helpers.BASE_URL}"  # links independent of the port
            servers.append(helpers.Server(db, conf, workdir=os.path.join(workdir, name),
                                          module=module_so).start())
        plain, cached = servers
        # more than 64K of responses: entries are evicted and made again along the way
        for _ in range(2):
            for path in ["/api/v4/packages/?limit=5&offset=3", "/api/v4/grids/1/", "/api/v4/categories/"] + [
                    f"/api/v4/packages/?limit=10&offset={o}" for o in range(0, 45, 3)]:
                want, got = plain.request("GET", path), cached.request("GET", path)
                assert got.body == want.body and got.headers["ETag"] == want.headers["ETag"]
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_virtual_hosts_do_not_share_answers(module_so, conformance_inputs, driver):
    """Same URL and base URL, other settings: each virtual host renders its own."""
    workdir = helpers.make_www_tmpdir("pkgindex-vhosts-")
    try:
        os.mkdir(os.path.join(workdir, "db"), 0o755)
        db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), *conformance_inputs,
                             driver=driver)
        conf = "\n".join(
            f"<VirtualHost 127.0.0.1:@PORT@>\n ServerName {name}\n PkgIndexBaseURL https://x.example\n"
            f" PkgIndexTimeZone {zone}\n <Location /api/v4/>\n  PkgIndex On\n </Location>\n</VirtualHost>"
            for name, zone in (("a.example", "UTC"), ("b.example", "Asia/Tokyo")))
        with helpers.Server(db, conf, workdir=workdir, module=module_so) as srv:
            for _ in range(3):
                for host, suffix in (("a.example", "Z"), ("b.example", "+09:00")):
                    cat = json.loads(srv.request("GET", "/api/v4/categories/1/", headers={"Host": host}).body)
                    assert cat["created"].endswith(suffix), (host, cat["created"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.sqlite_only("restores the database file with SQLite's backup API")
def test_restored_backup_is_served_as_it_is(server):
    """Generations are random, not counted: a restore never meets an entry of other data."""
    import sqlite3
    srv, db = server
    db = db.path
    backup = db + ".bak"
    with sqlite3.connect(db) as live, sqlite3.connect(backup) as bak:
        live.backup(bak)
    old = json.loads(srv.request("GET", "/api/v4/categories/2/").body)["title"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE package_category SET title = 'NEW' WHERE id = 2")
    assert json.loads(srv.request("GET", "/api/v4/categories/2/").body)["title"] == "NEW"
    with sqlite3.connect(backup) as bak, sqlite3.connect(db) as live:
        bak.backup(live)
    assert json.loads(srv.request("GET", "/api/v4/categories/2/").body)["title"] == old
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE package_category SET description = 'x' WHERE id = 5")
    assert json.loads(srv.request("GET", "/api/v4/categories/2/").body)["title"] == old
    os.remove(backup)


def test_date_preconditions_do_not_apply(server):
    """No Last-Modified: If-(Un)Modified-Since are ignored, not compared with the clock."""
    srv, _ = server
    first = srv.request("GET", "/api/v4/categories/3/")
    for header in ("If-Modified-Since", "If-Unmodified-Since"):
        for date in (first.headers["Date"], "Sat, 01 Jan 2000 00:00:00 GMT"):
            resp = srv.request("GET", "/api/v4/categories/3/", headers={header: date})
            assert resp.status == 200 and resp.body == first.body, (header, date)
