"""Run a real httpd with mod_pkgindex for the integration tests, and talk to it.

Everything goes through the project's own tools (bin/pkgindex-serve,
bin/pkgindex-import) and data (tests/data/), so the tests exercise what
`make run` does.  Requests use http.client on a fresh connection each, which
adds only `Host` and `Accept-Encoding: identity` (and `Content-Length` with a
body): the tests decide every other header.
"""

import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import NamedTuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "tests", "data")
CONFORMANCE = os.path.join(DATA, "conformance")
# PKGINDEX_MODULE tests another build of the module (e.g. with sanitizers).
MODULE = os.path.abspath(os.environ.get("PKGINDEX_MODULE") or os.path.join(REPO, "build", "mod_pkgindex.so"))
SERVE = os.path.join(REPO, "bin", "pkgindex-serve")
IMPORT = os.path.abspath(os.environ.get("PKGINDEX_IMPORT") or os.path.join(REPO, "bin", "pkgindex-import"))
SAMPLE = [os.path.join(DATA, "sample", f"{kind}.jsonl") for kind in ("categories", "grids", "packages")]
BASE_URL = "https://djangopackages.org"

# PKGINDEX_PRELOAD names a sanitizer runtime that httpd must load first: `make test-asan` sets
# it to ASan's, with a module and an importer built with ASan+UBSan. Their reports then go to
# files in SANITIZER_LOGS (httpd's children write there as www-data), except UBSan's in httpd,
# which go to its error log (gcc's UBSan ignores log_path there); conftest.py fails the test
# after which either shows one, and the run. Leaks are reported by the importer, not by httpd,
# whose pools are still in use when it exits.
PRELOAD = os.environ.get("PKGINDEX_PRELOAD")
SANITIZER_LOGS = None
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
if PRELOAD:
    if not os.path.isabs(PRELOAD) or not os.path.isfile(PRELOAD):
        raise RuntimeError(f"PKGINDEX_PRELOAD: no such library: {PRELOAD!r}")
    SANITIZER_LOGS = tempfile.mkdtemp(prefix="pkgindex-sanitizer-", dir="/tmp")
    os.chmod(SANITIZER_LOGS, 0o1777)
    # inherited by every importer the tests run
    os.environ["ASAN_OPTIONS"] = f"log_path={SANITIZER_LOGS}/import:detect_leaks=1"
    os.environ["UBSAN_OPTIONS"] = f"log_path={SANITIZER_LOGS}/import:print_stacktrace=1"


def httpd_env():
    """The environment pkgindex-serve (and so httpd, which it execs) runs with."""
    env = dict(os.environ)
    if PRELOAD:
        env["LD_PRELOAD"] = PRELOAD
        env["ASAN_OPTIONS"] = f"log_path={SANITIZER_LOGS}/httpd:detect_leaks=0"
        env["UBSAN_OPTIONS"] = f"log_path={SANITIZER_LOGS}/httpd:print_stacktrace=1"
    return env


def sanitizer_reports():
    """{file name: text} of the sanitizer reports written so far."""
    if not SANITIZER_LOGS:
        return {}
    reports = {}
    for name in sorted(os.listdir(SANITIZER_LOGS)):
        with open(os.path.join(SANITIZER_LOGS, name), encoding="utf-8", errors="replace") as f:
            reports[name] = f.read()
    return reports


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def drf_json(obj):
    """The exact bytes DRF's compact JSON renderer produces for obj (spec section 7)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


def make_www_tmpdir(prefix="pkgindex-test-"):
    """A temp dir httpd's children (www-data when run as root) can traverse.

    mkdtemp creates 0700; the database directory itself is then made
    group-writable for www-data by pkgindex-serve.
    """
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o755)
    return path


def free_port():
    """A port nobody listens on right now (other httpds may share the machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# An importer that loops is a failed test, not a hung suite.
IMPORT_TIMEOUT = 300


# The drivers the suite runs on: every test that starts a server or runs the importer runs once
# per driver (conftest.py's `driver` fixture). PKGINDEX_DRIVERS=sqlite3 (or pgsql) picks one.
ALL_DRIVERS = ("sqlite3", "pgsql")


def _drivers():
    value = os.environ.get("PKGINDEX_DRIVERS", "").strip()
    if not value:
        return ALL_DRIVERS
    names = tuple(n for n in value.replace(",", " ").split())
    unknown = [n for n in names if n not in ALL_DRIVERS]
    if unknown or not names:
        raise RuntimeError(f"PKGINDEX_DRIVERS: unknown driver(s) {unknown!r}: "
                           f"expected some of {', '.join(ALL_DRIVERS)}")
    return tuple(dict.fromkeys(names))


DRIVERS = _drivers()


class Db:
    """One database of one driver, as the product's tools name it (`--db DRIVER:TARGET`):
    for sqlite3 a file path, for pgsql a conninfo on the session's private PostgreSQL (pg.py).

    execute() and query() poke it directly, as another program would, with the same SQL on
    both drivers where the SQL allows (the tables are the original's on both).
    """

    def __init__(self, driver, target):
        if driver not in ALL_DRIVERS:
            raise ValueError(f"unknown driver {driver!r}")
        self.driver = driver
        self.target = os.path.abspath(target) if driver == "sqlite3" else target

    @property
    def arg(self):
        """The --db argument of pkgindex-import and pkgindex-serve."""
        return f"{self.driver}:{self.target}"

    @property
    def path(self):
        """The SQLite file (SQLite-only tests: files, permissions, locks)."""
        assert self.driver == "sqlite3", "a file path is SQLite's"
        return self.target

    @property
    def dbname(self):
        assert self.driver == "pgsql"
        import shlex  # libpq quotes values with spaces as 'a b', as a shell does
        return dict(kv.split("=", 1) for kv in shlex.split(self.target))["dbname"]

    def __repr__(self):
        return f"Db({self.arg!r})"

    def reset(self):
        """Nothing left of an earlier database: the files removed, or the database recreated."""
        if self.driver == "sqlite3":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.target + suffix):
                    os.remove(self.target + suffix)
        else:
            import pg
            server = pg.session()
            server.psql(server.conninfo(), f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE);')
            server.psql(server.conninfo(), f'CREATE DATABASE "{self.dbname}";')

    def exists(self):
        """Whether the database holds the module's tables (an importer that failed before
        creating anything leaves none)."""
        if self.driver == "sqlite3" and not os.path.exists(self.target):
            return False
        return "pkgindex_state" in self.tables()

    def execute(self, *statements):
        """Run SQL statements in one transaction, as another writer would (one statement on
        its own: outside a transaction block, which PostgreSQL's VACUUM needs)."""
        if self.driver == "sqlite3":
            import sqlite3
            conn = sqlite3.connect(self.target)
            try:
                with conn:
                    for sql in statements:
                        conn.execute(sql)
            finally:
                conn.close()
        else:
            import pg
            sql = ";\n".join(statements) + ";\n"
            pg.session().psql(self.target, sql if len(statements) == 1 else f"BEGIN;\n{sql}COMMIT;\n")

    def query(self, sql):
        """Rows of one SELECT as tuples: integers, strings, None; booleans as 0/1 on both
        (SQLite has no other); PostgreSQL's timestamps as ISO strings (compare them with
        instant())."""
        if self.driver == "sqlite3":
            import sqlite3
            conn = sqlite3.connect(self.target)
            try:
                return [tuple(r) for r in conn.execute(sql).fetchall()]
            finally:
                conn.close()
        import pg
        out = pg.session().psql(
            self.target, f"SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM ({sql}) q;")
        rows = json.loads(out, object_pairs_hook=lambda pairs: tuple(v for _, v in pairs))
        return [tuple(int(v) if isinstance(v, bool) else v for v in r) for r in rows]

    def value(self, sql):
        """The one value of a one-row, one-column SELECT."""
        rows = self.query(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def tables(self):
        if self.driver == "sqlite3":
            return [r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return [r[0] for r in self.query("SELECT tablename FROM pg_tables"
                                         " WHERE schemaname = 'public' ORDER BY tablename")]

    def columns(self, table):
        if self.driver == "sqlite3":
            return [r[1] for r in self.query(f"PRAGMA table_info({table})")]
        return [r[0] for r in self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            f" AND table_name = '{table}' ORDER BY ordinal_position")]


def instant(value):
    """A stored datetime as an aware datetime: SQLite's text ('2026-11-01 05:30:00.500000',
    UTC) and PostgreSQL's timestamptz ('2026-11-01T05:30:00.5+00:00') alike."""
    import datetime
    if value is None:
        return None
    t = datetime.datetime.fromisoformat(value)
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


def as_db(db):
    """A Db from a Db or a path (a path is an SQLite file)."""
    return db if isinstance(db, Db) else Db("sqlite3", db)


def new_db(driver, path):
    """A new, empty database of DRIVER: PATH for sqlite3 (made by the importer's --init), a new
    database on the session's PostgreSQL for pgsql (PATH unused)."""
    if driver == "sqlite3":
        return Db("sqlite3", path)
    import pg
    return Db("pgsql", pg.session().new_db())


def driver_dir(path, driver):
    """PATH (a pathlib.Path) that also says the test's DRIVER (.driver): for fixtures that hand
    tests a directory in which to make databases (see test_import.db_)."""
    cls = type("DriverPath", (type(path),), {})  # pathlib's own classes take no attributes
    out = cls(path)
    out.driver = driver
    return out


def run_import(db, *args, init=True):
    """Run bin/pkgindex-import on DB (a Db, or an SQLite path); return the CompletedProcess
    (stdout+stderr in .stdout)."""
    cmd = [IMPORT, "--db", as_db(db).arg] + (["--init"] if init else []) + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=IMPORT_TIMEOUT)


# PostgreSQL databases the importer made, kept as templates: the same inputs again are a
# copy (CREATE DATABASE ... TEMPLATE, a file copy) instead of a second import, which on the
# session's server costs seconds a test. Keyed by the inputs' paths, sizes and mtimes.
_pg_templates = {}


def _inputs_key(inputs):
    key = []
    for path in inputs:
        st = os.stat(path)
        key.append((os.path.abspath(path), st.st_size, st.st_mtime_ns))
    return tuple(key)


def make_db(path, *jsonl, driver="sqlite3"):
    """A fresh database imported with bin/pkgindex-import --init (no JSONL: the sample), as
    a Db: at PATH for sqlite3, a new PostgreSQL database for pgsql; PATH may be a Db, which is
    emptied first. On the session's PostgreSQL, inputs imported once before are copied from
    that import's result."""
    db = path if isinstance(path, Db) else new_db(driver, path)
    inputs = jsonl or SAMPLE
    server = None
    if db.driver == "pgsql":
        import pg
        server = pg.session()
        if f"host={server.dir} " not in db.target + " ":
            server = None  # another server's database (outage tests): import as asked
    key = _inputs_key(inputs) if server else None
    if key in _pg_templates:
        server.psql(server.conninfo(), f'DROP DATABASE IF EXISTS "{db.dbname}" WITH (FORCE);')
        server.psql(server.conninfo(),
                    f'CREATE DATABASE "{db.dbname}" TEMPLATE "{_pg_templates[key]}";')
        return db
    db.reset()
    res = run_import(db, *inputs)
    if res.returncode != 0:
        raise RuntimeError(f"pkgindex-import --db {db.arg} failed ({res.returncode}):\n{res.stdout}")
    if server:
        template = f"template_{len(_pg_templates) + 1}"
        server.psql(server.conninfo(), f'CREATE DATABASE "{template}" TEMPLATE "{db.dbname}";')
        _pg_templates[key] = template
    return db


def remove_tmpdir(workdir):
    """Removes a test's directory, unless PKGINDEX_KEEP_TMP asks to keep it for a post-mortem."""
    if os.environ.get("PKGINDEX_KEEP_TMP"):
        print(f"\nkept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def serving(inputs, conf, prefix, module, driver="sqlite3"):
    """A server on a new DRIVER database made from INPUTS (JSONL files), with CONF: a generator
    for fixtures (`yield from helpers.serving(...)`), which stops it and removes its files after."""
    workdir = make_www_tmpdir(prefix)
    os.mkdir(os.path.join(workdir, "db"), 0o755)
    db = make_db(os.path.join(workdir, "db", "pkgindex.sqlite3"), *inputs, driver=driver)
    srv = Server(db, conf, workdir=workdir, module=module).start()
    try:
        yield srv
    finally:
        srv.stop()
        remove_tmpdir(workdir)


class Headers:
    """Response headers: case-insensitive, duplicates kept in order.

    get() joins duplicates with ", " (their HTTP meaning), so an accidental
    second `Vary: Accept` shows up as "Accept, Accept" in an equality check.
    """

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def get_all(self, name):
        return [v for k, v in self.pairs if k.lower() == name.lower()]

    def get(self, name, default=None):
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return bool(self.get_all(name))

    def __repr__(self):
        return f"Headers({self.pairs!r})"


class Response(NamedTuple):
    status: int
    headers: Headers
    body: bytes


_started = []


@atexit.register
def _stop_all():
    """A failed or interrupted run must not leave httpds behind (they run in their own
    sessions, so nothing else would stop them)."""
    for server in _started:
        server.stop()


class Server:
    """One httpd started by bin/pkgindex-serve, owned by pid.

    Server(db, conf_text).start() writes conf_text (with @PORT@ replaced by the port) to an
    extra config file, runs `pkgindex-serve --port P --db DRIVER:TARGET --conf EXTRA --rundir
    WORKDIR/run` and waits until the port accepts connections. DB is a Db, or an SQLite path.
    """

    def __init__(self, db, conf="", workdir=None, module=None):
        self.db = as_db(db)
        self.conf = conf
        self.workdir = workdir or make_www_tmpdir()
        self.module = module or MODULE
        self.rundir = os.path.join(self.workdir, "run")
        self.port = None
        self.proc = None

    def start(self, timeout=10.0):
        self.port = free_port()
        extra = os.path.join(self.workdir, "extra.conf")
        with open(extra, "w", encoding="utf-8") as f:
            f.write(self.conf.replace("@PORT@", str(self.port)) + "\n")
        cmd = [SERVE, "--port", str(self.port), "--db", self.db.arg, "--conf", extra,
               "--rundir", self.rundir]
        if self.module:
            cmd += ["--module", self.module]
        self.serve_log = os.path.join(self.workdir, "serve.log")
        _started.append(self)
        with open(self.serve_log, "wb") as log:
            # Own session: if SIGTERM is not enough, stop() can kill httpd's children too.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True, env=httpd_env())
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pkgindex-serve exited with {self.proc.returncode}\n{self.logs()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"httpd did not listen on port {self.port} within {timeout}s\n{self.logs()}")
            time.sleep(0.05)

    def logs(self):
        """pkgindex-serve's output and httpd's error log, for failure messages."""
        parts = []
        for name in (getattr(self, "serve_log", None), os.path.join(self.rundir, "error.log")):
            if name and os.path.exists(name):
                with open(name, encoding="utf-8", errors="replace") as f:
                    parts.append(f"--- {name}\n{f.read()}")
        return "\n".join(parts)

    def error_log(self):
        path = os.path.join(self.rundir, "error.log")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def request(self, method, path, headers=None, body=None, timeout=10.0):
        """Send one request on a fresh connection; return Response(status, headers, body)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, Headers(resp.getheaders()), data)
        finally:
            conn.close()

    def raw(self, data, timeout=10.0):
        """Send raw bytes, return everything the server sends until it closes.

        For what http.client hides, e.g. bytes after a HEAD response's headers.
        Include `Connection: close` in the request, or this waits for the timeout.
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)

    def stop(self):
        """SIGTERM (httpd's graceful-enough stop), wait, kill the group after 5 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def sanitizer_lines(self):
        """Lines of the error log and pkgindex-serve's output that a sanitizer wrote (what it
        printed before its log files were set up, or instead of them)."""
        return [line for line in self.logs().splitlines()
                if any(p in line for p in SANITIZER_PATTERNS)]

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()
