"""bench/gen-dataset: deterministic, and its output is what the API would serve.

Generates 300 packages (a fraction of a second), twice with the same seed and once
with another, and checks the output the way the importer and the API see it:
byte-identical compact JSON (spec section 7), field order (section 2), unique ids
and slugs, hyperlinks that resolve, memberships present on both sides, grid
packages ordered by title (code points, ties by id), datetimes rendered in
America/New_York with the offset of their own instant (section 6), the
pypi_version/pypi_url rule, and lengths.  No httpd needed.

`validate()` is usable on bigger outputs too:
    python3 -c 'import sys; sys.path.insert(0, "tests/integration");
                import test_gen_dataset as t; print(t.validate(open("x.jsonl", "rb").read()))'
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import zoneinfo

import pytest

import helpers

GEN = os.path.join(helpers.REPO, "bench", "gen-dataset")
BASE = "https://djangopackages.org/api/v4/"
NY = zoneinfo.ZoneInfo("America/New_York")

CATEGORY_KEYS = ["id", "title", "slug", "description", "title_plural", "show_pypi", "created", "modified"]
GRID_KEYS = ["id", "title", "slug", "description", "is_locked", "packages", "header", "created", "modified"]
PACKAGE_KEYS = ["category", "grids", "id", "title", "slug", "last_updated", "last_fetched", "repo_url",
                "pypi_version", "created", "modified", "repo_forks", "repo_description", "pypi_url",
                "documentation_url", "repo_watchers", "commits_over_52", "participants"]
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?[+-]\d\d:\d\d$")


def generate(n, seed=None, base=None, stats=None):
    cmd = [GEN, "--packages", str(n)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if base is not None:
        cmd += ["--base-url", base]
    if stats is not None:
        cmd += ["--stats", str(stats)]
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, timeout=60).stdout


def link_id(url, base, kind):
    assert url.startswith(f"{base}{kind}/") and url.endswith("/"), url
    tail = url[len(base) + len(kind) + 1:-1]
    assert tail.isdigit() and not tail.startswith("0"), url
    return int(tail)


def check_datetime(s, micro=None):
    """s is Python's isoformat() of its own instant in America/New_York; returns the aware datetime."""
    assert isinstance(s, str) and ISO_RE.match(s), s
    dt = datetime.datetime.fromisoformat(s)
    local = dt.astimezone(NY)
    assert local.isoformat() == s, f"{s}: the instant renders as {local.isoformat()}"
    if micro is not None:
        assert bool(dt.microsecond) == micro, s
    return local


def validate(data, base=BASE, n=None):
    """Check a gen-dataset output (bytes); return a summary dict.  Raises AssertionError."""
    assert data.endswith(b"\n")
    lines = data[:-1].split(b"\n")
    objs = []
    for raw in lines:
        obj = json.loads(raw)
        assert helpers.drf_json(obj) == raw, raw[:200]
        objs.append(obj)

    cats = objs[:5]
    assert [list(c) for c in cats] == [CATEGORY_KEYS] * 5
    assert [c["id"] for c in cats] == [1, 2, 3, 4, 5]
    grids = []
    k = 5
    while k < len(objs) and list(objs[k]) == GRID_KEYS:
        grids.append(objs[k])
        k += 1
    packages = objs[k:]
    assert all(list(p) == PACKAGE_KEYS for p in packages)
    if n is not None:
        assert len(packages) == n
        assert len(grids) == max(1, n // 15)

    offsets = set()
    ambiguous = 0

    def dt(s, micro=None):
        nonlocal ambiguous
        local = check_datetime(s, micro)
        offsets.add(s[-6:])
        if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
            ambiguous += 1  # a wall time that occurs twice (fall back)
        return local

    for c in cats:
        assert dt(c["created"]) <= dt(c["modified"])

    # grids
    gids = [g["id"] for g in grids]
    assert gids == sorted(set(gids)) and gids[0] >= 1
    if len(gids) >= 3:
        assert gids[-1] - gids[0] + 1 > len(gids), "grid ids have no gaps"
    gslugs = [g["slug"] for g in grids]
    assert len(set(gslugs)) == len(gslugs)
    for g in grids:
        assert SLUG_RE.match(g["slug"]) and len(g["slug"]) <= 50 and not g["slug"].isdigit(), g["slug"]
        assert isinstance(g["title"], str) and 0 < len(g["title"]) <= 100
        assert isinstance(g["description"], str)
        assert isinstance(g["is_locked"], bool) and isinstance(g["header"], bool)
        assert dt(g["created"]) <= dt(g["modified"])

    # packages
    pids = [p["id"] for p in packages]
    assert pids == sorted(set(pids)) and (not pids or pids[0] >= 1)
    if n:
        assert pids[-1] <= 1.25 * n + 5
    pslugs = [p["slug"] for p in packages]
    assert len(set(pslugs)) == len(pslugs)
    by_id = {p["id"]: p for p in packages}
    grid_ids = set(gids)
    from_packages = []
    for p in packages:
        assert SLUG_RE.match(p["slug"]) and len(p["slug"]) <= 50 and not p["slug"].isdigit(), p["slug"]
        assert isinstance(p["title"], str) and 0 < len(p["title"]) <= 100
        assert link_id(p["category"], base, "categories") in {1, 2, 3, 4, 5}
        pg = [link_id(u, base, "grids") for u in p["grids"]]
        assert 1 <= len(pg) <= 3 and len(set(pg)) == len(pg) and set(pg) <= grid_ids, p["grids"]
        from_packages += [(g, p["id"]) for g in pg]
        assert (p["pypi_version"] is None) == (p["pypi_url"] == ""), p
        assert p["pypi_version"] is None or (isinstance(p["pypi_version"], str) and p["pypi_version"])
        for key in ("repo_url", "repo_description", "pypi_url"):
            assert isinstance(p[key], str)
        assert p["documentation_url"] is None or isinstance(p["documentation_url"], str)
        for key in ("repo_forks", "repo_watchers"):
            assert type(p[key]) is int and p[key] >= 0
        c52 = p["commits_over_52"]
        assert len(c52) in (0, 52) and all(type(x) is int and x >= 0 for x in c52)
        parts = p["participants"]
        assert len(parts) <= 15 and len(set(parts)) == len(parts)
        for who in parts:
            assert isinstance(who, str) and who and "," not in who and who == who.strip(), parts
        assert dt(p["created"]) < dt(p["modified"])
        if p["last_updated"] is not None:
            dt(p["last_updated"], micro=False)
        if p["last_fetched"] is not None:
            dt(p["last_fetched"], micro=True)

    # memberships: both sides agree, grid packages in title order (code points), ties by id
    from_grids = []
    for g in grids:
        members = [link_id(u, base, "packages") for u in g["packages"]]
        assert len(set(members)) == len(members)
        assert all(m in by_id for m in members), g["id"]
        keys = [(by_id[m]["title"], m) for m in members]
        assert keys == sorted(keys), f"grid {g['id']} packages not in title order"
        from_grids += [(g["id"], m) for m in members]
    assert sorted(from_grids) == sorted(from_packages)

    return {"categories": len(cats), "grids": len(grids), "packages": len(packages),
            "memberships": len(from_grids), "offsets": sorted(offsets), "ambiguous": ambiguous}


@pytest.fixture(scope="module")
def output():
    return generate(300)


def test_deterministic(output):
    assert generate(300, seed=2026) == output


def test_seed_changes_output(output):
    assert generate(300, seed=7) != output


def test_output_is_valid(output):
    summary = validate(output, n=300)
    assert summary["offsets"] == ["-04:00", "-05:00"]
    assert summary["ambiguous"] > 0, "no instant in the repeated hour of a fall-back day"


def test_categories_are_the_real_ones(output):
    with open(os.path.join(helpers.CONFORMANCE, "categories.jsonl"), "rb") as f:
        expected = f.read().splitlines()
    assert output.split(b"\n")[:5] == expected


def test_content_variety(output):
    """The edge cases the dataset is for actually occur (seed 2026, 300 packages)."""
    pkgs = [json.loads(line) for line in output.splitlines() if line.startswith(b'{"category"')]
    descs = [p["repo_description"] for p in pkgs]
    assert "" in descs and any(not d.isascii() for d in descs)
    assert any("\r\n" in d for d in descs)
    assert {None, ""} <= {p["documentation_url"] for p in pkgs}
    assert any(p["pypi_version"] is None for p in pkgs) and any(p["pypi_version"] for p in pkgs)
    assert any(p["commits_over_52"] == [] for p in pkgs) and any(any(p["commits_over_52"]) for p in pkgs)
    assert any(p["last_updated"] is None for p in pkgs) and any(p["last_fetched"] is None for p in pkgs)
    assert any(p["title"] != p["slug"] for p in pkgs)
    assert any(not p["title"].isascii() for p in pkgs)
    titles = [p["title"] for p in pkgs]
    assert len(set(titles)) < len(titles), "no duplicate titles (grid order ties)"
    assert any(w.endswith("[bot]") for p in pkgs for w in p["participants"])
    assert any(len(p["grids"]) > 1 for p in pkgs)
    assert sum(p["category"].endswith("/categories/1/") for p in pkgs) > len(pkgs) / 2


def test_base_url_and_stats(tmp_path):
    stats = tmp_path / "stats.json"
    data = generate(40, seed=3, base="http://mirror.example.org/v4", stats=stats)
    summary = validate(data, base="http://mirror.example.org/v4/", n=40)
    manifest = json.loads(stats.read_text())
    assert manifest["seed"] == 3 and manifest["packages"] == 40
    assert manifest["grids"] == summary["grids"] and manifest["memberships"] == summary["memberships"]
    assert b"djangopackages.org" not in data


def test_importer_accepts_it(output, tmp_path, driver):
    """bin/pkgindex-import loads it without complaint (spec section 10)."""
    path = tmp_path / "gen.jsonl"
    path.write_bytes(output)
    run = helpers.run_import(helpers.new_db(driver, str(tmp_path / "x.sqlite3")), str(path))
    assert run.returncode == 0, run.stdout
    assert "imported 300 packages, 20 grids, 5 categories" in run.stdout, run.stdout


def test_served_back_byte_for_byte(output, module_so, driver):
    """Every generated object, imported, is served exactly as generated: the importer and
    the renderer agree on non-ASCII, escapes, DST offsets, nulls and membership order."""
    workdir = helpers.make_www_tmpdir("pkgindex-gen-")
    try:
        os.mkdir(os.path.join(workdir, "db"), 0o755)
        src = os.path.join(workdir, "gen.jsonl")
        with open(src, "wb") as f:
            f.write(output)
        db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), src, driver=driver)
        with helpers.Server(db, f"PkgIndexBaseURL {helpers.BASE_URL}", workdir=workdir,
                            module=module_so) as server:
            for line in output.splitlines():
                obj = json.loads(line)
                kind = "packages" if "repo_url" in obj else "grids" if "is_locked" in obj else "categories"
                resp = server.request("GET", f"/api/v4/{kind}/{obj['id']}/")
                assert resp.status == 200 and resp.body == line, obj["id"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
