/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The PostgreSQL backend's insides, shared by its files: store_pgsql.c (statements,
 * transactions, the connection's state, error classes), store_pgsql_search.c (the original's
 * search), store_pgsql_open.c (the importer's connection). Nothing outside store_pgsql*.c
 * (and tests) includes it.
 *
 * Statements run through libpq on the connection apr_dbd_pgsql opened (its native handle),
 * not through apr_dbd: the driver's results do not say which SQLSTATE failed (its words would
 * have to be matched), a sequential select that finds nothing sleeps 100 ms in the driver,
 * and its prepared statements die with the session it cannot see being replaced. */

#ifndef PKI_STORE_PGSQL_H
#define PKI_STORE_PGSQL_H

#include <libpq-fe.h>

#include "store_backend.h"

/* The backend's state of one connection. */
typedef struct pki_pgsql {
    PGconn *conn;
    int owned; /* opened by the importer (pki_store_open_writer): closed on detach */
    int bulk;  /* the importer's bulk load: the bookkeeping triggers are muted (see begin) */
    int pid;   /* the server process the statements below were prepared in */
    apr_interval_time_t timeout; /* for an answer (0: no limit), then the connection is dropped */
    int timed_out;
    int prepared[PKI_SQL_COUNT_];
    const char *sql[PKI_SQL_COUNT_];                  /* with $1, $2, ... */
    char types[PKI_SQL_COUNT_][PKI_SQL_MAX_ARGS + 1]; /* per placeholder: 'i', 'd', 's' */
    int search_prepared;
} pki_pgsql;

/* Notes that WHAT failed, from RES (may be NULL) and the connection: the server's words for
 * the log, the SQLSTATE's class for the caller. */
apr_status_t pki_pgsql_failed(pki_db *db, apr_pool_t *pool, const char *what, const PGresult *res);

/* The fault of SQLSTATE (NULL: no answer from the server). */
pki_db_fault pki_pgsql_fault(const char *sqlstate);

/* Binds DB to an open connection; OWNED ones are closed by pki_store_detach. */
apr_status_t pki_pgsql_attach(pki_db *db, PGconn *conn, apr_pool_t *pool, int owned);

/* Waits for the answer to what was just sent (SENT: what PQsend* returned), up to the
 * connection's timeout: then the connection is shut down (mod_dbd resets it when it is next
 * lent). Returns the last result, or the first error, or NULL. */
PGresult *pki_pgsql_answer(pki_pgsql *c, int sent);

/* Runs SQL (no parameters); RES (may be NULL) gets the last result, to be PQclear'ed. */
apr_status_t pki_pgsql_exec(pki_db *db, apr_pool_t *pool, const char *sql, PGresult **res);

/* Prepares statement NAME (SQL with $1, ...) on the connection unless *PREPARED (the
 * connection state's own flag) says it was: the connection's session may have been replaced
 * (a reset after a server restart), which drops every prepared statement and clears every
 * flag first. */
apr_status_t pki_pgsql_prepare(pki_db *db, apr_pool_t *pool, const char *name, const char *sql,
                               int nparams, int *prepared);

/* store_pgsql_search.c */
apr_status_t pki_pgsql_search(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                              int *n);
apr_status_t pki_pgsql_search_sync(pki_db *db, apr_pool_t *pool, int *rebuilt);
apr_status_t pki_pgsql_search_rebuild(pki_db *db, apr_pool_t *pool);

/* store_pgsql_open.c */
int pki_pgsql_spec_valid(const char *spec);
apr_status_t pki_pgsql_open_writer(apr_pool_t *pool, const char *spec, const pki_store_open_opts *o,
                                   pki_db *db, int *fresh, int *bulk, const char **error);
apr_status_t pki_pgsql_close_writer(pki_db *db, apr_pool_t *pool, int fresh, const char **error);

#endif
