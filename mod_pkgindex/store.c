/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The storage interface once, over the backends: objects, pages and their relations read into
 * model structs, the importer's writes, deletes and bookkeeping. No SQL text and no driver
 * call here: statements are named by pki_sql_id and run by the connection's backend. */

#include <assert.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "store_backend.h"
#include "tz.h"

static const pki_store_backend *const backends[] = {&pki_store_sqlite_backend,
                                                    &pki_store_pgsql_backend};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

void pki_store_fail(pki_db *db, pki_db_fault fault, const char *why)
{
    db->error = why;
    db->fault = fault;
    db->conflict = NULL;
    db->holder = 0;
}

apr_status_t pki_store_attach(pki_db *db, apr_pool_t *conn_pool, const char *driver, void *native)
{
    size_t i;

    memset(db, 0, sizeof(*db));
    db->pool = conn_pool;
    for (i = 0; i < NBACKENDS; i++) {
        if (strcmp(backends[i]->name, driver) == 0) {
            db->backend = backends[i];
            return db->backend->attach(db, native, conn_pool);
        }
    }
    pki_store_fail(db, PKI_DB_FAULT_UNAVAILABLE,
                   apr_psprintf(conn_pool,
                                "no PkgIndex backend for the %s driver (DBDriver "
                                "sqlite3 or pgsql)",
                                driver));
    return APR_ENOTIMPL;
}

void pki_store_detach(pki_db *db)
{
    if (db->backend && db->conn) {
        db->backend->detach(db);
    }
}

apr_status_t pki_store_process_init(void)
{
    apr_status_t rv = APR_SUCCESS;
    size_t i;

    for (i = 0; i < NBACKENDS; i++) {
        if (backends[i]->process_init && backends[i]->process_init() != APR_SUCCESS) {
            rv = APR_EGENERAL;
        }
    }
    return rv;
}

/* The backend whose importer specs look like SPEC ("sqlite3:", "pgsql:"), or NULL. */
static const pki_store_backend *backend_of_spec(const char *spec)
{
    size_t i;

    for (i = 0; i < NBACKENDS; i++) {
        if (backends[i]->spec_valid(spec)) {
            return backends[i];
        }
    }
    return NULL;
}

int pki_store_spec_valid(const char *spec)
{
    return backend_of_spec(spec) != NULL;
}

apr_status_t pki_store_open_writer(apr_pool_t *pool, const char *spec, const pki_store_open_opts *o,
                                   pki_db *db, int *fresh, int *bulk, const char **error)
{
    const pki_store_backend *b = backend_of_spec(spec);

    memset(db, 0, sizeof(*db));
    *fresh = *bulk = 0;
    if (!b) {
        *error = apr_psprintf(pool, "expected sqlite3:PATH or pgsql:CONNINFO, got '%s'", spec);
        return APR_EINVAL;
    }
    db->backend = b;
    return b->open_writer(pool, spec, o, db, fresh, bulk, error);
}

apr_status_t pki_store_close_writer(pki_db *db, apr_pool_t *pool, int fresh, const char **error)
{
    return db->backend->close_writer(db, pool, fresh, error);
}

int pki_store_enforces_references(const pki_db *db)
{
    return db->backend->enforces_references;
}

apr_status_t pki_store_check(pki_db *db, apr_pool_t *pool)
{
    return db->backend->check(db, pool);
}

apr_status_t pki_store_writable(pki_db *db, apr_pool_t *pool)
{
    return db->backend->writable(db, pool);
}

apr_status_t pki_store_read_begin(pki_db *db, apr_pool_t *pool)
{
    return db->backend->read_begin(db, pool);
}

void pki_store_read_end(pki_db *db)
{
    db->backend->read_end(db);
}

apr_status_t pki_store_begin(pki_db *db, apr_pool_t *pool)
{
    return db->backend->begin(db, pool);
}

apr_status_t pki_store_end(pki_db *db, apr_pool_t *pool, int commit)
{
    return db->backend->end(db, pool, commit);
}

apr_status_t pki_store_lock_wait(pki_db *db, apr_interval_time_t limit, void (*waiting)(void *ctx),
                                 void *ctx)
{
    return db->backend->lock_wait(db, limit, waiting, ctx);
}

apr_status_t pki_store_exec_script(pki_db *db, apr_pool_t *pool, const char *sql)
{
    return db->backend->script(db, pool, sql);
}

apr_status_t pki_store_recount(pki_db *db, apr_pool_t *pool)
{
    return pki_store_exec_script(db, pool, db->backend->recount_sql);
}

/* Rebuilds the deep-page checkpoints when ids were added or removed since the last build. */
apr_status_t pki_store_refresh_checkpoints(pki_db *db, apr_pool_t *pool)
{
    return pki_store_exec_script(db, pool, db->backend->checkpoints_sql);
}

apr_status_t pki_store_search(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                              int *n)
{
    return db->backend->search(db, pool, q, hits, n);
}

apr_status_t pki_store_search_sync(pki_db *db, apr_pool_t *pool, int *rebuilt)
{
    return db->backend->search_sync(db, pool, rebuilt);
}

apr_status_t pki_store_search_rebuild(pki_db *db, apr_pool_t *pool)
{
    return db->backend->search_rebuild(db, pool);
}

/* --- Reading rows --- */

typedef pki_rows rows;

static apr_status_t select_rows(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                                rows **out)
{
    rows *r = apr_pcalloc(pool, sizeof(*r));

    r->db = db;
    r->pool = pool;
    *out = r;
    return db->backend->select(db, pool, id, args, r);
}

static int next_row(rows *r)
{
    return r->db->backend->next(r);
}

/* Column readers: copies of the text in the request's pool; NULL for SQL NULL. */
static const char *col_str(rows *r, int col)
{
    apr_size_t len;
    const char *s = r->db->backend->text(r, col, &len);

    return s ? apr_pstrmemdup(r->pool, s, len) : NULL;
}

static const char *col_text(rows *r, int col)
{
    const char *s = col_str(r, col);
    return s ? s : "";
}

static apr_int64_t col_int(rows *r, int col)
{
    return r->db->backend->integer(r, col);
}

/* SQLite's 0/1, PostgreSQL's t/f. */
static int col_bool(rows *r, int col)
{
    apr_size_t len;
    const char *s = r->db->backend->text(r, col, &len);
    return s && (*s == 't' || *s == 'T' || (*s >= '1' && *s <= '9'));
}

/* SQLite's text as Django stores it, PostgreSQL's timestamptz text (UTC): both parse here. */
static apr_int64_t col_time(rows *r, int col)
{
    apr_size_t len;
    const char *s = r->db->backend->text(r, col, &len); /* no copy: parsed here */
    apr_int64_t usec;

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
static apr_status_t collect_relations(rows *r, apr_pool_t *pool, owner_ref *owners, int n)
{
    apr_array_header_t *all;
    int i, o, start = 0, desc = n > 1 && owners[0].id > owners[n - 1].id;
    apr_int64_t *ids;
    int *counts, *at;

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

static apr_status_t read_relations(pki_db *db, apr_pool_t *pool, pki_sql_id stmt, const void **args,
                                   owner_ref *owners, int n)
{
    rows *r;

    if (select_rows(db, pool, stmt, args, &r) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    return collect_relations(r, pool, owners, n);
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
    return db->backend->exec(db, pool, id, args);
}

/* Statements in the backend's fewest round trips (see store_backend.h); the last one's rows
 * into **OUT when OUT is not NULL. */
static apr_status_t batch(pki_db *db, apr_pool_t *pool, int n, const pki_sql_id *ids,
                          const void *const **args, rows **out)
{
    int i;

    if (out) {
        *out = apr_pcalloc(pool, sizeof(**out));
        (*out)->db = db;
        (*out)->pool = pool;
    }
    if (db->backend->batch) {
        return db->backend->batch(db, pool, n, ids, args, out ? *out : NULL);
    }
    for (i = 0; i < n; i++) {
        apr_status_t rv = out && i == n - 1
                              ? db->backend->select(db, pool, ids[i], (const void **)args[i], *out)
                              : run(db, pool, ids[i], (const void **)args[i]);
        if (rv != APR_SUCCESS) {
            return rv;
        }
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
    pki_sql_id first[3], *members;
    const void *const *first_args[3], **member_args;
    owner_ref owner = {p->id, NULL};
    pki_ids now;
    rows *r;
    int i, n = 0;

    /* the row, and the memberships it has, at once */
    if (p->pypi_version) {
        first[n] = PKI_SQL_VERSION_ADD;
        first_args[n++] = version;
    }
    first[n] = PKI_SQL_PACKAGE_PUT;
    first_args[n++] = row;
    first[n] = PKI_SQL_PACKAGE_GRIDS;
    first_args[n++] = id;
    owner.ids = &now;
    if (batch(db, pool, n, first, first_args, &r) != APR_SUCCESS ||
        collect_relations(r, pool, &owner, 1) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* Membership ids give the order: rewrite them only when the list changed. */
    if (now.count == p->grids.count &&
        (now.count == 0 || memcmp(now.ids, p->grids.ids, sizeof(apr_int64_t) * now.count) == 0)) {
        return APR_SUCCESS;
    }
    /* the memberships rewritten, at once */
    members = apr_palloc(pool, sizeof(*members) * (p->grids.count + 1));
    member_args = apr_palloc(pool, sizeof(*member_args) * (p->grids.count + 1));
    n = 0;
    if (now.count) {
        members[n] = PKI_SQL_PACKAGE_GRIDS_CLEAR;
        member_args[n++] = id;
    }
    for (i = 0; i < p->grids.count; i++) {
        const void **member = apr_palloc(pool, sizeof(*member) * 4);
        member[0] = modified;
        member[1] = modified;
        member[2] = &p->grids.ids[i];
        member[3] = &p->id;
        members[n] = PKI_SQL_MEMBER_ADD;
        member_args[n++] = member;
    }
    return n ? batch(db, pool, n, members, (const void *const **)member_args, NULL) : APR_SUCCESS;
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
