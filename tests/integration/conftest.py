"""Session fixtures: one httpd per dataset and driver, shared by all tests.

The Makefile builds the module before running pytest; nothing is built here.
Servers live in temp dirs under /tmp (see helpers.make_www_tmpdir) and are
stopped at the end of the session; set PKGINDEX_KEEP_TMP=1 to keep their
directories (config, error log, database) for a post-mortem.

Drivers: every test that starts a server or runs the importer asks for the
`driver` fixture (directly or through a server fixture) and so runs once per
driver, `sqlite3` and `pgsql`; its id says which (`test_x[pgsql]`). For pgsql,
one private PostgreSQL 15 is started for the session (pg.py, `pg_server`) and
each server fixture gets its own fresh database, made by the importer exactly
as an SQLite one (`pkgindex-import --db pgsql:CONNINFO --init FILES`).
PKGINDEX_DRIVERS picks drivers for a quick local run:

    PKGINDEX_DRIVERS=sqlite3 make integration     # SQLite only, no PostgreSQL started
    PKGINDEX_DRIVERS=pgsql /usr/bin/python3 -m pytest -q tests/integration

Tests about SQLite itself (its file, locks, WAL, FTS5 ranking...) carry
`@pytest.mark.sqlite_only("why")`: their pgsql run is a skip with that reason
(`pytest -rs` lists them).
"""

import json
import os
import shutil

import pytest

import helpers


# --- Sanitizer reports (`make test-asan`, see helpers.PRELOAD): each fails the test after
# which it appeared, and the run. ---

_seen_reports = set()
_seen_lines = {}


def _new_sanitizer_reports():
    new = []
    for name, text in helpers.sanitizer_reports().items():
        if name not in _seen_reports:
            _seen_reports.add(name)
            new.append(f"--- {os.path.join(helpers.SANITIZER_LOGS, name)}\n{text}")
    for server in helpers._started:
        lines = server.sanitizer_lines()
        seen = _seen_lines.get(id(server), 0)
        if len(lines) > seen:
            _seen_lines[id(server)] = len(lines)
            new.append(f"--- {server.rundir}/error.log\n" + "\n".join(lines[seen:]))
    return new


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    yield
    if helpers.PRELOAD:
        new = _new_sanitizer_reports()
        if new:
            pytest.fail("sanitizer reports:\n" + "\n".join(new), pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    """Reports written after the last test (servers stopping) fail the run too."""
    if not helpers.PRELOAD:
        return
    helpers._stop_all()
    new = _new_sanitizer_reports()
    out = session.config.pluginmanager.get_plugin("terminalreporter")
    if new:
        out.write_line("sanitizer reports after the last test:\n" + "\n".join(new), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _seen_reports:
        out.write_line(f"sanitizer reports kept in {helpers.SANITIZER_LOGS}", red=True)
    else:
        shutil.rmtree(helpers.SANITIZER_LOGS, ignore_errors=True)


@pytest.fixture(scope="session")
def module_so():
    """Path of the built module; fails (not skips) when it is missing."""
    if not os.path.isfile(helpers.MODULE):
        pytest.fail(f"{helpers.MODULE} not found: run `make build` (or `make integration`)")
    return helpers.MODULE


@pytest.fixture(scope="session")
def conformance_inputs():
    return [os.path.join(helpers.CONFORMANCE, f"{n}.jsonl") for n in ("categories", "grids", "packages")]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): about SQLite itself; the pgsql run is skipped with REASON")


def pytest_collection_modifyitems(config, items):
    """The pgsql run of an sqlite_only test is a skip that says why."""
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is None:
            continue
        if not marker.args or not str(marker.args[0]).strip():
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs a reason")
        params = getattr(item, "callspec", None)
        if params is not None and params.params.get("driver") == "pgsql":
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.args[0]}"))


@pytest.fixture(scope="session", params=helpers.DRIVERS)
def driver(request):
    """The database driver a test runs on: 'sqlite3' or 'pgsql' (see the module docstring).
    Session-scoped, so pytest runs the tests of one driver together and each server fixture
    starts once per driver."""
    if request.param == "pgsql":
        request.getfixturevalue("pg_server")
    return request.param


@pytest.fixture(scope="session")
def conformance_server(module_so, conformance_inputs, driver):
    """httpd serving tests/data/conformance/{categories,grids,packages}.jsonl."""
    yield from helpers.serving(conformance_inputs, f"PkgIndexBaseURL {helpers.BASE_URL}",
                               "pkgindex-conformance-", module_so, driver)


def real_records_jsonl(workdir):
    """The 40 real records' objects exactly as the original served them (links may carry
    ?format=api), one per line: what a mirror would feed the importer."""
    path = os.path.join(workdir, "real.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for rec in helpers.read_jsonl(os.path.join(helpers.DATA, "real-packages.jsonl")):
            f.write(json.dumps(rec["json"], ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="session")
def real_server(module_so, driver):
    """httpd serving the 40 real records, imported as captured, with the sample's categories
    and grids."""
    workdir = helpers.make_www_tmpdir("pkgindex-real-")
    os.mkdir(os.path.join(workdir, "db"), 0o755)
    db = helpers.make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), *helpers.SAMPLE[:2],
                         real_records_jsonl(workdir), driver=driver)
    server = helpers.Server(db, f"PkgIndexBaseURL {helpers.BASE_URL}", workdir=workdir,
                            module=module_so).start()
    yield server
    server.stop()
    helpers.remove_tmpdir(workdir)


# Several locations with their own settings, links from the Host header: one server for all
# directive tests (directives are per location, so one configuration holds every variant).
MULTI_CONF = """
<Location /utc/>
    PkgIndex On
    PkgIndexTimeZone UTC
    PkgIndexPageSize 5
    PkgIndexMaxLimit 3
</Location>
<Location /london/v4>
    PkgIndex On
    PkgIndexTimeZone Europe/London
    PkgIndexMaxLimit 0
    PkgIndexBaseURL https://mirror.example.org/
</Location>
"""


@pytest.fixture(scope="session")
def multi_server(module_so, conformance_inputs, driver):
    """The conformance dataset under /api/v4/ (defaults), /utc/ and /london/v4/."""
    yield from helpers.serving(conformance_inputs, MULTI_CONF, "pkgindex-multi-", module_so, driver)


@pytest.fixture(scope="session")
def pg_server():
    """One private PostgreSQL 15 for the whole session (see pg.py): databases come from
    pg_server.new_db()."""
    import pg

    server = pg.session()
    yield server
    server.stop()
