"""A private PostgreSQL 15 for the tests, and the SQL that fills its databases.

PgServer().start() runs Debian's postgresql-15 binaries (/usr/lib/postgresql/15/bin):
initdb into a temp dir under /tmp, then pg_ctl start with no TCP listener
(listen_addresses='') and its unix socket in that same temp dir, fsync off. As
root, both run as the unprivileged `postgres` user (`nobody` without it): initdb
refuses root. Nothing of the system's clusters is used or started. It stops at
exit (atexit; on SIGTERM/SIGHUP before the process dies of it) and
its directory is removed unless PKGINDEX_KEEP_TMP is set.

start_replica() makes a streaming replica of a started PgServer (pg_basebackup -R over the
unix socket, then a hot standby on its own socket and port): a PgServer too, stopped at exit
the same way (test_pg_scale.py).

session() is the one server of a test session (conftest.py's pg_server fixture).
new_db() creates a fresh database and returns its conninfo, e.g.
`host=/tmp/pkgindex-pg-x port=41234 user=postgres dbname=t3`: what psql and
apr_dbd_pgsql take.

jsonl_sql() turns API-form JSONL (tests/data/conformance/*.jsonl) into plain
INSERTs into the original's tables: a database "filled by another program", with
every NOT NULL column the API does not carry set to the original's Python
default (see sql/original-pgsql.sql).
"""

import atexit
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile

import helpers

PG_BIN = "/usr/lib/postgresql/15/bin"
PSQL = os.path.join(PG_BIN, "psql")
ORIGINAL_SCHEMA = os.path.join(helpers.REPO, "sql", "original-pgsql.sql")
SCHEMA = os.path.join(helpers.REPO, "sql", "schema-pgsql.sql")
MODULE_SCHEMA = os.path.join(helpers.REPO, "sql", "pkgindex-pgsql.sql")
# initdb and a start take a few seconds on this 2-core machine; a stuck one is a failed run.
PG_TIMEOUT = 60
PSQL_TIMEOUT = 60

_servers = []


def _stop_all():
    for server in _servers:
        server.stop()


atexit.register(_stop_all)


def _stop_on_signal(signum, frame):
    # A killed run (SIGTERM from CI, SIGHUP from a closed terminal) stops the servers first,
    # httpds included, then dies of the signal as it would have.
    _stop_all()
    helpers._stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _stop_on_signal)


def _run_as():
    """(uid, gid, name) to run the server as: ourselves, or an unprivileged user as root."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return None, None, pw.pw_name
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_uid, pw.pw_gid, name
    raise RuntimeError("running as root and neither the postgres nor the nobody user exists")


class PgServer:
    def __init__(self, data=None, settings=None):
        """DATA: a data directory to use and keep (initdb'd on first use; bench/ caches its
        databases there), instead of one in the temp dir. SETTINGS: more `-c NAME=VALUE`
        server options (e.g. {"max_connections": 200})."""
        self.dir = None
        self.keep_data = data
        self.settings = settings or {}
        self.port = None
        self.user = None
        self._uid = self._gid = None
        self._n = 0
        self.started = False

    def _pg(self, *args, timeout=PG_TIMEOUT):
        """Run a server binary as the server's user; raise with its output on failure."""
        res = subprocess.run([os.path.join(PG_BIN, args[0]), *args[1:]], user=self._uid,
                             group=self._gid, extra_groups=[] if self._uid is not None else None,
                             cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=timeout,
                             env={**os.environ, "LC_ALL": "C", "TZ": "UTC"})
        if res.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({res.returncode}):\n{res.stdout}\n{self.log()}")
        return res.stdout

    def _make_dir(self):
        """The server's temp dir (its data, log and socket); registered for the stop at exit."""
        if not os.path.isfile(os.path.join(PG_BIN, "pg_ctl")):
            raise RuntimeError(f"{PG_BIN}/pg_ctl not found: install postgresql-15 "
                               "(scripts/install-deps test)")
        self._uid, self._gid, self.user = _run_as()
        # 0755: the server's user must reach its data, and clients (root, www-data) the socket.
        self.dir = tempfile.mkdtemp(prefix="pkgindex-pg-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        if self._uid is not None:
            os.chown(self.dir, self._uid, self._gid)
        self.data = self.keep_data or os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "server.log")
        # The port only names the socket (.s.PGSQL.PORT); a free one keeps it unambiguous.
        self.port = helpers.free_port()
        _servers.append(self)
    def _launch(self):
        # A replica runs with the same options: a hot standby needs max_connections (and the
        # other max_* settings) at least its primary's. wal_level (replica) and max_wal_senders
        # (10) stay at their defaults, which pg_basebackup and streaming need.
        settings = {"max_connections": 50, **self.settings}
        self._opts = (f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' "
                      f"-c port={self.port} -c fsync=off -c synchronous_commit=off "
                      "-c full_page_writes=off -c timezone=UTC" +
                      "".join(f" -c {k}={v}" for k, v in settings.items()))
        self.resume()

    def start(self):
        self._make_dir()
        if self.keep_data and not os.path.isdir(self.data):
            os.makedirs(self.data, mode=0o700)
            if self._uid is not None:
                os.chown(self.data, self._uid, self._gid)
        if not os.path.isfile(os.path.join(self.data, "PG_VERSION")):
            self._pg("initdb", "-D", self.data, "-U", self.user, "--auth=trust",
                     "--encoding=UTF8", "--locale=C", "--no-sync")
        self._launch()
        return self

    def resume(self):
        """Starts the server (again, after halt()), waiting until it accepts connections."""
        self._pg("pg_ctl", "start", "-w", "-t", str(PG_TIMEOUT), "-D", self.data,
                 "-l", self.logfile, "-o", self._opts)
        self.started = True

    def halt(self):
        """Stops the server (-m fast: sessions are cut), keeping its data for resume()."""
        self._pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data)
        self.started = False

    def pids(self):
        """The postmaster and its children (backends, background processes): what a
        `kill -STOP` of the server stops."""
        with open(os.path.join(self.data, "postmaster.pid"), encoding="ascii") as f:
            postmaster = int(f.readline())
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                        stat = f.read()
                except OSError:
                    continue
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    pids.append(int(entry))
        return pids

    def start_replica(self):
        """A new PgServer: a streaming replica of this one, running as a hot standby (read-only
        queries) on its own socket and port, stopped at exit like every PgServer.

        pg_basebackup -R copies this server's data over its unix socket, as the same user
        (initdb's pg_hba.conf has `local replication all trust`), and writes the
        primary_conninfo and standby.signal that make the copy follow this server."""
        replica = PgServer()
        try:
            replica._make_dir()
            replica._pg("pg_basebackup", "-D", replica.data, "-d", self.conninfo(), "-R",
                        "-X", "stream", "-c", "fast", "--no-sync", "-w")
            replica._launch()
        except BaseException:
            replica.stop()
            raise
        return replica

    def log(self):
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f"--- {self.logfile}\n{f.read()}"
        except (OSError, AttributeError):
            return ""

    def conninfo(self, dbname="postgres"):
        return f"host={self.dir} port={self.port} user={self.user} dbname={dbname}"

    def psql(self, conninfo, sql=None, file=None, check=True):
        """Run SQL (text) or FILE through psql in one session, stopping at the first error;
        return stdout (unaligned, tuples only, '|' between columns)."""
        cmd = [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
        cmd += ["-f", file] if file else ["-f", "-"]
        res = subprocess.run(cmd, input=sql if not file else None, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=PSQL_TIMEOUT,
                             stdin=None if not file else subprocess.DEVNULL)
        if check and res.returncode != 0:
            raise RuntimeError(f"psql failed ({res.returncode}): {res.stderr}")
        return res if not check else res.stdout

    def new_db(self, prefix="t"):
        """A new empty database; returns its conninfo."""
        self._n += 1
        name = f"{prefix}{self._n}"
        self.psql(self.conninfo(), f'CREATE DATABASE "{name}";')
        return self.conninfo(name)

    def stop(self):
        """pg_ctl stop -m fast; the postmaster is killed if that fails. Removes the directory
        unless PKGINDEX_KEEP_TMP is set."""
        if self.dir is None:
            return
        if self.started:
            self.started = False
            try:
                self._pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data, timeout=30)
            except (RuntimeError, subprocess.TimeoutExpired):
                try:
                    with open(os.path.join(self.data, "postmaster.pid"), encoding="ascii") as f:
                        os.kill(int(f.readline()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        if os.environ.get("PKGINDEX_KEEP_TMP"):
            print(f"\nkept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


_session = None


def session():
    """The session's one PgServer, started on first use (the pg_server fixture, and
    helpers.new_db for the pgsql driver); stopped at exit like every PgServer."""
    global _session
    if _session is None or _session.dir is None:
        server = PgServer()
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        _session = server
    return _session


# --- Filling a database in the original's shape from API-form JSONL ---

def lit(value):
    """An SQL literal: NULL, true/false, a number, or a quoted string
    (standard_conforming_strings is on: only the quote is doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return "'" + value.replace("'", "''") + "'"


def ts(value):
    """An API datetime with its offset ('2010-08-16T09:00:00-04:00') as timestamptz: the
    instant is kept, microseconds included."""
    return "NULL" if value is None else lit(value) + "::timestamptz"


def link_id(url):
    """The id at the end of an API hyperlink: …/categories/3/ -> 3."""
    return int(url.rstrip("/").rsplit("/", 1)[1])


def category_sql(c):
    """INSERT of one category (API form)."""
    return ("INSERT INTO package_category (id, created, modified, title, slug, description,"
            " title_plural, show_pypi) VALUES ("
            f"{c['id']}, {ts(c['created'])}, {ts(c['modified'])}, {lit(c['title'])},"
            f" {lit(c['slug'])}, {lit(c['description'])}, {lit(c['title_plural'])},"
            f" {lit(c['show_pypi'])});")


def grid_sql(g):
    """INSERT of one grid (API form; its `packages` are memberships, see member_sql)."""
    return ("INSERT INTO grid_grid (id, created, modified, title, slug, description, is_locked,"
            " header) VALUES ("
            f"{g['id']}, {ts(g['created'])}, {ts(g['modified'])}, {lit(g['title'])},"
            f" {lit(g['slug'])}, {lit(g['description'])}, {lit(g['is_locked'])},"
            f" {lit(g['header'])});")


def version_sql(version_id, p):
    """INSERT of the package_version row of P's pypi_version (created = modified = the
    package's modified; upload_time NULL: the API does not say when it was uploaded)."""
    return ("INSERT INTO package_version (id, created, modified, number, downloads, license,"
            " hidden, upload_time, development_status, supports_python3, package_id,"
            " licenses) VALUES ("
            f"{version_id}, {ts(p['modified'])}, {ts(p['modified'])},"
            f" {lit(p['pypi_version'])}, 0, NULL, false, NULL, 0, false,"
            f" {p['id']}, NULL);")


def package_sql(p, latest_version_id=None):
    """INSERT of one package (API form) with every column of the original's table: those the
    API does not carry get the original's Python defaults (0, '', NULL)."""
    return ("INSERT INTO package_package (id, created, modified, title, slug, repo_description,"
            " repo_url, repo_watchers, repo_forks, pypi_url, pypi_downloads, participants,"
            " last_fetched, documentation_url, category_id, created_by_id,"
            " last_modified_by_id, date_deprecated, deprecated_by_id, deprecates_package_id,"
            " score, pypi_classifiers, pypi_license, pypi_licenses, pypi_requires_python,"
            " supports_python3, date_repo_archived, last_exception, last_exception_at,"
            " last_exception_count, markers, pypi_info, favorite_count, repo_host,"
            " commit_count, commits_over_52w, last_commit_date, latest_version_id) VALUES ("
            f"{p['id']}, {ts(p['created'])}, {ts(p['modified'])}, {lit(p['title'])},"
            f" {lit(p['slug'])}, {lit(p['repo_description'])}, {lit(p['repo_url'])},"
            f" {p['repo_watchers']}, {p['repo_forks']}, {lit(p['pypi_url'])}, 0,"
            f" {lit(','.join(p['participants']))}, {ts(p['last_fetched'])},"
            f" {lit(p['documentation_url'])}, {link_id(p['category'])}, NULL, NULL, NULL, NULL,"
            " NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, '', 0,"
            f" {lit(json.dumps(p['commits_over_52'], separators=(',', ':')))}::jsonb,"
            f" {ts(p['last_updated'])}, {lit(latest_version_id)});")


def member_sql(member_id, grid_id, package_id, when):
    """INSERT of one grid membership, created = modified = WHEN (an API datetime)."""
    return ("INSERT INTO grid_gridpackage (id, created, modified, grid_id, package_id) VALUES ("
            f"{member_id}, {ts(when)}, {ts(when)}, {grid_id}, {package_id});")


def jsonl_sql(categories, grids, packages):
    """SQL text that inserts the objects of the three JSONL files (paths) into a database in
    the original's shape, in one transaction, the way the original's application stores them:

    - ids as given; the identity sequences set past them (Django's next insert works);
    - memberships (grid_gridpackage) numbered in package-file order and, within a package, in
      the order of its `grids` list: the API lists a package's grids by membership id;
      the grids' own `packages` lists must name the same memberships;
    - pypi_version -> a package_version row and latest_version_id (see version_sql);
    - last_updated -> last_commit_date; participants joined with ','; commits_over_52 as jsonb;
    - the columns the API does not carry: the original's Python defaults (0, '', false, NULL).
    """
    grid_rows = helpers.read_jsonl(grids)
    out = ["BEGIN;"]
    out += [category_sql(c) for c in helpers.read_jsonl(categories)]
    out += [grid_sql(g) for g in grid_rows]
    version_id = 0
    members = []
    for p in helpers.read_jsonl(packages):
        latest = None
        if p["pypi_version"] is not None:
            version_id += 1
            latest = version_id
            out.append(version_sql(version_id, p))
        out.append(package_sql(p, latest))
        members += [(link_id(g), p["id"], p["modified"]) for g in p["grids"]]
    by_grid = {g["id"]: sorted(link_id(u) for u in g["packages"]) for g in grid_rows}
    from_packages = {}
    for grid_id, package_id, _ in members:
        from_packages.setdefault(grid_id, []).append(package_id)
    if set(from_packages) - set(by_grid) or \
            any(sorted(from_packages.get(g, [])) != ids for g, ids in by_grid.items()):
        raise ValueError("the packages' grids and the grids' packages name different memberships")
    out += [member_sql(n, *m) for n, m in enumerate(members, 1)]
    for table in ("package_category", "grid_grid", "package_package", "package_version",
                  "grid_gridpackage"):
        out.append(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                   f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false);")
    out.append("COMMIT;")
    return "\n".join(out) + "\n"


def conformance_sql():
    return jsonl_sql(*(os.path.join(helpers.CONFORMANCE, f"{n}.jsonl")
                       for n in ("categories", "grids", "packages")))
