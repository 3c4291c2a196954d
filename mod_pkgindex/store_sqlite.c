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

#include "store_sqlite.h"

#define PACKAGE_COLUMNS                                                                            \
    "SELECT p.id, p.category_id, p.title, p.slug, p.last_commit_date, p.last_fetched,"             \
    " p.repo_url, v.number, p.created, p.modified, p.repo_forks, p.repo_description,"              \
    " p.pypi_url, p.documentation_url, p.repo_watchers, p.commits_over_52w, p.participants"        \
    " FROM package_package p LEFT JOIN package_version v ON v.id = p.latest_version_id "
#define GRID_COLUMNS                                                                               \
    "SELECT id, title, slug, description, is_locked, header, created, modified FROM grid_grid "
#define CATEGORY_COLUMNS                                                                           \
    "SELECT id, title, slug, description, title_plural, show_pypi, created, modified"              \
    " FROM package_category "
/* A grid's packages are ordered by title in code-point order, as the original's C collation. */
#define GRID_MEMBERS                                                                               \
    "SELECT gp.grid_id, gp.package_id FROM grid_gridpackage gp"                                    \
    " JOIN package_package p ON p.id = gp.package_id "

/* A page is a contiguous run of ids, so its memberships are one range query (no N+1). */
static const pki_sql_stmt sqlite_sql[PKI_SQL_COUNT_] = {
    [PKI_SQL_PACKAGE_BY_ID] = {"pkgindex_package_by_id", PACKAGE_COLUMNS "WHERE p.id = %lld"},
    [PKI_SQL_PACKAGE_BY_SLUG] = {"pkgindex_package_by_slug", PACKAGE_COLUMNS "WHERE p.slug = %s"},
    [PKI_SQL_PACKAGE_GRIDS] = {"pkgindex_package_grids",
                               "SELECT package_id, grid_id FROM grid_gridpackage"
                               " WHERE package_id = %lld ORDER BY id"},
    [PKI_SQL_PACKAGE_COUNT] = {"pkgindex_package_count",
                               "SELECT n FROM pkgindex_count WHERE name = 'package_package'"},
    [PKI_SQL_PACKAGE_PAGE] = {"pkgindex_package_page",
                              PACKAGE_COLUMNS "ORDER BY p.id DESC LIMIT %lld OFFSET %lld"},
    /* A page far down the list: its first id from the nearest checkpoint (at most 255 steps),
     * or, when the checkpoints are stale, from plain OFFSET. Same rows as PACKAGE_PAGE. */
    [PKI_SQL_PACKAGE_PAGE_DEEP] =
        {"pkgindex_package_page_deep", PACKAGE_COLUMNS
         "WHERE p.id <= COALESCE((SELECT (SELECT id FROM package_package WHERE id >= c.id"
         " ORDER BY id LIMIT 1 OFFSET %lld) FROM pkgindex_checkpoint c JOIN pkgindex_count k"
         " ON k.name = c.name WHERE c.name = 'package_package' AND c.seq = %lld"
         " AND k.checkpoint_version = k.version), (SELECT id FROM package_package"
         " ORDER BY id DESC LIMIT 1 OFFSET %lld)) ORDER BY p.id DESC LIMIT %lld"},
    [PKI_SQL_PACKAGE_PAGE_GRIDS] = {"pkgindex_package_page_grids",
                                    "SELECT package_id, grid_id FROM grid_gridpackage"
                                    " WHERE package_id BETWEEN %lld AND %lld"
                                    " ORDER BY package_id, id"},
    [PKI_SQL_GRID_BY_ID] = {"pkgindex_grid_by_id", GRID_COLUMNS "WHERE id = %lld"},
    [PKI_SQL_GRID_BY_SLUG] = {"pkgindex_grid_by_slug", GRID_COLUMNS "WHERE slug = %s"},
    [PKI_SQL_GRID_PACKAGES] = {"pkgindex_grid_packages",
                               GRID_MEMBERS "WHERE gp.grid_id = %lld ORDER BY p.title, p.id"},
    [PKI_SQL_GRID_COUNT] = {"pkgindex_grid_count",
                            "SELECT n FROM pkgindex_count WHERE name = 'grid_grid'"},
    [PKI_SQL_GRID_PAGE] = {"pkgindex_grid_page",
                           GRID_COLUMNS "ORDER BY id DESC LIMIT %lld OFFSET %lld"},
    [PKI_SQL_GRID_PAGE_PACKAGES] = {"pkgindex_grid_page_packages",
                                    GRID_MEMBERS "WHERE gp.grid_id BETWEEN %lld AND %lld"
                                                 " ORDER BY gp.grid_id DESC, p.title, p.id"},
    [PKI_SQL_CATEGORY_BY_ID] = {"pkgindex_category_by_id", CATEGORY_COLUMNS "WHERE id = %lld"},
    [PKI_SQL_CATEGORY_COUNT] = {"pkgindex_category_count",
                                "SELECT n FROM pkgindex_count WHERE name = 'package_category'"},
    [PKI_SQL_CATEGORY_PAGE] = {"pkgindex_category_page",
                               CATEGORY_COLUMNS "ORDER BY id DESC LIMIT %lld OFFSET %lld"},

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
         " FROM package_version WHERE package_id = %lld AND number = %s))"
         " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"
         " modified = excluded.modified, title = excluded.title,"
         " slug = excluded.slug, category_id = excluded.category_id,"
         " repo_description = excluded.repo_description,"
         " repo_url = excluded.repo_url, repo_watchers = excluded.repo_watchers,"
         " repo_forks = excluded.repo_forks, pypi_url = excluded.pypi_url,"
         " participants = excluded.participants,"
         " last_fetched = excluded.last_fetched,"
         " documentation_url = excluded.documentation_url,"
         " commits_over_52w = excluded.commits_over_52w,"
         " last_commit_date = excluded.last_commit_date,"
         " latest_version_id = excluded.latest_version_id"
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
    [PKI_SQL_PACKAGE_GRIDS_CLEAR] = {"pkgindex_package_grids_clear",
                                     "DELETE FROM grid_gridpackage WHERE package_id = %lld"},
    [PKI_SQL_MEMBER_ADD] = {"pkgindex_member_add",
                            "INSERT INTO grid_gridpackage (created, modified, grid_id, package_id)"
                            " VALUES (%s, %s, %lld, %lld)"},
    [PKI_SQL_MEMBER_REMOVE] = {"pkgindex_member_remove",
                               "DELETE FROM grid_gridpackage WHERE grid_id = %lld"
                               " AND package_id = %lld"},
    [PKI_SQL_GRID_MEMBERS] = {"pkgindex_grid_members",
                              "SELECT grid_id, package_id FROM grid_gridpackage"
                              " WHERE grid_id = %lld ORDER BY id"},
    [PKI_SQL_PACKAGE_SLUG_OWNER] = {"pkgindex_package_slug_owner",
                                    "SELECT id FROM package_package WHERE slug = %s"},
    [PKI_SQL_GRID_SLUG_OWNER] = {"pkgindex_grid_slug_owner",
                                 "SELECT id FROM grid_grid WHERE slug = %s"},
    [PKI_SQL_PACKAGE_EXISTS] = {"pkgindex_package_exists",
                                "SELECT id FROM package_package WHERE id = %lld"},
    [PKI_SQL_GRID_EXISTS] = {"pkgindex_grid_exists", "SELECT id FROM grid_grid WHERE id = %lld"},
    [PKI_SQL_CATEGORY_EXISTS] = {"pkgindex_category_exists",
                                 "SELECT id FROM package_category WHERE id = %lld"},
    [PKI_SQL_FIRST_CATEGORY] = {"pkgindex_first_category", "SELECT MIN(id) FROM package_category"},
    [PKI_SQL_DANGLING_CATEGORIES] = {"pkgindex_dangling_categories",
                                     "SELECT p.category_id, MIN(p.id) FROM package_package p"
                                     " LEFT JOIN package_category c ON c.id = p.category_id"
                                     " WHERE c.id IS NULL GROUP BY p.category_id"
                                     " ORDER BY p.category_id"},
    [PKI_SQL_DANGLING_GRIDS] = {"pkgindex_dangling_grids",
                                "SELECT gp.grid_id, MIN(gp.package_id) FROM grid_gridpackage gp"
                                " LEFT JOIN grid_grid g ON g.id = gp.grid_id WHERE g.id IS NULL"
                                " GROUP BY gp.grid_id ORDER BY gp.grid_id"},
    [PKI_SQL_GENERATION] = {"pkgindex_generation",
                            "SELECT generation FROM pkgindex_state WHERE id = 1"},
    /* deletes: an object and what belongs to it (the triggers keep counts, the data generation
     * and the search marks) */
    [PKI_SQL_PACKAGE_IDS] = {"pkgindex_package_ids", "SELECT id FROM package_package ORDER BY id"},
    [PKI_SQL_GRID_IDS] = {"pkgindex_grid_ids", "SELECT id FROM grid_grid ORDER BY id"},
    [PKI_SQL_CATEGORY_IDS] = {"pkgindex_category_ids",
                              "SELECT id FROM package_category ORDER BY id"},
    [PKI_SQL_PACKAGE_MEMBERS_DELETE] = {"pkgindex_package_members_delete",
                                        "DELETE FROM grid_gridpackage WHERE package_id = %lld"},
    [PKI_SQL_PACKAGE_VERSION_UNLINK] = {"pkgindex_package_version_unlink",
                                        "UPDATE package_package SET latest_version_id = NULL"
                                        " WHERE id = %lld"},
    [PKI_SQL_PACKAGE_VERSIONS_DELETE] = {"pkgindex_package_versions_delete",
                                         "DELETE FROM package_version WHERE package_id = %lld"},
    [PKI_SQL_PACKAGE_DELETE] = {"pkgindex_package_delete",
                                "DELETE FROM package_package WHERE id = %lld"},
    [PKI_SQL_GRID_MEMBERS_DELETE] = {"pkgindex_grid_members_delete",
                                     "DELETE FROM grid_gridpackage WHERE grid_id = %lld"},
    [PKI_SQL_GRID_DELETE] = {"pkgindex_grid_delete", "DELETE FROM grid_grid WHERE id = %lld"},
    [PKI_SQL_CATEGORY_USERS] = {"pkgindex_category_users",
                                "SELECT COUNT(*) FROM package_package WHERE category_id = %lld"},
    [PKI_SQL_CATEGORY_DELETE] = {"pkgindex_category_delete",
                                 "DELETE FROM package_category WHERE id = %lld"},
    [PKI_SQL_CATEGORY_PACKAGE_IDS] = {"pkgindex_category_package_ids",
                                      "SELECT category_id, id FROM package_package"
                                      " WHERE category_id = %lld ORDER BY id"},
};

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
    const char *p, *text = sqlite_sql[id].sql;
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
        pki_sqlite_failed(db, pool, sqlite_sql[id].label);
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
        pki_sqlite_failed(db, pool, sqlite_sql[id].label);
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
        pki_sqlite_failed(db, pool, sqlite_sql[id].label);
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
    .recount_sql = "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM package_package),"
                   " version = version + 1 WHERE name = 'package_package';\n"
                   "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM grid_grid),"
                   " version = version + 1 WHERE name = 'grid_grid';\n"
                   "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM package_category),"
                   " version = version + 1 WHERE name = 'package_category';\n"
                   "UPDATE pkgindex_state SET generation = random();\n",
    .checkpoints_sql =
        "DELETE FROM pkgindex_checkpoint WHERE name = 'package_package'"
        " AND (SELECT checkpoint_version != version FROM pkgindex_count"
        " WHERE name = 'package_package');\n"
        "INSERT INTO pkgindex_checkpoint (name, seq, id) SELECT 'package_package', rn / 256, id"
        " FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS rn FROM package_package)"
        " WHERE rn % 256 = 0 AND (SELECT checkpoint_version != version FROM pkgindex_count"
        " WHERE name = 'package_package');\n"
        "UPDATE pkgindex_count SET checkpoint_version = version"
        " WHERE name = 'package_package';\n"
        /* counts made exact again, whatever other writers did (INSERT OR REPLACE fires no
         * delete trigger) */
        "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM package_package)"
        " WHERE name = 'package_package';\n"
        "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM grid_grid) WHERE name = 'grid_grid';\n"
        "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM package_category)"
        " WHERE name = 'package_category';\n",
    .search = pki_sqlite_search,
    .search_sync = pki_sqlite_search_sync,
    .search_rebuild = pki_sqlite_search_rebuild,
    .process_init = pki_sqlite_process_init,
    .spec_valid = pki_sqlite_spec_valid,
    .open_writer = pki_sqlite_open_writer,
    .close_writer = pki_sqlite_close_writer,
};
