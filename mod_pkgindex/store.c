/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

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
    [PKI_SQL_PACKAGE_COUNT] = {"pkgindex_package_count", "SELECT COUNT(*) FROM package_package"},
    [PKI_SQL_PACKAGE_PAGE] = {"pkgindex_package_page",
                              PACKAGE_COLUMNS "ORDER BY p.id DESC LIMIT %lld OFFSET %lld"},
    [PKI_SQL_PACKAGE_PAGE_GRIDS] = {"pkgindex_package_page_grids",
                                    "SELECT package_id, grid_id FROM grid_gridpackage"
                                    " WHERE package_id BETWEEN %lld AND %lld"
                                    " ORDER BY package_id DESC, id"},
    [PKI_SQL_GRID_BY_ID] = {"pkgindex_grid_by_id", GRID_COLUMNS "WHERE id = %lld"},
    [PKI_SQL_GRID_BY_SLUG] = {"pkgindex_grid_by_slug", GRID_COLUMNS "WHERE slug = %s"},
    [PKI_SQL_GRID_PACKAGES] = {"pkgindex_grid_packages",
                               GRID_MEMBERS "WHERE gp.grid_id = %lld ORDER BY p.title, p.id"},
    [PKI_SQL_GRID_COUNT] = {"pkgindex_grid_count", "SELECT COUNT(*) FROM grid_grid"},
    [PKI_SQL_GRID_PAGE] = {"pkgindex_grid_page",
                           GRID_COLUMNS "ORDER BY id DESC LIMIT %lld OFFSET %lld"},
    [PKI_SQL_GRID_PAGE_PACKAGES] = {"pkgindex_grid_page_packages",
                                    GRID_MEMBERS "WHERE gp.grid_id BETWEEN %lld AND %lld"
                                                 " ORDER BY gp.grid_id DESC, p.title, p.id"},
    [PKI_SQL_CATEGORY_BY_ID] = {"pkgindex_category_by_id", CATEGORY_COLUMNS "WHERE id = %lld"},
    [PKI_SQL_CATEGORY_COUNT] = {"pkgindex_category_count", "SELECT COUNT(*) FROM package_category"},
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
                              " show_pypi = excluded.show_pypi"},
    [PKI_SQL_GRID_PUT] = {"pkgindex_grid_put",
                          "INSERT INTO grid_grid (id, created, modified, title, slug, description,"
                          " is_locked, header) VALUES (%lld, %s, %s, %s, %s, %s, %d, %d)"
                          " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"
                          " modified = excluded.modified, title = excluded.title,"
                          " slug = excluded.slug, description = excluded.description,"
                          " is_locked = excluded.is_locked, header = excluded.header"},
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
         " latest_version_id = excluded.latest_version_id"},
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
};

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

static apr_status_t select_rows(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                                apr_dbd_results_t **res)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->prepared, pki_sql[id].label, APR_HASH_KEY_STRING);
    int rv = -1;

    *res = NULL;
    if (stmt) {
        /* random access: pgsql's sequential mode misbehaves on empty and undrained results */
        rv = apr_dbd_pbselect(db->driver, pool, db->handle, res, stmt, 1, args);
    }
    if (rv != 0 && may_reprepare(db) && pki_store_prepare_all(db, pool) == APR_SUCCESS) {
        stmt = apr_hash_get(db->prepared, pki_sql[id].label, APR_HASH_KEY_STRING);
        *res = NULL;
        rv = apr_dbd_pbselect(db->driver, pool, db->handle, res, stmt, 1, args);
    }
    if (rv != 0) {
        /* the connection's pool outlives the message: use the request's */
        db->error = apr_psprintf(
            pool, "%s: %s (%d)", pki_sql[id].label,
            stmt ? apr_dbd_error(db->driver, db->handle, rv) : "statement not prepared", rv);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static int next_row(pki_db *db, apr_pool_t *pool, apr_dbd_results_t *res, apr_dbd_row_t **row)
{
    return apr_dbd_get_row(db->driver, pool, res, row, -1) == 0;
}

apr_status_t pki_store_check(pki_db *db, apr_pool_t *pool)
{
    sqlite3 *conn;
    const char *path;

    if (strcmp(apr_dbd_name(db->driver), "sqlite3") != 0) {
        return APR_SUCCESS;
    }
    conn = apr_dbd_native_handle(db->driver, db->handle);
    path = conn ? sqlite3_db_filename(conn, "main") : NULL;
    if (path && *path && access(path, R_OK) != 0) {
        db->error = apr_psprintf(pool, "%s: %s", path, strerror(errno));
        return APR_ENOENT;
    }
    return APR_SUCCESS;
}

/* Column readers: NULL-safe on both drivers (get_entry gives "" for NULL on pgsql). */
static const char *col_str(pki_db *db, apr_dbd_row_t *row, int col)
{
    const char *s = NULL;

    if (apr_dbd_datum_get(db->driver, row, col, APR_DBD_TYPE_STRING, &s) != APR_SUCCESS) {
        return NULL;
    }
    return s;
}

static const char *col_text(pki_db *db, apr_dbd_row_t *row, int col)
{
    const char *s = col_str(db, row, col);
    return s ? s : "";
}

static apr_int64_t col_int(pki_db *db, apr_dbd_row_t *row, int col)
{
    const char *s = col_str(db, row, col);
    return s ? apr_atoi64(s) : 0;
}

static int col_bool(pki_db *db, apr_dbd_row_t *row, int col)
{
    const char *s = col_str(db, row, col);
    return s && (*s == 't' || *s == 'T' || (*s >= '1' && *s <= '9'));
}

static apr_int64_t col_time(pki_db *db, apr_dbd_row_t *row, int col)
{
    const char *s = col_str(db, row, col);
    apr_int64_t usec;

    if (!s || pki_time_parse(s, &usec) != 0) {
        return PKI_TIME_NULL;
    }
    return usec;
}

static void read_package(pki_db *db, apr_dbd_row_t *row, pki_package *p)
{
    p->id = col_int(db, row, 0);
    p->category_id = col_int(db, row, 1);
    p->title = col_text(db, row, 2);
    p->slug = col_text(db, row, 3);
    p->last_updated = col_time(db, row, 4);
    p->last_fetched = col_time(db, row, 5);
    p->repo_url = col_text(db, row, 6);
    p->pypi_version = col_str(db, row, 7);
    p->created = col_time(db, row, 8);
    p->modified = col_time(db, row, 9);
    p->repo_forks = col_int(db, row, 10);
    p->repo_description = col_text(db, row, 11);
    p->pypi_url = col_text(db, row, 12);
    p->documentation_url = col_str(db, row, 13);
    p->repo_watchers = col_int(db, row, 14);
    p->commits_over_52 = col_text(db, row, 15);
    p->participants = col_text(db, row, 16);
    p->grids.ids = NULL;
    p->grids.count = 0;
}

static void read_grid(pki_db *db, apr_dbd_row_t *row, pki_grid *g)
{
    g->id = col_int(db, row, 0);
    g->title = col_text(db, row, 1);
    g->slug = col_text(db, row, 2);
    g->description = col_text(db, row, 3);
    g->is_locked = col_bool(db, row, 4);
    g->header = col_bool(db, row, 5);
    g->created = col_time(db, row, 6);
    g->modified = col_time(db, row, 7);
    g->packages.ids = NULL;
    g->packages.count = 0;
}

static void read_category(pki_db *db, apr_dbd_row_t *row, pki_category *c)
{
    c->id = col_int(db, row, 0);
    c->title = col_text(db, row, 1);
    c->slug = col_text(db, row, 2);
    c->description = col_text(db, row, 3);
    c->title_plural = col_text(db, row, 4);
    c->show_pypi = col_bool(db, row, 5);
    c->created = col_time(db, row, 6);
    c->modified = col_time(db, row, 7);
}

/* Related ids of one or more owners: rows of (owner_id, related_id), grouped by owner in the
 * order the owners were read. Each owner's pki_ids points into one shared array. */
typedef struct owner_ref {
    apr_int64_t id;
    pki_ids *ids;
} owner_ref;

static apr_status_t read_relations(pki_db *db, apr_pool_t *pool, pki_sql_id stmt, const void **args,
                                   owner_ref *owners, int n)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *all;
    int o = 0, i, k = 0, start = 0, desc;
    apr_int64_t *ids;
    int *counts;

    if (select_rows(db, pool, stmt, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    all = apr_array_make(pool, 64, sizeof(apr_int64_t) * 2);
    while (next_row(db, pool, res, &row)) {
        apr_int64_t *pair = apr_array_push(all);
        pair[0] = col_int(db, row, 0);
        pair[1] = col_int(db, row, 1);
    }
    ids = apr_palloc(pool, sizeof(apr_int64_t) * (all->nelts + 1));
    counts = apr_pcalloc(pool, sizeof(int) * (n + 1));
    /* Rows come grouped by owner in the owners' order (ascending or descending ids): merge the
     * two lists. A row of an owner not on the list (a membership whose package is gone) is
     * skipped, so it cannot take the following owners' rows with it. */
    desc = n > 1 && owners[0].id > owners[n - 1].id;
    for (i = 0; i < all->nelts; i++) {
        apr_int64_t *pair = &((apr_int64_t *)all->elts)[i * 2];
        while (o < n && (desc ? owners[o].id > pair[0] : owners[o].id < pair[0])) {
            o++;
        }
        if (o < n && owners[o].id == pair[0]) {
            ids[k++] = pair[1];
            counts[o]++;
        }
    }
    for (o = 0; o < n; o++) {
        owners[o].ids->ids = ids + start;
        owners[o].ids->count = counts[o];
        start += counts[o];
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

/* Reads the one row a detail lookup selects. Returns 0 with *ROW NULL when there is none. */
static apr_status_t lookup_row(pki_db *db, apr_pool_t *pool, const pki_route *route,
                               pki_sql_id by_id, pki_sql_id by_slug, apr_dbd_row_t **row)
{
    apr_dbd_results_t *res;
    const void *args[1];
    apr_int64_t id = route->id;

    *row = NULL;
    if (route->lookup_is_id) {
        if (id < 0) {
            return APR_SUCCESS; /* beyond 64 bits: no such object */
        }
        args[0] = &id;
        if (select_rows(db, pool, by_id, args, &res) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    } else {
        /* A slug that is not UTF-8 matches nothing (and pgsql would reject it). */
        if (!valid_utf8((const unsigned char *)route->lookup)) {
            return APR_SUCCESS;
        }
        args[0] = route->lookup;
        if (select_rows(db, pool, by_slug, args, &res) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (!next_row(db, pool, res, row)) {
        *row = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_package(pki_db *db, apr_pool_t *pool, const pki_route *route,
                               pki_package **out)
{
    apr_dbd_row_t *row;
    pki_package *p;
    owner_ref owner;
    const void *args[1];

    *out = NULL;
    if (lookup_row(db, pool, route, PKI_SQL_PACKAGE_BY_ID, PKI_SQL_PACKAGE_BY_SLUG, &row) !=
        APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!row) {
        return APR_SUCCESS;
    }
    p = apr_palloc(pool, sizeof(*p));
    read_package(db, row, p);
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
    apr_dbd_row_t *row;
    pki_grid *g;
    owner_ref owner;
    const void *args[1];

    *out = NULL;
    if (lookup_row(db, pool, route, PKI_SQL_GRID_BY_ID, PKI_SQL_GRID_BY_SLUG, &row) !=
        APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!row) {
        return APR_SUCCESS;
    }
    g = apr_palloc(pool, sizeof(*g));
    read_grid(db, row, g);
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
    apr_dbd_row_t *row;

    /* categories are looked up by id only: a slug is no category */
    *out = NULL;
    if (!route->lookup_is_id) {
        return APR_SUCCESS;
    }
    if (lookup_row(db, pool, route, PKI_SQL_CATEGORY_BY_ID, PKI_SQL_COUNT_, &row) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (row) {
        *out = apr_palloc(pool, sizeof(pki_category));
        read_category(db, row, *out);
    }
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
    apr_dbd_results_t *rs;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *items;
    owner_ref *owners;
    const void *args[2];
    int i;

    out->count = 0;
    out->items = NULL;
    out->n = 0;
    if (select_rows(db, pool, pages[res].count, NULL, &rs) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (next_row(db, pool, rs, &row)) {
        out->count = col_int(db, row, 0);
        while (next_row(db, pool, rs, &row)) {
        }
    }
    if (offset >= out->count) {
        return APR_SUCCESS; /* past the end: no page query */
    }

    args[0] = &limit;
    args[1] = &offset;
    if (select_rows(db, pool, pages[res].page, args, &rs) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    items = apr_array_make(pool, limit < 64 ? (int)limit : 64, pages[res].size);
    row = NULL;
    while (next_row(db, pool, rs, &row)) {
        void *item = apr_array_push(items);
        if (res == PKI_RES_PACKAGES) {
            read_package(db, row, item);
        } else if (res == PKI_RES_GRIDS) {
            read_grid(db, row, item);
        } else {
            read_category(db, row, item);
        }
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
    apr_dbd_prepared_t *stmt = apr_hash_get(db->prepared, pki_sql[id].label, APR_HASH_KEY_STRING);
    int nrows, rv;

    if (!stmt) {
        db->error = apr_psprintf(pool, "%s: statement not prepared", pki_sql[id].label);
        return APR_EGENERAL;
    }
    rv = apr_dbd_pbquery(db->driver, pool, db->handle, &nrows, stmt, args);
    if (rv != 0) {
        db->error = apr_psprintf(pool, "%s: %s", pki_sql[id].label,
                                 apr_dbd_error(db->driver, db->handle, rv));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The first column of the first row as an integer, 0 when there is none (or it is NULL). */
static apr_status_t select_int(pki_db *db, apr_pool_t *pool, pki_sql_id id, const void **args,
                               apr_int64_t *out)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *out = 0;
    if (select_rows(db, pool, id, args, &res) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (next_row(db, pool, res, &row)) {
        if (*out == 0) {
            *out = col_int(db, row, 0);
        }
    }
    return APR_SUCCESS;
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

apr_status_t pki_store_begin(pki_db *db, apr_pool_t *pool, apr_dbd_transaction_t **trans)
{
    int rv = apr_dbd_transaction_start(db->driver, pool, db->handle, trans);

    if (rv != 0) {
        db->error = apr_psprintf(pool, "begin: %s", apr_dbd_error(db->driver, db->handle, rv));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_end(pki_db *db, apr_pool_t *pool, apr_dbd_transaction_t *trans, int commit)
{
    int rv;

    if (!commit) {
        apr_dbd_transaction_mode_set(db->driver, trans, APR_DBD_TRANSACTION_ROLLBACK);
    }
    rv = apr_dbd_transaction_end(db->driver, pool, trans);
    if (rv != 0) {
        db->error = apr_psprintf(pool, "end: %s", apr_dbd_error(db->driver, db->handle, rv));
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

apr_status_t pki_store_package_exists(pki_db *db, apr_pool_t *pool, apr_int64_t id, int *exists)
{
    const void *args[] = {&id};
    apr_int64_t found;
    apr_status_t rv = select_int(db, pool, PKI_SQL_PACKAGE_EXISTS, args, &found);

    *exists = found != 0;
    return rv;
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

apr_status_t pki_store_dangling(pki_db *db, apr_pool_t *pool, pki_resource res, pki_ids *out)
{
    apr_dbd_results_t *rs;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *ids = apr_array_make(pool, 8, sizeof(apr_int64_t));

    if (select_rows(db, pool,
                    res == PKI_RES_CATEGORIES ? PKI_SQL_DANGLING_CATEGORIES
                                              : PKI_SQL_DANGLING_GRIDS,
                    NULL, &rs) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    while (next_row(db, pool, rs, &row)) {
        *(apr_int64_t *)apr_array_push(ids) = col_int(db, row, 0);
        *(apr_int64_t *)apr_array_push(ids) = col_int(db, row, 1);
    }
    out->ids = (const apr_int64_t *)ids->elts;
    out->count = ids->nelts / 2;
    return APR_SUCCESS;
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
            db->error =
                apr_psprintf(pool, "%s: %s", stmt, apr_dbd_error(db->driver, db->handle, rv));
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t pki_store_prepare_all(pki_db *db, apr_pool_t *pool)
{
    int i;

    for (i = 0; i < PKI_SQL_COUNT_; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        int rv = apr_dbd_prepare(db->driver, db->pool, db->handle, pki_sql[i].sql, pki_sql[i].label,
                                 &stmt);
        if (rv != 0 || !stmt) {
            db->error = apr_psprintf(pool, "%s: %s", pki_sql[i].label,
                                     apr_dbd_error(db->driver, db->handle, rv));
            return APR_EGENERAL;
        }
        apr_hash_set(db->prepared, pki_sql[i].label, APR_HASH_KEY_STRING, stmt);
    }
    return APR_SUCCESS;
}
