/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The SQLite backend: its statements, and how they run straight through SQLite on the
 * connection mod_dbd (or the importer) opened. See store_sqlite.h for why not through
 * apr_dbd's sqlite3 driver. */

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "store_sql.h"
#include "store_sqlite.h"

/* SQLite's own statements (the rest are pki_sql_common's). */
static const pki_sql_stmt sqlite_sql[PKI_SQL_COUNT_] = {
    [PKI_SQL_GRID_PACKAGES] = {"pkgindex_grid_packages",
                               GRID_MEMBERS "WHERE gp.grid_id = %lld ORDER BY p.title, p.id"},
    [PKI_SQL_GRID_PAGE_PACKAGES] = {"pkgindex_grid_page_packages",
                                    GRID_MEMBERS "WHERE gp.grid_id BETWEEN %lld AND %lld"
                                                 " ORDER BY gp.grid_id DESC, p.title, p.id"},
    /* Upserts by id: the same statement creates and updates, so importing twice is a no-op. */
    [PKI_SQL_CATEGORY_PUT] = {"pkgindex_category_put",
                              "INSERT INTO package_category (id, created, modified, title, slug,"
                              " description, title_plural, show_pypi)"
                              " VALUES (%lld, %s, %s, %s, %s, %s, %s, %d)"
                              " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"
                              " modified = excluded.modified, title = excluded.title,"
                              " slug = excluded.slug, description = excluded.description,"
                              " title_plural = excluded.title_plural,"
                              " show_pypi = excluded.show_pypi WHERE (created, modified, title,"
                              " slug, description, title_plural, show_pypi) IS NOT"
                              " (excluded.created, excluded.modified, excluded.title,"
                              " excluded.slug, excluded.description, excluded.title_plural,"
                              " excluded.show_pypi)"},
    [PKI_SQL_GRID_PUT] = {"pkgindex_grid_put",
                          "INSERT INTO grid_grid (id, created, modified, title, slug, description,"
                          " is_locked, header) VALUES (%lld, %s, %s, %s, %s, %s, %d, %d)"
                          " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"
                          " modified = excluded.modified, title = excluded.title,"
                          " slug = excluded.slug, description = excluded.description,"
                          " is_locked = excluded.is_locked, header = excluded.header"
                          " WHERE (created, modified, title, slug, description, is_locked,"
                          " header) IS NOT (excluded.created, excluded.modified, excluded.title,"
                          " excluded.slug, excluded.description, excluded.is_locked,"
                          " excluded.header)"},
    [PKI_SQL_PACKAGE_PUT] =
        {"pkgindex_package_put",
         "INSERT INTO package_package (id, created, modified, title, slug,"
         " category_id, repo_description, repo_url, repo_watchers, repo_forks,"
         " pypi_url, participants, last_fetched, documentation_url,"
         " commits_over_52w, last_commit_date, latest_version_id) VALUES (%lld, %s, %s,"
         " %s, %s, %lld, %s, %s, %lld, %lld, %s, %s, %s, %s, %s, %s, (SELECT MAX(id)"
         " FROM package_version WHERE package_id = %lld AND number = %s))" PKI_SQL_PACKAGE_UPDATE
         /* unchanged rows are not written: no trigger fires, cached responses stay valid */
         " WHERE (created, modified, title, slug, category_id, repo_description, repo_url,"
         " repo_watchers, repo_forks, pypi_url, participants, last_fetched, documentation_url,"
         " commits_over_52w, last_commit_date, latest_version_id) IS NOT (excluded.created,"
         " excluded.modified, excluded.title, excluded.slug, excluded.category_id,"
         " excluded.repo_description, excluded.repo_url, excluded.repo_watchers,"
         " excluded.repo_forks, excluded.pypi_url, excluded.participants, excluded.last_fetched,"
         " excluded.documentation_url, excluded.commits_over_52w, excluded.last_commit_date,"
         " excluded.latest_version_id)"},
    /* A version row per (package, number), made once; the package points at its latest. */
    [PKI_SQL_VERSION_ADD] = {"pkgindex_version_add",
                             "INSERT INTO package_version (created, modified, package_id, number)"
                             " SELECT %s, %s, %lld, %s WHERE NOT EXISTS (SELECT 1 FROM"
                             " package_version WHERE package_id = %lld AND number = %s)"},
};

static const pki_sql_stmt *sql_of(pki_sql_id id)
{
    return pki_sql_statement(&pki_store_sqlite_backend, id);
}

pki_db_fault pki_sqlite_fault(sqlite3 *conn)
{
    if (!conn) {
        return PKI_DB_FAULT_OTHER;
    }
    switch (sqlite3_errcode(conn)) {
    case SQLITE_CONSTRAINT:
        return sqlite3_extended_errcode(conn) == SQLITE_CONSTRAINT_UNIQUE ? PKI_DB_FAULT_CONFLICT
                                                                          : PKI_DB_FAULT_OTHER;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return PKI_DB_FAULT_BUSY;
    case SQLITE_FULL:
        return PKI_DB_FAULT_FULL;
    case SQLITE_READONLY:
        return PKI_DB_FAULT_READONLY;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_PERM:
        return PKI_DB_FAULT_UNAVAILABLE;
    default:
        return PKI_DB_FAULT_OTHER;
    }
}

sqlite3 *pki_sqlite_conn(pki_db *db)
{
    return db->backend == &pki_store_sqlite_backend && db->conn ? ((pki_sqlite *)db->conn)->conn
                                                                : NULL;
}

/* Read at once, before another call (a reset) changes the connection's error. */
apr_status_t pki_sqlite_failed(pki_db *db, apr_pool_t *pool, const char *what)
{
    sqlite3 *conn = pki_sqlite_conn(db);

    pki_store_fail(
        db, pki_sqlite_fault(conn),
        apr_psprintf(pool, "%s: %s", what, conn ? sqlite3_errmsg(conn) : "no connection"));
    return APR_EGENERAL;
}

/* --- The connection's state --- */

/* The connection pool's slot of the state: one per connection, whatever else keeps state. */
#define STATE_KEY "pkgindex-sqlite"

static void finalize_all(pki_sqlite *s)
{
    int i;

    pki_sqlite_search_release(s);
    for (i = 0; i < PKI_SQL_COUNT_; i++) {
        sqlite3_finalize(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->begin_write);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    s->begin = s->begin_write = s->commit = s->rollback = NULL;
}

/* Registered after the driver's close, so it runs before it: SQLite will not close a
 * connection with live statements. */
static apr_status_t state_cleanup(void *data)
{
    finalize_all(data);
    return APR_SUCCESS;
}

/* How long a reader (or the module's writes) waits for a writer's lock before failing. */
#define SERVER_BUSY_WAIT_MS 1000

apr_status_t pki_sqlite_attach(pki_db *db, sqlite3 *conn, apr_pool_t *pool, int owned)
{
    void *data = NULL;
    pki_sqlite *s;

    apr_pool_userdata_get(&data, STATE_KEY, pool);
    if (data && ((pki_sqlite *)data)->conn == conn) {
        db->conn = data;
        return APR_SUCCESS;
    }
    s = apr_pcalloc(pool, sizeof(*s));
    s->conn = conn;
    s->owned = owned;
    apr_pool_userdata_set(s, STATE_KEY, state_cleanup, pool);
    /* The driver retried a locked database; so do we, for a while, instead of a 503. (No
     * mmap: a file truncated under it would crash the process with SIGBUS.) */
    sqlite3_busy_timeout(conn, SERVER_BUSY_WAIT_MS);
    db->conn = s;
    return APR_SUCCESS;
}

static apr_status_t attach(pki_db *db, void *native, apr_pool_t *conn_pool)
{
    return native ? pki_sqlite_attach(db, native, conn_pool, 0) : APR_EINVAL;
}

static void detach(pki_db *db)
{
    pki_sqlite *s = db->conn;

    if (!s) {
        return;
    }
    apr_pool_cleanup_run(db->pool, s, state_cleanup);
    apr_pool_userdata_setn(NULL, STATE_KEY, NULL, db->pool);
    if (s->owned) {
        sqlite3_close(s->conn);
    }
    db->conn = NULL;
}

/* --- Statements --- */

/* Statement ID with SQLite's "?" for apr_dbd's "%lld"/"%d"/"%s", the types noted. */
static sqlite3_stmt *statement(pki_db *db, apr_pool_t *pool, pki_sql_id id)
{
    pki_sqlite *s = db->conn;
    const char *p, *text = sql_of(id)->sql;
    char *sql, *o;
    int k = 0;

    if (s->stmts[id]) {
        return s->stmts[id];
    }
    sql = o = apr_palloc(pool, strlen(text) + 1);
    for (p = text; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
        } else if (p[1] == '%') {
            *o++ = *++p;
        } else {
            assert(k < PKI_SQL_MAX_ARGS);
            s->types[id][k++] = p[1] == 's' ? 's' : (p[1] == 'l' ? 'i' : 'd');
            p += p[1] == 'l' ? 3 : 1;
            *o++ = '?';
        }
    }
    *o = '\0';
    s->types[id][k] = '\0';
    if (sqlite3_prepare_v3(s->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL) !=
        SQLITE_OK) {
        pki_sqlite_failed(db, pool, sql_of(id)->label);
        sqlite3_finalize(s->stmts[id]);
        s->stmts[id] = NULL;
    }
    return s->stmts[id];
}

static sqlite3_stmt *bound(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args)
{
    pki_sqlite *s = db->conn;
    sqlite3_stmt *st = statement(db, pool, id);
    const char *t;
    int i, rc = SQLITE_OK;

    if (!st) {
        return NULL;
    }
    for (i = 0, t = s->types[id]; t[i] && rc == SQLITE_OK; i++) {
        if (!args[i]) {
            rc = sqlite3_bind_null(st, i + 1);
        } else if (t[i] == 's') {
            rc = sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
        } else if (t[i] == 'i') {
            rc = sqlite3_bind_int64(st, i + 1, *(const apr_int64_t *)args[i]);
        } else {
            rc = sqlite3_bind_int(st, i + 1, *(const int *)args[i]);
        }
    }
    if (rc != SQLITE_OK) {
        pki_sqlite_failed(db, pool, sql_of(id)->label);
        sqlite3_reset(st);
        return NULL;
    }
    return st;
}

static apr_status_t select_rows(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                                pki_rows *out)
{
    out->impl = bound(db, pool, id, args);
    return out->impl ? APR_SUCCESS : APR_EGENERAL;
}

/* At the end (or on a failure) the statement is reset for its next use. */
static int next_row(pki_rows *r)
{
    sqlite3_stmt *st = r->impl;
    int rc;

    if (!st) {
        return 0;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        return 1;
    }
    if (rc != SQLITE_DONE) {
        pki_sqlite_failed(r->db, r->pool, "step");
        r->failed = 1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    r->impl = NULL;
    return 0;
}

static const char *col_text(pki_rows *r, int col, apr_size_t *len)
{
    sqlite3_stmt *st = r->impl;
    const char *s;

    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        *len = 0;
        return NULL;
    }
    s = (const char *)sqlite3_column_text(st, col);
    *len = (apr_size_t)sqlite3_column_bytes(st, col);
    return s ? s : "";
}

static apr_int64_t col_integer(pki_rows *r, int col)
{
    return sqlite3_column_int64(r->impl, col);
}

static apr_status_t exec(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args)
{
    sqlite3_stmt *st = bound(db, pool, id, args);
    int rc;

    if (!st) {
        return APR_EGENERAL;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        pki_sqlite_failed(db, pool, sql_of(id)->label);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t script(pki_db *db, apr_pool_t *pool, const char *sql)
{
    pki_sqlite *s = db->conn;
    char *err = NULL;

    if (sqlite3_exec(s->conn, sql, NULL, NULL, &err) != SQLITE_OK) {
        pki_store_fail(db, pki_sqlite_fault(s->conn), apr_pstrdup(pool, err ? err : "error"));
        sqlite3_free(err);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* --- Transactions --- */

/* Runs one of the connection's persistent statements SQL (made on first use into *ST). */
static apr_status_t step_once(pki_db *db, apr_pool_t *pool, sqlite3_stmt **st, const char *sql)
{
    pki_sqlite *s = db->conn;
    int rc;

    if (!*st &&
        sqlite3_prepare_v3(s->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        pki_sqlite_failed(db, pool, sql);
        sqlite3_finalize(*st);
        *st = NULL;
        return APR_EGENERAL;
    }
    rc = sqlite3_step(*st);
    if (rc != SQLITE_DONE) {
        pki_sqlite_failed(db, pool, sql);
    }
    sqlite3_reset(*st);
    return rc == SQLITE_DONE ? APR_SUCCESS : APR_EGENERAL;
}

/* One read transaction per request: one snapshot for the count, the page and its memberships,
 * and one WAL read lock (fcntl calls and file checks) instead of one per statement. */
static apr_status_t read_begin(pki_db *db, apr_pool_t *pool)
{
    pki_sqlite *s = db->conn;

    if (!sqlite3_get_autocommit(s->conn)) {
        sqlite3_exec(s->conn, "ROLLBACK", NULL, NULL, NULL); /* left open by someone */
    }
    return step_once(db, pool, &s->begin, "BEGIN");
}

static void read_end(pki_db *db)
{
    pki_sqlite *s = db->conn;

    if (!sqlite3_get_autocommit(s->conn)) {
        step_once(db, db->pool, &s->commit, "COMMIT"); /* a read: nothing to lose */
    }
}

/* A writer takes the write lock at once: a read that later wants to write could deadlock. */
static apr_status_t begin(pki_db *db, apr_pool_t *pool)
{
    pki_sqlite *s = db->conn;

    return step_once(db, pool, &s->begin_write, "BEGIN IMMEDIATE");
}

static apr_status_t end(pki_db *db, apr_pool_t *pool, int commit)
{
    pki_sqlite *s = db->conn;

    if (sqlite3_get_autocommit(s->conn)) {
        /* SQLite rolled the transaction back itself (after a full disk, say) */
        if (commit) {
            pki_store_fail(db, PKI_DB_FAULT_OTHER, "commit: the transaction was rolled back");
            return APR_EGENERAL;
        }
        return APR_SUCCESS;
    }
    if (commit) {
        return step_once(db, pool, &s->commit, "COMMIT");
    }
    return step_once(db, pool, &s->rollback, "ROLLBACK");
}

typedef struct lock_wait {
    apr_interval_time_t limit;
    apr_time_t since, last;
    int told;
    void (*waiting)(void *ctx);
    void *ctx;
} lock_wait;

/* How long a writer sleeps between looks at another writer's lock. */
#define LOCK_POLL apr_time_from_msec(20)
/* Looks closer together than this are one wait, with one limit. */
#define LOCK_SAME_WAIT apr_time_from_sec(1)

static int busy_wait(void *data, int count)
{
    lock_wait *w = data;
    apr_time_t now = apr_time_now();

    if (count == 0 && now - w->last > LOCK_SAME_WAIT) {
        w->since = now;
        w->told = 0;
    }
    w->last = now;
    if (now - w->since >= w->limit) {
        return 0;
    }
    if (!w->told && w->waiting && now - w->since >= apr_time_from_sec(1)) {
        w->told = 1;
        w->waiting(w->ctx);
    }
    apr_sleep(LOCK_POLL);
    return 1;
}

static apr_status_t lock_wait_set(pki_db *db, apr_interval_time_t limit, void (*waiting)(void *ctx),
                                  void *ctx)
{
    pki_sqlite *s = db->conn;
    lock_wait *w = apr_pcalloc(db->pool, sizeof(*w));

    w->limit = limit;
    w->waiting = waiting;
    w->ctx = ctx;
    return sqlite3_busy_handler(s->conn, busy_wait, w) == SQLITE_OK ? APR_SUCCESS : APR_EGENERAL;
}

/* --- The file --- */

/* The database's file; "" for an in-memory database. */
static const char *db_file(pki_db *db)
{
    const char *path = sqlite3_db_filename(pki_sqlite_conn(db), "main");
    return path ? path : "";
}

/* A SQLite file that was removed or made unreadable while connections hold it open still reads
 * fine through them: look at the file itself. */
static apr_status_t check(pki_db *db, apr_pool_t *pool)
{
    const char *path = db_file(db);

    if (*path && access(path, R_OK) != 0) {
        pki_store_fail(db, PKI_DB_FAULT_UNAVAILABLE,
                       apr_psprintf(pool, "%s: %s", path, strerror(errno)));
        return APR_ENOENT;
    }
    return APR_SUCCESS;
}

/* The file and its directory (WAL mode makes -wal/-shm files there). */
static apr_status_t writable(pki_db *db, apr_pool_t *pool)
{
    const char *path = db_file(db);
    char *dir, *slash;

    if (!*path) {
        return APR_SUCCESS; /* an in-memory database */
    }
    if (access(path, W_OK) != 0 && errno != ENOENT) {
        pki_store_fail(db, PKI_DB_FAULT_READONLY,
                       apr_psprintf(pool, "%s: not writable (%s)", path, strerror(errno)));
        return APR_EACCES;
    }
    dir = apr_pstrdup(pool, path);
    slash = strrchr(dir, '/');
    assert(slash); /* SQLite gives full paths */
    *slash = '\0';
    if (access(*dir ? dir : "/", W_OK) != 0) {
        pki_store_fail(db, PKI_DB_FAULT_READONLY,
                       apr_psprintf(pool,
                                    "%s: directory not writable: SQLite needs to create -wal/-shm "
                                    "files next to the database (%s)",
                                    *dir ? dir : "/", strerror(errno)));
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

const pki_store_backend pki_store_sqlite_backend = {
    .name = "sqlite3",
    .sql = sqlite_sql,
    .attach = attach,
    .detach = detach,
    .select = select_rows,
    .next = next_row,
    .text = col_text,
    .integer = col_integer,
    .exec = exec,
    .script = script,
    .read_begin = read_begin,
    .read_end = read_end,
    .begin = begin,
    .end = end,
    .lock_wait = lock_wait_set,
    .check = check,
    .writable = writable,
    .recount_sql = PKI_SQL_RECOUNT "UPDATE pkgindex_state SET generation = random();\n",
    .checkpoints_sql = PKI_SQL_CHECKPOINTS,
    .search = pki_sqlite_search,
    .search_sync = pki_sqlite_search_sync,
    .search_rebuild = pki_sqlite_search_rebuild,
    .process_init = pki_sqlite_process_init,
    .spec_valid = pki_sqlite_spec_valid,
    .open_writer = pki_sqlite_open_writer,
    .close_writer = pki_sqlite_close_writer,
};
