/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The PostgreSQL backend: its statements on the original's tables (sql/original-pgsql.sql),
 * and how they run through libpq on the connection mod_dbd (or the importer) opened. See
 * store_pgsql.h for why not through apr_dbd_pgsql. */

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <apr_strings.h>

#include "store_pgsql.h"
#include "store_sql.h"

/* PostgreSQL's own statements (the rest are pki_sql_common's). A grid's packages are
 * ordered by title in code-point order (UTF-8 bytes: COLLATE "C"), whatever the database's
 * collation, as on SQLite. Inserted rows fill every NOT NULL column the API does not carry
 * with the original's Python defaults, so the Django application can keep using the
 * database; updates leave those columns alone. */
static const pki_sql_stmt pgsql_sql[PKI_SQL_COUNT_] = {
    [PKI_SQL_GRID_PACKAGES] = {"pkgindex_grid_packages",
                               GRID_MEMBERS "WHERE gp.grid_id = %lld"
                                            " ORDER BY p.title COLLATE \"C\", p.id"},
    [PKI_SQL_GRID_PAGE_PACKAGES] = {"pkgindex_grid_page_packages",
                                    GRID_MEMBERS "WHERE gp.grid_id BETWEEN %lld AND %lld"
                                                 " ORDER BY gp.grid_id DESC,"
                                                 " p.title COLLATE \"C\", p.id"},
    /* Upserts by id; an unchanged row is not written (no trigger fires, caches stay valid). */
    [PKI_SQL_CATEGORY_PUT] = {"pkgindex_category_put",
                              "INSERT INTO package_category AS t (id, created, modified, title,"
                              " slug, description, title_plural, show_pypi)"
                              " VALUES (%lld, %s, %s, %s, %s, %s, %s, %d::int <> 0)"
                              " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"
                              " modified = excluded.modified, title = excluded.title,"
                              " slug = excluded.slug, description = excluded.description,"
                              " title_plural = excluded.title_plural,"
                              " show_pypi = excluded.show_pypi WHERE (t.created, t.modified,"
                              " t.title, t.slug, t.description, t.title_plural, t.show_pypi)"
                              " IS DISTINCT FROM (excluded.created, excluded.modified,"
                              " excluded.title, excluded.slug, excluded.description,"
                              " excluded.title_plural, excluded.show_pypi)"},
    /* A grid or package whose slug another one holds is not written: the statement answers
     * the holder's id instead of failing, so the transaction (and a look at who holds it)
     * goes on. Its arguments' types are spelled out: an INSERT ... SELECT infers none. */
    [PKI_SQL_GRID_PUT] = {"pkgindex_grid_put",
                          "WITH holder AS (SELECT id FROM grid_grid WHERE slug = $5::varchar"
                          " AND id <> $1::bigint), put AS (INSERT INTO grid_grid AS t (id,"
                          " created, modified, title, slug, description, is_locked, header)"
                          " SELECT %lld::bigint, %s::timestamptz, %s::timestamptz, %s::varchar,"
                          " %s::varchar, %s::text, %d::int <> 0, %d::int <> 0"
                          " WHERE NOT EXISTS (SELECT 1 FROM holder)"
                          " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"
                          " modified = excluded.modified, title = excluded.title,"
                          " slug = excluded.slug, description = excluded.description,"
                          " is_locked = excluded.is_locked, header = excluded.header"
                          " WHERE (t.created, t.modified, t.title, t.slug, t.description,"
                          " t.is_locked, t.header) IS DISTINCT FROM (excluded.created,"
                          " excluded.modified, excluded.title, excluded.slug,"
                          " excluded.description, excluded.is_locked, excluded.header)"
                          " RETURNING 1) SELECT id FROM holder"},
    [PKI_SQL_PACKAGE_PUT] =
        {"pkgindex_package_put",
         "WITH holder AS (SELECT id FROM package_package WHERE slug = $5::varchar"
         " AND id <> $1::bigint), put AS (INSERT INTO package_package AS t (id, created,"
         " modified, title, slug, category_id, repo_description, repo_url, repo_watchers,"
         " repo_forks, pypi_url, participants, last_fetched, documentation_url,"
         " commits_over_52w, last_commit_date, latest_version_id, pypi_downloads, score,"
         " favorite_count, repo_host, commit_count, last_exception_count) SELECT"
         " %lld::bigint, %s::timestamptz, %s::timestamptz, %s::varchar, %s::varchar,"
         " %lld::bigint, %s::text, %s::varchar, %lld::int, %lld::int, %s::varchar, %s::text,"
         " %s::timestamptz, %s::varchar, %s::jsonb, %s::timestamptz, (SELECT MAX(id)"
         " FROM package_version WHERE package_id = %lld::bigint AND number = %s::varchar),"
         " 0, 0, 0, '', 0, 0 WHERE NOT EXISTS (SELECT 1 FROM holder)" PKI_SQL_PACKAGE_UPDATE
         " WHERE (t.created, t.modified, t.title, t.slug, t.category_id, t.repo_description,"
         " t.repo_url, t.repo_watchers, t.repo_forks, t.pypi_url, t.participants,"
         " t.last_fetched, t.documentation_url, t.commits_over_52w, t.last_commit_date,"
         " t.latest_version_id) IS DISTINCT FROM (excluded.created, excluded.modified,"
         " excluded.title, excluded.slug, excluded.category_id, excluded.repo_description,"
         " excluded.repo_url, excluded.repo_watchers, excluded.repo_forks, excluded.pypi_url,"
         " excluded.participants, excluded.last_fetched, excluded.documentation_url,"
         " excluded.commits_over_52w, excluded.last_commit_date, excluded.latest_version_id)"
         " RETURNING 1) SELECT id FROM holder"},
    /* upload_time stays NULL (the column allows it): the API does not say when a version was
     * uploaded, and SQLite's rows say the same */
    [PKI_SQL_VERSION_ADD] = {"pkgindex_version_add",
                             "INSERT INTO package_version (created, modified, package_id, number,"
                             " downloads, hidden, development_status, supports_python3)"
                             " SELECT %s::timestamptz, %s::timestamptz, %lld::bigint,"
                             " %s::varchar, 0, false, 0, false"
                             " WHERE NOT EXISTS (SELECT 1 FROM package_version"
                             " WHERE package_id = %lld AND number = %s)"},
};

static const pki_sql_stmt *sql_of(pki_sql_id id)
{
    return pki_sql_statement(&pki_store_pgsql_backend, id);
}

/* --- Errors --- */

/* SQLSTATE classes and codes (PostgreSQL's Appendix A) the callers act on. */
pki_db_fault pki_pgsql_fault(const char *sqlstate)
{
    static const struct {
        const char *prefix; /* a code, or a class (two characters) */
        pki_db_fault fault;
    } classes[] = {
        {"08", PKI_DB_FAULT_UNAVAILABLE},    /* connection exception */
        {"28", PKI_DB_FAULT_UNAVAILABLE},    /* invalid authorization */
        {"3D000", PKI_DB_FAULT_UNAVAILABLE}, /* no such database */
        {"53300", PKI_DB_FAULT_UNAVAILABLE}, /* too many connections */
        {"57P", PKI_DB_FAULT_UNAVAILABLE},   /* shutting down, starting up */
        {"58", PKI_DB_FAULT_UNAVAILABLE},    /* I/O error */
        {"XX", PKI_DB_FAULT_UNAVAILABLE},    /* internal error, damaged data */
        {"23505", PKI_DB_FAULT_CONFLICT},    /* unique violation */
        {"40", PKI_DB_FAULT_BUSY},           /* serialization failure, deadlock */
        {"55P03", PKI_DB_FAULT_BUSY},        /* lock not available (lock_timeout) */
        {"57014", PKI_DB_FAULT_BUSY},        /* canceled (statement_timeout) */
        {"53100", PKI_DB_FAULT_FULL},        /* disk full */
        {"25006", PKI_DB_FAULT_READONLY},    /* read-only transaction: a hot standby */
    };
    size_t i;

    if (!sqlstate) {
        return PKI_DB_FAULT_UNAVAILABLE; /* no answer: the connection is gone */
    }
    for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strncmp(sqlstate, classes[i].prefix, strlen(classes[i].prefix)) == 0) {
            return classes[i].fault;
        }
    }
    return PKI_DB_FAULT_OTHER;
}

/* The field a unique constraint of the original's schema keeps unique (Django names an inline
 * UNIQUE <table>_<column>_key); NULL for the slug or a constraint not known here. */
static const char *conflict_field(const char *constraint)
{
    static const struct {
        const char *constraint, *field;
    } unique[] = {
        {"package_package_repo_url_key", "repo_url"},
    };
    size_t i;

    for (i = 0; constraint && i < sizeof(unique) / sizeof(unique[0]); i++) {
        if (strcmp(constraint, unique[i].constraint) == 0) {
            return unique[i].field;
        }
    }
    return NULL;
}

apr_status_t pki_pgsql_failed(pki_db *db, apr_pool_t *pool, const char *what, const PGresult *res)
{
    pki_pgsql *c = db->conn;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    apr_size_t n;

    if (!*msg) {
        msg = PQerrorMessage(c->conn);
    }
    if (c->timed_out) {
        msg = apr_psprintf(pool,
                           "no answer from the server in %" APR_TIME_T_FMT " s: connection dropped",
                           apr_time_sec(c->timeout));
        c->timed_out = 0;
    }
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
        n--; /* libpq's messages end in a newline */
    }
    pki_store_fail(
        db,
        PQstatus(c->conn) != CONNECTION_OK ? PKI_DB_FAULT_UNAVAILABLE : pki_pgsql_fault(sqlstate),
        apr_psprintf(pool, "%s: %.*s%s%s%s", what, (int)n, n ? msg : "no answer",
                     sqlstate ? " (SQLSTATE " : "", sqlstate ? sqlstate : "", sqlstate ? ")" : ""));
    if (db->fault == PKI_DB_FAULT_CONFLICT) {
        db->conflict =
            conflict_field(res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL);
    }
    return APR_EGENERAL;
}

/* --- The connection's state --- */

#define STATE_KEY "pkgindex-pgsql"

/* How long the module waits for the server's answer to a statement. A server that is stopped,
 * or a host that is gone, would otherwise hold the request's thread for good; statement_timeout
 * (in DBDParams' options) stops slow statements sooner, on the server. */
#define PGSQL_ANSWER_WAIT apr_time_from_sec(10)

/* $1, $2, ... for apr_dbd's "%lld"/"%d"/"%s", the types noted. A "$n" in the text refers to
 * an argument again. */
static void translate(apr_pool_t *pool, const char *text, const char **out, char *types)
{
    char *sql = apr_palloc(pool, strlen(text) * 2 + 1), *o = sql;
    int k = 0;

    for (; *text; text++) {
        if (*text != '%') {
            *o++ = *text;
        } else if (text[1] == '%') {
            *o++ = *++text;
        } else {
            assert(k < PKI_SQL_MAX_ARGS);
            types[k++] = text[1] == 's' ? 's' : (text[1] == 'l' ? 'i' : 'd');
            text += text[1] == 'l' ? 3 : 1;
            o += sprintf(o, "$%d", k);
        }
    }
    *o = '\0';
    types[k] = '\0';
    *out = sql;
}

static apr_status_t state_cleanup(void *data)
{
    pki_pgsql *c = data;

    if (c->owned && c->conn) {
        PQfinish(c->conn);
        c->conn = NULL;
    }
    return APR_SUCCESS;
}

/* The server's notices (a search for a stop word alone draws one) are nobody's business:
 * libpq's default prints them on stderr, which is httpd's error log. */
static void no_notices(void *arg, const char *message)
{
}

apr_status_t pki_pgsql_attach(pki_db *db, PGconn *conn, apr_pool_t *pool, int owned)
{
    void *data = NULL;
    pki_pgsql *c;
    int i;

    apr_pool_userdata_get(&data, STATE_KEY, pool);
    if (data && ((pki_pgsql *)data)->conn == conn) {
        db->conn = data;
        return APR_SUCCESS;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->conn = conn;
    c->owned = owned;
    c->pid = PQbackendPID(conn);
    c->timeout = owned ? 0 : PGSQL_ANSWER_WAIT;
    PQsetNoticeProcessor(conn, no_notices, NULL);
    for (i = 0; i < PKI_SQL_COUNT_; i++) {
        translate(pool, sql_of(i)->sql, &c->sql[i], c->types[i]);
    }
    apr_pool_userdata_set(c, STATE_KEY, state_cleanup, pool);
    db->conn = c;
    return APR_SUCCESS;
}

static apr_status_t attach(pki_db *db, void *native, apr_pool_t *conn_pool)
{
    return native ? pki_pgsql_attach(db, native, conn_pool, 0) : APR_EINVAL;
}

static void detach(pki_db *db)
{
    pki_pgsql *c = db->conn;

    if (c) {
        apr_pool_cleanup_run(db->pool, c, state_cleanup);
        apr_pool_userdata_setn(NULL, STATE_KEY, NULL, db->pool);
        db->conn = NULL;
    }
}

/* A session the statements were not prepared in (apr_dbd_pgsql's check_conn reset the
 * connection after a server restart, or a pooler gave another): none of them exists there. */
static void same_session(pki_pgsql *c)
{
    int pid = PQbackendPID(c->conn);

    if (pid != c->pid) {
        memset(c->prepared, 0, sizeof(c->prepared));
        c->search_prepared = 0;
        c->pid = pid;
    }
}

/* 0 when an answer can be read (or the connection failed: PQgetResult says so), -1 when none
 * came in time. */
static int wait_ready(pki_pgsql *c)
{
    apr_time_t until = apr_time_now() + c->timeout;
    struct pollfd pfd;

    for (;;) {
        int flush = PQflush(c->conn), rc;
        apr_interval_time_t left;

        if (flush < 0 || (flush == 0 && !PQisBusy(c->conn))) {
            return 0;
        }
        if ((left = until - apr_time_now()) <= 0) {
            return -1;
        }
        pfd.fd = PQsocket(c->conn);
        pfd.events = POLLIN | (flush ? POLLOUT : 0);
        pfd.revents = 0;
        rc = poll(&pfd, 1, (int)apr_time_as_msec(left) + 1);
        if (rc < 0 && errno != EINTR) {
            return 0;
        }
        if (rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(c->conn)) {
            return 0;
        }
    }
}

PGresult *pki_pgsql_answer(pki_pgsql *c, int sent)
{
    PGresult *res, *last = NULL;

    if (!sent) {
        return NULL;
    }
    if (c->timeout > 0 && wait_ready(c) != 0) {
        /* libpq now reads an end of file: the connection is bad, and is reset when lent next */
        shutdown(PQsocket(c->conn), SHUT_RDWR);
        c->timed_out = 1;
    }
    while ((res = PQgetResult(c->conn))) {
        if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
            PQclear(res); /* the first error says why */
            continue;
        }
        PQclear(last);
        last = res;
    }
    return last;
}

/* A connection that lay idle in mod_dbd's pool while the server restarted looks fine to
 * libpq (and to apr_dbd_pgsql's check_conn) until it is used: its first statement finds it
 * closed. When that statement was not inside a transaction, nothing is lost by connecting
 * again (a new session: the statements are prepared again) and trying once more; a server
 * that is still down fails the new connection at once. */
static int revived(pki_pgsql *c, int was_idle)
{
    if (!was_idle || c->timed_out || PQstatus(c->conn) != CONNECTION_BAD) {
        return 0;
    }
    PQreset(c->conn);
    return PQstatus(c->conn) == CONNECTION_OK;
}

apr_status_t pki_pgsql_exec(pki_db *db, apr_pool_t *pool, const char *sql, PGresult **out)
{
    pki_pgsql *c = db->conn;
    int idle = PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    PGresult *res = pki_pgsql_answer(c, PQsendQuery(c->conn, sql));
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && revived(c, idle)) {
        PQclear(res);
        res = pki_pgsql_answer(c, PQsendQuery(c->conn, sql));
        st = PQresultStatus(res);
    }
    if (out) {
        *out = NULL;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pki_pgsql_failed(db, pool, "exec", res);
        PQclear(res);
        return APR_EGENERAL;
    }
    if (out) {
        *out = res;
    } else {
        PQclear(res);
    }
    return APR_SUCCESS;
}

/* SQLSTATE duplicate_prepared_statement: it is there already. */
#define SQLSTATE_DUPLICATE_PREPARED "42P05"

apr_status_t pki_pgsql_prepare(pki_db *db, apr_pool_t *pool, const char *name, const char *sql,
                               int nparams, int *prepared)
{
    pki_pgsql *c = db->conn;
    PGresult *res;
    const char *state;

    same_session(c);
    if (*prepared) {
        return APR_SUCCESS;
    }
    /* no parameter types: PostgreSQL infers each from where it stands */
    res = pki_pgsql_answer(c, PQsendPrepare(c->conn, name, sql, nparams, NULL));
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        !(state && strcmp(state, SQLSTATE_DUPLICATE_PREPARED) == 0)) {
        pki_pgsql_failed(db, pool, name, res);
        PQclear(res);
        return APR_EGENERAL;
    }
    PQclear(res);
    *prepared = 1;
    return APR_SUCCESS;
}

/* --- Statements --- */

/* Longest text of a 64-bit integer, with its sign and NUL. */
#define INT64_TEXT 24

/* SQLSTATE invalid_sql_statement_name: a statement the session does not have. */
#define SQLSTATE_NO_STATEMENT "26000"

/* The text of statement ID's arguments, as libpq sends them. */
static int texts(pki_pgsql *c, apr_pool_t *pool, pki_sql_id id, const void **args,
                 const char **values)
{
    const char *t = c->types[id];
    int i, n = (int)strlen(t);

    for (i = 0; i < n; i++) {
        if (!args[i] || t[i] == 's') {
            values[i] = args[i];
        } else if (t[i] == 'i') {
            values[i] = apr_psprintf(pool, "%" APR_INT64_T_FMT, *(const apr_int64_t *)args[i]);
        } else {
            values[i] = apr_itoa(pool, *(const int *)args[i]);
        }
    }
    return n;
}

/* Statement ID prepared on the connection's session. */
static apr_status_t ready(pki_db *db, apr_pool_t *pool, pki_sql_id id)
{
    pki_pgsql *c = db->conn;

    return pki_pgsql_prepare(db, pool, sql_of(id)->label, c->sql[id], (int)strlen(c->types[id]),
                             &c->prepared[id]);
}

static int succeeded(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* A write that answers a row was not made: the row names who holds the slug it would take
 * (see the upserts above). Notes the conflict; 0 when RES is no such answer. */
static int held(pki_db *db, apr_pool_t *pool, pki_sql_id id, const PGresult *res)
{
    apr_int64_t holder;

    /* only the upserts answer rows (see their CTE) */
    if ((id != PKI_SQL_PACKAGE_PUT && id != PKI_SQL_GRID_PUT) ||
        PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        return 0;
    }
    holder = apr_atoi64(PQgetvalue(res, 0, 0));
    pki_store_fail(
        db, PKI_DB_FAULT_CONFLICT,
        apr_psprintf(pool, "%s: the slug is held by %" APR_INT64_T_FMT, sql_of(id)->label, holder));
    db->holder = holder;
    return 1;
}

static PGresult *run(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args)
{
    pki_pgsql *c = db->conn;
    const char *values[PKI_SQL_MAX_ARGS];
    int tries, n = texts(c, pool, id, args, values);
    PGresult *res = NULL;

    for (tries = 0; tries < 2; tries++) {
        int idle = PQtransactionStatus(c->conn) == PQTRANS_IDLE;
        const char *state;

        if (ready(db, pool, id) != APR_SUCCESS) {
            if (tries == 0 && revived(c, idle)) {
                continue;
            }
            return NULL;
        }
        res = pki_pgsql_answer(
            c, PQsendQueryPrepared(c->conn, sql_of(id)->label, n, values, NULL, NULL, 0));
        if (succeeded(res)) {
            return res;
        }
        if (tries == 0 && revived(c, idle)) {
            PQclear(res);
            continue; /* a new session: ready() prepares again */
        }
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* Prepared statements went with a session this state did not see go (a pooler in
         * transaction mode): prepare them again, where no transaction was broken by it. */
        if (tries == 0 && state && strcmp(state, SQLSTATE_NO_STATEMENT) == 0 &&
            PQtransactionStatus(c->conn) == PQTRANS_IDLE) {
            PQclear(res);
            memset(c->prepared, 0, sizeof(c->prepared));
            c->search_prepared = 0;
            continue;
        }
        break;
    }
    pki_pgsql_failed(db, pool, sql_of(id)->label, res);
    PQclear(res);
    return NULL;
}

typedef struct pgrows {
    PGresult *res;
    int row, nrows;
} pgrows;

static apr_status_t rows_cleanup(void *data)
{
    pgrows *r = data;

    PQclear(r->res);
    r->res = NULL;
    return APR_SUCCESS;
}

/* RES (to be PQclear'ed) as rows to read. */
static void rows_of(apr_pool_t *pool, PGresult *res, pki_rows *out)
{
    pgrows *r = apr_palloc(pool, sizeof(*r));

    r->res = res;
    r->row = -1;
    r->nrows = PQntuples(res);
    apr_pool_cleanup_register(pool, r, rows_cleanup, apr_pool_cleanup_null);
    out->impl = r;
}

static apr_status_t select_rows(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                                pki_rows *out)
{
    PGresult *res = run(db, pool, id, args);

    if (!res) {
        return APR_EGENERAL;
    }
    rows_of(pool, res, out);
    return APR_SUCCESS;
}

static int next_row(pki_rows *rows)
{
    pgrows *r = rows->impl;

    if (!r) {
        return 0;
    }
    if (++r->row < r->nrows) {
        return 1;
    }
    apr_pool_cleanup_run(rows->pool, r, rows_cleanup);
    rows->impl = NULL;
    return 0;
}

static const char *col_text(pki_rows *rows, int col, apr_size_t *len)
{
    pgrows *r = rows->impl;

    if (PQgetisnull(r->res, r->row, col)) {
        *len = 0;
        return NULL;
    }
    *len = (apr_size_t)PQgetlength(r->res, r->row, col);
    return PQgetvalue(r->res, r->row, col);
}

static apr_int64_t col_integer(pki_rows *rows, int col)
{
    pgrows *r = rows->impl;

    return PQgetisnull(r->res, r->row, col) ? 0 : apr_atoi64(PQgetvalue(r->res, r->row, col));
}

static apr_status_t exec(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args)
{
    PGresult *res = run(db, pool, id, args);
    int conflict = res && held(db, pool, id, res);

    PQclear(res);
    return res && !conflict ? APR_SUCCESS : APR_EGENERAL;
}

/* The statements in one round trip (libpq's pipeline mode): a writer's several statements
 * for one object cost the wait for one answer, not one each. After a failure the rest are
 * skipped by the server (PGRES_PIPELINE_ABORTED). */
static apr_status_t batch(pki_db *db, apr_pool_t *pool, int n, const pki_sql_id *ids,
                          const void *const **args, pki_rows *out)
{
    pki_pgsql *c = db->conn;
    apr_status_t rv = APR_SUCCESS;
    PGresult *res, *rows = NULL;
    int i, sent;

    for (i = 0; i < n; i++) {
        if (ready(db, pool, ids[i]) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (!PQenterPipelineMode(c->conn)) {
        return pki_pgsql_failed(db, pool, "pipeline", NULL);
    }
    for (sent = 0; sent < n; sent++) {
        const char *values[PKI_SQL_MAX_ARGS];
        int nvalues = texts(c, pool, ids[sent], (const void **)args[sent], values);

        if (!PQsendQueryPrepared(c->conn, sql_of(ids[sent])->label, nvalues, values, NULL, NULL,
                                 0)) {
            rv = pki_pgsql_failed(db, pool, sql_of(ids[sent])->label, NULL);
            break;
        }
    }
    if (!PQpipelineSync(c->conn)) {
        rv = pki_pgsql_failed(db, pool, "pipeline", NULL);
    }
    /* each statement's results end with a NULL; the sync's own result ends the pipeline */
    for (i = 0; i < sent; i++) {
        while ((res = PQgetResult(c->conn))) {
            if (rv == APR_SUCCESS && !succeeded(res)) {
                rv = pki_pgsql_failed(db, pool, sql_of(ids[i])->label, res);
            } else if (rv == APR_SUCCESS && held(db, pool, ids[i], res)) {
                rv = APR_EGENERAL;
            } else if (rv == APR_SUCCESS && out && i == n - 1 && !rows) {
                rows = res;
                continue;
            }
            PQclear(res);
        }
    }
    while ((res = PQgetResult(c->conn)) && PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
        PQclear(res);
    }
    PQclear(res);
    if (!PQexitPipelineMode(c->conn) && rv == APR_SUCCESS) {
        rv = pki_pgsql_failed(db, pool, "pipeline", NULL);
    }
    if (rv != APR_SUCCESS) {
        PQclear(rows);
        return rv;
    }
    if (out) {
        rows_of(pool, rows, out);
    }
    return APR_SUCCESS;
}

static apr_status_t script(pki_db *db, apr_pool_t *pool, const char *sql)
{
    return pki_pgsql_exec(db, pool, sql, NULL);
}

/* --- Transactions --- */

/* Every transaction reads and writes timestamps as UTC ISO text, and text as UTF-8, whatever
 * the server's defaults and the session's settings (SET LOCAL: nothing stays behind for the
 * connection's next user, as a pooler in transaction mode wants). */
#define SESSION_TERMS                                                                              \
    "; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'; SET LOCAL client_encoding = "      \
    "'UTF8'"

/* One snapshot for the generation, the count, the page and its memberships. */
static apr_status_t read_begin(pki_db *db, apr_pool_t *pool)
{
    pki_pgsql *c = db->conn;

    if (PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        PQclear(pki_pgsql_answer(c, PQsendQuery(c->conn, "ROLLBACK"))); /* left open */
    }
    return pki_pgsql_exec(db, pool,
                          "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" SESSION_TERMS, NULL);
}

static void read_end(pki_db *db)
{
    pki_pgsql *c = db->conn;

    if (PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
        PQclear(pki_pgsql_answer(c, PQsendQuery(c->conn, "COMMIT"))); /* a read */
    }
}

/* A bulk load (the importer's, into a database without packages) mutes the bookkeeping
 * triggers for its transactions; the importer recounts after each file. */
static apr_status_t begin(pki_db *db, apr_pool_t *pool)
{
    pki_pgsql *c = db->conn;

    return pki_pgsql_exec(db, pool,
                          c->bulk ? "BEGIN" SESSION_TERMS "; SET LOCAL pkgindex.bulk = 'on'"
                                  : "BEGIN" SESSION_TERMS,
                          NULL);
}

static apr_status_t end(pki_db *db, apr_pool_t *pool, int commit)
{
    PGresult *res;
    apr_status_t rv;

    if (!commit) {
        return pki_pgsql_exec(db, pool, "ROLLBACK", NULL);
    }
    if ((rv = pki_pgsql_exec(db, pool, "COMMIT", &res)) != APR_SUCCESS) {
        return rv;
    }
    /* COMMIT of a failed transaction answers ROLLBACK, with no error */
    if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        pki_store_fail(db, PKI_DB_FAULT_OTHER, "commit: the transaction was rolled back");
        rv = APR_EGENERAL;
    }
    PQclear(res);
    return rv;
}

/* A writer waits up to LIMIT for another's row locks, then fails as busy. */
static apr_status_t lock_wait(pki_db *db, apr_interval_time_t limit, void (*waiting)(void *ctx),
                              void *ctx)
{
    return pki_pgsql_exec(db, db->pool,
                          apr_psprintf(db->pool, "SET lock_timeout = %" APR_INT64_T_FMT,
                                       (apr_int64_t)apr_time_as_msec(limit)),
                          NULL);
}

/* mod_dbd checked the connection when it lent it (and reset it when broken). */
static apr_status_t check(pki_db *db, apr_pool_t *pool)
{
    pki_pgsql *c = db->conn;

    if (PQstatus(c->conn) != CONNECTION_OK) {
        return pki_pgsql_failed(db, pool, "connection", NULL);
    }
    return APR_SUCCESS;
}

/* A hot standby takes no writes. */
static apr_status_t writable(pki_db *db, apr_pool_t *pool)
{
    PGresult *res;
    int standby;

    if (pki_pgsql_exec(db, pool, "SELECT pg_is_in_recovery()", &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    standby = PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) == 't';
    PQclear(res);
    if (standby) {
        pki_store_fail(db, PKI_DB_FAULT_READONLY,
                       "the database is a read-only standby (a replica): write to the primary");
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

/* What Django's next insert takes: the identity sequences past the ids written here. */
#define SEQUENCE_PAST(table)                                                                       \
    "SELECT setval(pg_get_serial_sequence('" table                                                 \
    "', 'id'), COALESCE((SELECT max(id) FROM " table "), 1), (SELECT max(id) FROM " table          \
    ") IS NOT NULL);\n"

const pki_store_backend pki_store_pgsql_backend = {
    .name = "pgsql",
    .sql = pgsql_sql,
    .enforces_references = 1,
    .attach = attach,
    .detach = detach,
    .select = select_rows,
    .next = next_row,
    .text = col_text,
    .integer = col_integer,
    .exec = exec,
    .batch = batch,
    .script = script,
    .read_begin = read_begin,
    .read_end = read_end,
    .begin = begin,
    .end = end,
    .lock_wait = lock_wait,
    .check = check,
    .writable = writable,
    .recount_sql = PKI_SQL_RECOUNT
    "UPDATE pkgindex_state SET generation = pkgindex_random64() WHERE id = 1;\n",
    /* what this transaction's writes left pending in the bookkeeping is applied first, so
     * that the commit finds nothing to move (see pkgindex_apply in sql/pkgindex-pgsql.sql) */
    .checkpoints_sql =
        "SELECT pkgindex_apply();\n" PKI_SQL_CHECKPOINTS SEQUENCE_PAST("package_category")
            SEQUENCE_PAST("package_package") SEQUENCE_PAST("package_version")
                SEQUENCE_PAST("grid_grid") SEQUENCE_PAST("grid_gridpackage"),
    .search = pki_pgsql_search,
    .search_sync = pki_pgsql_search_sync,
    .search_rebuild = pki_pgsql_search_rebuild,
    .process_init = NULL,
    .spec_valid = pki_pgsql_spec_valid,
    .open_writer = pki_pgsql_open_writer,
    .close_writer = pki_pgsql_close_writer,
};
