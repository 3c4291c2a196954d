"""Scale-out on PostgreSQL (docs/scaling.md): two httpd front ends on one primary and a third on
a streaming replica (hot standby) serve the same bytes, and after an import on the primary none
of them serves a stale cached answer once its database has the change.

Each front end keeps a response cache per process, keyed on the data generation it reads from
its database on every request: warmed before each import (the access log shows the hits), a
cache that missed a change would answer the old bytes here. The replica's lag is measured
(from the import's last commit to the replica having replayed it) and printed: run with -s to
see it; the figures are in docs/scaling.md, not in asserts.

This module runs its own PostgreSQL primary and replica (pg.PgServer, start_replica), not the
session's server: a base backup copies the whole cluster, and only this test's data is needed.
"""

import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

import helpers
import pg

pytestmark = pytest.mark.skipif("pgsql" not in helpers.DRIVERS,
                                reason="PostgreSQL scale-out (PKGINDEX_DRIVERS has no pgsql)")

LOG_CONF = f"""
PkgIndexBaseURL {helpers.BASE_URL}
PkgIndexCacheSize 1M
LogFormat "%{{X-Test-Id}}i %{{pkgindex-cache}}n %>s" pkicache
CustomLog "@LOG@" pkicache
"""
# A replica that has not replayed an import within this is broken, not slow.
REPLAY_WAIT = 30.0
# The access log line is written once the response has gone out.
LOG_WAIT = 10.0
# Lag samples per setting of synchronous_commit on the primary: off (the test servers' own,
# pg.py) then on (PostgreSQL's default, what production runs).
SAMPLES = 4

DELETED, RENAMED, ADDED = 13, 110, 9001
URLS = ["/api/v4/packages/?limit=100", f"/api/v4/packages/{RENAMED}/",
        "/api/v4/packages/wagtail-whoosh/", f"/api/v4/packages/{DELETED}/",
        f"/api/v4/packages/{ADDED}/", "/api/v4/grids/2/", "/api/v4/grids/384/",
        "/api/v4/categories/1/", "/api/v4/search/?q=whoosh", "/api/v4/search/?q=south"]


class FrontEnd:
    def __init__(self, name, db, module):
        self.workdir = helpers.make_www_tmpdir(f"pkgindex-scale-{name}-")
        self.log = os.path.join(self.workdir, "access.log")
        self.srv = helpers.Server(db, LOG_CONF.replace("@LOG@", self.log), workdir=self.workdir,
                                  module=module)
        self.name = name

    def warm(self, urls):
        """GETs each URL a few times, then checks in the access log that each 200 came from
        the cache at least once: the cache is per process, and a front end may have two."""
        sent = {}
        for url in urls:
            for _ in range(3):
                rid = uuid.uuid4().hex
                sent[rid] = (url, self.srv.request("GET", url, headers={"X-Test-Id": rid}).status)
        notes = {}
        deadline = time.monotonic() + LOG_WAIT
        while len(notes) < len(sent):
            with open(self.log, encoding="utf-8") as f:
                notes = {fields[0]: fields[1] for fields in map(str.split, f)
                         if fields and fields[0] in sent}
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: access log lines missing in {self.log}\n"
                            f"{self.srv.logs()}")
            time.sleep(0.01)
        for url in urls:
            seen = [notes[rid] for rid, (u, status) in sent.items() if u == url and status == 200]
            assert not seen or "hit" in seen, (self.name, url, seen)


@pytest.fixture(scope="module")
def site(module_so, tmp_path_factory):
    primary = pg.PgServer().start()
    replica = fronts = None
    try:
        conninfo = primary.new_db("scale")
        res = helpers.run_import(helpers.Db("pgsql", conninfo), "--quiet", *helpers.SAMPLE)
        assert res.returncode == 0, res.stdout
        on_primary = helpers.Db("pgsql", conninfo)
        replica = primary.start_replica()
        wait_replayed(primary, replica, on_primary.dbname)
        on_replica = helpers.Db("pgsql", replica.conninfo(on_primary.dbname))
        fronts = [FrontEnd("a", on_primary, module_so), FrontEnd("b", on_primary, module_so),
                  FrontEnd("r", on_replica, module_so)]
        for f in fronts:
            f.srv.start()
        yield primary, replica, on_primary, on_replica, fronts
    finally:
        for f in fronts or []:
            f.srv.stop()
            helpers.remove_tmpdir(f.workdir)
        if replica:
            replica.stop()
        primary.stop()


GENERATION = "SELECT generation FROM pkgindex_state WHERE id = 1;"


def wait_replayed(primary, replica, dbname):
    """Waits until the replica serves what the primary does: until its data generation (what
    the front ends key their caches on, moved by every write) is the primary's. Returns it.

    Not by WAL positions: with synchronous_commit off (the test servers', pg.py), an import's
    commit can still be in the primary's WAL buffers after the importer exited, so
    pg_current_wal_lsn() (written up to) can be short of it, and pg_current_wal_insert_lsn()
    can be past records that are sent only at the next flush, seconds later."""
    want = primary.psql(primary.conninfo(dbname), GENERATION).strip()
    deadline = time.monotonic() + REPLAY_WAIT
    while replica.psql(replica.conninfo(dbname), GENERATION).strip() != want:
        if time.monotonic() > deadline:
            pytest.fail(f"the replica did not replay generation {want} within {REPLAY_WAIT}s\n"
                        f"{replica.log()}")
        time.sleep(0.005)
    return int(want)


# Runs on the replica while an import runs on the primary: a line each time the data generation
# it sees moves, with the time (the replica's clock, which is the primary's: one machine) and
# the commit time of the last transaction replayed. A COMMIT each round holds no snapshot, which
# would hold back the replay of cleanup records (a recovery conflict) and so make its own lag.
# Ended by psql's cancel (SIGINT).
WATCH_SQL = r"""
DO $$
DECLARE
    last bigint := (SELECT generation FROM pkgindex_state WHERE id = 1);
    now_gen bigint;
BEGIN
    LOOP
        now_gen := (SELECT generation FROM pkgindex_state WHERE id = 1);
        IF now_gen <> last THEN
            RAISE NOTICE 'generation % % %', now_gen,
                extract(epoch FROM clock_timestamp()),
                extract(epoch FROM pg_last_xact_replay_timestamp());
            last := now_gen;
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.001);
    END LOOP;
END $$;
"""


def import_and_measure(primary, replica, db, *args):
    """Runs pkgindex-import on the primary (DB) with ARGS, waits until the replica has replayed
    it, and returns the lag: seconds from the commit of the import's last transaction to its
    data being visible on the replica."""
    watch = subprocess.Popen([pg.PSQL, "-X", "-q", "-d", replica.conninfo(db.dbname),
                              "-c", WATCH_SQL], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # the watcher is looping once its backend waits in pg_sleep
        deadline = time.monotonic() + REPLAY_WAIT
        while replica.psql(replica.conninfo(), "SELECT count(*) FROM pg_stat_activity"
                           " WHERE wait_event = 'PgSleep';").strip() != "1":
            assert watch.poll() is None, watch.stderr.read()
            assert time.monotonic() < deadline, "the replica's watcher did not start"
            time.sleep(0.01)
        res = helpers.run_import(db, "--quiet", *args, init=False)
        assert res.returncode == 0, res.stdout
        generation = wait_replayed(primary, replica, db.dbname)
    finally:
        watch.send_signal(signal.SIGINT)  # psql cancels the statement and exits
        _, err = watch.communicate(timeout=REPLAY_WAIT)
    seen = [(float(m[1]), float(m[2])) for m in re.findall(r"NOTICE:  generation (-?\d+) ([\d.]+) ([\d.]+)", err)
            if int(m[0]) == generation]
    assert len(seen) == 1, (generation, err)
    visible_at, committed_at = seen[0]
    return visible_at - committed_at


def bodies(fronts):
    """{url: (status, body)} as the first front end serves it, after checking that every other
    one serves the same status and bytes (and ETag) for every URL."""
    out = {}
    for url in URLS:
        answers = [f.srv.request("GET", url) for f in fronts]
        first = answers[0]
        for f, a in zip(fronts, answers):
            assert (a.status, a.body, a.headers.get("ETag")) == \
                (first.status, first.body, first.headers.get("ETag")), (f.name, url)
        out[url] = (first.status, first.body)
    return out


def warm(fronts):
    for f in fronts:
        f.warm(URLS)


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return str(path)


def title(answer):
    status, body = answer
    assert status == 200, answer
    return json.loads(body)["title"]


def test_front_ends_on_a_primary_and_a_replica_agree(site, tmp_path):
    primary, replica, on_primary, on_replica, fronts = site
    before = bodies(fronts)
    assert before[f"/api/v4/packages/{DELETED}/"][0] == 200
    assert before[f"/api/v4/packages/{ADDED}/"][0] == 404
    assert json.loads(before["/api/v4/packages/?limit=100"][1])["count"] == 40
    warm(fronts)

    # Upstream renamed one package, added one and deleted another: a mirror's run with --prune.
    packages = helpers.read_jsonl(helpers.SAMPLE[2])
    new = next(dict(p) for p in packages if p["slug"] == "wagtail-whoosh")
    new.update(id=ADDED, slug="wagtail-whoosh-next", title="Wagtail Whoosh Next", grids=[],
               repo_url="https://github.com/example/wagtail-whoosh-next")
    for p in packages:
        if p["id"] == RENAMED:
            p["title"] = "South, renamed"
    packages = [p for p in packages if p["id"] != DELETED] + [new]
    lags = [import_and_measure(primary, replica, on_primary, "--prune",
                               write_jsonl(tmp_path / "packages.jsonl", packages))]

    after = bodies(fronts)
    assert after[f"/api/v4/packages/{DELETED}/"][0] == 404
    assert title(after[f"/api/v4/packages/{ADDED}/"]) == "Wagtail Whoosh Next"
    assert title(after[f"/api/v4/packages/{RENAMED}/"]) == "South, renamed"
    listing = json.loads(after["/api/v4/packages/?limit=100"][1])
    assert listing["count"] == 40 and DELETED not in [p["id"] for p in listing["results"]]
    assert json.loads(after["/api/v4/grids/2/"][1])["packages"] == []
    assert "wagtail-whoosh-next" in [h["slug"] for h in json.loads(after["/api/v4/search/?q=whoosh"][1])]
    assert "South, renamed" in [h["title"] for h in json.loads(after["/api/v4/search/?q=south"][1])]
    # every URL whose object changed answers anew; the others keep their bytes
    changed = {u for u in URLS if after[u] != before[u]}
    assert changed == set(URLS) - {"/api/v4/packages/wagtail-whoosh/", "/api/v4/grids/384/",
                                   "/api/v4/categories/1/"}, changed

    # More samples of the lag: one package's title at a time, every cache warm before each.
    south = next(p for p in packages if p["id"] == RENAMED)
    lags = {"off": lags, "on": []}
    for setting, samples in lags.items():
        # per database: pg.py's command line setting outranks ALTER SYSTEM
        primary.psql(primary.conninfo(),
                     f"ALTER DATABASE {on_primary.dbname} SET synchronous_commit = {setting};")
        while len(samples) < SAMPLES:
            warm(fronts)
            south["title"] = f"South, take {setting} {len(samples)}"
            samples.append(import_and_measure(
                primary, replica, on_primary,
                write_jsonl(tmp_path / f"south-{setting}-{len(samples)}.jsonl", [south])))
            now = bodies(fronts)
            assert title(now[f"/api/v4/packages/{RENAMED}/"]) == south["title"]
            listing = json.loads(now["/api/v4/packages/?limit=100"][1])
            assert south["title"] in [p["title"] for p in listing["results"]]
            hits = json.loads(now["/api/v4/search/?q=south"][1])
            assert south["title"] in [h["title"] for h in hits]

    for setting, samples in lags.items():
        print(f"\nreplica lag, import commit -> replayed, synchronous_commit={setting}: "
              + ", ".join(f"{lag * 1000:.1f}" for lag in samples)
              + f" ms; median {sorted(samples)[len(samples) // 2] * 1000:.1f} ms")


def test_an_import_into_the_replica_is_refused(site):
    primary, replica, on_primary, on_replica, fronts = site
    res = helpers.run_import(on_replica, "--quiet", helpers.SAMPLE[0], init=False)
    assert res.returncode == 1, res.stdout
    assert len(res.stdout.strip().splitlines()) == 1, res.stdout
    assert "standby" in res.stdout and "primary" in res.stdout, res.stdout
    res = helpers.run_import(on_replica, "--quiet", helpers.SAMPLE[0], init=True)
    assert res.returncode == 1 and len(res.stdout.strip().splitlines()) == 1, res.stdout
