"""bin/pkgindex-import against hostile and unlucky input: bytes that are not JSON, encodings
and compression, lone surrogates, empty files, a full disk, read-only files, other importers
at the same time. Every refusal must be quick, exact about where, change nothing, and say what
to do; no input may make the importer loop while it holds the database's write lock.
"""

import gzip
import json
import os
import pathlib
import random
import shutil
import subprocess
import threading
import time

import pytest

import helpers
from test_import import CATS, CONF, GRIDS, PKGS, base_db, count, db_, dump, jl, write


@pytest.fixture
def tmp_path(tmp_path, driver):
    """pytest's tmp_path, saying the test's driver: every test here runs on both (or is
    marked sqlite_only), and makes its databases with db_(tmp_path) or base_db(tmp_path)."""
    return helpers.driver_dir(tmp_path, driver)


# An importer that loops is a failed test, not a hung suite.
TIMEOUT = 60


def run(db, *args, timeout=TIMEOUT, user=None):
    cmd = [helpers.IMPORT, "--db", helpers.as_db(db).arg] + list(args)
    if user:
        cmd = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups"] + cmd
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def run_bytes(tmp, db, data, name="bad.json", *args, timeout=TIMEOUT):
    path = tmp / name
    path.write_bytes(data)
    return run(db, *args, str(path), timeout=timeout)


ONE = jl(CATS[0]).encode()  # one valid record and its newline
REC = json.dumps(CATS[0]).encode()  # the same record without the newline

# (id, bytes, the exact message after "bad.json:")
HOSTILE = [
    ("comma between objects", REC + b"," + REC + b"\n",
     f"1: invalid JSON at byte {len(REC)}: unexpected ','"),
    ("extra brace", REC + b"}\n", f"1: invalid JSON at byte {len(REC)}: unexpected '}}'"),
    ("stray bracket", ONE + b"]\n", f"2: invalid JSON at byte {len(ONE)}: unexpected ']'"),
    ("many stray commas", ONE + b",\n" * 200, f"2: invalid JSON at byte {len(ONE)}: unexpected ','"),
    ("NUL between records", ONE + b"\0" + ONE,
     f"2: invalid JSON at byte {len(ONE)}: unexpected NUL byte"),
    ("NUL inside a record", REC[:10] + b"\0" + REC[10:] + b"\n",
     "1: invalid JSON at byte 10: unexpected NUL byte"),
    ("NUL after a number", b"[42\0]", "1: invalid JSON at byte 3: unexpected NUL byte"),
    ("array trailing comma", b"[" + REC + b",]", f"1: invalid JSON at byte {len(REC) + 2}: "
     "expected an array element, found ']'"),
    ("array missing comma", b"[" + REC + b" " + REC + b"]",
     f"1: invalid JSON at byte {len(REC) + 2}: expected ',' or ']' after an array element"),
    ("truncated array", b"[" + REC + b",\n",
     f"2: truncated JSON at byte {len(REC) + 3}: the input ends inside an array"),
    ("truncated object", ONE + REC[:-5],
     f"2: truncated JSON at byte {len(ONE) + len(REC) - 5}: the input ends inside a value"),
    ("control byte", ONE + b"\x01", f"2: invalid JSON at byte {len(ONE)}: unexpected byte 0x01"),
    ("gzip", gzip.compress(ONE * 3), "1: gzip-compressed data, not JSON text: decompress it first"),
    ("UTF-16LE with BOM", "\ufeff".encode("utf-16-le") + ONE.decode().encode("utf-16-le"),
     "1: UTF-16 text (little-endian byte order mark): convert it to UTF-8 first"),
    ("UTF-16BE with BOM", "\ufeff".encode("utf-16-be") + ONE.decode().encode("utf-16-be"),
     "1: UTF-16 text (big-endian byte order mark): convert it to UTF-8 first"),
    ("UTF-16 without BOM", ONE.decode().encode("utf-16-le"),
     "1: UTF-16 text (no byte order mark): convert it to UTF-8 first"),
    ("UTF-32", ONE.decode().encode("utf-32"), "1: UTF-32 text"),
    ("bzip2", b"BZh91AY&SY" + bytes(20), "1: bzip2-compressed data"),
    ("zip", b"PK\x03\x04" + bytes(20), "1: a zip archive, not JSON text"),
]


@pytest.mark.parametrize("data,message", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_bytes_are_refused_at_once(tmp_path, data, message):
    db = base_db(tmp_path)
    before = dump(db)
    res = run_bytes(tmp_path, db, data)
    assert res.returncode == 1, res.stdout
    assert "bad.json:" + message in res.stdout, res.stdout
    assert "refused, nothing imported" in res.stdout
    assert dump(db) == before


def test_random_bytes_are_refused_at_once(tmp_path):
    """Many random files, each refused within the timeout (the old splitter span forever on
    some), and the database is untouched."""
    db = base_db(tmp_path)
    before = dump(db)
    rng = random.Random(20261206)
    for i in range(40):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
        res = run_bytes(tmp_path, db, data, timeout=20)
        assert res.returncode == 1, (i, res.stdout)
        assert "refused" in res.stdout
    # JSON-looking noise: brackets, quotes, commas and escapes in random order
    for i in range(40):
        data = "".join(rng.choice('{}[]",:\\ \n0a-') for _ in range(rng.randrange(1, 400))).encode()
        res = run_bytes(tmp_path, db, data, timeout=20)
        assert res.returncode in (0, 1), (i, res.stdout)
    assert dump(db) == before


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    db = db_(tmp_path)
    res = run_bytes(tmp_path, db, b"\xef\xbb\xbf" + jl(*CATS).encode(), "bom.json", "--init")
    assert res.returncode == 0, res.stdout
    assert count(db, "package_category") == len(CATS)


@pytest.mark.parametrize("text", ["", "  \n\t\r\n", "\ufeff"], ids=["empty", "blanks", "BOM only"])
def test_an_empty_file_is_no_success(tmp_path, text):
    db = base_db(tmp_path)
    before = dump(db)
    res = run_bytes(tmp_path, db, text.encode())
    assert res.returncode == 1, res.stdout
    assert "bad.json: no records" in res.stdout
    assert dump(db) == before


def test_an_empty_array_or_page_is_zero_records(tmp_path):
    """A page of nothing is a valid answer of the API: imported, no error."""
    db = base_db(tmp_path)
    for text in ("[]", '{"count": 0, "next": null, "previous": null, "results": []}'):
        res = run_bytes(tmp_path, db, text.encode())
        assert res.returncode == 0, res.stdout
        assert "imported 0 packages, 0 grids, 0 categories" in res.stdout


LONE = [
    ("high alone", r"caf\ud800", 3),
    ("low alone", r"caf\udc00x", 3),
    ("high then text", r"\ud83dx\ude00", 0),
    ("two highs", r"\ud83d\ud83d", 0),
    ("high at the end", r"x\ud83d", 1),
]


@pytest.mark.parametrize("text,at", [l[1:] for l in LONE], ids=[l[0] for l in LONE])
def test_lone_surrogates_are_refused(tmp_path, text, at):
    """json-c would store U+FFFD: not what was sent."""
    db = base_db(tmp_path)
    before = dump(db)
    prefix = '{"id": 1, "title": "'
    body = (prefix + text + '", "slug": "x", "description": "", "title_plural": "x", '
            '"show_pypi": true, "created": "2020-01-01T00:00:00Z", "modified": "2020-01-01T00:00:00Z"}')
    res = run_bytes(tmp_path, db, ONE + body.encode() + b"\n")
    assert res.returncode == 1, res.stdout
    offset = len(ONE) + len(prefix) + at
    assert f"bad.json:2: invalid JSON at byte {offset}: lone surrogate {text[at:at + 6]}" in res.stdout
    assert dump(db) == before


def test_surrogate_pairs_and_escaped_backslashes_are_kept(tmp_path):
    db = db_(tmp_path)
    cat = dict(CATS[0], title="x")
    text = json.dumps(cat).replace('"title": "x"', r'"title": "\ud83d\ude00 \\ud800"')
    res = run_bytes(tmp_path, db, text.encode() + b"\n", "ok.json", "--init")
    assert res.returncode == 0, res.stdout
    title = db.value(f"SELECT title FROM package_category WHERE id = {cat['id']}")
    assert title == "\U0001F600 \\ud800"


def test_usage_errors_exit_2(tmp_path):
    for args in (["--db", "mysql:x", "f.json"], ["--db", "sqlite3:", "f.json"],
                 ["--db", "pgsql", "f.json"], ["--wait", "soon", "--db", "sqlite3:x", "f"]):
        res = subprocess.run([helpers.IMPORT] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
        assert res.returncode == 2, (args, res.stdout)
        assert "usage:" in res.stdout


def test_summary_counts_in_words(tmp_path):
    db = db_(tmp_path)
    res = run(db, "--init", "--create-missing", write(tmp_path / "one.json", jl(CATS[0], GRIDS[0])))
    assert res.returncode == 0, res.stdout
    assert "imported 0 packages, 1 grid, 1 category" in res.stdout, res.stdout
    assert "1 grids" not in res.stdout and "1 categories" not in res.stdout


def test_a_duplicate_slug_names_its_holder(tmp_path):
    db = base_db(tmp_path)
    before = dump(db)
    taken = dict(PKGS[1], slug=PKGS[0]["slug"])
    res = run(db, write(tmp_path / "dup.json", jl(taken)))
    assert res.returncode == 1
    assert (f"dup.json:1: record 1 (package {PKGS[1]['id']}): slug: package with this slug already "
            f"exists. (package {PKGS[0]['id']} holds it)") in res.stdout, res.stdout
    # held by an earlier record of the same file
    new = dict(PKGS[1], id=99999, repo_url="https://example.org/new", slug="brand-new")
    clash = dict(PKGS[2], slug="brand-new")
    res = run(db, write(tmp_path / "dup2.json", jl(new, clash)))
    assert res.returncode == 1
    assert "(package 99999 holds it)" in res.stdout, res.stdout
    # --skip-invalid asks before writing: same words
    res = run(db, "--skip-invalid", write(tmp_path / "dup3.json", jl(taken)))
    assert f"(package {PKGS[0]['id']} holds it)" in res.stdout, res.stdout
    assert dump(db) == before


def test_concurrent_imports_both_succeed(tmp_path):
    """Importers (and --reindex runs) started together take turns: every one succeeds, though
    each rebuilds the search index (which changes the schema under the others)."""
    db = base_db(tmp_path)
    files = []
    for k in range(2):
        changed = [dict(p, repo_description=f"changed by import {k}") for p in PKGS]
        files.append(write(tmp_path / f"p{k}.json", jl(*changed)))
    for _ in range(4):
        procs = [subprocess.Popen([helpers.IMPORT, "--db", db.arg, f], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for f in files]
        procs.append(subprocess.Popen([helpers.IMPORT, "--db", db.arg, "--reindex"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        for p in procs:
            out, _ = p.communicate(timeout=TIMEOUT)
            assert p.returncode == 0, out
    if db.driver == "sqlite3":
        assert db.query("PRAGMA integrity_check") == [("ok",)]
    descs = {d for (d,) in db.query("SELECT repo_description FROM package_package")}
    indexed = {d for (d,) in db.query(
        "SELECT description FROM searchv3_searchv3 WHERE item_type = 'package'")}
    assert len(descs) == 1 and descs < {"changed by import 0", "changed by import 1"}
    assert indexed == descs  # the index follows the last import


@pytest.mark.sqlite_only("holds SQLite's write lock (BEGIN IMMEDIATE) from another connection")
def test_an_import_waits_for_another_writer(tmp_path):
    """A writer that holds the lock for a while is waited for, and the wait is said once."""
    import sqlite3
    db = base_db(tmp_path).path
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(2.0, lambda: conn.execute("ROLLBACK"))
    timer.start()
    try:
        res = run(db, write(tmp_path / "c.json", jl(dict(CATS[0], title="waited"))))
    finally:
        timer.join()
        conn.close()
    assert res.returncode == 0, res.stdout
    assert res.stdout.count("waiting for the database's write lock") == 1, res.stdout


@pytest.mark.sqlite_only("holds SQLite's write lock (BEGIN IMMEDIATE) from another connection")
def test_a_lock_held_too_long_says_what_to_do(tmp_path):
    import sqlite3
    db = base_db(tmp_path)
    before = dump(db)
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        res = run(db, "--wait", "1", write(tmp_path / "c.json", jl(dict(CATS[0], title="late"))))
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert res.returncode == 1
    assert ("c.json: the database is locked by another writer (another pkgindex-import?): run again "
            "when it has finished, or wait longer (--wait); nothing was imported from this file"
            ) in res.stdout, res.stdout
    assert dump(db) == before


def in_small_tmpfs(tmp_path, size, script):
    """Runs SCRIPT (sh) with $FULL a tmpfs of SIZE, in a private mount namespace."""
    full = tmp_path / "full"
    full.mkdir()
    cmd = ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs "$FULL" && {script}']
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=64k tmpfs "{full}"'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {probe.stdout}")
    env = dict(os.environ, FULL=str(full), IMPORT=helpers.IMPORT)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=TIMEOUT, env=env)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "gen.jsonl"
    subprocess.run([os.path.join(helpers.REPO, "bench", "gen-dataset"), "--packages", "3000",
                    "--out", str(path)], check=True, stdout=subprocess.DEVNULL)
    return str(path)


@pytest.mark.sqlite_only("fills the disk under the database file (a small tmpfs)")
def test_a_full_disk_is_named_and_nothing_follows(tmp_path, generated):
    """ENOSPC into a new database: said as such, not at 'line 0', and no search index
    rebuilt for a refused import."""
    res = in_small_tmpfs(tmp_path, "600k",
                         f'"$IMPORT" --db "sqlite3:$FULL/db.sqlite3" --init "{generated}"; echo "rc=$?"')
    out = res.stdout
    assert "rc=1" in out, out
    assert "gen.jsonl: the disk is full: free space and run again; nothing was imported" in out, out
    assert ":0:" not in out and "search index rebuilt" not in out, out


@pytest.mark.sqlite_only("fills the disk under the database file (a small tmpfs)")
def test_a_full_disk_during_an_update_changes_nothing(tmp_path, generated):
    head = tmp_path / "head.jsonl"
    with open(generated) as src, open(head, "w") as dst:
        for _ in range(300):
            dst.write(src.readline())
    script = (f'"$IMPORT" --quiet --db "sqlite3:$FULL/db.sqlite3" --init --create-missing "{head}" '
              f'>/dev/null 2>&1; cp "$FULL/db.sqlite3" "$FULL/../before.sqlite3"; '
              f'"$IMPORT" --db "sqlite3:$FULL/db.sqlite3" "{generated}"; echo "rc=$?"; '
              f'cp "$FULL/db.sqlite3" "$FULL/../after.sqlite3"')
    res = in_small_tmpfs(tmp_path, "1200k", script)
    out = res.stdout
    assert "rc=1" in out, out
    assert "the disk is full: free space and run again; nothing was imported" in out, out
    assert dump(helpers.as_db(str(tmp_path / "after.sqlite3"))) == \
        dump(helpers.as_db(str(tmp_path / "before.sqlite3")))


def unprivileged():
    """A user that file permissions apply to (root's are not checked)."""
    if os.geteuid() != 0:
        return None
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop root")
    return "nobody"


@pytest.fixture
def open_tmp():
    """A temp dir under /tmp that another user can traverse (pytest's are 0700)."""
    path = helpers.make_www_tmpdir("pkgindex-ro-")
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.sqlite_only("the directory of the database file is read-only")
def test_a_read_only_directory_is_named(open_tmp, driver):
    user = unprivileged()
    tmp_path = open_tmp
    d = tmp_path / "ro"
    d.mkdir()
    db = helpers.make_db(str(d / "db.sqlite3"), *CONF).path
    src = write(tmp_path / "c.json", jl(dict(CATS[0], title="x")))
    os.chmod(src, 0o644)
    if user:
        shutil.chown(db, user=user)
    for f in (db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    os.chmod(d, 0o555)
    try:
        res = run(db, src, user=user)
    finally:
        os.chmod(d, 0o755)
    assert res.returncode == 1, res.stdout
    assert (f"{d}: directory not writable: SQLite needs to create -wal/-shm files next to the "
            "database") in res.stdout, res.stdout
    assert "PRAGMA" not in res.stdout


@pytest.mark.sqlite_only("the database file is read-only")
def test_a_read_only_file_is_named(open_tmp, driver):
    user = unprivileged()
    tmp_path = open_tmp
    db = helpers.make_db(str(tmp_path / "db.sqlite3"), *CONF).path
    src = write(tmp_path / "c.json", jl(dict(CATS[0], title="x")))
    os.chmod(tmp_path, 0o777)
    os.chmod(src, 0o644)
    os.chmod(db, 0o444)
    res = run(db, src, user=user)
    assert res.returncode == 1, res.stdout
    assert f"{db}: not writable (Permission denied)" in res.stdout, res.stdout
    assert "PRAGMA" not in res.stdout


# --- found in review and by a new user ---

@pytest.mark.sqlite_only("probes SQLite's write lock (BEGIN IMMEDIATE) from another connection")
def test_a_slow_input_does_not_hold_the_write_lock(tmp_path):
    """Nothing read yet: no lock. A refused file gives the lock back at once, though its input
    is still open (a pipe that has more to say later)."""
    import sqlite3
    db = base_db(tmp_path).path
    proc = subprocess.Popen([helpers.IMPORT, "--db", f"sqlite3:{db}", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        with sqlite3.connect(db, timeout=0) as conn:  # raises "database is locked" if held
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        proc.stdin.write(ONE + b",")  # refused at the comma; the pipe stays open
        proc.stdin.flush()
        deadline = time.time() + 20
        while True:
            try:
                with sqlite3.connect(db, timeout=0) as conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
                break
            except sqlite3.OperationalError:
                assert time.time() < deadline, "the write lock was kept"
                time.sleep(0.1)
        assert proc.poll() is None  # still waiting for its input to end
    finally:
        out = proc.communicate(timeout=TIMEOUT)[0].decode()
    assert proc.returncode == 1 and "unexpected ','" in out, out


def test_concurrent_inits_of_a_new_database_take_turns(tmp_path):
    for k in range(4):
        db = db_(tmp_path, f"new{k}.sqlite3")
        procs = [subprocess.Popen([helpers.IMPORT, "--db", db.arg, "--init", *CONF],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
        for p in procs:
            out = p.communicate(timeout=TIMEOUT)[0]
            assert p.returncode == 0, out
        if db.driver == "sqlite3":
            assert db.query("PRAGMA journal_mode") == [("wal",)]
            assert db.query("PRAGMA integrity_check") == [("ok",)]
        assert count(db, "package_package") == len(PKGS)


def test_the_reason_for_a_refusal_is_shown_after_many_complaints(tmp_path):
    db = base_db(tmp_path)
    bad = [dict(PKGS[0], id=90000 + i, repo_forks="x") for i in range(60)]
    res = run_bytes(tmp_path, db, jl(*bad).encode() + REC[:-3], "many.json", "--skip-invalid")
    assert res.returncode == 1
    assert "more errors not shown" in res.stdout
    assert "truncated JSON at byte" in res.stdout, res.stdout


def test_null_and_malformed_utf8_are_refused(tmp_path):
    db = base_db(tmp_path)
    before = dump(db)
    res = run_bytes(tmp_path, db, b"null\n")
    assert res.returncode == 1 and "bad.json:1: record 1: unknown shape: expected a JSON object" in res.stdout
    for seq in (b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80"):
        text = REC.replace(b'"title": "', b'"title": "' + seq, 1)
        at = text.index(seq)
        res = run_bytes(tmp_path, db, text + b"\n")
        assert res.returncode == 1, res.stdout
        assert f"bad.json:1: invalid JSON at byte {at}: invalid UTF-8" in res.stdout, res.stdout
    assert dump(db) == before


def test_skip_invalid_writes_no_dangling_link(tmp_path):
    """A record with a link to nothing is skipped, not written with the link."""
    db = base_db(tmp_path)
    bad = dict(PKGS[1], category="https://djangopackages.org/api/v4/categories/99/",
               grids=PKGS[1]["grids"] + ["https://djangopackages.org/api/v4/grids/98765/"])
    good = dict(PKGS[2], repo_description="still imported")
    res = run(db, "--skip-invalid", write(tmp_path / "p.json", jl(bad, good)))
    assert res.returncode == 1
    assert (f"p.json:1: record 1 (package {bad['id']}): category: Invalid hyperlink - Object does "
            "not exist: /categories/99/") in res.stdout, res.stdout
    assert "grids: Invalid hyperlink - Object does not exist: /grids/98765/" in res.stdout
    assert "imported 1 package, 0 grids, 0 categories; 1 invalid record skipped" in res.stdout
    if db.driver == "sqlite3":  # PostgreSQL enforces the original's foreign keys itself
        assert db.query("PRAGMA foreign_key_check") == []
    assert db.value(f"SELECT category_id FROM package_package WHERE id = {bad['id']}") != 99
    assert db.query(f"SELECT repo_description FROM package_package WHERE id = {good['id']}") == [
        ("still imported",)]
    # a grid listing a package that exists nowhere is skipped whole
    grid = dict(GRIDS[0], title="skipped", packages=["https://djangopackages.org/api/v4/packages/424242/"])
    res = run(db, "--skip-invalid", write(tmp_path / "g.json", jl(grid)))
    assert "packages: Invalid hyperlink - Object does not exist: /packages/424242/" in res.stdout
    assert db.query(f"SELECT title FROM grid_grid WHERE id = {grid['id']}") != [("skipped",)]
    if db.driver == "sqlite3":
        assert db.query("PRAGMA foreign_key_check") == []


def test_pipes_and_fifos_are_read_once(tmp_path):
    """Ids are read ahead from regular files only: a FIFO is imported, not drained first (which
    left nothing for the import) or opened twice (which blocked for good)."""
    db = db_(tmp_path)
    parts = [CONF[0], CONF[1:]]  # categories; then grids and packages, which link each other
    fifos, writers = [], []
    for k, srcs in enumerate(parts):
        fifo = str(tmp_path / f"f{k}")
        os.mkfifo(fifo)
        fifos.append(fifo)
        srcs = srcs if isinstance(srcs, list) else [srcs]
        writers.append(subprocess.Popen(["sh", "-c", f'cat {" ".join(srcs)} > "{fifo}"']))
    try:
        res = run(db, "--init", *fifos, timeout=30)
    finally:
        for w in writers:
            w.kill()
            w.wait()
    assert res.returncode == 0, res.stdout
    assert count(db, "package_package") == len(PKGS)
    assert count(db, "grid_grid") == len(GRIDS)


def test_a_missing_file_imports_nothing(tmp_path):
    db = base_db(tmp_path)
    before = dump(db)
    res = run(db, write(tmp_path / "c.json", jl(dict(CATS[0], title="changed"))),
              str(tmp_path / "nope.json"))
    assert res.returncode == 1
    assert "nope.json: No such file or directory (nothing imported)" in res.stdout, res.stdout
    assert dump(db) == before


def test_help_and_version(tmp_path):
    for flag in ("--help", "--version"):
        res = subprocess.run([helpers.IMPORT, flag], capture_output=True, text=True, timeout=TIMEOUT)
        assert res.returncode == 0 and res.stdout and not res.stderr, res
    assert "--prune" in subprocess.run([helpers.IMPORT, "--help"], capture_output=True,
                                       text=True).stdout
    res = subprocess.run([helpers.IMPORT, "--bogus"], capture_output=True, text=True)
    assert res.returncode == 2 and "--bogus" in res.stderr
