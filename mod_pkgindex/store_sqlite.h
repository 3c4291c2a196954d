/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The SQLite backend's insides, shared by its files: store_sqlite.c (statements, transactions,
 * the connection's state), store_sqlite_search.c (FTS5 search), store_sqlite_open.c (the
 * importer's connection). Nothing outside store_sqlite*.c (and tests) includes it. */

#ifndef PKI_STORE_SQLITE_H
#define PKI_STORE_SQLITE_H

#include <sqlite3.h>

#include "store_backend.h"

/* The backend's state of one connection: its own statements, prepared on first use with
 * sqlite3_prepare_v3 (which prepares again by itself after any schema change). apr_dbd's
 * sqlite3 driver holds one process-wide mutex around every call, which under httpd's worker
 * threads turns each query into a futex hand-off (measured: the kernel's scheduler was two
 * thirds of the profile); SQLite itself is safe for one thread per connection, which mod_dbd
 * guarantees. */
typedef struct pki_sqlite {
    sqlite3 *conn;
    int owned; /* opened by the importer (pki_store_open_writer): closed on detach */
    sqlite3_stmt *stmts[PKI_SQL_COUNT_];
    char types[PKI_SQL_COUNT_][PKI_SQL_MAX_ARGS + 1]; /* per placeholder: 'i', 'd', 's' */
    sqlite3_stmt *begin, *begin_write, *commit, *rollback;
    void *search; /* store_sqlite_search.c's state, made on first use */
} pki_sqlite;

/* The connection under DB, or NULL when DB is not on SQLite. */
sqlite3 *pki_sqlite_conn(pki_db *db);

/* The fault the last call on CONN met (SQLite's result codes). */
pki_db_fault pki_sqlite_fault(sqlite3 *conn);

/* Notes that WHAT failed on DB's connection: SQLite's words and fault. */
apr_status_t pki_sqlite_failed(pki_db *db, apr_pool_t *pool, const char *what);

/* Binds DB to an open SQLite connection; OWNED ones are closed by pki_store_detach. */
apr_status_t pki_sqlite_attach(pki_db *db, sqlite3 *conn, apr_pool_t *pool, int owned);

/* store_sqlite_fts5.c */

/* How an FTS5 phrase of the expression counts in the text rank. */
#define PKI_HIT_EXACT  'e'
#define PKI_HIT_PREFIX 'p'
#define PKI_HIT_TYPO   't'
#define PKI_HIT_NOT    'n'

/* The FTS5 MATCH expression of ITEMS (every token quoted, so nothing the user typed is FTS5
 * syntax), and in *PHRASES three characters per FTS5 phrase, in expression order: clause
 * ('A' + n), item within its clause ('A' + n), PKI_HIT_*. Clauses without a positive item
 * are dropped; NULL when nothing is left to search for. */
const char *pki_search_fts5_expr(apr_pool_t *pool, const pki_search_item *items, int n,
                                 const char **phrases);

/* Every positive item of ITEMS (with its prefix and typo forms; a phrase as its words ANDed)
 * ORed in parentheses: what a row needs to have a title hit; NULL when there is none. */
const char *pki_search_fts5_any(apr_pool_t *pool, const pki_search_item *items, int n);

/* store_sqlite_search.c */
apr_status_t pki_sqlite_search(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                               int *n);
apr_status_t pki_sqlite_search_sync(pki_db *db, apr_pool_t *pool, int *rebuilt);
apr_status_t pki_sqlite_search_rebuild(pki_db *db, apr_pool_t *pool);
void pki_sqlite_search_release(pki_sqlite *s);
/* For tests: 1 ranks every match instead of stopping when no later one can enter the top. */
void pki_store_search_exhaustive(int on);

/* store_sqlite_open.c */
apr_status_t pki_sqlite_process_init(void);
int pki_sqlite_spec_valid(const char *spec);
apr_status_t pki_sqlite_open_writer(apr_pool_t *pool, const char *spec,
                                    const pki_store_open_opts *o, pki_db *db, int *fresh, int *bulk,
                                    const char **error);
apr_status_t pki_sqlite_close_writer(pki_db *db, apr_pool_t *pool, int fresh, const char **error);

#endif
