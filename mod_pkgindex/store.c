/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "store.h"
#include "tz.h"

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
const pki_sql_stmt pki_sql[PKI_SQL_COUNT_] = {
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

/* SQLite's result code, read off the connection, as a fault the callers act on. */
pki_db_fault pki_store_sqlite_fault(void *sqlite)
{
    sqlite3 *conn = sqlite;

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

static sqlite3 *sqlite_conn(pki_db *db)
{
    return strcmp(apr_dbd_name(db->driver), "sqlite3") == 0
               ? apr_dbd_native_handle(db->driver, db->handle)
               : NULL;
}

/* Notes why a call failed: WHAT in words for the log, the kind for the caller. Read at once,
 * before another call (a re-prepare) resets the connection's error. */
static void failed(pki_db *db, const char *what)
{
    db->error = what;
    db->fault = pki_store_sqlite_fault(sqlite_conn(db));
}

/* A statement that fails is retried once after preparing the connection's statements again:
 * a schema change (sqlite3: CREATE INDEX, VACUUM, even by another process) or a server restart
 * (pgsql) kills every prepared statement for good. The sqlite3 driver leaks a little memory
 * per prepare, so a connection that stays broken re-prepares at most once a second. */
#define REPREPARE_KEY "pkgindex-reprepared"

static int may_reprepare(pki_db *db)
{
    void *last = NULL;
    apr_time_t now = apr_time_now(), *stamp;

    apr_pool_userdata_get(&last, REPREPARE_KEY, db->pool);
    if (last && now - *(apr_time_t *)last < apr_time_from_sec(1)) {
        return 0;
    }
    stamp = last ? last : apr_palloc(db->pool, sizeof(*stamp));
    *stamp = now;
    if (!last) {
        apr_pool_userdata_set(stamp, REPREPARE_KEY, NULL, db->pool);
    }
    return 1;
}

/* Statement ID after preparing the connection's statements again, or NULL when that is not
 * allowed yet or fails. */
static apr_dbd_prepared_t *prepared_again(pki_db *db, apr_pool_t *pool, pki_sql_id id)
{
    if (!may_reprepare(db) || pki_store_prepare_all(db, pool) != APR_SUCCESS) {
        return NULL;
    }
    return apr_hash_get(db->prepared, pki_sql[id].label, APR_HASH_KEY_STRING);
}

/* A result being read. Through apr_dbd, or, on the sqlite3 driver, straight through SQLite on
 * the same pooled connection: the driver holds one process-wide mutex around every call, which
 * under httpd's worker threads turns each query into a futex hand-off (measured: the kernel's
 * scheduler was two thirds of the profile). SQLite itself is safe for one thread per
 * connection, which mod_dbd guarantees. */
typedef struct rows {
    pki_db *db;
    apr_pool_t *pool;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row;
    sqlite3_stmt *stmt;
    int failed; /* a native step failed */
} rows;

#define NATIVE_KEY "pkgindex-native"

/* A connection's own SQLite statements, prepared on first use with sqlite3_prepare_v3, which
 * re-prepares by itself after a schema change. */
typedef struct native {
    sqlite3 *conn;
    sqlite3_stmt *begin, *commit;
    sqlite3_stmt *stmts[PKI_SQL_COUNT_];
    char types[PKI_SQL_COUNT_][24]; /* per placeholder: 'i' int64, 'd' int, 's' text */
} native;

static apr_status_t native_cleanup(void *data)
{
    native *n = data;
    int i;

    for (i = 0; i < PKI_SQL_COUNT_; i++) {
        if (n->stmts[i]) {
            sqlite3_finalize(n->stmts[i]);
        }
    }
    sqlite3_finalize(n->begin);
    sqlite3_finalize(n->commit);
    return APR_SUCCESS;
}

static native *native_of(pki_db *db)
{
    void *data = NULL;
    native *n;

    if (db->native < 0) {
        return NULL;
    }
    apr_pool_userdata_get(&data, NATIVE_KEY, db->pool);
    if (data) {
        return data;
    }
    n = apr_pcalloc(db->pool, sizeof(*n));
    if (!(n->conn = sqlite_conn(db))) {
        db->native = -1;
        return NULL;
    }
    /* registered after the driver's close, so it runs before it */
    apr_pool_userdata_set(n, NATIVE_KEY, native_cleanup, db->pool);
    /* The driver retried a locked database; so do we, for a while, instead of a 503. (No
     * mmap: a file truncated under it would crash the process with SIGBUS.) */
    sqlite3_busy_timeout(n->conn, 1000);
    return n;
}

/* apr_dbd's "%lld"/"%d"/"%s" placeholders as SQLite's "?", their types noted. */
static sqlite3_stmt *native_stmt(pki_db *db, native *n, pki_sql_id id, apr_pool_t *pool)
{
    const char *p;
    char *sql, *o;
    int k = 0;

    if (n->stmts[id]) {
        return n->stmts[id];
    }
    sql = o = apr_palloc(pool, strlen(pki_sql[id].sql) + 1);
    for (p = pki_sql[id].sql; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
        } else if (p[1] == '%') {
            *o++ = *++p;
        } else {
            n->types[id][k++] = p[1] == 's' ? 's' : (p[1] == 'l' ? 'i' : 'd');
            p += p[1] == 'l' ? 3 : 1;
            *o++ = '?';
        }
    }
    *o = '\0';
    n->types[id][k] = '\0';
    if (sqlite3_prepare_v3(n->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &n->stmts[id], NULL) !=
        SQLITE_OK) {
        failed(db, apr_psprintf(pool, "%s: %s", pki_sql[id].label, sqlite3_errmsg(n->conn)));
        n->stmts[id] = NULL;
    }
    return n->stmts[id];
}

static apr_status_t native_select(pki_db *db, native *n, apr_pool_t *pool, pki_sql_id id,
                                  const void **args, rows *r)
{
    sqlite3_stmt *stmt = native_stmt(db, n, id, pool);
    const char *t;
    int i, rc = SQLITE_OK;

    if (!stmt) {
        return APR_EGENERAL;
    }
    for (i = 0, t = n->types[id]; t[i] && rc == SQLITE_OK; i++) {
        if (!args[i]) {
            rc = sqlite3_bind_null(stmt, i + 1);
        } else if (t[i] == 's') {
            rc = sqlite3_bind_text(stmt, i + 1, args[i], -1, SQLITE_STATIC);
        } else if (t[i] == 'i') {
            rc = sqlite3_bind_int64(stmt, i + 1, *(const apr_int64_t *)args[i]);
        } else {
            rc = sqlite3_bind_int(stmt, i + 1, *(const int *)args[i]);
        }
    }
    if (rc != SQLITE_OK) {
        failed(db, apr_psprintf(pool, "%s: %s", pki_sql[id].label, sqlite3_errmsg(n->conn)));
        sqlite3_reset(stmt);
        return APR_EGENERAL;
    }
    r->stmt = stmt;
    return APR_SUCCESS;
}

/* One read transaction per request: one snapshot for the count, the page and its memberships,
 * and one WAL read lock (fcntl calls and file checks) instead of one per statement. */
apr_status_t pki_store_read_begin(pki_db *db, apr_pool_t *pool)
{
    native *n = native_of(db);

    if (!n) {
        return APR_SUCCESS;
    }
    if (!sqlite3_get_autocommit(n->conn)) {
        sqlite3_exec(n->conn, "ROLLBACK", NULL, NULL, NULL); /* left open by someone */
    }
    if ((!n->begin && sqlite3_prepare_v3(n->conn, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &n->begin,
                                         NULL) != SQLITE_OK) ||
        (!n->commit && sqlite3_prepare_v3(n->conn, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT,
                                          &n->commit, NULL) != SQLITE_OK) ||
        sqlite3_step(n->begin) != SQLITE_DONE) {
        failed(db, apr_psprintf(pool, "begin: %s", sqlite3_errmsg(n->conn)));
        if (n->begin) {
            sqlite3_reset(n->begin);
        }
        return APR_EGENERAL;
    }
    sqlite3_reset(n->begin);
    return APR_SUCCESS;
}

void pki_store_read_end(pki_db *db)
{
    native *n = native_of(db);

    if (n && n->commit && !sqlite3_get_autocommit(n->conn)) {
        sqlite3_step(n->commit);
        sqlite3_reset(n->commit);
    }
}

apr_status_t pki_store_recount(pki_db *db, apr_pool_t *pool)
{
    return pki_store_exec_script(
        db, pool,
        "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM package_package),"
        " version = version + 1 WHERE name = 'package_package';\n"
        "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM grid_grid),"
        " version = version + 1 WHERE name = 'grid_grid';\n"
        "UPDATE pkgindex_count SET n = (SELECT COUNT(*) FROM package_category),"
        " version = version + 1 WHERE name = 'package_category';\n"
        "UPDATE pkgindex_state SET generation = random();\n");
}

void *pki_store_sqlite(pki_db *db)
{
    native *n = native_of(db);
    return n ? n->conn : NULL;
}

void pki_store_close(pki_db *db)
{
    void *n = NULL;

    /* SQLite will not close a connection with live statements: finalize ours first */
    pki_store_search_release(db);
    apr_pool_userdata_get(&n, NATIVE_KEY, db->pool);
    if (n) {
        apr_pool_cleanup_run(db->pool, n, native_cleanup);
        apr_pool_userdata_setn(NULL, NATIVE_KEY, NULL, db->pool);
    }
    apr_dbd_close(db->driver, db->handle);
}

static apr_status_t select_rows(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                                rows **out)
{
    rows *r = apr_pcalloc(pool, sizeof(*r));
    native *n = native_of(db);
    apr_dbd_prepared_t *stmt, *again;
    int rv = -1;

    r->db = db;
    r->pool = pool;
    *out = r;
    if (n) {
        return native_select(db, n, pool, id, args, r);
    }
    stmt = apr_hash_get(db->prepared, pki_sql[id].label, APR_HASH_KEY_STRING);
    if (stmt) {
        /* random access: pgsql's sequential mode misbehaves on empty and undrained results */
        rv = apr_dbd_pbselect(db->driver, pool, db->handle, &r->res, stmt, 1, args);
    }
    if (rv != 0 && (again = prepared_again(db, pool, id))) {
        stmt = again;
        r->res = NULL;
        rv = apr_dbd_pbselect(db->driver, pool, db->handle, &r->res, stmt, 1, args);
    }
    if (rv != 0) {
        /* the connection's pool outlives the message: use the request's */
        failed(db, apr_psprintf(pool, "%s: %s (%d)", pki_sql[id].label,
                                stmt ? apr_dbd_error(db->driver, db->handle, rv)
                                     : "statement not prepared",
                                rv));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The next row; at the end (or on an error, noted in db->error) a native statement is reset
 * for its next use. */
static int next_row(rows *r)
{
    int rc;

    if (!r->stmt) {
        return r->res && apr_dbd_get_row(r->db->driver, r->pool, r->res, &r->row, -1) == 0;
    }
    rc = sqlite3_step(r->stmt);
    if (rc == SQLITE_ROW) {
        return 1;
    }
    if (rc != SQLITE_DONE) {
        r->db->error = apr_psprintf(r->pool, "%s", sqlite3_errmsg(sqlite3_db_handle(r->stmt)));
        r->db->fault = pki_store_sqlite_fault(sqlite3_db_handle(r->stmt));
        r->failed = 1;
    }
    sqlite3_reset(r->stmt);
    r->stmt = NULL;
    return 0;
}

/* The database's file; NULL on another driver, "" for an in-memory database. */
static const char *db_file(pki_db *db)
{
    sqlite3 *conn = sqlite_conn(db);

    return conn ? sqlite3_db_filename(conn, "main") : NULL;
}

apr_status_t pki_store_check(pki_db *db, apr_pool_t *pool)
{
    const char *path = db_file(db);

    if (path && *path && access(path, R_OK) != 0) {
        db->error = apr_psprintf(pool, "%s: %s", path, strerror(errno));
        db->fault = PKI_DB_FAULT_UNAVAILABLE;
        return APR_ENOENT;
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_writable(pki_db *db, apr_pool_t *pool)
{
    const char *path = db_file(db);
    char *dir, *slash;

    if (!path || !*path) {
        return APR_SUCCESS; /* another driver, or an in-memory database */
    }
    if (access(path, W_OK) != 0 && errno != ENOENT) {
        db->error = apr_psprintf(pool, "%s: not writable (%s)", path, strerror(errno));
        db->fault = PKI_DB_FAULT_READONLY;
        return APR_EACCES;
    }
    dir = apr_pstrdup(pool, path);
    slash = strrchr(dir, '/');
    assert(slash); /* SQLite gives full paths */
    *slash = '\0';
    if (access(*dir ? dir : "/", W_OK) != 0) {
        db->error = apr_psprintf(pool,
                                 "%s: directory not writable: SQLite needs to create -wal/-shm "
                                 "files next to the database (%s)",
                                 *dir ? dir : "/", strerror(errno));
        db->fault = PKI_DB_FAULT_READONLY;
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

/* Column readers: NULL-safe on both drivers (get_entry gives "" for NULL on pgsql). */
static const char *col_str(rows *r, int col)
{
    const char *s = NULL;

    if (r->stmt) {
        if (sqlite3_column_type(r->stmt, col) == SQLITE_NULL) {
            return NULL;
        }
        s = (const char *)sqlite3_column_text(r->stmt, col);
        return apr_pstrmemdup(r->pool, s ? s : "", sqlite3_column_bytes(r->stmt, col));
    }
    if (apr_dbd_datum_get(r->db->driver, r->row, col, APR_DBD_TYPE_STRING, &s) != APR_SUCCESS) {
        return NULL;
    }
    return s;
}

static const char *col_text(rows *r, int col)
{
    const char *s = col_str(r, col);
    return s ? s : "";
}

static apr_int64_t col_int(rows *r, int col)
{
    const char *s;

    if (r->stmt) {
        return sqlite3_column_int64(r->stmt, col);
    }
    s = col_str(r, col);
    return s ? apr_atoi64(s) : 0;
}

static int col_bool(rows *r, int col)
{
    const char *s = col_str(r, col);
    return s && (*s == 't' || *s == 'T' || (*s >= '1' && *s <= '9'));
}

static apr_int64_t col_time(rows *r, int col)
{
    const char *s;
    apr_int64_t usec;

    if (r->stmt) {
        s = (const char *)sqlite3_column_text(r->stmt, col); /* no copy: parsed here */
    } else {
        s = col_str(r, col);
    }
    if (!s || pki_time_parse(s, &usec) != 0) {
        return PKI_TIME_NULL;
    }
    return usec;
}

static void read_package(rows *r, pki_package *p)
{
    p->id = col_int(r, 0);
    p->category_id = col_int(r, 1);
    p->title = col_text(r, 2);
    p->slug = col_text(r, 3);
    p->last_updated = col_time(r, 4);
    p->last_fetched = col_time(r, 5);
    p->repo_url = col_text(r, 6);
    p->pypi_version = col_str(r, 7);
    p->created = col_time(r, 8);
    p->modified = col_time(r, 9);
    p->repo_forks = col_int(r, 10);
    p->repo_description = col_text(r, 11);
    p->pypi_url = col_text(r, 12);
    p->documentation_url = col_str(r, 13);
    p->repo_watchers = col_int(r, 14);
    p->commits_over_52 = col_text(r, 15);
    p->participants = col_text(r, 16);
    p->grids.ids = NULL;
    p->grids.count = 0;
}

static void read_grid(rows *r, pki_grid *g)
{
    g->id = col_int(r, 0);
    g->title = col_text(r, 1);
    g->slug = col_text(r, 2);
    g->description = col_text(r, 3);
    g->is_locked = col_bool(r, 4);
    g->header = col_bool(r, 5);
    g->created = col_time(r, 6);
    g->modified = col_time(r, 7);
    g->packages.ids = NULL;
    g->packages.count = 0;
}

static void read_category(rows *r, pki_category *c)
{
    c->id = col_int(r, 0);
    c->title = col_text(r, 1);
    c->slug = col_text(r, 2);
    c->description = col_text(r, 3);
    c->title_plural = col_text(r, 4);
    c->show_pypi = col_bool(r, 5);
    c->created = col_time(r, 6);
    c->modified = col_time(r, 7);
}

/* Related ids of one or more owners: rows of (owner_id, related_id), grouped by owner in the
 * order the owners were read. Each owner's pki_ids points into one shared array. */
typedef struct owner_ref {
    apr_int64_t id;
    pki_ids *ids;
} owner_ref;

/* Index of owner ID in OWNERS (ordered by id, ascending or descending), or -1. */
static int owner_index(const owner_ref *owners, int n, int desc, apr_int64_t id)
{
    int lo = 0, hi = n - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (owners[mid].id == id) {
            return mid;
        }
        if ((owners[mid].id < id) != desc) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -1;
}

/* Rows of (owner id, related id), each owner's in the order the API lists them; owners may come
 * in any order (the index gives them ascending, a page lists them descending). A row of an
 * owner not on the list (a membership whose package is gone) is skipped. */
static apr_status_t read_relations(pki_db *db, apr_pool_t *pool, pki_sql_id stmt, const void **args,
                                   owner_ref *owners, int n)
{
    rows *r;
    apr_array_header_t *all;
    int i, o, start = 0, desc = n > 1 && owners[0].id > owners[n - 1].id;
    apr_int64_t *ids;
    int *counts, *at;

    if (select_rows(db, pool, stmt, args, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    all = apr_array_make(pool, 64, sizeof(apr_int64_t) * 2);
    while (next_row(r)) {
        apr_int64_t *pair = apr_array_push(all);
        pair[0] = col_int(r, 0);
        pair[1] = col_int(r, 1);
    }
    if (r->failed) {
        return APR_EGENERAL;
    }
    ids = apr_palloc(pool, sizeof(apr_int64_t) * (all->nelts + 1));
    counts = apr_pcalloc(pool, sizeof(int) * (n + 1));
    at = apr_palloc(pool, sizeof(int) * (all->nelts + 1));
    for (i = 0; i < all->nelts; i++) {
        at[i] = owner_index(owners, n, desc, ((apr_int64_t *)all->elts)[i * 2]);
        if (at[i] >= 0) {
            counts[at[i]]++;
        }
    }
    for (o = 0; o < n; o++) {
        owners[o].ids->ids = ids + start;
        owners[o].ids->count = 0;
        start += counts[o];
    }
    for (i = 0; i < all->nelts; i++) {
        if (at[i] >= 0) {
            pki_ids *dst = owners[at[i]].ids;
            ((apr_int64_t *)dst->ids)[dst->count++] = ((apr_int64_t *)all->elts)[i * 2 + 1];
        }
    }
    return APR_SUCCESS;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as PostgreSQL wants. */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s++, cp, min;
        int n;
        if (c < 0x80) {
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        while (n--) {
            if ((*s & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (*s++ & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
    }
    return 1;
}

/* Drains R: a native statement is reset at its end, ready for its next use. */
static int drain(rows *r)
{
    while (next_row(r)) {
    }
    return r->failed;
}

typedef void (*row_reader)(rows *r, void *obj);

static void read_package_row(rows *r, void *obj)
{
    read_package(r, obj);
}

static void read_grid_row(rows *r, void *obj)
{
    read_grid(r, obj);
}

static void read_category_row(rows *r, void *obj)
{
    read_category(r, obj);
}

/* Reads the one row a detail lookup selects into OBJ; *FOUND says whether there was one. */
static apr_status_t lookup_row(pki_db *db, apr_pool_t *pool, const pki_route *route,
                               pki_sql_id by_id, pki_sql_id by_slug, row_reader read, void *obj,
                               int *found)
{
    rows *r;
    const void *args[1];
    apr_int64_t id = route->id;

    *found = 0;
    if (route->lookup_is_id) {
        if (id < 0) {
            return APR_SUCCESS; /* beyond 64 bits: no such object */
        }
        args[0] = &id;
        if (select_rows(db, pool, by_id, args, &r) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    } else {
        /* A slug that is not UTF-8 matches nothing (and pgsql would reject it). */
        if (!valid_utf8((const unsigned char *)route->lookup)) {
            return APR_SUCCESS;
        }
        args[0] = route->lookup;
        if (select_rows(db, pool, by_slug, args, &r) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (next_row(r)) {
        read(r, obj);
        *found = 1;
    }
    return drain(r) ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t pki_store_package(pki_db *db, apr_pool_t *pool, const pki_route *route,
                               pki_package **out)
{
    pki_package *p = apr_palloc(pool, sizeof(*p));
    owner_ref owner;
    const void *args[1];
    int found;

    *out = NULL;
    if (lookup_row(db, pool, route, PKI_SQL_PACKAGE_BY_ID, PKI_SQL_PACKAGE_BY_SLUG,
                   read_package_row, p, &found) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!found) {
        return APR_SUCCESS;
    }
    owner.id = p->id;
    owner.ids = &p->grids;
    args[0] = &p->id;
    if (read_relations(db, pool, PKI_SQL_PACKAGE_GRIDS, args, &owner, 1) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    *out = p;
    return APR_SUCCESS;
}

apr_status_t pki_store_grid(pki_db *db, apr_pool_t *pool, const pki_route *route, pki_grid **out)
{
    pki_grid *g = apr_palloc(pool, sizeof(*g));
    owner_ref owner;
    const void *args[1];
    int found;

    *out = NULL;
    if (lookup_row(db, pool, route, PKI_SQL_GRID_BY_ID, PKI_SQL_GRID_BY_SLUG, read_grid_row, g,
                   &found) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!found) {
        return APR_SUCCESS;
    }
    owner.id = g->id;
    owner.ids = &g->packages;
    args[0] = &g->id;
    if (read_relations(db, pool, PKI_SQL_GRID_PACKAGES, args, &owner, 1) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    *out = g;
    return APR_SUCCESS;
}

apr_status_t pki_store_category(pki_db *db, apr_pool_t *pool, const pki_route *route,
                                pki_category **out)
{
    pki_category *c = apr_palloc(pool, sizeof(*c));
    int found;

    /* categories are looked up by id only: a slug is no category */
    *out = NULL;
    if (!route->lookup_is_id) {
        return APR_SUCCESS;
    }
    if (lookup_row(db, pool, route, PKI_SQL_CATEGORY_BY_ID, PKI_SQL_COUNT_, read_category_row, c,
                   &found) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    *out = found ? c : NULL;
    return APR_SUCCESS;
}

static const struct {
    pki_sql_id count, page, relations;
    apr_size_t size;
} pages[PKI_RES_COUNT_] = {
    [PKI_RES_PACKAGES] = {PKI_SQL_PACKAGE_COUNT, PKI_SQL_PACKAGE_PAGE, PKI_SQL_PACKAGE_PAGE_GRIDS,
                          sizeof(pki_package)},
    [PKI_RES_GRIDS] = {PKI_SQL_GRID_COUNT, PKI_SQL_GRID_PAGE, PKI_SQL_GRID_PAGE_PACKAGES,
                       sizeof(pki_grid)},
    [PKI_RES_CATEGORIES] = {PKI_SQL_CATEGORY_COUNT, PKI_SQL_CATEGORY_PAGE, PKI_SQL_COUNT_,
                            sizeof(pki_category)},
};

apr_status_t pki_store_page(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t limit,
                            apr_int64_t offset, pki_page *out)
{
    rows *r;
    apr_array_header_t *items;
    owner_ref *owners;
    const void *args[2];
    int i;

    out->count = 0;
    out->items = NULL;
    out->n = 0;
    if (select_rows(db, pool, pages[res].count, NULL, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (next_row(r)) {
        out->count = col_int(r, 0);
    }
    if (drain(r)) {
        return APR_EGENERAL;
    }
    if (offset >= out->count) {
        return APR_SUCCESS; /* past the end: no page query */
    }

    args[0] = &limit;
    args[1] = &offset;
    if (res == PKI_RES_PACKAGES && offset >= PKI_CHECKPOINT_EVERY) {
        /* the page's first row is ascending position count-1-offset */
        apr_int64_t pos = out->count - 1 - offset, step = pos % PKI_CHECKPOINT_EVERY,
                    seq = pos / PKI_CHECKPOINT_EVERY;
        const void *deep[] = {&step, &seq, &offset, &limit};
        if (select_rows(db, pool, PKI_SQL_PACKAGE_PAGE_DEEP, deep, &r) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    } else if (select_rows(db, pool, pages[res].page, args, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    items = apr_array_make(pool, limit < 64 ? (int)limit : 64, pages[res].size);
    while (next_row(r)) {
        void *item = apr_array_push(items);
        if (res == PKI_RES_PACKAGES) {
            read_package(r, item);
        } else if (res == PKI_RES_GRIDS) {
            read_grid(r, item);
        } else {
            read_category(r, item);
        }
    }
    if (r->failed) {
        return APR_EGENERAL;
    }
    out->items = items->elts;
    out->n = items->nelts;
    if (out->n == 0 || pages[res].relations == PKI_SQL_COUNT_) {
        return APR_SUCCESS;
    }

    owners = apr_palloc(pool, sizeof(*owners) * out->n);
    for (i = 0; i < out->n; i++) {
        if (res == PKI_RES_PACKAGES) {
            pki_package *p = &((pki_package *)out->items)[i];
            owners[i].id = p->id;
            owners[i].ids = &p->grids;
        } else {
            pki_grid *g = &((pki_grid *)out->items)[i];
            owners[i].id = g->id;
            owners[i].ids = &g->packages;
        }
    }
    /* ids descend through the page: the last is the smallest */
    args[0] = &owners[out->n - 1].id;
    args[1] = &owners[0].id;
    return read_relations(db, pool, pages[res].relations, args, owners, out->n);
}

/* --- Writes --- */

static apr_status_t run(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args)
{
    apr_dbd_prepared_t *again,
        *stmt = apr_hash_get(db->prepared, pki_sql[id].label, APR_HASH_KEY_STRING);
    int nrows, rv;

    if (!stmt) {
        db->error = apr_psprintf(pool, "%s: statement not prepared", pki_sql[id].label);
        db->fault = PKI_DB_FAULT_OTHER;
        return APR_EGENERAL;
    }
    rv = apr_dbd_pbquery(db->driver, pool, db->handle, &nrows, stmt, args);
    if (rv != 0) {
        /* the first failure (a constraint's, which callers act on), even when the statement is
         * tried again after a schema change (see select_rows) */
        failed(db, apr_psprintf(pool, "%s: %s", pki_sql[id].label,
                                apr_dbd_error(db->driver, db->handle, rv)));
        if ((again = prepared_again(db, pool, id))) {
            rv = apr_dbd_pbquery(db->driver, pool, db->handle, &nrows, again, args);
        }
    }
    if (rv != 0) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The first column of the first row as an integer, 0 when there is none (or it is NULL). */
static apr_status_t select_int(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                               apr_int64_t *out)
{
    rows *r;

    *out = 0;
    if (select_rows(db, pool, id, args, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (next_row(r)) {
        *out = col_int(r, 0);
    }
    return drain(r) ? APR_EGENERAL : APR_SUCCESS;
}

/* The second column of every row: the related ids of one owner. */
static apr_status_t select_ids(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                               pki_ids *out)
{
    owner_ref owner;

    owner.id = *(const apr_int64_t *)args[0];
    owner.ids = out;
    return read_relations(db, pool, id, args, &owner, 1);
}

static const char *sql_time(apr_pool_t *pool, apr_int64_t usec)
{
    char text[PKI_TIME_MAX];

    if (usec == PKI_TIME_NULL) {
        return NULL;
    }
    pki_time_format_sql(usec, text);
    return apr_pstrdup(pool, text);
}

#define SCHEMA_VERSION_KEY "pkgindex-schema-version"

/* SQLite's schema cookie, which every schema change (by any connection) moves. */
static int schema_version(sqlite3 *conn, int *version)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(conn, "PRAGMA schema_version", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW;

    if (ok) {
        *version = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return ok;
}

/* The write statements are the driver's (sqlite3_prepare, the legacy kind): once another
 * connection changed the schema (an import's search index rebuild drops and makes an index)
 * they fail for good, and in a transaction a failed statement fails the transaction. So when
 * the schema moved since they were prepared (or nobody noted when that was: mod_dbd prepared
 * them), they are prepared again before the first one runs; the write lock that BEGIN
 * IMMEDIATE took keeps it from moving again. */
static apr_status_t fresh_statements(pki_db *db, apr_pool_t *pool)
{
    sqlite3 *conn = sqlite_conn(db);
    void *seen = NULL;
    int now;

    if (!conn || !schema_version(conn, &now)) {
        return APR_SUCCESS; /* another driver, or nothing to compare: the retry covers it */
    }
    apr_pool_userdata_get(&seen, SCHEMA_VERSION_KEY, db->pool);
    if (seen && *(int *)seen == now) {
        return APR_SUCCESS;
    }
    /* The connection's copy of the schema is reloaded by a statement that finds it stale (a
     * legacy prepare compiles against the old one): read through one first. */
    if (sqlite3_exec(conn, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
        failed(db, apr_psprintf(pool, "begin: %s", sqlite3_errmsg(conn)));
        return APR_EGENERAL;
    }
    return pki_store_prepare_all(db, pool);
}

apr_status_t pki_store_begin(pki_db *db, apr_pool_t *pool, apr_dbd_transaction_t **trans)
{
    int rv = apr_dbd_transaction_start(db->driver, pool, db->handle, trans);

    if (rv != 0) {
        failed(db, apr_psprintf(pool, "begin: %s", apr_dbd_error(db->driver, db->handle, rv)));
        return APR_EGENERAL;
    }
    if (fresh_statements(db, pool) != APR_SUCCESS) {
        pki_store_end(db, pool, *trans, 0);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
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
/* The sqlite3 driver retries a busy statement itself (15 times, 100 ms apart), each retry a
 * new wait for SQLite: looks closer together than this are one wait, with one limit. */
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

apr_status_t pki_store_lock_wait(pki_db *db, apr_interval_time_t limit, void (*waiting)(void *ctx),
                                 void *ctx)
{
    sqlite3 *conn = sqlite_conn(db);
    lock_wait *w;

    if (!conn) {
        return APR_ENOTIMPL;
    }
    native_of(db); /* which sets its own wait on first use: set this one after it */
    w = apr_pcalloc(db->pool, sizeof(*w));
    w->limit = limit;
    w->waiting = waiting;
    w->ctx = ctx;
    return sqlite3_busy_handler(conn, busy_wait, w) == SQLITE_OK ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t pki_store_end(pki_db *db, apr_pool_t *pool, apr_dbd_transaction_t *trans, int commit)
{
    int rv;

    if (!commit) {
        apr_dbd_transaction_mode_set(db->driver, trans, APR_DBD_TRANSACTION_ROLLBACK);
    }
    rv = apr_dbd_transaction_end(db->driver, pool, trans);
    if (rv != 0) {
        failed(db, apr_psprintf(pool, "end: %s", apr_dbd_error(db->driver, db->handle, rv)));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_put_category(pki_db *db, apr_pool_t *pool, const pki_category *c)
{
    int show = c->show_pypi ? 1 : 0;
    const void *args[] = {&c->id,
                          sql_time(pool, c->created),
                          sql_time(pool, c->modified),
                          c->title,
                          c->slug,
                          c->description,
                          c->title_plural,
                          &show};

    return run(db, pool, PKI_SQL_CATEGORY_PUT, args);
}

apr_status_t pki_store_put_grid(pki_db *db, apr_pool_t *pool, const pki_grid *g)
{
    int locked = g->is_locked ? 1 : 0, header = g->header ? 1 : 0;
    const void *args[] = {&g->id,
                          sql_time(pool, g->created),
                          sql_time(pool, g->modified),
                          g->title,
                          g->slug,
                          g->description,
                          &locked,
                          &header};

    return run(db, pool, PKI_SQL_GRID_PUT, args);
}

apr_status_t pki_store_put_package(pki_db *db, apr_pool_t *pool, const pki_package *p)
{
    const char *created = sql_time(pool, p->created), *modified = sql_time(pool, p->modified);
    /* The version row first: the package row points at it (NULL when there is none). */
    const void *version[] = {modified, modified, &p->id, p->pypi_version, &p->id, p->pypi_version};
    const void *row[] = {&p->id,
                         created,
                         modified,
                         p->title,
                         p->slug,
                         &p->category_id,
                         p->repo_description,
                         p->repo_url,
                         &p->repo_watchers,
                         &p->repo_forks,
                         p->pypi_url,
                         p->participants,
                         sql_time(pool, p->last_fetched),
                         p->documentation_url,
                         p->commits_over_52,
                         sql_time(pool, p->last_updated),
                         &p->id,
                         p->pypi_version};
    const void *id[] = {&p->id};
    pki_ids now;
    int i;

    if ((p->pypi_version && run(db, pool, PKI_SQL_VERSION_ADD, version) != APR_SUCCESS) ||
        run(db, pool, PKI_SQL_PACKAGE_PUT, row) != APR_SUCCESS ||
        select_ids(db, pool, PKI_SQL_PACKAGE_GRIDS, id, &now) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* Membership ids give the order: rewrite them only when the list changed. */
    if (now.count == p->grids.count &&
        (now.count == 0 || memcmp(now.ids, p->grids.ids, sizeof(apr_int64_t) * now.count) == 0)) {
        return APR_SUCCESS;
    }
    if (now.count && run(db, pool, PKI_SQL_PACKAGE_GRIDS_CLEAR, id) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (i = 0; i < p->grids.count; i++) {
        const void *member[] = {modified, modified, &p->grids.ids[i], &p->id};
        if (run(db, pool, PKI_SQL_MEMBER_ADD, member) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_slug_owner(pki_db *db, apr_pool_t *pool, pki_resource res, const char *slug,
                                  apr_int64_t *id)
{
    const void *args[] = {slug};

    return select_int(db, pool,
                      res == PKI_RES_GRIDS ? PKI_SQL_GRID_SLUG_OWNER : PKI_SQL_PACKAGE_SLUG_OWNER,
                      args, id);
}

apr_status_t pki_store_exists(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t id,
                              int *exists)
{
    static const pki_sql_id stmts[PKI_RES_COUNT_] = {
        [PKI_RES_PACKAGES] = PKI_SQL_PACKAGE_EXISTS,
        [PKI_RES_GRIDS] = PKI_SQL_GRID_EXISTS,
        [PKI_RES_CATEGORIES] = PKI_SQL_CATEGORY_EXISTS,
    };
    const void *args[] = {&id};
    apr_int64_t found;
    apr_status_t rv;

    assert(res == PKI_RES_PACKAGES || res == PKI_RES_GRIDS || res == PKI_RES_CATEGORIES);
    rv = select_int(db, pool, stmts[res], args, &found);

    *exists = found != 0;
    return rv;
}

apr_status_t pki_store_generation(pki_db *db, apr_pool_t *pool, apr_int64_t *generation)
{
    return select_int(db, pool, PKI_SQL_GENERATION, NULL, generation);
}

apr_status_t pki_store_first_category(pki_db *db, apr_pool_t *pool, apr_int64_t *id)
{
    return select_int(db, pool, PKI_SQL_FIRST_CATEGORY, NULL, id);
}

apr_status_t pki_store_grid_members(pki_db *db, apr_pool_t *pool, apr_int64_t grid_id, pki_ids *out)
{
    const void *args[] = {&grid_id};

    return select_ids(db, pool, PKI_SQL_GRID_MEMBERS, args, out);
}

apr_status_t pki_store_add_member(pki_db *db, apr_pool_t *pool, apr_int64_t grid_id,
                                  apr_int64_t package_id, apr_int64_t now)
{
    const char *t = sql_time(pool, now);
    const void *args[] = {t, t, &grid_id, &package_id};

    return run(db, pool, PKI_SQL_MEMBER_ADD, args);
}

apr_status_t pki_store_remove_member(pki_db *db, apr_pool_t *pool, apr_int64_t grid_id,
                                     apr_int64_t package_id)
{
    const void *args[] = {&grid_id, &package_id};

    return run(db, pool, PKI_SQL_MEMBER_REMOVE, args);
}

apr_status_t pki_store_all_ids(pki_db *db, apr_pool_t *pool, pki_resource res, pki_ids *out)
{
    static const pki_sql_id stmts[PKI_RES_COUNT_] = {
        [PKI_RES_PACKAGES] = PKI_SQL_PACKAGE_IDS,
        [PKI_RES_GRIDS] = PKI_SQL_GRID_IDS,
        [PKI_RES_CATEGORIES] = PKI_SQL_CATEGORY_IDS,
    };
    apr_array_header_t *ids = apr_array_make(pool, 1024, sizeof(apr_int64_t));
    rows *r;

    assert(res == PKI_RES_PACKAGES || res == PKI_RES_GRIDS || res == PKI_RES_CATEGORIES);
    if (select_rows(db, pool, stmts[res], NULL, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (next_row(r)) {
        *(apr_int64_t *)apr_array_push(ids) = col_int(r, 0);
    }
    out->ids = (const apr_int64_t *)ids->elts;
    out->count = ids->nelts;
    return r->failed ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t pki_store_delete(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t id)
{
    static const pki_sql_id package[] = {PKI_SQL_PACKAGE_MEMBERS_DELETE,
                                         PKI_SQL_PACKAGE_VERSION_UNLINK,
                                         PKI_SQL_PACKAGE_VERSIONS_DELETE, PKI_SQL_PACKAGE_DELETE};
    static const pki_sql_id grid[] = {PKI_SQL_GRID_MEMBERS_DELETE, PKI_SQL_GRID_DELETE};
    const void *args[] = {&id};
    const pki_sql_id *steps;
    apr_int64_t users;
    size_t i, n;

    switch (res) {
    case PKI_RES_PACKAGES:
        steps = package;
        n = sizeof(package) / sizeof(package[0]);
        break;
    case PKI_RES_GRIDS:
        steps = grid;
        n = sizeof(grid) / sizeof(grid[0]);
        break;
    case PKI_RES_CATEGORIES:
        if (select_int(db, pool, PKI_SQL_CATEGORY_USERS, args, &users) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        if (users) {
            db->error = apr_psprintf(pool, "packages still name it (%" APR_INT64_T_FMT ")", users);
            db->fault = PKI_DB_FAULT_CONFLICT;
            return APR_EGENERAL;
        }
        return run(db, pool, PKI_SQL_CATEGORY_DELETE, args);
    default:
        assert(!"not a deletable resource");
        return APR_EINVAL;
    }
    for (i = 0; i < n; i++) {
        if (run(db, pool, steps[i], args) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_drop_referrers(pki_db *db, apr_pool_t *pool, pki_resource res,
                                      apr_int64_t id)
{
    const void *args[] = {&id};
    pki_ids packages;
    int i;

    if (res == PKI_RES_GRIDS) {
        return run(db, pool, PKI_SQL_GRID_MEMBERS_DELETE, args);
    }
    assert(res == PKI_RES_CATEGORIES);
    if (select_ids(db, pool, PKI_SQL_CATEGORY_PACKAGE_IDS, args, &packages) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (i = 0; i < packages.count; i++) {
        if (pki_store_delete(db, pool, PKI_RES_PACKAGES, packages.ids[i]) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_dangling(pki_db *db, apr_pool_t *pool, pki_resource res, pki_ids *out)
{
    rows *r;
    apr_array_header_t *ids = apr_array_make(pool, 8, sizeof(apr_int64_t));

    if (select_rows(db, pool,
                    res == PKI_RES_CATEGORIES ? PKI_SQL_DANGLING_CATEGORIES
                                              : PKI_SQL_DANGLING_GRIDS,
                    NULL, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (next_row(r)) {
        *(apr_int64_t *)apr_array_push(ids) = col_int(r, 0);
        *(apr_int64_t *)apr_array_push(ids) = col_int(r, 1);
    }
    out->ids = (const apr_int64_t *)ids->elts;
    out->count = ids->nelts / 2;
    return r->failed ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t pki_store_refresh_checkpoints(pki_db *db, apr_pool_t *pool)
{
    /* apr_dbd_query does not parse placeholders: '%' is SQL's modulo here */
    static const char *const script =
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
        " WHERE name = 'package_category';\n";

    return pki_store_exec_script(db, pool, script);
}

apr_status_t pki_store_exec_script(pki_db *db, apr_pool_t *pool, const char *sql)
{
    const char *p = sql;

    while (*p) {
        const char *end = strstr(p, ";\n");
        const char *stmt;
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        int nrows, rv;

        end = end ? end + 1 : p + strlen(p);
        stmt = apr_pstrmemdup(pool, p, end - p);
        p = *end ? end + 1 : end;
        /* skip statements that are only comments and blanks */
        {
            const char *q = stmt;
            while (*q) {
                q += strspn(q, " \t\r\n");
                if (q[0] == '-' && q[1] == '-') {
                    q += strcspn(q, "\n");
                } else {
                    break;
                }
            }
            if (!*q || *q == ';') {
                continue;
            }
            stmt = q;
        }
        /* PRAGMAs answer a row: select them, run everything else */
        if (strncasecmp(stmt, "PRAGMA", 6) == 0) {
            rv = apr_dbd_select(db->driver, pool, db->handle, &res, stmt, 0);
            while (rv == 0 && apr_dbd_get_row(db->driver, pool, res, &row, -1) == 0) {
            }
        } else {
            rv = apr_dbd_query(db->driver, db->handle, &nrows, stmt);
        }
        if (rv != 0) {
            failed(db,
                   apr_psprintf(pool, "%s: %s", stmt, apr_dbd_error(db->driver, db->handle, rv)));
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_prepare_all(pki_db *db, apr_pool_t *pool)
{
    sqlite3 *conn = sqlite_conn(db);
    void *seen = NULL;
    int i, version;

    /* the schema these statements are for (see fresh_statements) */
    if (conn && schema_version(conn, &version)) {
        apr_pool_userdata_get(&seen, SCHEMA_VERSION_KEY, db->pool);
        if (!seen) {
            seen = apr_palloc(db->pool, sizeof(int));
            apr_pool_userdata_set(seen, SCHEMA_VERSION_KEY, NULL, db->pool);
        }
        *(int *)seen = version;
    }
    for (i = 0; i < PKI_SQL_COUNT_; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        int rv = apr_dbd_prepare(db->driver, db->pool, db->handle, pki_sql[i].sql, pki_sql[i].label,
                                 &stmt);
        if (rv != 0 || !stmt) {
            failed(db, apr_psprintf(pool, "%s: %s", pki_sql[i].label,
                                    apr_dbd_error(db->driver, db->handle, rv)));
            return APR_EGENERAL;
        }
        apr_hash_set(db->prepared, pki_sql[i].label, APR_HASH_KEY_STRING, stmt);
    }
    return APR_SUCCESS;
}
