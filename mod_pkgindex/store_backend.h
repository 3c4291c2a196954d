/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What a storage backend provides: one per apr_dbd driver (store_sqlite.c, store_pgsql.c),
 * chosen by the driver's name, as apr_dbd picks its drivers and mod_cache its providers.
 * Only store*.c include this: the rest of the core sees store.h, which has no SQL and no
 * driver types. A backend owns its statement table (the same statements in its dialect),
 * its per-connection state, its schema's bookkeeping, its search and its error classes. */

#ifndef PKI_STORE_BACKEND_H
#define PKI_STORE_BACKEND_H

#include <apr_pools.h>

#include "search.h"
#include "store.h"

/* The statements of store.c, in every backend's table at the same index. */
typedef enum pki_sql_id {
    PKI_SQL_PACKAGE_BY_ID = 0,
    PKI_SQL_PACKAGE_BY_SLUG,
    PKI_SQL_PACKAGE_GRIDS,
    PKI_SQL_PACKAGE_COUNT,
    PKI_SQL_PACKAGE_PAGE,
    PKI_SQL_PACKAGE_PAGE_DEEP,
    PKI_SQL_PACKAGE_PAGE_GRIDS,
    PKI_SQL_GRID_BY_ID,
    PKI_SQL_GRID_BY_SLUG,
    PKI_SQL_GRID_PACKAGES,
    PKI_SQL_GRID_COUNT,
    PKI_SQL_GRID_PAGE,
    PKI_SQL_GRID_PAGE_PACKAGES,
    PKI_SQL_CATEGORY_BY_ID,
    PKI_SQL_CATEGORY_COUNT,
    PKI_SQL_CATEGORY_PAGE,
    /* writes */
    PKI_SQL_CATEGORY_PUT,
    PKI_SQL_GRID_PUT,
    PKI_SQL_PACKAGE_PUT,
    PKI_SQL_VERSION_ADD,
    PKI_SQL_PACKAGE_GRIDS_CLEAR,
    PKI_SQL_MEMBER_ADD,
    PKI_SQL_MEMBER_REMOVE,
    PKI_SQL_GRID_MEMBERS,
    PKI_SQL_PACKAGE_SLUG_OWNER,
    PKI_SQL_GRID_SLUG_OWNER,
    PKI_SQL_PACKAGE_EXISTS,
    PKI_SQL_GRID_EXISTS,
    PKI_SQL_CATEGORY_EXISTS,
    PKI_SQL_FIRST_CATEGORY,
    PKI_SQL_DANGLING_CATEGORIES,
    PKI_SQL_DANGLING_GRIDS,
    PKI_SQL_GENERATION,
    /* deletes */
    PKI_SQL_PACKAGE_IDS,
    PKI_SQL_GRID_IDS,
    PKI_SQL_CATEGORY_IDS,
    PKI_SQL_PACKAGE_MEMBERS_DELETE,
    PKI_SQL_PACKAGE_VERSION_UNLINK,
    PKI_SQL_PACKAGE_VERSIONS_DELETE,
    PKI_SQL_PACKAGE_DELETE,
    PKI_SQL_GRID_MEMBERS_DELETE,
    PKI_SQL_GRID_DELETE,
    PKI_SQL_CATEGORY_USERS,
    PKI_SQL_CATEGORY_DELETE,
    PKI_SQL_CATEGORY_PACKAGE_IDS,
    PKI_SQL_COUNT_
} pki_sql_id;

/* A statement: LABEL names it (an SQL identifier), SQL has apr_dbd-style placeholders that
 * say each argument's type, which the backend turns into its own: %lld an apr_int64_t, %d an
 * int, %s a NUL-terminated string (NULL: SQL NULL). Arguments are passed as const void *[]. */
typedef struct pki_sql_stmt {
    const char *label;
    const char *sql;
} pki_sql_stmt;

/* The most placeholders a statement has. */
#define PKI_SQL_MAX_ARGS 24

/* A result being read; the backend's cursor is IMPL. */
typedef struct pki_rows {
    pki_db *db;
    apr_pool_t *pool; /* copies of column text are made here */
    void *impl;
    int failed; /* reading a row failed: DB->error and DB->fault say why */
} pki_rows;

typedef struct pki_store_backend {
    const char *name; /* apr_dbd's name of the driver: "sqlite3", "pgsql" */
    const pki_sql_stmt *sql;
    int enforces_references; /* foreign keys checked at commit */

    /* The backend's state of the connection NATIVE (apr_dbd_native_handle), made on the
     * first attach and kept in CONN_POOL (the connection's pool) until it is destroyed. */
    apr_status_t (*attach)(pki_db *db, void *native, apr_pool_t *conn_pool);
    /* Releases what attach made (the connection is about to be closed by its owner). */
    void (*detach)(pki_db *db);

    /* Statements: a SELECT's rows into *OUT (to be read to the end by next), or a change. */
    apr_status_t (*select)(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                           pki_rows *out);
    /* 1 with a row; 0 at the end or on a failure (R->failed). */
    int (*next)(pki_rows *r);
    /* Column COL of the current row: text (NULL for SQL NULL, valid until the next row), an
     * integer (0 for NULL). */
    const char *(*text)(pki_rows *r, int col, apr_size_t *len);
    apr_int64_t (*integer)(pki_rows *r, int col);
    apr_status_t (*exec)(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args);
    /* Optional: statements IDS[0..N-1] with their ARGS at once, each only if the ones before it
     * succeeded; the last one's rows into *OUT when OUT is not NULL (else it is a change).
     * Without it, store.c runs them one by one. */
    apr_status_t (*batch)(pki_db *db, apr_pool_t *pool, int n, const pki_sql_id *ids,
                          const void *const **args, pki_rows *out);
    /* Statements separated by ";\n" (the schema, bookkeeping scripts). */
    apr_status_t (*script)(pki_db *db, apr_pool_t *pool, const char *sql);

    /* A request's reads in one snapshot; a writer's transaction. */
    apr_status_t (*read_begin)(pki_db *db, apr_pool_t *pool);
    void (*read_end)(pki_db *db);
    apr_status_t (*begin)(pki_db *db, apr_pool_t *pool);
    apr_status_t (*end)(pki_db *db, apr_pool_t *pool, int commit);
    apr_status_t (*lock_wait)(pki_db *db, apr_interval_time_t limit, void (*waiting)(void *ctx),
                              void *ctx);

    apr_status_t (*check)(pki_db *db, apr_pool_t *pool);
    apr_status_t (*writable)(pki_db *db, apr_pool_t *pool);

    /* Scripts of the backend's dialect: counts recounted with a new generation; deep-page
     * checkpoints rebuilt when stale and counts made exact. */
    const char *recount_sql;
    const char *checkpoints_sql;

    apr_status_t (*search)(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                           int *n);
    apr_status_t (*search_sync)(pki_db *db, apr_pool_t *pool, int *rebuilt);
    apr_status_t (*search_rebuild)(pki_db *db, apr_pool_t *pool);

    /* Sets the driver's library up for this process (see pki_store_process_init). */
    apr_status_t (*process_init)(void);
    /* The importer's connection (see pki_store_open_writer). */
    int (*spec_valid)(const char *spec);
    apr_status_t (*open_writer)(apr_pool_t *pool, const char *spec, const pki_store_open_opts *o,
                                pki_db *db, int *fresh, int *bulk, const char **error);
    apr_status_t (*close_writer)(pki_db *db, apr_pool_t *pool, int fresh, const char **error);
} pki_store_backend;

extern const pki_store_backend pki_store_sqlite_backend;
extern const pki_store_backend pki_store_pgsql_backend;

/* Notes a failure for the caller: WHY for the log, FAULT for decisions. */
void pki_store_fail(pki_db *db, pki_db_fault fault, const char *why);

#endif
