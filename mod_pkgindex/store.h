/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The storage interface: objects, pages, search, the data generation, transactions and the
 * importer's writes, with no SQL and no driver types. store.c implements it once over the
 * backends of store_backend.h (SQLite: store_sqlite*.c; PostgreSQL: store_pgsql*.c). */

#ifndef PKI_STORE_H
#define PKI_STORE_H

#include <apr_pools.h>

#include "model.h"
#include "route.h"

/* What kind of trouble the last failed call met. Callers decide on this, never on the words
 * of pki_db.error (those are for logs, and differ between drivers). */
typedef enum pki_db_fault {
    PKI_DB_FAULT_NONE = 0,
    PKI_DB_FAULT_OTHER,       /* anything not below */
    PKI_DB_FAULT_UNAVAILABLE, /* cannot be reached, opened or read: down, missing, damaged */
    PKI_DB_FAULT_BUSY,        /* locked by another writer for longer than this caller waits */
    PKI_DB_FAULT_CONFLICT,    /* a uniqueness rule: a slug another object holds */
    PKI_DB_FAULT_FULL,        /* the disk (or a size limit) is full */
    PKI_DB_FAULT_READONLY,    /* the database, or what it needs beside it, cannot be written */
} pki_db_fault;

struct pki_store_backend;

/* A database connection as the store sees it: mod_dbd's pooled one (pki_store_attach), or
 * the importer's (pki_store_open_writer). */
typedef struct pki_db {
    const struct pki_store_backend *backend; /* the driver's (store_backend.h) */
    void *conn;                              /* the backend's state of this connection */
    apr_pool_t *pool;                        /* the connection's pool */
    const char *error;  /* why the last call failed, for the error log (never for clients) */
    pki_db_fault fault; /* what kind of failure that was */
    /* With PKI_DB_FAULT_CONFLICT: the field whose uniqueness the write would break, when the
     * database says (PostgreSQL's constraint); NULL means the slug, the API's only one. */
    const char *conflict;
    /* With PKI_DB_FAULT_CONFLICT on the slug: the object holding it, when the write said (0:
     * ask pki_store_slug_owner, if the transaction still answers). */
    apr_int64_t holder;
} pki_db;

/* Binds DB to a connection of apr_dbd's driver DRIVER (its name, apr_dbd_name) whose native
 * handle is NATIVE (apr_dbd_native_handle) and whose pool is CONN_POOL: the backend's state of
 * the connection is made once and kept there. APR_ENOTIMPL for a driver without a backend. */
apr_status_t pki_store_attach(pki_db *db, apr_pool_t *conn_pool, const char *driver, void *native);

/* Releases the backend's state of the connection (its statements), before its owner closes
 * it (outside httpd; mod_dbd's connections keep theirs until their pool goes). */
void pki_store_detach(pki_db *db);

/* Whether the database can serve: a SQLite file that was removed or made unreadable while
 * connections hold it open still reads fine through them, so look at the file itself. */
apr_status_t pki_store_check(pki_db *db, apr_pool_t *pool);

/* Whether a writer can write the database: on SQLite, the file and its directory (WAL mode
 * makes -wal/-shm files there). The error says which, in words a person can act on. */
apr_status_t pki_store_writable(pki_db *db, apr_pool_t *pool);

/* The data generation (pkgindex_state), which every write moves: cached responses are
 * valid for one. */
apr_status_t pki_store_generation(pki_db *db, apr_pool_t *pool, apr_int64_t *generation);

/* Brackets a request's reads in one transaction (a consistent snapshot). */
apr_status_t pki_store_read_begin(pki_db *db, apr_pool_t *pool);
void pki_store_read_end(pki_db *db);

/* Every function returns APR_SUCCESS (with *OUT NULL when a detail lookup finds nothing), or
 * an error when the database failed: the caller answers 503. */
apr_status_t pki_store_package(pki_db *db, apr_pool_t *pool, const pki_route *route,
                               pki_package **out);
apr_status_t pki_store_grid(pki_db *db, apr_pool_t *pool, const pki_route *route, pki_grid **out);
apr_status_t pki_store_category(pki_db *db, apr_pool_t *pool, const pki_route *route,
                                pki_category **out);

apr_status_t pki_store_page(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t limit,
                            apr_int64_t offset, pki_page *out);

/* --- Writes: the importer's now, edits' later. Call them inside a transaction. --- */

apr_status_t pki_store_begin(pki_db *db, apr_pool_t *pool);
/* How long a write waits for another writer's lock before failing with PKI_DB_FAULT_BUSY;
 * WAITING (may be NULL) is called once per wait that lasts over a second, so a person can be
 * told. The module's connections wait a second; the importer waits for other imports. */
apr_status_t pki_store_lock_wait(pki_db *db, apr_interval_time_t limit, void (*waiting)(void *ctx),
                                 void *ctx);

/* Commits when COMMIT and nothing failed, else rolls back. */
apr_status_t pki_store_end(pki_db *db, apr_pool_t *pool, int commit);

/* Insert or update by id. A package's memberships become exactly P->grids, in that order
 * (left untouched when they already are), and its latest version P->pypi_version. */
apr_status_t pki_store_put_category(pki_db *db, apr_pool_t *pool, const pki_category *c);
apr_status_t pki_store_put_grid(pki_db *db, apr_pool_t *pool, const pki_grid *g);
apr_status_t pki_store_put_package(pki_db *db, apr_pool_t *pool, const pki_package *p);

/* The id of the package (RES packages) or grid holding SLUG, or 0. */
apr_status_t pki_store_slug_owner(pki_db *db, apr_pool_t *pool, pki_resource res, const char *slug,
                                  apr_int64_t *id);
apr_status_t pki_store_exists(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t id,
                              int *exists);
/* The smallest category id, or 0. */
apr_status_t pki_store_first_category(pki_db *db, apr_pool_t *pool, apr_int64_t *id);

/* A grid's member package ids, in membership order. */
apr_status_t pki_store_grid_members(pki_db *db, apr_pool_t *pool, apr_int64_t grid_id,
                                    pki_ids *out);
apr_status_t pki_store_add_member(pki_db *db, apr_pool_t *pool, apr_int64_t grid_id,
                                  apr_int64_t package_id, apr_int64_t now);
apr_status_t pki_store_remove_member(pki_db *db, apr_pool_t *pool, apr_int64_t grid_id,
                                     apr_int64_t package_id);

/* Every id of RES (packages, grids or categories), ascending, into OUT. */
apr_status_t pki_store_all_ids(pki_db *db, apr_pool_t *pool, pki_resource res, pki_ids *out);

/* Whether the database refuses to commit a reference to a missing row (foreign keys). */
int pki_store_enforces_references(const pki_db *db);

/* Deletes object ID of RES with what belongs to it: a package's versions and memberships, a
 * grid's memberships. A category that packages still name is not deleted: PKI_DB_FAULT_CONFLICT
 * (nothing is changed, and the transaction goes on). */
apr_status_t pki_store_delete(pki_db *db, apr_pool_t *pool, pki_resource res, apr_int64_t id);

/* Removes what refers to the missing object ID of RES: the packages that name category ID,
 * or the memberships in grid ID (what --skip-invalid leaves out). */
apr_status_t pki_store_drop_referrers(pki_db *db, apr_pool_t *pool, pki_resource res,
                                      apr_int64_t id);

/* References to rows that do not exist: pairs (missing id, the smallest package id that
 * refers to it). Categories that packages name; grids that memberships name. */
apr_status_t pki_store_dangling(pki_db *db, apr_pool_t *pool, pki_resource res, pki_ids *out);

/* Package pages from this offset on use the checkpoints (pkgindex_checkpoint, every 256th id). */
#define PKI_CHECKPOINT_EVERY 256

/* Rebuilds the deep-page checkpoints when ids were added or removed since the last build. */
apr_status_t pki_store_refresh_checkpoints(pki_db *db, apr_pool_t *pool);

/* --- Search (the backend's: FTS5 on SQLite, the original's tsvector and pg_trgm on PostgreSQL) ---
 */

/* The best matches of Q (at most PKI_SEARCH_LIMIT, in result order) into *HITS. Reads inside
 * pki_store_read_begin/end like every read. APR_ENOTIMPL when the database has no search
 * index (a schema older than search, or a driver without one). */
apr_status_t pki_store_search(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                              int *n);

/* Brings the search index up to date with the objects changed since the last call (the
 * triggers' list): one by one, or by a rebuild when that is cheaper. *REBUILT (may be NULL)
 * tells which. Call inside the transaction that changed them. */
apr_status_t pki_store_search_sync(pki_db *db, apr_pool_t *pool, int *rebuilt);

/* Rebuilds the search index from the objects (weights' recency counted from now). */
apr_status_t pki_store_search_rebuild(pki_db *db, apr_pool_t *pool);

/* After a load with triggers off (a database nobody has seen yet): the row counts recounted,
 * the checkpoints marked stale, a new data generation. */
apr_status_t pki_store_recount(pki_db *db, apr_pool_t *pool);

/* Runs SQL, a script of statements each ending in ";" at the end of a line (the schema). */
apr_status_t pki_store_exec_script(pki_db *db, apr_pool_t *pool, const char *sql);

/* --- A process's database libraries, and the importer's connection --- */

/* Sets the database libraries up for this process: each connection is used by one thread at a
 * time (mod_dbd lends it to one request; the importer has one writer), so no mutex per
 * connection and no global memory statistics. Before any connection is opened; an error when
 * the library is in use already (harmless: it keeps its own settings). */
apr_status_t pki_store_process_init(void);

/* Whether SPEC names a database the importer can open ("sqlite3:PATH", "pgsql:CONNINFO");
 * else a usage error. */
int pki_store_spec_valid(const char *spec);

typedef struct pki_store_open_opts {
    int init;                   /* create the database, or the schema when it has none */
    apr_interval_time_t wait;   /* for another importer's run, or another writer's lock */
    void (*waiting)(void *ctx); /* called once when a wait lasts */
    void *ctx;
} pki_store_open_opts;

/* Opens SPEC for a run of imports: one run at a time (the next one waits, up to O->wait);
 * the schema made with O->init; every statement prepared. *FRESH: the run made the
 * database, which nobody else uses yet: it is loaded in *BULK mode when that could be set up
 * (bookkeeping triggers off: pki_store_recount after each file, the search index rebuilt
 * after the last). On failure *ERROR says why, in words a person can act on, and DB is
 * closed. */
apr_status_t pki_store_open_writer(apr_pool_t *pool, const char *spec, const pki_store_open_opts *o,
                                   pki_db *db, int *fresh, int *bulk, const char **error);

/* Closes what pki_store_open_writer opened (FRESH as it said), ready for the server's
 * readers; *ERROR says what failed. */
apr_status_t pki_store_close_writer(pki_db *db, apr_pool_t *pool, int fresh, const char **error);

#endif
