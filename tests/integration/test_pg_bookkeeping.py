"""The PostgreSQL bookkeeping per transaction (sql/pkgindex-pgsql.sql, pkgindex_apply).

The statement-level triggers only note what each statement did in transaction-local
settings; pkgindex_apply() folds it into pkgindex_count and pkgindex_state once, at COMMIT (a
deferred constraint trigger) or when the importer asks before it rebuilds the checkpoints.
So a transaction of many statements updates each of those rows at most once, and what other
sessions see changes at commit, data and generation together.
"""

import subprocess
import time

import pytest

import pg

STATE = """
SELECT 'gen', generation FROM pkgindex_state;
SELECT 'count', name, n, version, checkpoint_version FROM pkgindex_count ORDER BY name;
SELECT 'real', 'grid_grid', count(*) FROM grid_grid;
SELECT 'real', 'package_category', count(*) FROM package_category;
SELECT 'real', 'package_package', count(*) FROM package_package;
SELECT 'pending', count(*) FROM pkgindex_pending;
"""


def state(pg_server, conn):
    """{'gen': g, 'n': {table: n}, 'version': {table: v}, 'checkpoint': {...},
    'real': {table: count(*)}, 'pending': rows}"""
    out = {"n": {}, "version": {}, "checkpoint": {}, "real": {}}
    for line in pg_server.psql(conn, STATE).split("\n"):
        f = line.split("|")
        if f[0] == "gen":
            out["gen"] = int(f[1])
        elif f[0] == "count":
            out["n"][f[1]], out["version"][f[1]], out["checkpoint"][f[1]] = map(int, f[2:5])
        elif f[0] == "real":
            out["real"][f[1]] = int(f[2])
        elif f[0] == "pending":
            out["pending"] = int(f[1])
    return out


@pytest.fixture(scope="module")
def template(pg_server):
    """schema-pgsql.sql, the conformance dataset and its search index: copied per test."""
    conn = pg_server.new_db("booktmpl")
    pg_server.psql(conn, file=pg.SCHEMA)
    pg_server.psql(conn, pg.conformance_sql())
    pg_server.psql(conn, "SELECT pkgindex_search_rebuild(now());")
    return conn.rsplit("dbname=", 1)[1]


_copies = iter(range(1, 1000))


@pytest.fixture
def db(pg_server, template):
    name = f"{template}_{next(_copies)}"
    pg_server.psql(pg_server.conninfo(), f'CREATE DATABASE "{name}" TEMPLATE "{template}";')
    return pg_server.conninfo(name)


def category(cid):
    return pg.category_sql({"id": cid, "title": f"C{cid}", "slug": f"c{cid}",
                            "description": "", "title_plural": "", "show_pypi": True,
                            "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z"})


def _package(pid):
    return {"category": "https://djangopackages.org/api/v4/categories/1/", "grids": [],
            "id": pid, "title": f"p{pid}", "slug": f"p{pid}", "last_updated": None,
            "last_fetched": None, "repo_url": f"https://example.org/p{pid}",
            "pypi_version": None, "created": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z", "repo_forks": 0, "repo_description": "",
            "pypi_url": "", "documentation_url": None, "repo_watchers": 0,
            "commits_over_52": [], "participants": []}


class Session:
    """A psql session kept open (a transaction across calls), for what another session
    sees meanwhile."""
    DONE = "__pkgindex_done__"

    def __init__(self, conn):
        self.p = subprocess.Popen([pg.PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                   "-d", conn], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def run(self, sql):
        self.p.stdin.write(f"{sql}\n\\echo {self.DONE}\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"psql ended on {sql!r}")
            if line.rstrip("\n") == self.DONE:
                return out
            out.append(line.rstrip("\n"))

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=pg.PSQL_TIMEOUT)


def test_a_transaction_updates_each_bookkeeping_row_once(pg_server, db):
    """Many single-row statements, one update of each pkgindex_count row they concern and of
    pkgindex_state (counted by PostgreSQL itself, pg_stat_xact_user_tables), and exact
    values. Marking the same object for search again and again inserts its mark once."""
    before = state(pg_server, db)
    inserts = "\n".join(category(1000 + i) for i in range(200))
    # every statement marks grid 1 for search (its package count moved)
    packages = pg_server.psql(db, "SELECT id FROM package_package ORDER BY id;").split()
    members = "\n".join(f"DELETE FROM grid_gridpackage WHERE grid_id = 1 AND package_id = {p};"
                        f"\n{pg.member_sql(1000 + i, 1, p, '2026-01-01T00:00:00Z')}"
                        for i, p in enumerate(packages))
    out = pg_server.psql(db, f"""
        BEGIN;
        {inserts}
        {members}
        DELETE FROM package_category WHERE id BETWEEN 1000 AND 1049;
        UPDATE package_package SET score = score + 1 WHERE id = 1;
        UPDATE package_package SET score = score + 1 WHERE id = 1;
        SELECT pkgindex_apply();
        SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables
            WHERE relname IN ('pkgindex_count', 'pkgindex_state', 'pkgindex_search_dirty')
            ORDER BY 1;
        COMMIT;""").split()
    assert out == ["t", "pkgindex_count|0|1", "pkgindex_search_dirty|2|0",
                   "pkgindex_state|0|1"]
    after = state(pg_server, db)
    assert after["n"] == after["real"]
    assert after["n"]["package_category"] == before["n"]["package_category"] + 150
    assert after["version"]["package_category"] == before["version"]["package_category"] + 1
    assert after["version"]["package_package"] == before["version"]["package_package"]
    assert after["gen"] != before["gen"]
    assert after["pending"] == 0


def test_mixed_transactions(pg_server, db):
    """Counts exact after each commit; version moves when ids appear, vanish or change; the
    generation moves when and only when a row changed."""
    s0 = state(pg_server, db)
    assert s0["n"] == s0["real"]

    # inserts, an update that changes a row, deletes
    pg_server.psql(db, f"""
        BEGIN;
        {category(1000)}
        {category(1001)}
        {category(1002)}
        {pg.package_sql(_package(5000))}
        UPDATE package_category SET title = 'Renamed' WHERE id = 1001;
        DELETE FROM package_category WHERE id = 1002;
        DELETE FROM grid_gridpackage WHERE grid_id = 1;
        DELETE FROM grid_grid WHERE id = 1;
        COMMIT;""")
    s1 = state(pg_server, db)
    assert s1["n"] == s1["real"]
    assert s1["n"]["package_category"] == s0["n"]["package_category"] + 2
    assert s1["n"]["grid_grid"] == s0["n"]["grid_grid"] - 1
    assert s1["version"]["package_category"] == s0["version"]["package_category"] + 1
    assert s1["version"]["grid_grid"] == s0["version"]["grid_grid"] + 1
    assert s1["n"]["package_package"] == s0["n"]["package_package"] + 1
    assert s1["version"]["package_package"] == s0["version"]["package_package"] + 1
    assert s1["gen"] != s0["gen"]

    # statements that change nothing: no row, the same values, an up-to-date upsert
    pg_server.psql(db, f"""
        BEGIN;
        UPDATE package_package SET modified = modified WHERE id <= 10;
        UPDATE package_category SET title = title;
        UPDATE grid_gridpackage SET package_id = package_id;
        DELETE FROM package_version WHERE id < 0;
        {category(1000).rstrip(';')} ON CONFLICT (id) DO UPDATE SET title = excluded.title
            WHERE package_category.title <> excluded.title;
        COMMIT;""")
    assert state(pg_server, db) == s1

    # only a change of something else than ids: the generation, not the version
    pg_server.psql(db, "UPDATE package_package SET score = score + 1 WHERE id <= 3;")
    s2 = state(pg_server, db)
    assert s2["gen"] != s1["gen"]
    assert (s2["n"], s2["version"]) == (s1["n"], s1["version"])

    # renumbering moves the version, not the count
    pg_server.psql(db, """
        BEGIN;
        UPDATE package_package SET score = score + 1 WHERE id = 2;
        UPDATE package_package SET id = 9999 WHERE id = 5000;
        COMMIT;""")
    s3 = state(pg_server, db)
    assert s3["version"]["package_package"] == s2["version"]["package_package"] + 1
    assert s3["n"] == s2["n"] == s3["real"]
    assert s3["gen"] != s2["gen"]

    # TRUNCATE starts the count again from 0; the statements after it count on
    pg_server.psql(db, f"""
        BEGIN;
        {category(2000)}
        SET CONSTRAINTS ALL IMMEDIATE; -- TRUNCATE refuses pending deferred checks
        TRUNCATE package_category CASCADE;
        SET CONSTRAINTS ALL DEFERRED;
        {category(2001)}
        {category(2002)}
        {category(2003)}
        DELETE FROM package_category WHERE id = 2003;
        COMMIT;""")
    s4 = state(pg_server, db)
    assert s4["n"] == s4["real"]
    assert s4["n"]["package_category"] == 2
    assert s4["n"]["package_package"] == 0  # emptied by the cascade
    assert s4["n"]["grid_grid"] == s3["n"]["grid_grid"]
    assert s4["version"]["package_package"] == s3["version"]["package_package"] + 1
    assert s4["gen"] != s3["gen"]

    # TRUNCATE of an empty table still moves the generation
    pg_server.psql(db, "TRUNCATE package_package CASCADE;")
    s5 = state(pg_server, db)
    assert s5["gen"] != s4["gen"]
    assert s5["n"] == s5["real"]
    assert s5["pending"] == 0


def test_savepoints_and_rollbacks(pg_server, db):
    """What a rolled-back savepoint or transaction did leaves nothing behind."""
    s0 = state(pg_server, db)
    pg_server.psql(db, f"""
        BEGIN;
        TRUNCATE package_version CASCADE;
        {category(1000)}
        DELETE FROM grid_grid;
        ROLLBACK;""")
    assert state(pg_server, db) == s0

    pg_server.psql(db, f"""
        BEGIN;
        {category(1000)}
        SAVEPOINT a;
        {category(1001)}
        {category(1002)}
        DELETE FROM grid_gridpackage WHERE grid_id = 1;
        DELETE FROM grid_grid WHERE id = 1;
        ROLLBACK TO SAVEPOINT a;
        {category(1003)}
        COMMIT;""")
    s1 = state(pg_server, db)
    assert s1["n"] == s1["real"]
    assert s1["n"]["package_category"] == s0["n"]["package_category"] + 2
    assert s1["n"]["grid_grid"] == s0["n"]["grid_grid"]
    assert s1["version"]["grid_grid"] == s0["version"]["grid_grid"]

    # all of the bookkeeping in a savepoint rolled back: nothing at all to apply
    pg_server.psql(db, f"""
        BEGIN;
        SAVEPOINT a;
        {category(1004)}
        ROLLBACK TO SAVEPOINT a;
        COMMIT;""")
    assert state(pg_server, db) == s1


def test_another_session_sees_data_and_generation_change_together(pg_server, db):
    """Until the writer commits, other sessions see the old data with the old generation
    and counts; after, the new ones. Writers wait for each other's bookkeeping rows only
    at commit, not for each other's whole transactions."""
    s0 = state(pg_server, db)
    writer = Session(db)
    other = Session(db)
    try:
        writer.run(f"BEGIN; {category(1000)} {category(1001)}"
                   " DELETE FROM grid_gridpackage WHERE grid_id = 1;"
                   " DELETE FROM grid_grid WHERE id = 1;")
        assert state(pg_server, db) == s0
        # a second writer commits meanwhile (lock_timeout: it would have waited for the
        # first one's counter row until that one ended)
        other.run(f"SET lock_timeout = '5s'; BEGIN; {category(1002)} COMMIT;")
        s1 = state(pg_server, db)
        assert s1["n"]["package_category"] == s0["n"]["package_category"] + 1 == \
            s1["real"]["package_category"]
        assert s1["gen"] != s0["gen"]
        writer.run("COMMIT;")
    finally:
        writer.close()
        other.close()
    s2 = state(pg_server, db)
    assert s2["n"] == s2["real"]
    assert s2["n"]["package_category"] == s0["n"]["package_category"] + 3
    assert s2["n"]["grid_grid"] == s0["n"]["grid_grid"] - 1
    assert s2["gen"] not in (s0["gen"], s1["gen"])


def test_apply_before_the_checkpoints(pg_server, db):
    """The importer's order: writes, pkgindex_apply(), the checkpoints rebuilt
    (checkpoint_version = version), COMMIT: the commit finds nothing left, the checkpoints
    stay valid. Without the call the commit would move the version past them."""
    def write_then_checkpoint(apply):
        first = 3000 if apply else 4000
        return pg_server.psql(db, f"""
            BEGIN;
            {pg.package_sql(_package(first))}
            {pg.package_sql(_package(first + 1))}
            {"SELECT pkgindex_apply();" if apply else ""}
            UPDATE pkgindex_count SET checkpoint_version = version
                WHERE name = 'package_package';
            SELECT pkgindex_apply();
            COMMIT;""").split()

    assert write_then_checkpoint(True) == ["t", "f"]
    s1 = state(pg_server, db)
    assert s1["checkpoint"]["package_package"] == s1["version"]["package_package"]
    assert s1["n"] == s1["real"]
    assert write_then_checkpoint(False) == ["t"]
    s2 = state(pg_server, db)
    assert s2["checkpoint"]["package_package"] != s2["version"]["package_package"]


def test_bulk_mode_mutes_the_bookkeeping(pg_server, db):
    s0 = state(pg_server, db)
    pg_server.psql(db, f"""
        BEGIN;
        SET LOCAL pkgindex.bulk = 'on';
        {category(1000)}
        SELECT pkgindex_apply();
        COMMIT;""")
    s1 = state(pg_server, db)
    assert s1["real"]["package_category"] == s0["real"]["package_category"] + 1
    assert (s1["gen"], s1["n"], s1["version"], s1["pending"]) == \
        (s0["gen"], s0["n"], s0["version"], 0)


SINGLE_ROW_INSERTS = 20000


def test_many_single_row_inserts_in_one_transaction(pg_server, db):
    """A save() loop: each INSERT is its own statement. Prints the time (bench/ measures;
    no timed assert): it grew with the square of the number of statements when each one
    updated the bookkeeping rows."""
    s0 = state(pg_server, db)
    sql = "BEGIN;\n" + "\n".join(category(100000 + i) for i in range(SINGLE_ROW_INSERTS)) + \
        "\nCOMMIT;\n"
    t0 = time.monotonic()
    pg_server.psql(db, sql)
    print(f"\n{SINGLE_ROW_INSERTS} single-row INSERTs in one transaction:"
          f" {time.monotonic() - t0:.1f} s")
    s1 = state(pg_server, db)
    assert s1["n"]["package_category"] == s0["n"]["package_category"] + SINGLE_ROW_INSERTS
    assert s1["n"] == s1["real"]
    assert s1["gen"] != s0["gen"]
