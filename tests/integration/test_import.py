"""bin/pkgindex-import: shapes, faithfulness, upserts, transactions, errors, placeholders.

The importer links the module's own core: a database it writes is served byte for byte
(test_real_records and test_conformance run on imported databases). Here: everything else
the importer promises, checked on the database itself and through a server.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

import helpers

CONF = [os.path.join(helpers.CONFORMANCE, f"{n}.jsonl") for n in ("categories", "grids", "packages")]
CATS = helpers.read_jsonl(CONF[0])
GRIDS = helpers.read_jsonl(CONF[1])
PKGS = helpers.read_jsonl(CONF[2])


@pytest.fixture
def tmp(tmp_path, driver):
    """The test's directory; `db_(tmp, name)` makes databases of the test's driver."""
    return helpers.driver_dir(tmp_path, driver)


def db_(tmp, name="db.sqlite3"):
    """A new, empty database of the test's driver (NAME: the SQLite file's, in TMP)."""
    return helpers.new_db(tmp.driver, str(tmp / name))


# Module tables whose rows depend on the path (how the data arrived), not on the data: the
# search engine's own (SQLite's FTS5 pages and exact-title keys) and the counts' change counters.
PATH_DEPENDENT = ("searchv3_", "pkgindex_count")


def rows(conn, table, cols=None):
    """Every row of TABLE (COLS, default all), sorted: comparable across paths."""
    cols = cols or conn.columns(table)
    return sorted(conn.query(f"SELECT {', '.join(cols)} FROM {table}"), key=repr)


def dump(db, generation=True):
    """Every row of every table, for comparing databases. GENERATION False leaves out the data
    generation, a random value that two databases with the same rows do not share."""
    lines = []
    for table in db.tables():
        if table.startswith(PATH_DEPENDENT) or (not generation and table == "pkgindex_state"):
            continue
        lines += [f"{table}: {r!r}" for r in rows(db, table)]
    # counts by value; their change counters depend on the path (a new database is loaded
    # with triggers off and recounted once per file)
    lines += [repr(r) for r in db.query("SELECT name, n FROM pkgindex_count ORDER BY name")]
    # The search index by content: its row numbers (and SQLite's FTS5 pages) depend on the
    # path (rebuilt or updated row by row), what it finds does not.
    lines += [repr(r) for r in rows(db, "searchv3_searchv3",
                                    [c for c in db.columns("searchv3_searchv3") if c != "id"])]
    if "searchv3_exact" in db.tables():
        lines += [repr(r) for r in db.query(
            "SELECT s.item_type, s.item_id, e.key FROM searchv3_exact e"
            " JOIN searchv3_searchv3 s ON s.id = e.id ORDER BY 1, 2, 3")]
    return "\n".join(lines)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def jl(*objs):
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


def base_db(tmp, name="db.sqlite3"):
    return helpers.make_db(db_(tmp, name), *CONF)


def count(db, table):
    return db.value(f"SELECT COUNT(*) FROM {table}")


def test_reimport_is_a_no_op(tmp):
    db = base_db(tmp)
    before = dump(db)
    res = helpers.run_import(db, *CONF, init=False)
    assert res.returncode == 0, res.stdout
    assert dump(db) == before


def test_single_object_array_page_and_stdin(tmp):
    db = db_(tmp)
    page = {"count": 45, "next": None, "previous": None, "results": PKGS[:20]}
    files = [
        write(tmp / "cats.json", json.dumps(CATS, indent=2)),             # a JSON array
        write(tmp / "page.json", json.dumps(page)),                        # a list page
        write(tmp / "one.json", json.dumps(PKGS[20], indent=4)),           # a single object
        write(tmp / "grids.jsonl", jl(*GRIDS)),                            # JSON Lines
    ]
    rest = jl(*PKGS[21:])  # standard input, last: it cannot be read ahead
    res = subprocess.run([helpers.IMPORT, "--db", db.arg, "--init", *files, "-"],
                         input=rest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 1, res.stdout  # so the grids' links to its packages dangle
    assert "grids.jsonl:1: record 1 (grid 1): packages: Invalid hyperlink" in res.stdout
    res = subprocess.run([helpers.IMPORT, "--db", db.arg, "-", files[3]],
                         input=rest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 0, res.stdout
    assert dump(db, generation=False) == dump(base_db(tmp, "ref.sqlite3"), generation=False)


def test_links_from_any_host_and_decoration(tmp):
    db = db_(tmp)
    pkg = dict(PKGS[0], category="http://mirror.example:8080/x/api/v4/categories/1.json?format=json",
               grids=["https://a.example/api/v4/grids/3/?format=api"])
    grid = dict(GRIDS[2], packages=["//b.example/packages/1.api"])
    res = helpers.run_import(db, CONF[0], write(tmp / "p.jsonl", jl(grid, pkg)))
    assert res.returncode == 0, res.stdout
    assert db.query("SELECT category_id FROM package_package WHERE id = 1") == [(1,)]
    assert db.query("SELECT grid_id FROM grid_gridpackage WHERE package_id = 1") == [(3,)]


def test_newer_version_updates(tmp):
    db = base_db(tmp)
    old = PKGS[0]
    new = dict(old, title="renamed", pypi_version="9.9.9", grids=list(reversed(old["grids"])) + [
        "https://djangopackages.org/api/v4/grids/9/"], documentation_url=None,
        modified="2026-11-01T01:30:00.5-04:00")
    res = helpers.run_import(db, write(tmp / "new.jsonl", jl(new)), init=False)
    assert res.returncode == 0, res.stdout
    [row] = db.query("SELECT p.title, v.number, p.documentation_url, p.modified FROM package_package p"
                     " JOIN package_version v ON v.id = p.latest_version_id WHERE p.id = 1")
    assert row[:3] == ("renamed", "9.9.9", None)
    assert helpers.instant(row[3]) == helpers.instant("2026-11-01T05:30:00.500000+00:00")
    grids = [g for (g,) in db.query("SELECT grid_id FROM grid_gridpackage WHERE package_id = 1 ORDER BY id")]
    assert grids == [int(u.rstrip("/").rsplit("/", 1)[1]) for u in new["grids"]]
    # and back: the old version row is reused, not duplicated
    res = helpers.run_import(db, write(tmp / "old.jsonl", jl(old)), init=False)
    assert res.returncode == 0
    assert db.value("SELECT COUNT(*) FROM package_version WHERE package_id = 1") == 2
    assert db.value("SELECT v.number FROM package_package p JOIN package_version v"
                    " ON v.id = p.latest_version_id WHERE p.id = 1") == old["pypi_version"]


def bad_package(**kw):
    return dict(PKGS[1], **kw)


# (description, file text, expected message fragments)
BAD = [
    ("wrong type", jl(PKGS[0], bad_package(repo_forks="many")),
     ["bad.jsonl:2: record 2 (package 2): repo_forks: A valid integer is required."]),
    ("missing field", jl({k: v for k, v in PKGS[1].items() if k != "slug"}),
     ["bad.jsonl:1: record 1 (package 2): slug: This field is required."]),
    ("over-long title", jl(bad_package(title="x" * 101)),
     ["title: Ensure this field has no more than 100 characters."]),
    ("bad slug", jl(bad_package(slug="no spaces")),
     ['slug: Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']),
    ("duplicate slug", jl(bad_package(slug=PKGS[0]["slug"])),
     ["slug: package with this slug already exists."]),
    ("null where not allowed", jl(bad_package(repo_url=None)), ["repo_url: This field may not be null."]),
    ("bad datetime", jl(bad_package(created="yesterday")), ["created: Datetime has wrong format."]),
    ("naive datetime", jl(bad_package(created="2020-01-01T00:00:00")), ["created: Datetime has wrong format."]),
    ("bad link", jl(bad_package(category="https://x/api/v4/grids/1/")),
     ["category: Invalid hyperlink - No URL match."]),
    ("comma participant", jl(bad_package(participants=["a,b"])), ["participants: Each participant"]),
    ("boolean as string", jl(dict(GRIDS[0], is_locked="false")), ["is_locked: Must be a valid boolean."]),
    ("unknown shape", jl({"name": "x"}), ["unknown shape: not a package, grid or category"]),
    ("not an object", "42\n", ["unknown shape: expected a JSON object"]),
    ("truncated", jl(PKGS[0]) + json.dumps(PKGS[1])[:-30], ["bad.jsonl:2:", "truncated JSON"]),
    ("malformed", jl(PKGS[0]) + '{"id": 1,,}\n',
     [f"bad.jsonl:2: invalid JSON at byte {len(jl(PKGS[0]).encode()) + 9}: "]),
    ("trailing garbage", '[{"id": 1}] x\n', ["invalid JSON"]),
    ("NaN", jl(PKGS[0]).replace('"repo_forks":', '"repo_forks": NaN, "x":'),
     ["repo_forks: A valid integer is required."]),
    ("dangling category", jl(bad_package(category="https://djangopackages.org/api/v4/categories/77/")),
     ["package 2: category: Invalid hyperlink - Object does not exist: /categories/77/"]),
    ("dangling grid", jl(bad_package(grids=["https://djangopackages.org/api/v4/grids/404/"])),
     ["package 2: grids: Invalid hyperlink - Object does not exist: /grids/404/"]),
]


@pytest.mark.parametrize("text,fragments", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_input_changes_nothing(tmp, text, fragments):
    db = base_db(tmp)
    before = dump(db)
    bad = write(tmp / "bad.jsonl", text)
    res = helpers.run_import(db, bad, init=False)
    assert res.returncode == 1, res.stdout
    for fragment in fragments:
        assert fragment in res.stdout
    assert "refused" in res.stdout
    assert dump(db) == before


def test_invalid_utf8_changes_nothing(tmp):
    db = base_db(tmp)
    before = dump(db)
    path = tmp / "bad.jsonl"
    data = jl(PKGS[0]).encode() + json.dumps(PKGS[1]).encode().replace(b"django", b"dj\xff\xfe")
    path.write_bytes(data)
    res = helpers.run_import(db, str(path), init=False)
    assert res.returncode == 1, res.stdout
    at = data.index(b"\xff")
    assert f"bad.jsonl:2: invalid JSON at byte {at}: invalid utf-8" in res.stdout
    assert dump(db) == before


def test_gigabyte_line_is_refused_without_memory(tmp):
    """A record past 64 MiB is refused while streaming: memory stays bounded."""
    db = base_db(tmp)
    path = tmp / "huge.jsonl"
    with open(path, "w") as f:
        f.write('{"repo_description": "')
        chunk = "x" * (1 << 20)
        for _ in range(70):
            f.write(chunk)
        f.write('"}\n')
    res = subprocess.run(["/usr/bin/time", "-f", "maxrss=%M", helpers.IMPORT, "--db", db.arg,
                          str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 1
    assert "record larger than 64 MiB" in res.stdout
    rss_kb = int(res.stdout.rsplit("maxrss=", 1)[1])
    assert rss_kb < 200 * 1024, res.stdout


def test_skip_invalid_imports_the_rest(tmp):
    db = db_(tmp)
    text = jl(*CATS, *GRIDS) + jl(PKGS[0], bad_package(repo_forks="x"), *PKGS[2:])
    res = helpers.run_import(db, "--skip-invalid", write(tmp / "in.jsonl", text))
    assert res.returncode == 1  # not a full success
    assert "in.jsonl:" in res.stdout and "(package 2): repo_forks" in res.stdout
    assert count(db, "package_package") == 44
    # The grids that list package 2 now point at nothing: listed too, and skipped.
    assert "packages: Invalid hyperlink - Object does not exist: /packages/2/" in res.stdout
    assert "2 invalid" in res.stdout


def test_create_missing_makes_placeholders(tmp):
    db = db_(tmp)
    pkg = dict(PKGS[0], category="https://djangopackages.org/api/v4/categories/3/",
               grids=["https://djangopackages.org/api/v4/grids/12/"])
    grid = dict(GRIDS[0], packages=["https://djangopackages.org/api/v4/packages/999/"])
    src = write(tmp / "in.jsonl", jl(grid, pkg))
    res = helpers.run_import(db, src)
    assert res.returncode == 1
    assert "/packages/999/" in res.stdout and "/categories/3/" in res.stdout
    assert not db.exists() or count(db, "package_package") == 0
    res = helpers.run_import(db, "--create-missing", src)
    assert res.returncode == 0, res.stdout
    assert "placeholders" in res.stdout
    assert db.query("SELECT title, slug FROM package_category WHERE id = 3") == [
        ("category-3", "category-3")]
    assert db.query("SELECT title FROM grid_grid WHERE id = 12") == [("grid-12",)]
    assert db.query("SELECT slug, category_id FROM package_package WHERE id = 999") == [
        ("package-999", 3)]
    assert sorted(db.query("SELECT grid_id, package_id FROM grid_gridpackage")) == [
        (GRIDS[0]["id"], 999), (12, 1)]


def test_grid_lists_set_memberships(tmp):
    """A grid record alone adds and removes its memberships (the set; order is by title)."""
    db = base_db(tmp)
    grid = GRIDS[0]
    members = [u for u in grid["packages"]][1:] + ["https://djangopackages.org/api/v4/packages/1/"]
    res = helpers.run_import(db, write(tmp / "g.jsonl", jl(dict(grid, packages=members))), init=False)
    assert res.returncode == 0, res.stdout
    got = {p for (p,) in db.query(f"SELECT package_id FROM grid_gridpackage WHERE grid_id = {grid['id']}")}
    assert got == {int(u.rstrip("/").rsplit("/", 1)[1]) for u in members}


def test_usage_errors(tmp):
    assert helpers.run_import(db_(tmp, "x.sqlite3"), "--bogus").returncode == 2
    res = subprocess.run([helpers.IMPORT, "x.json"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 2 and "--db is required" in res.stdout
    if tmp.driver == "sqlite3":  # a PostgreSQL database exists before any import
        res = helpers.run_import(db_(tmp, "missing.sqlite3"), CONF[0], init=False)
        assert res.returncode == 1 and "does not exist (--init creates it)" in res.stdout
    res = helpers.run_import(db_(tmp), str(tmp / "nope.jsonl"))
    assert res.returncode == 1 and "nope.jsonl" in res.stdout


def test_type_flag_overrides_recognition(tmp):
    db = db_(tmp)
    res = helpers.run_import(db, "--type", "grid", CONF[0])
    assert res.returncode == 1 and "is_locked: This field is required." in res.stdout
    res = helpers.run_import(db, "--type", "category", CONF[0])
    assert res.returncode == 0, res.stdout


def test_progress_on_a_terminal_only(tmp):
    """Large inputs show records and records/s on standard error when it is a terminal."""
    import pty
    data = tmp / "gen.jsonl"
    subprocess.run([os.path.join(helpers.REPO, "bench", "gen-dataset"), "--packages", "12000",
                    "--out", str(data)], check=True)
    master, slave = pty.openpty()
    proc = subprocess.Popen([helpers.IMPORT, "--db", db_(tmp, "tty.sqlite3").arg, "--init",
                             str(data)], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait() == 0
    os.close(master)
    text = out.decode()
    assert re.search(r"gen.jsonl: \d+ records, \d+/s", text), text
    assert "imported 12000 packages" in text
    # Not a terminal: no progress, only the summary.
    res = helpers.run_import(db_(tmp, "plain.sqlite3"), str(data))
    assert "records," not in res.stdout and "imported 12000 packages" in res.stdout


def link_id(url):
    return int(url.rstrip("/").rsplit("/", 1)[1])


def content(db):
    """What a mirror must hold, independent of how it got there: objects, versions, the
    memberships (without their own ids), counts and the search index."""
    out = {}
    for table in ("package_package", "grid_grid", "package_category"):
        # row ids of versions depend on the path; the version itself is compared below
        out[table] = rows(db, table, [c for c in db.columns(table) if c != "latest_version_id"])
    out["versions"] = sorted(db.query(
        "SELECT v.package_id, v.number FROM package_version v"
        " JOIN package_package p ON p.latest_version_id = v.id"))
    out["members"] = sorted(db.query("SELECT grid_id, package_id FROM grid_gridpackage"))
    out["counts"] = sorted(db.query("SELECT name, n FROM pkgindex_count"))
    out["search"] = rows(db, "searchv3_searchv3", [c for c in db.columns("searchv3_searchv3") if c != "id"])
    if db.driver == "sqlite3":  # PostgreSQL enforces the original's foreign keys itself
        assert db.query("PRAGMA foreign_key_check") == []
    return out


def upstream_after_deletions():
    """The conformance source after upstream deleted a package, a grid and an unused category:
    the package is gone from every grid's list too, as the API would show it."""
    gone_pkg = PKGS[3]["id"]
    gone_grid = GRIDS[-1]["id"]
    used = {link_id(p["category"]) for p in PKGS}
    unused = [c["id"] for c in CATS if c["id"] not in used]
    cats = [c for c in CATS if c["id"] not in unused[:1]]
    grids = [dict(g, packages=[u for u in g["packages"] if link_id(u) != gone_pkg])
             for g in GRIDS if g["id"] != gone_grid]
    pkgs = [dict(p, grids=[u for u in p["grids"] if link_id(u) != gone_grid])
            for p in PKGS if p["id"] != gone_pkg]
    return cats, grids, pkgs, unused[:1]


def test_prune_makes_the_mirror_equal_a_fresh_copy(tmp):
    db = base_db(tmp)
    cats, grids, pkgs, unused = upstream_after_deletions()
    files = [write(tmp / "c.json", jl(*cats)), write(tmp / "g.json", jl(*grids)),
             write(tmp / "p.json", jl(*pkgs))]
    res = helpers.run_import(db, "--prune", *files, init=False)
    assert res.returncode == 0, res.stdout
    assert f"pruned 1 package, 1 grid, {len(unused)} categor" in res.stdout, res.stdout
    fresh = helpers.make_db(db_(tmp, "fresh.sqlite3"), *files)
    assert content(db) == content(fresh)
    # and again: nothing left to prune
    res = helpers.run_import(db, "--prune", *files, init=False)
    assert "pruned 0 packages, 0 grids, 0 categories" in res.stdout, res.stdout


def test_prune_keeps_kinds_the_input_lacks_and_what_records_link_to(tmp):
    db = base_db(tmp)
    before = content(db)
    keep = PKGS[:-1]
    # categories: only the first; the packages name others, which exist in the database
    res = helpers.run_import(db, "--prune", write(tmp / "c.json", jl(CATS[0])),
                             write(tmp / "p.json", jl(*keep)), init=False)
    assert res.returncode == 0, res.stdout
    assert "--prune: no grids in the input: every grid kept" in res.stdout
    # the categories the packages link to stay, though the input does not hold them
    used = {link_id(p["category"]) for p in keep} - {CATS[0]["id"]}
    after = content(db)
    assert after["grid_grid"] == before["grid_grid"]
    assert {r[0] for r in after["package_package"]} == {p["id"] for p in keep}
    assert {r[0] for r in after["package_category"]} == {CATS[0]["id"]} | used
    assert not any(pid == PKGS[-1]["id"] for _, pid in after["members"])


def test_prune_after_a_refused_file_deletes_nothing(tmp):
    db = base_db(tmp)
    before = dump(db)
    res = helpers.run_import(db, "--prune", write(tmp / "p.json", jl(PKGS[0], {"id": 2})), init=False)
    assert res.returncode == 1
    assert "--prune: nothing deleted, as not every record was imported" in res.stdout
    assert dump(db) == before
    res = helpers.run_import(db, "--prune", "--reindex", init=False)
    assert res.returncode == 2


def test_prune_counts_kinds_by_records_not_placeholders(tmp):
    """A link to a missing package makes a placeholder: the input still holds no package
    record, so no package is pruned."""
    db = base_db(tmp)
    grid = dict(GRIDS[0], packages=GRIDS[0]["packages"] + ["https://djangopackages.org/api/v4/packages/777777/"])
    res = helpers.run_import(db, "--create-missing", "--prune", write(tmp / "g.json", jl(grid)),
                             init=False)
    assert res.returncode == 0, res.stdout
    assert "--prune: no packages in the input: every package kept" in res.stdout, res.stdout
    assert count(db, "package_package") == len(PKGS) + 1
    assert f"pruned 0 packages, {len(GRIDS) - 1} grids" in res.stdout, res.stdout


def test_prune_lets_a_moved_slug_go_first(tmp):
    """Upstream deleted a package and gave its slug to another: the mirror converges in one run
    (the owner the input no longer holds is deleted before the slug is taken)."""
    db = base_db(tmp)
    gone, taker = PKGS[0], PKGS[1]
    pkgs = [dict(p, slug=gone["slug"]) if p["id"] == taker["id"] else p for p in PKGS[1:]]
    grids = [dict(g, packages=[u for u in g["packages"] if link_id(u) != gone["id"]]) for g in GRIDS]
    files = [write(tmp / "c.json", jl(*CATS)), write(tmp / "g.json", jl(*grids)),
             write(tmp / "p.json", jl(*pkgs))]
    res = helpers.run_import(db, "--prune", "--quiet", *files, init=False)
    assert res.returncode == 0, res.stdout
    assert (f"--prune: package {gone['id']} deleted first: its slug \"{gone['slug']}\" now "
            f"belongs to package {taker['id']}") in res.stdout, res.stdout
    assert "pruned" not in res.stdout  # --quiet
    fresh = helpers.make_db(db_(tmp, "fresh.sqlite3"), *files)
    assert content(db) == content(fresh)
    # without --prune the slug's owner stays, and the record is refused, as before
    db2 = base_db(tmp, "db2.sqlite3")
    res = helpers.run_import(db2, *files, init=False)
    assert res.returncode == 1 and f"(package {gone['id']} holds it)" in res.stdout, res.stdout
