/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Search on PostgreSQL: the original's query on the original's searchv3_searchv3 (its
 * search_vector and pg_trgm indexes), kept current by pkgindex_search_sync() from the marks
 * the module's triggers leave (sql/pkgindex-pgsql.sql). The SQL is there, in functions, so
 * that any program can keep the index, and the query is one statement here. */

#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "search.h"
#include "store_pgsql.h"
#include "tz.h"

#define SEARCH_NAME "pkgindex_search"
#define SEARCH_SQL                                                                                 \
    "SELECT description, title, slug, created, modified, weight, item_type, category,"             \
    " repo_watchers, repo_forks, pypi_downloads, score, usage, participants, last_committed,"      \
    " last_released FROM pkgindex_search($1)"

/* SQLSTATE undefined_function: a database without the module's search functions. */
#define SQLSTATE_UNDEFINED_FUNCTION "42883"

static apr_int64_t time_of(const PGresult *res, int row, int col)
{
    apr_int64_t usec;

    if (PQgetisnull(res, row, col) || pki_time_parse(PQgetvalue(res, row, col), &usec) != 0) {
        return PKI_TIME_NULL;
    }
    return usec;
}

static const char *text_of(apr_pool_t *pool, const PGresult *res, int row, int col)
{
    return apr_pstrmemdup(pool, PQgetvalue(res, row, col), PQgetlength(res, row, col));
}

apr_status_t pki_pgsql_search(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                              int *n)
{
    pki_pgsql *c = db->conn;
    const char *values[1] = {q};
    const char *state;
    PGresult *res;
    int i;

    *hits = NULL;
    *n = 0;
    if (pki_pgsql_prepare(db, pool, SEARCH_NAME, SEARCH_SQL, 1, &c->search_prepared) !=
        APR_SUCCESS) {
        return db->fault == PKI_DB_FAULT_OTHER ? APR_ENOTIMPL : APR_EGENERAL;
    }
    res = pki_pgsql_answer(c, PQsendQueryPrepared(c->conn, SEARCH_NAME, 1, values, NULL, NULL, 0));
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        pki_pgsql_failed(db, pool, "search", res);
        PQclear(res);
        return state && strcmp(state, SQLSTATE_UNDEFINED_FUNCTION) == 0 ? APR_ENOTIMPL
                                                                        : APR_EGENERAL;
    }
    *n = PQntuples(res) < PKI_SEARCH_LIMIT ? PQntuples(res) : PKI_SEARCH_LIMIT;
    *hits = apr_pcalloc(pool, sizeof(**hits) * (*n ? *n : 1));
    for (i = 0; i < *n; i++) {
        pki_search_hit *h = &(*hits)[i];

        h->description = text_of(pool, res, i, 0);
        h->title = text_of(pool, res, i, 1);
        h->slug = text_of(pool, res, i, 2);
        h->created = time_of(res, i, 3);
        h->modified = time_of(res, i, 4);
        h->weight = apr_atoi64(PQgetvalue(res, i, 5));
        h->item_type = text_of(pool, res, i, 6);
        h->absolute_url =
            apr_pstrcat(pool, strcmp(h->item_type, "grid") == 0 ? "/grids/g/" : "/packages/p/",
                        h->slug, "/", NULL);
        h->category = text_of(pool, res, i, 7);
        h->repo_watchers = apr_atoi64(PQgetvalue(res, i, 8));
        h->repo_forks = apr_atoi64(PQgetvalue(res, i, 9));
        h->pypi_downloads = apr_atoi64(PQgetvalue(res, i, 10));
        h->score = apr_atoi64(PQgetvalue(res, i, 11));
        h->usage = apr_atoi64(PQgetvalue(res, i, 12));
        h->participants = text_of(pool, res, i, 13);
        h->last_committed = time_of(res, i, 14);
        h->last_released = time_of(res, i, 15);
    }
    PQclear(res);
    return APR_SUCCESS;
}

/* Runs one of the index's functions, whose boolean answer goes to *REBUILT (may be NULL). */
static apr_status_t call(pki_db *db, apr_pool_t *pool, const char *fn, int *rebuilt)
{
    PGresult *res;
    apr_status_t rv;

    if (rebuilt) {
        *rebuilt = 0;
    }
    rv = pki_pgsql_exec(db, pool, apr_psprintf(pool, "SELECT %s(now())", fn), &res);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rebuilt && PQntuples(res) == 1) {
        *rebuilt = *PQgetvalue(res, 0, 0) == 't';
    }
    PQclear(res);
    return APR_SUCCESS;
}

apr_status_t pki_pgsql_search_sync(pki_db *db, apr_pool_t *pool, int *rebuilt)
{
    return call(db, pool, "pkgindex_search_sync", rebuilt);
}

apr_status_t pki_pgsql_search_rebuild(pki_db *db, apr_pool_t *pool)
{
    return call(db, pool, "pkgindex_search_rebuild", NULL);
}
