/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The PostgreSQL backend's importer connection: pgsql:CONNINFO opened with libpq, one run at a
 * time (a session advisory lock), the module's objects added by --init (and the original's
 * tables, in a database that has none), and a bulk load into a database without packages. */

#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "errlog.h"
#include "store_pgsql.h"

#define PGSQL_PREFIX "pgsql:"

/* sql/original-pgsql.sql and sql/pkgindex-pgsql.sql, compiled in (build/schema_pgsql_*.c) */
extern const char pki_schema_pgsql_original[];
extern const char pki_schema_pgsql_module[];

/* An importer that cannot reach the server says so, instead of waiting for TCP's minutes
 * (a CONNINFO with its own connect_timeout keeps it). */
#define CONNECT_TIMEOUT "10"

/* How often a writer waiting for another importer's run looks again. */
#define RUN_LOCK_POLL apr_time_from_msec(100)

/* The key of the importers' advisory lock: one run at a time per database. */
#define RUN_LOCK_KEY "hashtext('pkgindex-import')"

int pki_pgsql_spec_valid(const char *spec)
{
    return strncmp(spec, PGSQL_PREFIX, strlen(PGSQL_PREFIX)) == 0;
}

/* The first line of libpq's message. */
static const char *first_line(apr_pool_t *pool, const char *msg)
{
    return apr_pstrndup(pool, msg, strcspn(msg, "\n"));
}

/* Waits up to O->wait for the run lock (released when the session ends). */
static apr_status_t run_lock(pki_db *db, apr_pool_t *pool, const pki_store_open_opts *o,
                             const char **error)
{
    apr_time_t until = apr_time_now() + o->wait;
    int told = 0;

    for (;;) {
        PGresult *res;
        int got;

        if (pki_pgsql_exec(db, pool, "SELECT pg_try_advisory_lock(" RUN_LOCK_KEY ")", &res) !=
            APR_SUCCESS) {
            *error = db->error;
            return APR_EGENERAL;
        }
        got = PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) == 't';
        PQclear(res);
        if (got) {
            return APR_SUCCESS;
        }
        if (apr_time_now() >= until) {
            *error = "another pkgindex-import is still running on this database: nothing "
                     "imported; run again when it has finished, or wait longer (--wait)";
            return APR_EBUSY;
        }
        if (!told && o->waiting) {
            told = 1;
            o->waiting(o->ctx);
        }
        apr_sleep(RUN_LOCK_POLL);
    }
}

/* The first column of the one row SQL answers, or NULL. */
static const char *answer(pki_db *db, apr_pool_t *pool, const char *sql)
{
    PGresult *res;
    const char *out = NULL;

    if (pki_pgsql_exec(db, pool, sql, &res) != APR_SUCCESS) {
        return NULL;
    }
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        out = apr_pstrdup(pool, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return out;
}

apr_status_t pki_pgsql_open_writer(apr_pool_t *pool, const char *spec, const pki_store_open_opts *o,
                                   pki_db *db, int *fresh, int *bulk, const char **error)
{
    const char *conninfo = spec + strlen(PGSQL_PREFIX), *shown = pki_redact_params(pool, conninfo);
    /* CONNINFO last, expanded (expand_dbname): its own keys win over these defaults */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *values[] = {CONNECT_TIMEOUT, "pkgindex-import", conninfo, NULL};
    const char *has;
    PGconn *conn;

    *fresh = *bulk = 0;
    conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        *error = apr_psprintf(pool, "cannot connect to PostgreSQL (%s): %s", shown,
                              conn ? first_line(pool, PQerrorMessage(conn)) : "out of memory");
        PQfinish(conn);
        return APR_EGENERAL;
    }
    db->pool = pool;
    pki_pgsql_attach(db, conn, pool, 1);
    if (run_lock(db, pool, o, error) != APR_SUCCESS) {
        goto failed;
    }
    /* A load changes the tables' sizes by orders of magnitude within one transaction: a
     * generic plan made while they were empty (PostgreSQL's after five runs of a prepared
     * statement) would scan them whole for every record. */
    if (pki_store_exec_script(db, pool, "SET plan_cache_mode = force_custom_plan") != APR_SUCCESS ||
        pki_store_lock_wait(db, o->wait, o->waiting, o->ctx) != APR_SUCCESS ||
        pki_store_writable(db, pool) != APR_SUCCESS) {
        *error = db->error;
        goto failed;
    }
    has = answer(db, pool, "SELECT to_regclass('package_package') IS NOT NULL");
    if (!has) {
        *error = db->error;
        goto failed;
    }
    if (o->init) {
        /* a database without the original's tables gets them; one with them keeps them as
         * they are, and gets only the module's objects (pkgindex_*) */
        if ((*has != 't' &&
             pki_store_exec_script(db, pool, pki_schema_pgsql_original) != APR_SUCCESS) ||
            pki_store_exec_script(db, pool, pki_schema_pgsql_module) != APR_SUCCESS) {
            *error = apr_psprintf(pool, "--init: %s", db->error);
            goto failed;
        }
    } else if (*has != 't' ||
               !(has = answer(db, pool, "SELECT to_regclass('pkgindex_state') IS NOT NULL")) ||
               *has != 't') {
        *error = apr_psprintf(pool,
                              "%s: not a mod_pkgindex database (no %s); --init adds what is "
                              "missing",
                              shown, has && *has == 't' ? "pkgindex_state" : "package_package");
        goto failed;
    }
    /* Nothing to keep current yet: a bulk load (see begin in store_pgsql.c). */
    has = answer(db, pool, "SELECT NOT EXISTS (SELECT 1 FROM package_package)");
    if (!has) {
        *error = db->error;
        goto failed;
    }
    *fresh = *bulk = ((pki_pgsql *)db->conn)->bulk = *has == 't';
    return APR_SUCCESS;

failed:
    pki_store_detach(db);
    return APR_EGENERAL;
}

apr_status_t pki_pgsql_close_writer(pki_db *db, apr_pool_t *pool, int fresh, const char **error)
{
    /* planner statistics for the tables a bulk load filled */
    apr_status_t rv =
        fresh ? pki_store_exec_script(
                    db, pool,
                    "ANALYZE package_category, package_package, package_version, grid_grid,"
                    " grid_gridpackage, searchv3_searchv3")
              : APR_SUCCESS;

    if (rv != APR_SUCCESS) {
        *error = apr_psprintf(pool, "ANALYZE: %s", db->error);
    }
    pki_store_detach(db);
    return rv;
}
