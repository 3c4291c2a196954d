"""The same data answers the same bytes on both drivers (issue 11, items 2 and 4).

For each dataset (tests/data/conformance, tests/data/sample), three servers:

- `sqlite3`:  an SQLite database made by `pkgindex-import --init FILES`;
- `pgsql`:    a PostgreSQL database made by the same importer (`--db pgsql:CONNINFO`);
- `original`: a PostgreSQL database in the original's shape (sql/original-pgsql.sql) filled
              by another program (pg.jsonl_sql(): plain INSERTs, as Django stores them),
              then `pkgindex-import --init` with no files, which adds only the module's own
              objects. Its database name holds spaces: the conninfo reaches httpd through
              pkgindex-serve's quoted DBDParams.

Every route (root, lists with limit/offset up to and past the end, details by id and by
slug, 404s), every format (?format=json, ?format=api, the .json suffix, indent), HEAD and
OPTIONS answer the same status, the same relevant headers and byte-identical bodies.

ETag: the same on all three. It is the body's (test_cache: two databases of the same rows,
whose random data generations differ, give the same ETags), not the data generation's, so
identical bodies must carry identical ETags whatever the driver.

Search: PostgreSQL runs the original's query, SQLite its own, so hits may come in another
order or differ at the margin: between drivers, the hits found by both are compared field by
field, per slug; the two PostgreSQL servers run the same query on the same rows and must
agree byte for byte.
"""

import json
import os
import urllib.parse

import pytest

import helpers
import pg

if "pgsql" not in helpers.DRIVERS or "sqlite3" not in helpers.DRIVERS:
    pytest.skip("compares the drivers: needs both in PKGINDEX_DRIVERS", allow_module_level=True)

DATASETS = {
    "conformance": [os.path.join(helpers.CONFORMANCE, f"{n}.jsonl")
                    for n in ("categories", "grids", "packages")],
    "sample": helpers.SAMPLE,
}
# Headers that must agree (Date and Server's version are the clock's and httpd's).
RELEVANT = ("Content-Type", "Content-Length", "Allow", "Vary", "ETag", "Location",
            "Retry-After", "Cache-Control", "Link")
# Hosts: links are built from the Host header (no PkgIndexBaseURL), so each server must be
# asked with the same one.
HOST = {"Host": "mirror.example"}


def original_db(pg_server, inputs):
    """A database in the original's shape, filled by another program, then given the
    module's objects by the importer (no files)."""
    name = f"original shape {pg_server._n + 1}"  # spaces: DBDParams must keep them
    pg_server._n += 1
    pg_server.psql(pg_server.conninfo(), f'CREATE DATABASE "{name}";')
    conninfo = (f"host={pg_server.dir} port={pg_server.port} user={pg_server.user}"
                f" dbname='{name}'")
    pg_server.psql(conninfo, file=pg.ORIGINAL_SCHEMA)
    pg_server.psql(conninfo, pg.jsonl_sql(*inputs))
    db = helpers.Db("pgsql", conninfo)
    res = helpers.run_import(db, init=True)
    if res.returncode != 0:
        raise RuntimeError(f"pkgindex-import --db {db.arg} --init failed ({res.returncode}):\n"
                           f"{res.stdout}")
    return db


@pytest.fixture(scope="module", params=sorted(DATASETS))
def trio(request, module_so, pg_server):
    """{name: Server} for one dataset: sqlite3, pgsql (imported), original (filled by SQL)."""
    inputs = DATASETS[request.param]
    workdir = helpers.make_www_tmpdir(f"pkgindex-cross-{request.param}-")
    servers = {}
    try:
        dbs = {
            "sqlite3": lambda: helpers.make_db(os.path.join(workdir, "pkgindex.sqlite3"), *inputs),
            "pgsql": lambda: helpers.make_db(None, *inputs, driver="pgsql"),
            "original": lambda: original_db(pg_server, inputs),
        }
        for name, make in dbs.items():
            sub = os.path.join(workdir, name)
            os.mkdir(sub, 0o755)
            servers[name] = helpers.Server(make(), "", workdir=sub, module=module_so).start()
        yield request.param, inputs, servers
    finally:
        for srv in servers.values():
            srv.stop()
        helpers.remove_tmpdir(workdir)


def paths(inputs):
    """Every route the data has, in every format."""
    cats, grids, pkgs = (helpers.read_jsonl(p) for p in inputs)
    out = ["/api/v4/", "/api/v4/.json", "/api/v4/?format=json", "/api/v4/?format=api"]
    for kind, objs in (("categories", cats), ("grids", grids), ("packages", pkgs)):
        n = len(objs)
        lists = [f"/api/v4/{kind}/", f"/api/v4/{kind}.json", f"/api/v4/{kind}/?format=json",
                 f"/api/v4/{kind}/?format=api", f"/api/v4/{kind}/?limit=1000"]
        for limit in (1, 7, 20):
            for offset in sorted({0, 1, 5, n // 2, n - 1, n, n + 5, 10 ** 6, 2 ** 63 - 1}):
                lists.append(f"/api/v4/{kind}/?limit={limit}&offset={offset}")
        lists += [f"/api/v4/{kind}/?offset={n - 1}&format=api", f"/api/v4/{kind}/?limit=0",
                  f"/api/v4/{kind}/?limit=x", f"/api/v4/{kind}/?offset=-1"]
        out += lists
        for o in objs:
            for key in (o["id"], o["slug"]):
                out += [f"/api/v4/{kind}/{urllib.parse.quote(str(key))}/",
                        f"/api/v4/{kind}/{urllib.parse.quote(str(key))}.json",
                        f"/api/v4/{kind}/{urllib.parse.quote(str(key))}/?format=api"]
        out += [f"/api/v4/{kind}/424242/", f"/api/v4/{kind}/no-such-slug/",
                f"/api/v4/{kind}/no-such-slug/?format=api", f"/api/v4/{kind}/9223372036854775808/",
                f"/api/v4/{kind}/0/", f"/api/v4/{kind}/1"]
    return out


def answer(resp):
    return resp.status, [(h, resp.headers.get(h)) for h in RELEVANT], resp.body


def same_everywhere(servers, method, path, headers=None):
    """Asks every server; asserts they answer alike; returns the answer."""
    got = {name: answer(srv.request(method, path, headers={**HOST, **(headers or {})}))
           for name, srv in servers.items()}
    want = got["sqlite3"]
    for name, ans in got.items():
        assert ans[:2] == want[:2], (method, path, headers, name, ans[:2], want[:2])
        assert ans[2] == want[2], (method, path, headers, name)
    return want


def test_every_route_and_format_is_byte_identical(trio):
    _, inputs, servers = trio
    statuses = set()
    for path in paths(inputs):
        statuses.add(same_everywhere(servers, "GET", path)[0])
    assert {200, 301, 404} <= statuses  # the errors were reached too


@pytest.mark.parametrize("accept", ["application/json; indent=4", "application/json; indent=0",
                                    "text/html", "application/xml"])
def test_negotiation_and_indent(trio, accept):
    _, inputs, servers = trio
    for path in ["/api/v4/", "/api/v4/packages/?limit=3&offset=2", "/api/v4/grids/1/",
                 "/api/v4/categories/", "/api/v4/packages/424242/"]:
        same_everywhere(servers, "GET", path, {"Accept": accept})


def test_head_and_options(trio):
    _, inputs, servers = trio
    for path in paths(inputs)[::7]:
        status, headers, body = same_everywhere(servers, "HEAD", path)
        assert body == b""
        same_everywhere(servers, "OPTIONS", path)


def test_conditional_requests(trio):
    """ETags agree, so a validator from one driver's answer works on the other's."""
    _, inputs, servers = trio
    grid = helpers.read_jsonl(inputs[1])[0]["id"]  # a grid the dataset has
    for path in ("/api/v4/packages/?limit=5", f"/api/v4/grids/{grid}/?format=api", "/api/v4/"):
        status, headers, _ = same_everywhere(servers, "GET", path)
        etag = dict(headers)["ETag"]
        assert status == 200 and etag
        for srv in servers.values():
            resp = srv.request("GET", path, headers={**HOST, "If-None-Match": etag})
            assert resp.status == 304, (srv.db, path)


def queries(inputs):
    """Search terms from the data: whole titles, slugs, single words, prefixes, a typo."""
    _, grids, pkgs = (helpers.read_jsonl(p) for p in inputs)
    out = ["django", "wagtail", "api", "rest framework", "-django", "\"rest framework\"", "zzzz"]
    for p in pkgs[::5]:
        out += [p["title"], p["slug"], p["slug"][:4]]
    out += [g["title"] for g in grids[::10]]
    return out


def hits(srv, q):
    resp = srv.request("GET", "/api/v4/search/?" + urllib.parse.urlencode({"q": q}), headers=HOST)
    assert resp.status == 200, (q, resp.status, resp.body)
    return resp.body, {(r["item_type"], r["slug"]): r for r in json.loads(resp.body)}


def test_search_hits_agree_per_slug(trio):
    _, inputs, servers = trio
    for q in queries(inputs):
        lite_body, lite = hits(servers["sqlite3"], q)
        pg_body, pg_hits = hits(servers["pgsql"], q)
        orig_body, _ = hits(servers["original"], q)
        # one engine, the same rows: the same answer
        assert orig_body == pg_body, q
        for key in lite.keys() & pg_hits.keys():
            assert lite[key] == pg_hits[key], (q, key)


def test_exact_titles_are_found_on_both(trio):
    _, inputs, servers = trio
    for p in helpers.read_jsonl(inputs[2])[::5]:
        for name in ("sqlite3", "pgsql"):
            _, got = hits(servers[name], p["title"])
            assert ("package", p["slug"]) in got, (name, p["title"])
