"""What README.md tells a new user must work as written: its URLs and search examples find
something in the sample database of `make run`, its mirror script mirrors, `make install` and
`make uninstall` install and remove what it says, and a <Location> is as wide as it says.

The examples are read from README.md itself, so they cannot rot unnoticed."""

import json
import os
import re
import shlex
import subprocess
import urllib.parse

import pytest

import helpers

README = os.path.join(helpers.REPO, "README.md")
RUN_HOST = "http://127.0.0.1:8080"  # where `make run` serves


def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def code_blocks(lang):
    return re.findall(rf"^```{lang}\n(.*?)^```", readme(), re.S | re.M)


def curl_examples():
    """(path, headers) of every curl command on `make run`'s server in the README's sh blocks."""
    found = []
    for block in code_blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            if not line.startswith("curl ") or RUN_HOST not in line:
                continue
            words, headers, url = shlex.split(line, comments=True)[1:], {}, None
            while words:
                word = words.pop(0)
                if word == "-H":
                    name, _, value = words.pop(0).partition(":")
                    headers[name.strip()] = value.strip()
                elif word.startswith(RUN_HOST):
                    url = word
            assert url, line
            found.append((url[len(RUN_HOST):], headers))
    return found


def path_examples():
    """Concrete API paths quoted in the prose (`/api/v4/packages/4840.json`): not the route
    patterns ({id}, …), nor a search without a query (an empty array by contract)."""
    paths = set(re.findall(r"`(/api/v4/[^`\s]*)`", readme()))
    return sorted(p for p in paths if not re.search(r"[{}…]", p)
                  and not ("search" in p and "q=" not in p))


def search_examples():
    """The query examples of the **Search** paragraph: [(query, what it finds or None)]."""
    para = re.search(r"^\*\*Search\*\*(.*?)ranked by", readme(), re.S | re.M).group(1)
    para = para.replace("`docs/search.md`", "")
    found = [(q, want) for q, want in re.findall(r"`([^`]+)` finds `([^`]+)`", para)]
    para = re.sub(r"`([^`]+)` finds `([^`]+)`", "", para)
    return found + [(q, None) for q in re.findall(r"`([^`]+)`", para)]


@pytest.fixture(scope="module")
def sample_server(module_so, driver):
    """The sample database, as `make run` serves it: no base URL, so links (and `next`) point
    back at this server."""
    yield from helpers.serving(helpers.SAMPLE, "", "pkgindex-readme-", module_so, driver)


def assert_something(resp, what):
    assert resp.status == 200, (what, resp.status, resp.body[:200])
    data = json.loads(resp.body)
    if isinstance(data, dict) and "results" in data:
        data = data["results"]
    assert data, f"{what} answers nothing on the sample data"
    return data


def test_the_readme_has_examples():
    """The parsers below find what they are meant to (a README rewrite must not silently
    leave the other tests with nothing to check)."""
    assert len(curl_examples()) >= 4
    assert "/api/v4/packages/4840.json" in path_examples()
    assert len(search_examples()) >= 6 and any(want for _, want in search_examples())


@pytest.mark.parametrize("path,headers", curl_examples())
def test_curl_examples(sample_server, path, headers):
    assert_something(sample_server.request("GET", path, headers=headers), path)


@pytest.mark.parametrize("path", path_examples())
def test_paths_in_the_text(sample_server, path):
    assert_something(sample_server.request("GET", path), path)


@pytest.mark.parametrize("query,finds", search_examples())
def test_search_examples(sample_server, query, finds):
    hits = assert_something(
        sample_server.request("GET", "/api/v4/search/?q=" + urllib.parse.quote_plus(query)), query)
    if finds:
        assert finds in [h["slug"] for h in hits] + [h["title"] for h in hits], (query, hits)


# --- the mirror script ---

def mirror_script(tmp_path):
    blocks = [b for b in code_blocks("sh") if b.startswith("#!/bin/sh\n# pkgindex-mirror")]
    assert len(blocks) == 1, "README: the pkgindex-mirror script"
    path = tmp_path / "pkgindex-mirror"
    path.write_text(blocks[0], encoding="utf-8")
    bindir = tmp_path / "bin"  # the script calls pkgindex-import from PATH
    bindir.mkdir()
    os.symlink(helpers.IMPORT, bindir / "pkgindex-import")
    return path, str(bindir)


def run_mirror(script, bindir, src, db):
    env = dict(os.environ, SRC=src, DB=db, PATH=f"{bindir}:{os.environ['PATH']}")
    res = subprocess.run(["sh", str(script)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    assert res.returncode == 0, res.stdout


def everything(srv):
    """Every list, whole: the same bytes mean the same objects (links use one Host)."""
    return [srv.request("GET", f"/api/v4/{kind}/?limit=1000", headers={"Host": "mirror.example"}).body
            for kind in ("categories", "grids", "packages")]


@pytest.mark.sqlite_only("the README's mirror script builds an SQLite file (DB=PATH)")
def test_mirror_script(module_so, tmp_path, driver):
    script, bindir = mirror_script(tmp_path)
    os.chmod(tmp_path, 0o755)
    (tmp_path / "src").mkdir(0o755)
    src_db = helpers.make_db(str(tmp_path / "src" / "pkgindex.sqlite3"))
    with helpers.Server(src_db, "", workdir=str(tmp_path / "src"), module=module_so) as src:
        src_url = f"http://127.0.0.1:{src.port}"
        # a page size of 100 would fetch each kind in one page: smaller pages follow `next`
        assert "limit=100" in script.read_text()
        script.write_text(script.read_text().replace("limit=100", "limit=15"))
        mirror = str(tmp_path / "mirror.sqlite3")
        run_mirror(script, bindir, src_url, mirror)
        (tmp_path / "m").mkdir(0o755)
        with helpers.Server(mirror, "", workdir=str(tmp_path / "m"), module=module_so) as m:
            assert everything(m) == everything(src)
        assert json.loads(src.request("GET", "/api/v4/packages/").body)["count"] == 40

        # deleted upstream: gone after the next run on the live mirror (--prune), which then
        # holds exactly what a fresh build does
        src_db.execute("UPDATE package_package SET latest_version_id = NULL WHERE id = 4840",
                       "DELETE FROM package_version WHERE package_id = 4840",
                       "DELETE FROM grid_gridpackage WHERE package_id = 4840",
                       "DELETE FROM package_package WHERE id = 4840")
        assert src.request("GET", "/api/v4/packages/4840/").status == 404
        run_mirror(script, bindir, src_url, mirror)
        fresh = str(tmp_path / "fresh.sqlite3")
        run_mirror(script, bindir, src_url, fresh)
        for name, db in (("live", mirror), ("fresh", fresh)):
            workdir = tmp_path / f"w-{name}"
            workdir.mkdir(0o755)
            with helpers.Server(db, "", workdir=str(workdir), module=module_so) as m:
                assert m.request("GET", "/api/v4/packages/4840/").status == 404
                assert everything(m) == everything(src)


def test_mirror_script_from_sqlite_into_postgresql(module_so, tmp_path, driver):
    """The README's move from SQLite to PostgreSQL: the mirror script with DB=pgsql:CONNINFO
    fetches what a running SQLite site serves (with curl) into a new PostgreSQL database,
    which then serves the same bytes."""
    if driver != "pgsql":
        pytest.skip("the target is a PostgreSQL database")
    script, bindir = mirror_script(tmp_path)
    os.chmod(tmp_path, 0o755)
    (tmp_path / "src").mkdir(0o755)
    src_db = helpers.make_db(str(tmp_path / "src" / "pkgindex.sqlite3"))
    with helpers.Server(src_db, "", workdir=str(tmp_path / "src"), module=module_so) as src:
        target = helpers.new_db("pgsql", None)
        run_mirror(script, bindir, f"http://127.0.0.1:{src.port}", target.arg)
        (tmp_path / "pg").mkdir(0o755)
        with helpers.Server(target, "", workdir=str(tmp_path / "pg"), module=module_so) as m:
            assert everything(m) == everything(src)
            assert json.loads(m.request("GET", "/api/v4/packages/").body)["count"] == 40


# --- make install / uninstall ---

INSTALLED = {
    "usr/lib/apache2/modules/mod_pkgindex.so": 0o644,
    "etc/apache2/mods-available/pkgindex.load": 0o644,
    "etc/apache2/mods-available/pkgindex.conf": 0o644,
    "usr/local/bin/pkgindex-import": 0o755,
}


def make(target, destdir, *args):
    return subprocess.run(["make", "--no-print-directory", "-C", helpers.REPO, target,
                           f"DESTDIR={destdir}", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def files_under(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = os.lstat(p).st_mode & 0o777
    return out


def test_make_install_and_uninstall(tmp_path):
    dest = str(tmp_path / "stage")
    conf = os.path.join(dest, "etc/apache2/mods-available/pkgindex.conf")
    res = make("install", dest)
    assert res.returncode == 0, res.stdout
    assert files_under(dest) == INSTALLED
    res = make("uninstall", dest)
    assert res.returncode == 0, res.stdout
    assert files_under(dest) == {}

    # PREFIX moves the importer; an edited pkgindex.conf is the user's: kept
    assert make("install", dest, "PREFIX=/opt/pki").returncode == 0
    assert set(files_under(dest)) == set(INSTALLED) - {"usr/local/bin/pkgindex-import"} | {
        "opt/pki/bin/pkgindex-import"}
    with open(conf, "a", encoding="utf-8") as f:
        f.write("# edited\n")
    assert make("install", dest, "PREFIX=/opt/pki").returncode == 0
    with open(conf, encoding="utf-8") as f:
        assert f.read().endswith("# edited\n")  # install keeps it too
    res = make("uninstall", dest, "PREFIX=/opt/pki")
    assert res.returncode == 0 and "kept" in res.stdout, res.stdout
    assert set(files_under(dest)) == {"etc/apache2/mods-available/pkgindex.conf"}

    # an enabled module: nothing is removed
    assert make("install", dest).returncode == 0
    os.makedirs(os.path.join(dest, "etc/apache2/mods-enabled"))
    os.symlink("../mods-available/pkgindex.load", os.path.join(dest, "etc/apache2/mods-enabled/pkgindex.load"))
    before = files_under(dest)
    res = make("uninstall", dest)
    assert res.returncode != 0 and "a2dismod" in res.stdout, res.stdout
    assert files_under(dest) == before


# --- <Location> scope ---

def test_a_location_is_as_wide_as_the_readme_says(module_so, tmp_path, driver):
    """Server level (pkgindex-serve's /api/v4/): every virtual host. Inside a <VirtualHost>:
    that host only."""
    os.chmod(tmp_path, 0o755)
    db = helpers.make_db(str(tmp_path / "pkgindex.sqlite3"), driver=driver)
    conf = ("<VirtualHost 127.0.0.1:@PORT@>\n ServerName a.example\n"
            " <Location /only-a/>\n  PkgIndex On\n </Location>\n</VirtualHost>\n"
            "<VirtualHost 127.0.0.1:@PORT@>\n ServerName b.example\n</VirtualHost>\n")
    with helpers.Server(db, conf, workdir=str(tmp_path), module=module_so) as srv:
        for host in ("a.example", "b.example"):
            resp = srv.request("GET", "/api/v4/", headers={"Host": host})
            assert resp.status == 200 and "packages" in json.loads(resp.body), host
        resp = srv.request("GET", "/only-a/", headers={"Host": "a.example"})
        assert resp.status == 200 and json.loads(resp.body)["packages"] == "http://a.example/only-a/packages/"
        # the server level's DBD* settings are inherited
        resp = srv.request("GET", "/only-a/packages/wagtail-whoosh/", headers={"Host": "a.example"})
        assert resp.status == 200 and json.loads(resp.body)["id"] == 4840
        resp = srv.request("GET", "/only-a/", headers={"Host": "b.example"})
        assert resp.status == 404 and not resp.headers.get("Content-Type", "").startswith("application/json")
