"""The PostgreSQL schema on a real PostgreSQL 15 (the session's private server, pg.py).

sql/schema-pgsql.sql must make a database in exactly the original Django Packages shape
(sql/original-pgsql.sql) plus the module's pkgindex_* objects;
sql/pkgindex-pgsql.sql, run on an existing original database, must only add those, and
be idempotent. The triggers keep the data generation and the row counts; pg.jsonl_sql fills
a database the way another program (the original's application) would.
"""

import datetime
import json
import os

import pytest

import helpers
import pg

API_TABLES = ("package_package", "package_version", "grid_grid", "grid_gridpackage",
              "package_category")
COUNTED = ("package_package", "grid_grid", "package_category")
MODULE_TABLES = ("pkgindex_checkpoint", "pkgindex_count", "pkgindex_pending",
                 "pkgindex_search_dirty", "pkgindex_state")

# The catalog of the original's tables (everything in public not named pkgindex_*): relations
# (tables, indexes, identity sequences), columns, constraints, index definitions, sequences,
# extensions. Triggers are listed apart: the module adds its own to the original's tables.
NOT_MODULE = "NOT (c.relname LIKE 'pkgindex\\_%')"
ORIGINAL_CATALOG = f"""
SELECT 'rel', c.relname, c.relkind, c.relpersistence, COALESCE(c.reloptions::text, '')
  FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE s.nspname = 'public' AND {NOT_MODULE} ORDER BY c.relname;
SELECT 'col', c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, a.attidentity, a.attgenerated, COALESCE(pg_get_expr(d.adbin, d.adrelid), ''),
       COALESCE(co.collname, '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace s ON s.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
  WHERE s.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    AND {NOT_MODULE} ORDER BY c.relname, a.attnum;
SELECT 'con', c.relname, k.conname, k.contype, k.condeferrable, k.condeferred,
       pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE s.nspname = 'public' AND {NOT_MODULE} ORDER BY c.relname, k.conname;
SELECT 'idx', c.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE s.nspname = 'public' AND {NOT_MODULE} ORDER BY 2, 3;
SELECT 'seq', q.seqrelid::regclass, q.seqtypid::regtype, q.seqstart, q.seqincrement, q.seqmax,
       q.seqmin, q.seqcache, q.seqcycle
  FROM pg_sequence q ORDER BY 2;
SELECT 'ext', extname, extversion FROM pg_extension ORDER BY 2;
"""
TRIGGERS = """
SELECT 'trg', c.relname, t.tgname, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE NOT t.tgisinternal ORDER BY 2, 3;
"""
# The module's own objects, for "a second run changes nothing".
MODULE_CATALOG = """
SELECT 'mcol', c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, COALESCE(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE c.relname LIKE 'pkgindex\\_%' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 2, 3;
SELECT 'mcon', conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid::regclass::text LIKE 'pkgindex\\_%' ORDER BY 2, 3;
SELECT 'fn', p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
  JOIN pg_namespace s ON s.oid = p.pronamespace WHERE s.nspname = 'public' ORDER BY 2;
SELECT 'obj', count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE s.nspname = 'public';
"""
# The bookkeeping of a transaction reaches pkgindex_count and pkgindex_state at COMMIT, or
# when pkgindex_apply() is called: the tests below read inside transactions they roll back.
APPLY = "SELECT FROM pkgindex_apply();"
STATE = """
SELECT 'gen', generation FROM pkgindex_state;
SELECT 'count', name, n, version, checkpoint_version FROM pkgindex_count ORDER BY name;
"""


def lines(out):
    """psql's output rows (not str.splitlines: the data has U+2028 and friends)."""
    return [line for line in out.split("\n") if line]


def catalog(pg_server, conninfo, query):
    return lines(pg_server.psql(conninfo, query))


@pytest.fixture(scope="module")
def original_db(pg_server):
    """A database made by the original's DDL alone."""
    conn = pg_server.new_db("original")
    pg_server.psql(conn, file=pg.ORIGINAL_SCHEMA)
    return conn


@pytest.fixture(scope="module")
def loaded_db(pg_server):
    """schema-pgsql.sql, then the conformance dataset loaded by pg.jsonl_sql."""
    conn = pg_server.new_db("loaded")
    pg_server.psql(conn, file=pg.SCHEMA)
    pg_server.psql(conn, pg.conformance_sql())
    return conn


def test_schema_makes_the_original_shape_plus_the_module(pg_server, original_db):
    conn = pg_server.new_db("schema")
    pg_server.psql(conn, file=pg.SCHEMA)
    want = catalog(pg_server, original_db, ORIGINAL_CATALOG)
    assert any(line.startswith("col|package_package|38|latest_version_id|bigint|f")
               for line in want)
    assert catalog(pg_server, conn, ORIGINAL_CATALOG) == want
    # the original has no triggers; all those added are the module's (on pkgindex_pending:
    # the commit-time bookkeeping)
    assert catalog(pg_server, original_db, TRIGGERS) == []
    triggers = catalog(pg_server, conn, TRIGGERS)
    assert {line.split("|")[1] for line in triggers} == set(API_TABLES) | {"pkgindex_pending"}
    assert all(line.split("|")[2].startswith("pkgindex_") for line in triggers)
    tables = pg_server.psql(conn, "SELECT tablename FROM pg_tables WHERE tablename LIKE"
                                  " 'pkgindex%' ORDER BY 1;").split()
    assert tables == list(MODULE_TABLES)
    state = catalog(pg_server, conn, STATE)
    assert [line.split("|")[1:3] for line in state[1:]] == [
        ["grid_grid", "0"], ["package_category", "0"], ["package_package", "0"]]


def test_module_part_on_an_original_database(pg_server):
    """Only adds; a second run changes nothing, generation and counts included."""
    conn = pg_server.new_db("existing")
    pg_server.psql(conn, file=pg.ORIGINAL_SCHEMA)
    pg_server.psql(conn, pg.conformance_sql())
    before = catalog(pg_server, conn, ORIGINAL_CATALOG)
    pg_server.psql(conn, file=pg.MODULE_SCHEMA)
    assert catalog(pg_server, conn, ORIGINAL_CATALOG) == before
    first = catalog(pg_server, conn, ORIGINAL_CATALOG + TRIGGERS + MODULE_CATALOG + STATE)
    # the counts of the rows already there
    assert "count|package_package|45|0|-1" in first
    assert "count|grid_grid|6|0|-1" in first
    assert "count|package_category|5|0|-1" in first
    pg_server.psql(conn, file=pg.MODULE_SCHEMA)
    assert catalog(pg_server, conn, ORIGINAL_CATALOG + TRIGGERS + MODULE_CATALOG + STATE) == first


def test_loader_is_faithful(pg_server, loaded_db):
    """Every API field of the conformance dataset reads back from the original's columns."""
    def utc(value):
        if value is None:
            return ""
        t = datetime.datetime.fromisoformat(value).astimezone(datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f")

    def fmt(col):
        return (f"COALESCE(to_char({col} AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '')")

    rows = lines(pg_server.psql(loaded_db, f"""
        SELECT json_build_object('id', p.id, 'category', p.category_id, 'title', p.title,
            'slug', p.slug, 'last_updated', {fmt('p.last_commit_date')},
            'last_fetched', {fmt('p.last_fetched')}, 'repo_url', p.repo_url,
            'pypi_version', v.number, 'created', {fmt('p.created')},
            'modified', {fmt('p.modified')}, 'repo_forks', p.repo_forks,
            'repo_description', p.repo_description, 'pypi_url', p.pypi_url,
            'documentation_url', p.documentation_url, 'repo_watchers', p.repo_watchers,
            'commits_over_52', p.commits_over_52w, 'participants', p.participants,
            'grids', (SELECT COALESCE(json_agg(m.grid_id ORDER BY m.id), '[]')
                      FROM grid_gridpackage m WHERE m.package_id = p.id))
        FROM package_package p LEFT JOIN package_version v ON v.id = p.latest_version_id
        ORDER BY p.id;"""))
    got = [json.loads(r) for r in rows]
    want = []
    for p in helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "packages.jsonl")):
        want.append({"id": p["id"], "category": pg.link_id(p["category"]), "title": p["title"],
                     "slug": p["slug"], "last_updated": utc(p["last_updated"]),
                     "last_fetched": utc(p["last_fetched"]), "repo_url": p["repo_url"],
                     "pypi_version": p["pypi_version"], "created": utc(p["created"]),
                     "modified": utc(p["modified"]), "repo_forks": p["repo_forks"],
                     "repo_description": p["repo_description"], "pypi_url": p["pypi_url"],
                     "documentation_url": p["documentation_url"],
                     "repo_watchers": p["repo_watchers"],
                     "commits_over_52": p["commits_over_52"],
                     "participants": ",".join(p["participants"]),
                     "grids": [pg.link_id(g) for g in p["grids"]]})
    assert got == sorted(want, key=lambda p: p["id"])
    # the dataset has what the comparison must cover
    assert any(p["documentation_url"] is None for p in got)
    assert any(p["documentation_url"] == "" for p in got)
    assert any(p["pypi_version"] is None for p in got)
    assert any(len(p["grids"]) > 1 for p in got)

    rows = lines(pg_server.psql(loaded_db, f"""
        SELECT json_build_object('id', g.id, 'title', g.title, 'slug', g.slug,
            'description', g.description, 'is_locked', g.is_locked, 'header', g.header,
            'created', {fmt('g.created')}, 'modified', {fmt('g.modified')},
            'packages', (SELECT COALESCE(json_agg(p.id ORDER BY p.title COLLATE "C", p.id), '[]')
                         FROM grid_gridpackage m JOIN package_package p ON p.id = m.package_id
                         WHERE m.grid_id = g.id))
        FROM grid_grid g ORDER BY g.id;"""))
    want = [{"id": g["id"], "title": g["title"], "slug": g["slug"],
             "description": g["description"], "is_locked": g["is_locked"],
             "header": g["header"], "created": utc(g["created"]), "modified": utc(g["modified"]),
             "packages": [pg.link_id(u) for u in g["packages"]]}
            for g in helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "grids.jsonl"))]
    assert [json.loads(r) for r in rows] == sorted(want, key=lambda g: g["id"])

    rows = lines(pg_server.psql(loaded_db, f"""
        SELECT json_build_object('id', id, 'title', title, 'slug', slug,
            'description', description, 'title_plural', title_plural, 'show_pypi', show_pypi,
            'created', {fmt('created')}, 'modified', {fmt('modified')})
        FROM package_category ORDER BY id;"""))
    want = [dict(c, created=utc(c["created"]), modified=utc(c["modified"]))
            for c in helpers.read_jsonl(os.path.join(helpers.CONFORMANCE, "categories.jsonl"))]
    assert [json.loads(r) for r in rows] == sorted(want, key=lambda c: c["id"])


def test_loaded_database_takes_djangos_next_insert(pg_server, loaded_db):
    """The identity sequences were moved past the loaded ids: an insert without id (as
    Django makes) gets a new one instead of a duplicate key."""
    out = pg_server.psql(loaded_db, """
        BEGIN;
        INSERT INTO package_category (created, modified, title, slug, description,
            title_plural, show_pypi) VALUES (now(), now(), 'New', 'new', '', '', true)
            RETURNING id;
        INSERT INTO grid_gridpackage (created, modified, grid_id, package_id)
            VALUES (now(), now(), 1, 1) RETURNING id;
        ROLLBACK;""").split()
    assert out == ["6", "60"]


def _new_package(pid):
    return {"category": "https://djangopackages.org/api/v4/categories/1/", "grids": [],
            "id": pid, "title": f"new-{pid}", "slug": f"new-{pid}",
            "last_updated": None, "last_fetched": "2026-01-02T03:04:05.678901-05:00",
            "repo_url": f"https://example.org/new-{pid}", "pypi_version": None,
            "created": "2026-01-01T00:00:00-05:00", "modified": "2026-01-01T00:00:00-05:00",
            "repo_forks": 0, "repo_description": "", "pypi_url": "", "documentation_url": None,
            "repo_watchers": 0, "commits_over_52": [], "participants": []}


WHEN = "2026-01-01T00:00:00-05:00"
INSERTS = {
    "package_package": pg.package_sql(_new_package(900)),
    "package_version": pg.version_sql(900, dict(_new_package(1), pypi_version="99.0")),
    "grid_grid": pg.grid_sql({"id": 900, "title": "New", "slug": "new", "description": "",
                              "is_locked": False, "header": False, "created": WHEN,
                              "modified": WHEN}),
    "grid_gridpackage": pg.member_sql(900, 1, 2, WHEN),
    "package_category": pg.category_sql({"id": 900, "title": "New", "slug": "new",
                                         "description": "", "title_plural": "",
                                         "show_pypi": True, "created": WHEN, "modified": WHEN}),
}


def _statements(table):
    """(name, SQL, rows it adds to the table) for every kind of write."""
    return [
        ("insert", INSERTS[table], 1),
        ("update", f"UPDATE {table} SET modified = modified + interval '1 second'"
                   f" WHERE id = (SELECT MIN(id) FROM {table});", 0),
        ("delete", f"DELETE FROM {table} WHERE id = (SELECT MAX(id) FROM {table});", -1),
        # CASCADE: the original's foreign keys point at most of these tables
        ("truncate", f"TRUNCATE {table} CASCADE;", None),
    ]


def _around(pg_server, conn, table, statement):
    """Generation and counts before and after STATEMENT, inside a transaction rolled back."""
    out = pg_server.psql(conn, f"""
        BEGIN;
        SELECT generation FROM pkgindex_state;
        SELECT COALESCE((SELECT n FROM pkgindex_count WHERE name = '{table}'), -1),
               (SELECT count(*) FROM {table});
        {statement}
        {APPLY}
        SELECT generation FROM pkgindex_state;
        SELECT COALESCE((SELECT n FROM pkgindex_count WHERE name = '{table}'), -1),
               (SELECT count(*) FROM {table});
        ROLLBACK;""").split()
    g0, c0, g1, c1 = out[0], out[1], out[-2], out[-1]
    return int(g0), tuple(map(int, c0.split("|"))), int(g1), tuple(map(int, c1.split("|")))


@pytest.mark.parametrize("table", API_TABLES)
def test_every_write_moves_the_generation(pg_server, loaded_db, table):
    seen = []
    for name, statement, delta in _statements(table):
        g0, (n0, rows0), g1, (n1, rows1) = _around(pg_server, loaded_db, table, statement)
        assert g1 != g0, f"{name} on {table} left the generation at {g0}"
        seen += [g0, g1]
        if delta is not None:
            assert rows1 == rows0 + delta
        if table in COUNTED:
            assert n0 == rows0, f"count of {table} before {name}"
            assert n1 == rows1, f"count of {table} after {name}"
    # 64-bit: 8 values all below 2^32 would happen once in 2^256 runs
    assert any(abs(g) >= 2 ** 32 for g in seen)
    assert len(set(seen)) > 1


@pytest.mark.parametrize("table", API_TABLES)
def test_a_statement_that_changes_no_row_keeps_the_generation(pg_server, loaded_db, table):
    """Statement-level triggers fire for 0 rows too; the module's see empty transition tables
    and leave everything as it was (an up-to-date upsert keeps the cache valid)."""
    for statement in (f"UPDATE {table} SET modified = now() WHERE false;",
                      # Django's save() of an object that did not change
                      f"UPDATE {table} SET modified = modified, id = id WHERE id = 900;",
                      f"DELETE FROM {table} WHERE id < 0;",
                      f"INSERT INTO {table} SELECT * FROM {table} WHERE false;",
                      # the importer's kind of upsert, on a row that is already up to date
                      INSERTS[table].rstrip(";") + " ON CONFLICT (id) DO UPDATE SET modified ="
                      f" excluded.modified WHERE {table}.modified <> excluded.modified;"):
        out = pg_server.psql(loaded_db, f"""
            BEGIN;
            {INSERTS[table]}
            {APPLY}
            SELECT generation FROM pkgindex_state;
            SELECT string_agg(name || n || ':' || version, ',' ORDER BY name) FROM pkgindex_count;
            {statement}
            {APPLY}
            SELECT generation FROM pkgindex_state;
            SELECT string_agg(name || n || ':' || version, ',' ORDER BY name) FROM pkgindex_count;
            ROLLBACK;""").split()
        assert out[0] == out[2], f"{statement!r} moved the generation"
        assert out[1] == out[3], f"{statement!r} moved the counts"


def test_counts_follow_bulk_writes(pg_server, loaded_db):
    """One statement of many rows moves the count by all of them (statement-level triggers
    with transition tables), and an upsert counts only the rows it inserted."""
    out = pg_server.psql(loaded_db, """
        BEGIN;
        SET CONSTRAINTS ALL IMMEDIATE; -- TRUNCATE refuses pending deferred checks
        INSERT INTO package_category (id, created, modified, title, slug, description,
            title_plural, show_pypi)
            SELECT 1000 + i, now(), now(), 't' || i, 's' || i, '', '', true
            FROM generate_series(1, 250) i;
        SELECT n FROM pkgindex_count WHERE name = 'package_category';
        INSERT INTO package_category (id, created, modified, title, slug, description,
            title_plural, show_pypi)
            SELECT 1000 + i, now(), now(), 'u' || i, 's' || i, '', '', true
            FROM generate_series(240, 260) i
            ON CONFLICT (id) DO UPDATE SET title = excluded.title;
        SELECT n FROM pkgindex_count WHERE name = 'package_category';
        DELETE FROM package_category WHERE id > 1100;
        SELECT n, (SELECT count(*) FROM package_category) FROM pkgindex_count
            WHERE name = 'package_category';
        TRUNCATE package_category CASCADE;
        SELECT n FROM pkgindex_count WHERE name = 'package_category';
        SELECT n FROM pkgindex_count WHERE name = 'package_package';
        ROLLBACK;""").split()
    assert out == ["255", "265", "105|105", "0", "0"]


def test_renumbering_a_package_moves_the_checkpoint_version(pg_server, loaded_db):
    out = pg_server.psql(loaded_db, f"""
        BEGIN;
        SELECT version FROM pkgindex_count WHERE name = 'package_package';
        UPDATE package_package SET score = score + 1 WHERE id = 1;
        {APPLY}
        SELECT version FROM pkgindex_count WHERE name = 'package_package';
        UPDATE package_package SET id = 9999 WHERE id = 1;
        {APPLY}
        SELECT version FROM pkgindex_count WHERE name = 'package_package';
        ROLLBACK;""").split()
    assert out[0] == out[1]
    assert int(out[2]) == int(out[1]) + 1
