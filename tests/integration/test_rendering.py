"""Spec §1-§3, §6, §7 on a hand-made dataset: the rows the generated data never holds.

JSON escaping (control characters, U+2028/U+2029, '/', quotes, non-ASCII), all-digit slugs,
grid package order by code point with ties by id, participants trimming, commit arrays as
stored by other writers, NULL vs "" fields, datetimes across DST and with microseconds.
"""

import json
import os
import shutil
import subprocess

import pytest

import helpers

BASE = "https://djangopackages.org/api/v4"
TRICKY = "quote\" back\\slash /slash \b\f\n\r\t \x01\x1f\x7f é 日本 🦄 \u2028 \u2029 \u2026 </script>"


def package(pid, title, slug, **kw):
    obj = {
        "category": f"{BASE}/categories/1/", "grids": [], "id": pid, "title": title, "slug": slug,
        # repo_url is unique in the original's schema (PostgreSQL keeps it so)
        "last_updated": None, "last_fetched": None,
        "repo_url": f"https://github.com/example/{slug}", "pypi_version": None,
        "created": "2020-01-01T00:00:00-05:00", "modified": "2020-06-01T00:00:00.000001-04:00",
        "repo_forks": 0, "repo_description": "", "pypi_url": "", "documentation_url": None,
        "repo_watchers": 0, "commits_over_52": [], "participants": [],
    }
    obj.update(kw)
    return obj


PACKAGES = [
    package(1, "Zeta", "zeta", grids=[f"{BASE}/grids/7/"], repo_description=TRICKY,
            participants=["ann", "bob"], documentation_url=""),
    package(2, "alpha", "12345", grids=[f"{BASE}/grids/7/", f"{BASE}/grids/8/"],
            last_updated="2026-03-08T01:59:59-05:00", last_fetched="2026-03-08T03:00:00-04:00",
            pypi_version="1.0", pypi_url="https://pypi.org/project/alpha/"),
    package(3, "Émile", "emile", grids=[f"{BASE}/grids/7/"]),
    package(4, "Zeta", "zeta-two", grids=[f"{BASE}/grids/7/"], commits_over_52=[0] * 51 + [7]),
    package(9223372036854775807, "max", "max-id", grids=[f"{BASE}/grids/8/"]),
]
GRIDS = [
    {"id": 7, "title": "Mixed", "slug": "mixed", "description": TRICKY, "is_locked": True,
     "packages": [], "header": True, "created": "2011-11-06T01:30:00-04:00",
     "modified": "2011-11-06T01:30:00-05:00"},
    {"id": 8, "title": "Other", "slug": "other", "description": "", "is_locked": False,
     "packages": [], "header": False, "created": "2011-11-06T01:30:00-05:00",
     "modified": "2011-11-06T01:30:00-05:00"},
]


@pytest.fixture(scope="module")
def server(module_so, driver):
    workdir = helpers.make_www_tmpdir("pkgindex-render-")
    os.mkdir(os.path.join(workdir, "db"), 0o755)
    src = os.path.join(workdir, "input.jsonl")
    cats = helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "categories.jsonl"))
    with open(src, "w", encoding="utf-8") as f:
        for obj in cats + GRIDS + PACKAGES:
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), src, driver=driver)
    # What other writers store: participants with blanks, commits with spaces.
    writes = [
        "UPDATE package_package SET participants = ' ann , bob,, ,' WHERE id = 1",
        "UPDATE package_package SET commits_over_52w = '[ 1, 2 ,3 ]' WHERE id = 3",
        # Not the spec's type: nested arrays must not reach the JSON writer.
        "UPDATE package_package SET commits_over_52w = '" + "[" * 40 + "1" + "]" * 40 + "' WHERE id = 4",
        "INSERT INTO grid_gridpackage (created, modified, grid_id, package_id)"
        " VALUES ('2020-01-01 00:00:00', '2020-01-01 00:00:00', 8, 3)",
    ]
    if driver == "sqlite3":
        # A membership whose package is gone (SQLite does not enforce foreign keys; the
        # original's PostgreSQL schema does).
        writes.append("INSERT INTO grid_gridpackage (created, modified, grid_id, package_id)"
                      " VALUES ('2020-01-01 00:00:00', '2020-01-01 00:00:00', 8, 6000)")
    db.execute(*writes)
    srv = helpers.Server(db, f"PkgIndexBaseURL {helpers.BASE_URL}", workdir=workdir,
                         module=module_so).start()
    yield srv
    srv.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def get(server, path):
    resp = server.request("GET", path)
    assert resp.status == 200, resp.body
    return resp.body


def test_escaping_is_drf_exact(server):
    body = get(server, "/api/v4/packages/1/")
    assert body == helpers.drf_json(dict(PACKAGES[0], participants=["ann", "bob"]))
    assert b"\\u2028" in body and b"\\u2029" in body and "\u2026".encode() in body
    assert b"\\u0001" in body and b"\\u001f" in body and b"\x7f" in body
    assert b"/slash" in body and b"\\/" not in body


def test_all_digit_slug_is_an_id(server):
    assert server.request("GET", "/api/v4/packages/12345/").status == 404
    assert json.loads(get(server, "/api/v4/packages/2/"))["slug"] == "12345"


def test_datetimes_across_dst(server):
    pkg = json.loads(get(server, "/api/v4/packages/2/"))
    assert pkg["last_updated"] == "2026-03-08T01:59:59-05:00"
    assert pkg["last_fetched"] == "2026-03-08T03:00:00-04:00"
    assert pkg["modified"] == "2020-06-01T00:00:00.000001-04:00"
    grid = json.loads(get(server, "/api/v4/grids/7/"))
    assert grid["created"] == "2011-11-06T01:30:00-04:00"
    assert grid["modified"] == "2011-11-06T01:30:00-05:00"


def test_grid_packages_by_code_point_then_id(server):
    grid = json.loads(get(server, "/api/v4/grids/mixed/"))
    # "Zeta" (1) < "Zeta" (4) < "alpha" < "Émile": upper case, then lower, then non-ASCII
    assert grid["packages"] == [f"{BASE}/packages/{i}/" for i in (1, 4, 2, 3)]
    assert grid["is_locked"] is True and grid["header"] is True
    assert get(server, "/api/v4/grids/7/") == helpers.drf_json(
        dict(GRIDS[0], packages=grid["packages"]))


def test_package_grids_in_membership_order(server):
    pkg = json.loads(get(server, "/api/v4/packages/2/"))
    assert pkg["grids"] == [f"{BASE}/grids/7/", f"{BASE}/grids/8/"]
    assert pkg["pypi_version"] == "1.0" and pkg["documentation_url"] is None


def test_participants_trimmed_and_commits_compact(server):
    assert json.loads(get(server, "/api/v4/packages/1/"))["participants"] == ["ann", "bob"]
    assert b'"commits_over_52":[1,2,3]' in get(server, "/api/v4/packages/3/")
    for accept in ("application/json", "application/json; indent=4"):
        resp = server.request("GET", "/api/v4/packages/4/", headers={"Accept": accept})
        assert resp.status == 200 and json.loads(resp.body)["commits_over_52"] == []


def test_largest_id(server):
    pkg = json.loads(get(server, "/api/v4/packages/9223372036854775807/"))
    assert pkg["id"] == 9223372036854775807
    page = json.loads(get(server, "/api/v4/packages/?limit=1"))
    assert page["results"][0]["id"] == 9223372036854775807
    assert server.request("GET", "/api/v4/packages/9223372036854775808/").status == 404


def test_list_pages_attach_memberships_across_pages(server):
    """Memberships of a page come from one range query: check every page boundary."""
    details = {p["id"]: json.loads(get(server, f"/api/v4/packages/{p['id']}/")) for p in PACKAGES}
    assert details[3]["grids"] == [f"{BASE}/grids/7/", f"{BASE}/grids/8/"]
    for limit in (1, 2, 3, 5):
        for offset in range(0, 6):
            page = json.loads(get(server, f"/api/v4/packages/?limit={limit}&offset={offset}"))
            for item in page["results"]:
                assert item == details[item["id"]]
    grids = json.loads(get(server, "/api/v4/grids/?limit=1&offset=1"))["results"]
    assert grids[0]["id"] == 7 and len(grids[0]["packages"]) == 4


@pytest.fixture(scope="module")
def deep_server(module_so, tmp_path_factory, driver):
    """3,000 generated packages: pages past offset 256 use the checkpoints."""
    workdir = helpers.make_www_tmpdir("pkgindex-deep-")
    os.mkdir(os.path.join(workdir, "db"), 0o755)
    src = os.path.join(workdir, "gen.jsonl")
    subprocess.run([os.path.join(helpers.REPO, "bench", "gen-dataset"), "--packages", "3000", "--seed", "7",
                    "--out", src], check=True)
    ids = sorted((json.loads(line)["id"] for line in open(src) if '"repo_url"' in line), reverse=True)
    db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), src, driver=driver)
    srv = helpers.Server(db, f"PkgIndexBaseURL {helpers.BASE_URL}", workdir=workdir, module=module_so).start()
    yield srv, db, ids
    srv.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def page_ids(server, offset, limit):
    page = json.loads(get(server, f"/api/v4/packages/?offset={offset}&limit={limit}"))
    return page["count"], [p["id"] for p in page["results"]]


def test_deep_pages_return_offsets_rows(deep_server):
    server, db, ids = deep_server
    for offset in (255, 256, 257, 511, 512, 1000, 2743, 2744, 2980, 2999, 3000):
        for limit in (1, 7, 20):
            count, got = page_ids(server, offset, limit)
            assert count == 3000 and got == ids[offset:offset + limit], (offset, limit)


def test_deep_pages_after_rows_change(deep_server):
    """Checkpoints go stale when ids come or go: the plain plan answers until the next import."""
    server, db, ids = deep_server
    gone = ids[1500]
    # in the order the original's foreign keys allow
    db.execute(f"UPDATE package_package SET latest_version_id = NULL WHERE id = {gone}",
               f"DELETE FROM package_version WHERE package_id = {gone}",
               f"DELETE FROM grid_gridpackage WHERE package_id = {gone}",
               f"DELETE FROM package_package WHERE id = {gone}")
    rest = [i for i in ids if i != gone]
    for offset in (600, 1499, 1500, 2500):
        count, got = page_ids(server, offset, 20)
        assert count == 2999 and got == rest[offset:offset + 20], offset
