"""Search on PostgreSQL, in SQL (sql/pkgindex-pgsql.sql), on the session's private PostgreSQL:

- pkgindex_search_weight() computes what C's pki_search_weight() computes (a small C program
  linked with build/libpkicore.a answers for C), at every step boundary;
- the marks and pkgindex_search_sync() keep searchv3_searchv3 equal to a full rebuild through
  inserts, updates, slug changes, deletes, category renames, membership changes, TRUNCATE;
- its rows hold what the SQLite driver's rows hold for the same data;
- pkgindex_search(q), the original's query, finds by word, prefix and typo, orders by
  relevance, similarity and title, answers at most 20 rows, and no q is an error.
"""

import datetime
import json
import os
import random
import sqlite3
import subprocess

import pytest

import helpers
import pg

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
DAY = 86400 * 1000000
# The columns of a search row (the id is the table's own).
ROW = ("created, modified, weight, item_type, title, slug, description, category,"
       " repo_watchers, repo_forks, pypi_downloads, score, usage, participants,"
       " last_committed, last_released")
NOW = "2026-03-08T12:00:00+00:00"

WEIGHT_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search.h"

static apr_int64_t time_arg(const char *s)
{
    return strcmp(s, "-") == 0 ? PKI_TIME_NULL : strtoll(s, NULL, 10);
}

int main(void)
{
    char grid[8], stars[32], forks[32], usage[32], packages[32], commit[32], released[32],
        modified[32], release[8], doc[8], now[32], hex[512], text[256];
    while (scanf("%7s %31s %31s %31s %31s %31s %31s %31s %7s %7s %31s %511s", grid, stars,
                 forks, usage, packages, commit, released, modified, release, doc, now,
                 hex) == 12) {
        pki_search_facts f;
        size_t i, n = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
        for (i = 0; i < n; i++) {
            unsigned int byte;
            sscanf(hex + 2 * i, "%2x", &byte);
            text[i] = (char)byte;
        }
        text[n] = 0;
        memset(&f, 0, sizeof(f));
        f.grid = atoi(grid);
        f.description = strcmp(hex, "-") == 0 ? NULL : strcmp(hex, "=") == 0 ? "" : text;
        f.stars = strtoll(stars, NULL, 10);
        f.forks = strtoll(forks, NULL, 10);
        f.usage = strtoll(usage, NULL, 10);
        f.packages = strtoll(packages, NULL, 10);
        f.last_commit = time_arg(commit);
        f.released = time_arg(released);
        f.modified = time_arg(modified);
        f.has_release = atoi(release);
        f.has_documentation = atoi(doc);
        printf("%d\n", pki_search_weight(&f, strtoll(now, NULL, 10)));
    }
    return 0;
}
"""


def usec(iso):
    t = datetime.datetime.fromisoformat(iso)
    delta = t - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def ts_lit(us):
    if us is None:
        return "NULL::timestamptz"
    return "'" + (EPOCH + datetime.timedelta(microseconds=us)).isoformat() + "'::timestamptz"


@pytest.fixture(scope="module")
def weight_c(tmp_path_factory):
    """A function computing weights with the C code: a program compiled against the core."""
    lib = os.path.join(helpers.REPO, "build", "libpkicore.a")
    if not os.path.exists(lib):
        pytest.fail("build/libpkicore.a is missing: run make build")
    src = tmp_path_factory.mktemp("weight") / "weight.c"
    src.write_text(WEIGHT_C)
    exe = str(src)[:-2]
    cflags = subprocess.run(["apr-1-config", "--includes", "--cppflags"], check=True,
                            stdout=subprocess.PIPE, text=True).stdout.split()
    subprocess.run(["cc", "-std=gnu11", "-Wall", "-Werror", *cflags,
                    "-I" + os.path.join(helpers.REPO, "mod_pkgindex"), "-o", exe, str(src),
                    lib, "-lapr-1", "-laprutil-1"], check=True)

    def run(rows):
        lines = []
        for r in rows:
            desc = r["description"]
            hexed = "-" if desc is None else "=" if desc == "" else desc.encode().hex()
            lines.append(" ".join(str(x) for x in (
                int(r["grid"]), r["stars"], r["forks"], r["usage"], r["packages"],
                "-" if r["last_commit"] is None else r["last_commit"],
                "-" if r["released"] is None else r["released"],
                "-" if r["modified"] is None else r["modified"],
                int(r["has_release"]), int(r["has_documentation"]), r["now"], hexed)))
        out = subprocess.run([exe], input="\n".join(lines) + "\n", check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        return [int(x) for x in out.split()]
    return run


@pytest.fixture(scope="module")
def module_db(pg_server):
    """The original's schema and the module's objects, no data."""
    conn = pg_server.new_db("search")
    pg_server.psql(conn, file=pg.SCHEMA)
    return conn


def _weight_cases():
    """Fact combinations: every value of every dimension at least once (step boundaries on
    both sides, ages a microsecond either side of each day boundary, blank descriptions of
    every kind), the other facts random; two NOWs, one just after a DST change."""
    rnd = random.Random(11)
    ages = [None, -DAY, -1, 0, 1, 10 * DAY, 5000 * DAY]
    for days in (1, 90, 91, 182, 183, 365, 366, 730, 731):
        ages += [days * DAY - 1, days * DAY, days * DAY + 1]
    dims = {
        "grid": [False, True],
        "description": [None, "", " ", "\t\n\r\f\v ", "x", "  x ", "\u00a0", "caf\u00e9"],
        "stars": [-1, 0, 1, 9, 10, 49, 50, 99, 100, 499, 500, 999, 1000, 4999, 5000, 9999,
                  10000, 2 ** 31 - 1],
        "forks": [-5, 0, 1, 9, 10, 49, 50, 199, 200, 999, 1000, 123456],
        "usage": [0, 1, 9, 10, 49, 50, 51, 10 ** 6],
        "packages": list(range(0, 23)) + [1000],
        "last_commit": ages,
        "released": ages,
        "modified": ages,
        "has_release": [False, True],
        "has_documentation": [False, True],
        "now": [usec(NOW), usec("2025-11-02T06:30:00.123456+00:00")],
    }
    cases = []
    for dim, values in dims.items():
        for value in values:
            for _ in range(12):
                case = {d: rnd.choice(v) for d, v in dims.items()}
                case[dim] = value
                cases.append(case)
    for _ in range(1500):
        cases.append({d: rnd.choice(v) for d, v in dims.items()})
    for c in cases:
        for t in ("last_commit", "released", "modified"):
            c[t] = None if c[t] is None else c["now"] - c[t]
    return cases


def test_weight_is_the_c_weight(pg_server, module_db, weight_c):
    cases = _weight_cases()
    values = ",\n".join(
        f"({i}, {ts_lit(c['now'])}, {pg.lit(c['grid'])}, {pg.lit(c['description'])},"
        f" {c['stars']}, {c['forks']}, {c['usage']}, {c['packages']},"
        f" {ts_lit(c['last_commit'])}, {ts_lit(c['released'])},"
        f" {pg.lit(c['has_release'])}, {pg.lit(c['has_documentation'])},"
        f" {ts_lit(c['modified'])})" for i, c in enumerate(cases))
    # a time zone with DST: a day is not 24 hours there, a weight must not care
    out = pg_server.psql(module_db, f"""
        SET TimeZone = 'America/New_York';
        SELECT pkgindex_search_weight(n, g, d, s, f, u, p, lc, r, hr, hd, m)
        FROM (VALUES {values}) AS v (i, n, g, d, s, f, u, p, lc, r, hr, hd, m) ORDER BY i;""")
    got = [int(x) for x in out.split()]
    want = weight_c(cases)
    assert len(got) == len(cases)
    diff = [(c, g, w) for c, g, w in zip(cases, got, want) if g != w]
    assert not diff, f"{len(diff)} differ, e.g. {diff[:3]}"
    # the cases reach both ends of the scale and many values between
    assert min(want) == 0 and max(want) >= 90 and len(set(want)) > 40
    assert pg_server.psql(module_db, "SELECT provolatile FROM pg_proc"
                                     " WHERE proname = 'pkgindex_search_weight';").strip() == "i"


# --- Marks and sync ---

DIFF = f"""
SELECT count(*) FROM (
    (SELECT {ROW} FROM searchv3_searchv3
     EXCEPT ALL (SELECT {ROW} FROM pkgindex_search_package_rows('{NOW}')
                 UNION ALL SELECT {ROW} FROM pkgindex_search_grid_rows('{NOW}')))
    UNION ALL
    ((SELECT {ROW} FROM pkgindex_search_package_rows('{NOW}')
      UNION ALL SELECT {ROW} FROM pkgindex_search_grid_rows('{NOW}'))
     EXCEPT ALL SELECT {ROW} FROM searchv3_searchv3)) AS d;
"""


@pytest.fixture()
def synced_db(pg_server):
    """The conformance data, its index built by a first sync."""
    conn = pg_server.new_db("sync")
    pg_server.psql(conn, file=pg.SCHEMA)
    pg_server.psql(conn, pg.conformance_sql())
    # nothing is marked while the index is empty: the first sync builds it whole
    assert pg_server.psql(conn, "SELECT count(*) FROM pkgindex_search_dirty;").strip() == "0"
    assert pg_server.psql(conn, f"SELECT pkgindex_search_sync('{NOW}');").strip() == "t"
    assert pg_server.psql(conn, "SELECT count(*) FROM searchv3_searchv3;").strip() == "51"
    return conn


def _sync(pg_server, conn, statements):
    """Run STATEMENTS in one transaction; return (marks, sync's answer, rows differing from a
    rebuild, marks left) after it."""
    out = pg_server.psql(conn, f"""
        BEGIN;
        {statements}
        COMMIT;
        SELECT count(*) FROM pkgindex_search_dirty;
        SELECT pkgindex_search_sync('{NOW}');
        {DIFF}
        SELECT count(*) FROM pkgindex_search_dirty;""").split()
    return int(out[0]), out[1] == "t", int(out[2]), int(out[3])


NEW_PACKAGE = pg.package_sql({
    "category": "https://djangopackages.org/api/v4/categories/2/", "grids": [], "id": 500,
    "title": "Zebra Tools", "slug": "zebra-tools", "last_updated": "2026-02-01T00:00:00+00:00",
    "last_fetched": None, "repo_url": "https://example.org/zebra", "pypi_version": "1.0",
    "created": "2026-01-01T00:00:00+00:00", "modified": "2026-01-02T00:00:00+00:00",
    "repo_forks": 12, "repo_description": "Stripes for models", "pypi_url": "",
    "documentation_url": "https://zebra.example.org/", "repo_watchers": 77,
    "commits_over_52": [], "participants": ["ann", "bob"]}, latest_version_id=500)
NEW_VERSION = ("INSERT INTO package_version (id, created, modified, number, downloads, license,"
               " hidden, upload_time, development_status, supports_python3, package_id,"
               " licenses) VALUES (500, now(), now(), '1.0', 0, NULL, false,"
               " '2026-02-20T00:00:00+00:00', 0, false, 500, NULL);")
NEW_GRID = pg.grid_sql({"id": 50, "title": "Zebras", "slug": "zebras", "description": "z",
                        "is_locked": False, "header": False,
                        "created": "2026-01-01T00:00:00+00:00",
                        "modified": "2026-01-01T00:00:00+00:00"})

SLUGS = {p["id"]: p["slug"] for p in helpers.read_jsonl(
    os.path.join(helpers.CONFORMANCE, "packages.jsonl"))}
# packages with a version, past those the changes above touch
RELEASED = [p["id"] for p in helpers.read_jsonl(
    os.path.join(helpers.CONFORMANCE, "packages.jsonl")) if p["pypi_version"] and p["id"] > 12]
CHANGES = [
    # (what, statements, rebuilt)
    ("insert a package, its version, a grid, a membership",
     NEW_VERSION + NEW_PACKAGE + NEW_GRID + pg.member_sql(100, 50, 500, NOW), False),
    ("update searched columns",
     "UPDATE package_package SET title = 'Renamed', repo_watchers = 5000, repo_forks = 0,"
     " repo_description = '  ', participants = 'x,y', score = 7, pypi_downloads = 9,"
     " documentation_url = NULL WHERE id = 3;"
     " UPDATE grid_grid SET description = '', title = 'Grid Two' WHERE id = 2;", False),
    ("a package's slug changes", "UPDATE package_package SET slug = 'slug-new' WHERE id = 4;",
     False),
    ("a grid's slug changes twice before a sync",
     "UPDATE grid_grid SET slug = 'g-a' WHERE id = 1; UPDATE grid_grid SET slug = 'g-b'"
     " WHERE id = 1;", False),
    ("two packages swap slugs",
     "UPDATE package_package SET slug = 'swap-tmp' WHERE id = 5;"
     f" UPDATE package_package SET slug = {pg.lit(SLUGS[5])} WHERE id = 6;"
     f" UPDATE package_package SET slug = {pg.lit(SLUGS[6])} WHERE id = 5;", False),
    ("a package takes a slug another gives up",
     "UPDATE package_package SET slug = 'was-7' WHERE id = 7;"
     f" UPDATE package_package SET slug = {pg.lit(SLUGS[7])} WHERE id = 12;", False),
    ("a package is renumbered", "UPDATE package_package SET id = 900 WHERE id = 8;"
     " UPDATE package_version SET package_id = 900 WHERE package_id = 8;"
     " UPDATE grid_gridpackage SET package_id = 900 WHERE package_id = 8;", False),
    ("a package and a grid are deleted",
     "DELETE FROM grid_gridpackage WHERE package_id = 9 OR grid_id = 6;"
     " UPDATE package_package SET latest_version_id = NULL WHERE id = 9;"
     " DELETE FROM package_version WHERE package_id = 9;"
     " DELETE FROM package_package WHERE id = 9; DELETE FROM grid_grid WHERE id = 6;", False),
    ("a category is renamed", "UPDATE package_category SET title = 'Applications'"
     " WHERE id = 1 AND false; UPDATE package_category SET title = 'Tools!' WHERE id = 2;",
     False),
    ("memberships move", "UPDATE grid_gridpackage SET grid_id = 50"
     " WHERE id IN (SELECT min(id) FROM grid_gridpackage WHERE grid_id = 3);"
     " DELETE FROM grid_gridpackage WHERE id IN (SELECT max(id) FROM grid_gridpackage"
     " WHERE grid_id = 4);", False),
    ("a version's upload time changes",
     "UPDATE package_version SET upload_time = '2026-03-01T00:00:00+00:00'"
     f" WHERE package_id = {RELEASED[0]};", False),
    ("a version is deleted",
     f"UPDATE package_package SET latest_version_id = NULL WHERE id = {RELEASED[1]};"
     f" DELETE FROM package_version WHERE package_id = {RELEASED[1]};", False),
    ("more than a quarter of the objects change",
     "UPDATE package_package SET repo_watchers = repo_watchers + 1 WHERE id % 3 = 0;", True),
    ("TRUNCATE", "TRUNCATE grid_gridpackage CASCADE;", True),
]


def test_sync_keeps_the_index_equal_to_a_rebuild(pg_server, synced_db):
    for what, statements, rebuilt in CHANGES:
        marks, did_rebuild, diff, left = _sync(pg_server, synced_db, statements)
        assert marks > 0, what
        assert did_rebuild == rebuilt, what
        assert diff == 0, f"{what}: {diff} rows differ from a rebuild"
        assert left == 0, what
    # a write that changes no searched column marks nothing, and a sync then does nothing
    marks, did_rebuild, diff, _ = _sync(pg_server, synced_db, """
        UPDATE package_package SET last_fetched = now(), commit_count = 3 WHERE id < 20;
        UPDATE package_version SET downloads = 5;
        UPDATE package_category SET description = 'd';
        UPDATE grid_gridpackage SET modified = now();
        INSERT INTO package_category (id, created, modified, title, slug, description,
            title_plural, show_pypi) VALUES (77, now(), now(), 'Unused', 'u', '', '', true);""")
    assert (marks, did_rebuild, diff) == (0, False, 0)
    # the rows under old slugs are gone, the new ones there, once each
    rows = pg_server.psql(synced_db, "SELECT item_type || ':' || slug FROM searchv3_searchv3"
                                     " ORDER BY 1;").split()
    assert len(rows) == len(set(rows))
    assert "grid:g-b" in rows and "grid:g-a" not in rows
    assert "package:slug-new" in rows and "package:zebra-tools" in rows
    assert "package:swap-tmp" not in rows and "package:was-7" in rows
    assert f"package:{SLUGS[12]}" not in rows


def test_a_sync_moves_the_generation_only_when_it_wrote(pg_server, synced_db):
    out = pg_server.psql(synced_db, f"""
        SELECT generation FROM pkgindex_state;
        SELECT pkgindex_search_sync('{NOW}');
        SELECT generation FROM pkgindex_state;
        UPDATE package_package SET repo_watchers = 1 WHERE id = 1;
        SELECT generation FROM pkgindex_state;
        SELECT pkgindex_search_sync('{NOW}');
        SELECT generation FROM pkgindex_state;""").split()
    assert out[0] == out[2] and out[1] == "f"
    assert out[4] != out[3]


# --- The same rows as SQLite's ---

def _utc(text):
    """A datetime from either driver as UTC microseconds text, '' for none."""
    if not text:
        return ""
    t = datetime.datetime.fromisoformat(text.replace(" ", "T"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


FIELDS = ("created", "modified", "weight", "item_type", "title", "slug", "description",
          "category", "repo_watchers", "repo_forks", "pypi_downloads", "score", "usage",
          "participants", "last_committed", "last_released")
TIMES = ("created", "modified", "last_committed", "last_released")


def test_rows_are_sqlites_rows(pg_server, tmp_path):
    db = str(tmp_path / "search.db")
    files = [os.path.join(helpers.CONFORMANCE, f"{n}.jsonl")
             for n in ("categories", "grids", "packages")]
    res = helpers.run_import(db, *files)
    assert res.returncode == 0, res.stdout
    with sqlite3.connect(db) as lite:
        # the importer leaves upload times empty (the API has none): give half of the versions
        # one, recent and old, for last_released and its weight; the same go to PostgreSQL
        lite.execute("UPDATE package_version SET upload_time = modified WHERE id % 2 = 0")
        versions = list(lite.execute("SELECT package_id, upload_time FROM package_version"))
    # the index is rebuilt with recency counted from the importer's clock: between these two
    before = datetime.datetime.now(UTC)
    res = helpers.run_import(db, "--reindex", init=False)
    after = datetime.datetime.now(UTC)
    assert res.returncode == 0, res.stdout
    with sqlite3.connect(db) as lite:
        lite_rows = {(r[3], r[5]): r for r in lite.execute(
            f"SELECT {', '.join(FIELDS)} FROM searchv3_searchv3")}

    conn = pg_server.new_db("lite")
    pg_server.psql(conn, file=pg.SCHEMA)
    pg_server.psql(conn, pg.conformance_sql() + "".join(
        "UPDATE package_version SET upload_time ="
        f" {'NULL' if t is None else pg.lit(t + '+00')} WHERE package_id = {p};\n"
        for p, t in versions))
    cols = ", ".join(f"COALESCE(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '')"
                     if c in TIMES else c for c in FIELDS)
    out = pg_server.psql(conn, f"""
        SELECT pkgindex_search_rebuild('{before.isoformat()}');
        SELECT json_agg(json_build_array({cols}, (
            SELECT weight FROM pkgindex_search_package_rows('{after.isoformat()}') a
                WHERE a.item_type = s.item_type AND a.slug = s.slug
            UNION ALL
            SELECT weight FROM pkgindex_search_grid_rows('{after.isoformat()}') a
                WHERE a.item_type = s.item_type AND a.slug = s.slug)))
        FROM searchv3_searchv3 s;""")
    pg_rows = json.loads(out.strip().split("\n")[-1])
    assert len(pg_rows) == len(lite_rows) == 51
    for row in pg_rows:
        *fields, weight_after = row
        got = dict(zip(FIELDS, fields))
        lite_row = dict(zip(FIELDS, lite_rows[(got["item_type"], got["slug"])]))
        # the weight SQLite's import computed at some instant between BEFORE and AFTER
        assert lite_row["weight"] in (got["weight"], weight_after), got["slug"]
        for t in TIMES:
            got[t], lite_row[t] = _utc(got[t]), _utc(lite_row[t])
        got["weight"] = lite_row["weight"]
        assert got == lite_row
    # the data covers what matters: releases and none, grids, several weights
    assert any(r[FIELDS.index("last_released")] for r in pg_rows)
    assert any(not r[FIELDS.index("last_released")] for r in pg_rows)
    assert len({r[FIELDS.index("weight")] for r in pg_rows}) > 10


# --- The query ---

def _row(n, title, slug, weight, description="", category="Apps"):
    return (f"INSERT INTO searchv3_searchv3 ({ROW}) VALUES (now(), now(), {weight}, 'package',"
            f" {pg.lit(title)}, {pg.lit(slug)}, {pg.lit(description)}, {pg.lit(category)},"
            " 0, 0, 0, 0, 0, 'someone', NULL, NULL);")


@pytest.fixture(scope="module")
def query_db(pg_server):
    """Rows made for the ranking rules."""
    conn = pg_server.new_db("query")
    pg_server.psql(conn, file=pg.SCHEMA)
    rows = [
        _row(1, "Celery Beat", "celery-beat", 10, "periodic tasks"),
        _row(2, "Celery Heavy", "celery-heavy", 90, "tasks"),
        _row(3, "django-celery-results", "django-celery-results", 10, "results of celery"),
        _row(4, "Flower", "flower", 50, "monitor for celery"),
        _row(5, "Ratelimit", "django-ratelimit", 20, "limits rates"),
        _row(6, "Haystack", "django-haystack", 20, "modular search"),
        # equal text rank and weight: similarity decides, then the title
        _row(7, "cache", "cache-a", 30, "x"),
        _row(8, "cache machine", "cache-machine", 30, "x"),
        _row(9, "Bcache", "bcache", 30, "cache"),
        _row(10, "Acache", "acache", 30, "cache"),
    ]
    # thirty rows that all match "widget": the 20 heaviest are the answer
    rows += [_row(100 + i, f"Widget {i:02d}", f"widget-{i:02d}", i, "a widget")
             for i in range(30)]
    pg_server.psql(conn, "\n".join(rows))
    return conn


def _search(pg_server, conn, q):
    out = pg_server.psql(conn, "SET client_min_messages = warning;"
                               f" SELECT title FROM pkgindex_search({pg.lit(q)});")
    return [line for line in out.split("\n") if line]


def test_search_finds_by_word_prefix_and_typo(pg_server, query_db):
    got = _search(pg_server, query_db, "celery")
    # every row with the word, by relevance: the heaviest first among title hits
    assert set(got) == {"Celery Beat", "Celery Heavy", "django-celery-results", "Flower"}
    assert got[0] == "Celery Heavy"
    # a prefix of 3+ characters, one token
    assert _search(pg_server, query_db, "haysta") == ["Haystack"]
    # a typo: trigram similarity of title or slug
    assert _search(pg_server, query_db, "ratelimt") == ["Ratelimit"]
    assert "Ratelimit" in _search(pg_server, query_db, "django-ratelimmit")
    # websearch syntax: exclusion, phrases
    assert "Flower" not in _search(pg_server, query_db, "celery -monitor")
    assert _search(pg_server, query_db, '"periodic tasks"') == ["Celery Beat"]
    assert _search(pg_server, query_db, "nothinglikeit") == []


def test_search_orders_by_relevance_similarity_title_and_answers_20(pg_server, query_db):
    got = _search(pg_server, query_db, "widget")
    assert got == [f"Widget {i:02d}" for i in range(29, 9, -1)]
    # same rank, same weight: the more similar title first, then the title
    got = _search(pg_server, query_db, "cache")
    assert got[:2] == ["cache", "cache machine"]
    assert got[2:] == ["Acache", "Bcache"]


def test_no_query_is_an_error(pg_server, query_db):
    rnd = random.Random(3)
    alphabet = "ab_-:*&|!()'<>\"\\ \t%.,;é0"
    qs = ["'", "&", ":*", "!", "(", ")", "|", "<->", "<2>", "a:*", "abc:", "abc:*", "abc-",
          "-abc", "---", "___", "a'b", "dj:A", "foo & bar", "!!", "(((", "a & (b | !c)",
          "'; DROP TABLE searchv3_searchv3; --", "\\", "the", "", " ", "\u2028", "\U0001f600",
          "x" * 400, "widget:*", "widget:B", "w!dget", "-widget", "\"widget"]
    qs += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))) for _ in range(150)]
    sql = "SET client_min_messages = warning;\n" + "\n".join(
        f"SELECT count(*) FROM pkgindex_search({pg.lit(q)});" for q in qs)
    res = pg_server.psql(query_db, sql, check=False)
    assert res.returncode == 0, res.stderr
    counts = [int(x) for x in res.stdout.split()]
    assert len(counts) == len(qs) and all(0 <= c <= 20 for c in counts)
    assert counts[qs.index("widget:*")] == 20  # text, not syntax: still the word


def test_the_search_uses_the_indexes(pg_server, query_db):
    """The statement's shape lets the planner answer from the GIN indexes alone (with
    sequential scans off, a shape it cannot index would still show a Seq Scan)."""
    plan = pg_server.psql(query_db, """
        SET enable_seqscan = off;
        EXPLAIN SELECT * FROM pkgindex_search('widget');""")
    assert "Seq Scan" not in plan and "Function Scan" not in plan
    for index in ("searchv3_vec_gin", "searchv3_title_trgm", "searchv3_slug_trgm"):
        assert index in plan
