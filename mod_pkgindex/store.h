/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The only file that knows SQL: a table of labelled statements, prepared once per connection
 * through mod_dbd, and functions that read objects and pages into model structs. Portable
 * between apr_dbd's sqlite3 and pgsql drivers. */

#ifndef PKI_STORE_H
#define PKI_STORE_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_dbd.h>

#include "model.h"
#include "route.h"

typedef enum pki_sql_id {
    PKI_SQL_PACKAGE_BY_ID = 0,
    PKI_SQL_PACKAGE_BY_SLUG,
    PKI_SQL_PACKAGE_GRIDS,
    PKI_SQL_PACKAGE_COUNT,
    PKI_SQL_PACKAGE_PAGE,
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
    PKI_SQL_COUNT_
} pki_sql_id;

typedef struct pki_sql_stmt {
    const char *label; /* an SQL identifier: pgsql uses it as the statement name */
    const char *sql;   /* apr_dbd placeholders: %lld for integers, %s for text */
} pki_sql_stmt;

extern const pki_sql_stmt pki_sql[PKI_SQL_COUNT_];

/* A pooled connection, as mod_dbd's ap_dbd_t holds it. */
typedef struct pki_db {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared; /* label -> apr_dbd_prepared_t *, per connection */
    apr_pool_t *pool;     /* the connection's pool: re-prepared statements live there */
    const char *error;    /* why the last call failed, for the error log (never for clients) */
} pki_db;

/* Whether the database can serve: a SQLite file that was removed or made unreadable while
 * connections hold it open still reads fine through them, so look at the file itself. */
apr_status_t pki_store_check(pki_db *db);

/* Every function returns APR_SUCCESS (with *OUT NULL when a detail lookup finds nothing), or
 * an error when the database failed: the caller answers 503. */
apr_status_t pki_store_package(pki_db *db, apr_pool_t *pool, const pki_route *route,
                               pki_package **out);
apr_status_t pki_store_grid(pki_db *db, apr_pool_t *pool, const pki_route *route, pki_grid **out);
apr_status_t pki_store_category(pki_db *db, apr_pool_t *pool, const pki_route *route,
                                pki_category **out);

apr_status_t pki_store_page(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t limit,
                            apr_int64_t offset, pki_page *out);

#endif
