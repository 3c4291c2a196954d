/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <json-c/json.h>

#include "buf.h"
#include "import.h"
#include "parse.h"

/* Errors listed per file before the rest are only counted. */
#define MAX_MESSAGES 50
#define CHUNK        65536

/* --- Splitting the input into records, without holding more than one in memory --- */

typedef struct scanner {
    apr_file_t *file;
    char chunk[CHUNK];
    apr_size_t pos, len;
    int eof;
    apr_status_t read_error;
    long line;
    int in_array; /* inside a top-level array: its elements are the records */
    int first;    /* no element of that array read yet */
} scanner;

static int peek(scanner *sc)
{
    if (sc->pos == sc->len) {
        apr_size_t n = CHUNK;
        apr_status_t rv;
        if (sc->eof) {
            return -1;
        }
        rv = apr_file_read(sc->file, sc->chunk, &n);
        if (rv != APR_SUCCESS || n == 0) {
            if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv)) {
                sc->read_error = rv;
            }
            sc->eof = 1;
            return -1;
        }
        sc->pos = 0;
        sc->len = n;
    }
    return (unsigned char)sc->chunk[sc->pos];
}

static int next(scanner *sc)
{
    int c = peek(sc);

    if (c >= 0) {
        sc->pos++;
        sc->line += c == '\n';
    }
    return c;
}

static int skip_ws(scanner *sc)
{
    int c;

    while ((c = peek(sc)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
        next(sc);
    }
    return c;
}

typedef enum scan_result {
    SCAN_RECORD,    /* REC holds one value */
    SCAN_DONE,      /* end of input */
    SCAN_BAD,       /* REC's value is unusable (message in *WHY); scanning can go on */
    SCAN_TRUNCATED, /* input ended inside a value */
} scan_result;

/* Reads one JSON value into REC: containers by bracket depth (strings respected), scalars up
 * to the next delimiter. Past PKI_IMPORT_MAX_RECORD bytes it keeps reading but stops
 * keeping, so a gigabyte line costs no memory. */
static scan_result read_value(scanner *sc, pki_buf *rec, const char **why)
{
    int c = peek(sc), depth = 0, in_string = 0, escaped = 0, too_large = 0;

    rec->len = 0;
    if (c != '{' && c != '[') {
        while ((c = peek(sc)) >= 0 && !strchr(" \t\r\n,]}", c)) {
            pki_buf_putc(rec, (char)next(sc));
            if (rec->len > 64) {
                break;
            }
        }
        return SCAN_RECORD;
    }
    while ((c = next(sc)) >= 0) {
        if (!too_large) {
            if (rec->len >= PKI_IMPORT_MAX_RECORD) {
                too_large = 1;
            } else {
                pki_buf_putc(rec, (char)c);
            }
        }
        if (in_string) {
            if (escaped) {
                escaped = 0;
            } else if (c == '\\') {
                escaped = 1;
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            if (too_large) {
                *why = apr_psprintf(rec->pool, "record larger than %d MiB",
                                    PKI_IMPORT_MAX_RECORD >> 20);
                return SCAN_BAD;
            }
            return SCAN_RECORD;
        }
    }
    *why = "truncated JSON: the input ends inside a value";
    return SCAN_TRUNCATED;
}

/* The next record: a top-level value, or the next element of a top-level array. */
static scan_result scan(scanner *sc, pki_buf *rec, long *line, const char **why)
{
    int c;

    for (;;) {
        c = skip_ws(sc);
        if (!sc->in_array) {
            if (c < 0) {
                return SCAN_DONE;
            }
            if (c == '[') {
                next(sc);
                sc->in_array = 1;
                sc->first = 1;
                continue;
            }
            *line = sc->line;
            return read_value(sc, rec, why);
        }
        if (c == ']') {
            next(sc);
            sc->in_array = 0;
            continue;
        }
        if (!sc->first) {
            if (c != ',') {
                *line = sc->line;
                *why = c < 0 ? "truncated JSON: the input ends inside an array"
                             : "invalid JSON: expected ',' or ']' between array elements";
                if (c >= 0) {
                    sc->in_array = 0; /* resynchronise at the top level */
                    next(sc);
                }
                return c < 0 ? SCAN_TRUNCATED : SCAN_BAD;
            }
            next(sc);
            c = skip_ws(sc);
        }
        sc->first = 0;
        *line = sc->line;
        if (c < 0) {
            *why = "truncated JSON: the input ends inside an array";
            return SCAN_TRUNCATED;
        }
        return read_value(sc, rec, why);
    }
}

/* --- Importing records --- */

typedef struct grid_list {
    apr_int64_t grid_id;
    pki_ids packages;
    long line;
    apr_int64_t record;
} grid_list;

typedef struct importer {
    pki_db *db;
    apr_pool_t *pool;  /* the file's */
    apr_pool_t *rpool; /* one record's, cleared after each */
    const pki_import_options *o;
    const char *name;
    pki_import_counts *counts;
    apr_int64_t records;
    int invalid;                     /* records refused */
    int fatal;                       /* the database failed, or the file cannot be read */
    int messages;                    /* shown so far */
    apr_array_header_t *grid_lists;  /* grid_list: memberships as the grids list them */
    apr_array_header_t *package_ids; /* packages imported from this file */
    apr_int64_t now;
    json_tokener *tok;
} importer;

static void say(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(importer *im, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (!im->o->say || ++im->messages > MAX_MESSAGES + 1) {
        return;
    }
    if (im->messages == MAX_MESSAGES + 1) {
        im->o->say(im->o->ctx, apr_psprintf(im->rpool, "%s: more errors not shown", im->name));
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(im->rpool, fmt, ap);
    va_end(ap);
    im->o->say(im->o->ctx, msg);
}

static const char *kind_name(pki_resource kind)
{
    switch (kind) {
    case PKI_RES_PACKAGES:
        return "package";
    case PKI_RES_GRIDS:
        return "grid";
    case PKI_RES_CATEGORIES:
        return "category";
    default:
        return "record";
    }
}

static void refuse_record(importer *im, long line, apr_int64_t record, pki_resource kind,
                          apr_int64_t id, const char *field, const char *message)
{
    im->invalid++;
    say(im, "%s:%ld: record %" APR_INT64_T_FMT " (%s%s%s): %s%s%s", im->name, line, record,
        kind_name(kind), id > 0 ? " " : "",
        id > 0 ? apr_psprintf(im->rpool, "%" APR_INT64_T_FMT, id) : "", field ? field : "",
        field && *field ? ": " : "", message);
}

static void refuse(importer *im, long line, pki_resource kind, apr_int64_t id, const char *field,
                   const char *message)
{
    refuse_record(im, line, im->records, kind, id, field, message);
}

static void db_failed(importer *im, long line)
{
    im->fatal = 1;
    say(im, "%s:%ld: record %" APR_INT64_T_FMT ": database error: %s", im->name, line, im->records,
        im->db->error ? im->db->error : "unknown");
}

/* Refuses a slug another object of the same kind holds. */
static int slug_taken(importer *im, long line, pki_resource kind, apr_int64_t id, const char *slug)
{
    apr_int64_t owner;

    if (pki_store_slug_owner(im->db, im->rpool, kind, slug, &owner) != APR_SUCCESS) {
        db_failed(im, line);
        return 1;
    }
    if (owner && owner != id) {
        refuse(im, line, kind, id, "slug",
               apr_psprintf(im->rpool, "%s with this slug already exists.", kind_name(kind)));
        return 1;
    }
    return 0;
}

static void import_object(importer *im, struct json_object *obj, long line)
{
    pki_resource kind = im->o->type != PKI_RES_ROOT ? im->o->type : pki_parse_kind(obj);
    apr_array_header_t *errs = apr_array_make(im->rpool, 4, sizeof(pki_field_error));
    apr_status_t rv = APR_SUCCESS;
    apr_int64_t id = 0;
    pki_package p;
    pki_grid g;
    pki_category c;
    int i;

    im->records++;
    switch (kind) {
    case PKI_RES_PACKAGES:
        pki_parse_package(im->rpool, obj, &p, errs);
        id = p.id;
        break;
    case PKI_RES_GRIDS:
        pki_parse_grid(im->rpool, obj, &g, errs);
        id = g.id;
        break;
    case PKI_RES_CATEGORIES:
        pki_parse_category(im->rpool, obj, &c, errs);
        id = c.id;
        break;
    default:
        refuse(im, line, kind, 0, NULL,
               json_object_is_type(obj, json_type_object)
                   ? "unknown shape: not a package, grid or category (no \"repo_url\", "
                     "\"is_locked\" or \"title_plural\" key)"
                   : "unknown shape: expected a JSON object");
        return;
    }
    if (errs->nelts) {
        for (i = 0; i < errs->nelts; i++) {
            pki_field_error *e = &((pki_field_error *)errs->elts)[i];
            refuse(im, line, kind, id, e->field, e->message);
            im->invalid -= i > 0; /* one record, however many complaints */
        }
        return;
    }

    switch (kind) {
    case PKI_RES_PACKAGES:
        if (slug_taken(im, line, kind, id, p.slug)) {
            return;
        }
        rv = pki_store_put_package(im->db, im->rpool, &p);
        *(apr_int64_t *)apr_array_push(im->package_ids) = p.id;
        im->counts->packages++;
        break;
    case PKI_RES_GRIDS:
        if (slug_taken(im, line, kind, id, g.slug)) {
            return;
        }
        rv = pki_store_put_grid(im->db, im->rpool, &g);
        {
            grid_list *gl = apr_array_push(im->grid_lists);
            gl->grid_id = g.id;
            gl->line = line;
            gl->record = im->records;
            gl->packages.count = g.packages.count;
            gl->packages.ids =
                apr_pmemdup(im->pool, g.packages.ids, sizeof(apr_int64_t) * g.packages.count);
        }
        im->counts->grids++;
        break;
    default:
        rv = pki_store_put_category(im->db, im->rpool, &c);
        im->counts->categories++;
        break;
    }
    if (rv != APR_SUCCESS) {
        db_failed(im, line);
    }
}

/* Parses one record's text; a list page gives its results. */
static void import_text(importer *im, const pki_buf *rec, long line)
{
    struct json_object *obj, *results, *count;
    enum json_tokener_error err;
    apr_size_t i, n, end;

    json_tokener_reset(im->tok);
    obj = json_tokener_parse_ex(im->tok, rec->data, (int)rec->len);
    err = json_tokener_get_error(im->tok);
    end = json_tokener_get_parse_end(im->tok);
    if (err == json_tokener_continue) {
        /* a bare number is only complete at the end of input */
        obj = json_tokener_parse_ex(im->tok, "", 1);
        err = json_tokener_get_error(im->tok);
        end = rec->len;
    }
    if (!obj || err != json_tokener_success || end < rec->len) {
        im->records++;
        refuse(im, line, PKI_RES_ROOT, 0, NULL,
               apr_psprintf(im->rpool, "invalid JSON: %s",
                            err != json_tokener_success ? json_tokener_error_desc(err)
                                                        : "unexpected data after the value"));
        json_object_put(obj);
        return;
    }
    if (json_object_is_type(obj, json_type_object) &&
        json_object_object_get_ex(obj, "results", &results) &&
        json_object_object_get_ex(obj, "count", &count) &&
        json_object_is_type(results, json_type_array)) {
        n = json_object_array_length(results);
        for (i = 0; i < n && !im->fatal; i++) {
            import_object(im, json_object_array_get_idx(results, i), line);
        }
    } else {
        import_object(im, obj, line);
    }
    json_object_put(obj);
}

static int sorted_contains(const apr_array_header_t *ids, apr_int64_t id)
{
    const apr_int64_t *a = (const apr_int64_t *)ids->elts;
    int lo = 0, hi = ids->nelts - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] == id) {
            return 1;
        }
        if (a[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    apr_int64_t x = *(const apr_int64_t *)a, y = *(const apr_int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether a later file of the run holds object ID of kind RES. */
static int comes_later(const importer *im, pki_resource res, apr_int64_t id)
{
    int i;

    for (i = 0; i < im->o->nlater; i++) {
        if (sorted_contains(im->o->later[i].ids[res], id)) {
            return 1;
        }
    }
    return 0;
}

static const char *link_text(importer *im, pki_resource res, apr_int64_t id)
{
    return apr_psprintf(im->rpool, "/%s/%" APR_INT64_T_FMT "/", pki_resource_segment[res], id);
}

/* Minimal rows for objects the input only links to (--create-missing). */
static apr_status_t placeholder(importer *im, pki_resource res, apr_int64_t id)
{
    const char *label = apr_psprintf(im->rpool, "%s-%" APR_INT64_T_FMT, kind_name(res), id);
    apr_int64_t category;

    im->counts->placeholders++;
    if (res == PKI_RES_CATEGORIES) {
        pki_category c = {id, label, label, "", label, 1, im->now, im->now};
        return pki_store_put_category(im->db, im->rpool, &c);
    }
    if (res == PKI_RES_GRIDS) {
        pki_grid g = {id, label, label, "", 0, {NULL, 0}, 0, im->now, im->now};
        return pki_store_put_grid(im->db, im->rpool, &g);
    }
    /* A package needs a category: the first there is, or a placeholder one. */
    if (pki_store_first_category(im->db, im->rpool, &category) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!category) {
        category = 1;
        if (placeholder(im, PKI_RES_CATEGORIES, category) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    {
        pki_package p;
        memset(&p, 0, sizeof(p));
        p.id = id;
        p.category_id = category;
        p.title = p.slug = label;
        p.last_updated = p.last_fetched = PKI_TIME_NULL;
        p.created = p.modified = im->now;
        p.repo_url = p.repo_description = p.pypi_url = p.participants = "";
        p.documentation_url = "";
        p.commits_over_52 = "[]";
        return pki_store_put_package(im->db, im->rpool, &p);
    }
}

/* Grids list their packages by title; the set is what counts. Memberships a package record
 * of this file set stay as the package said (it also gives their order). */
static void reconcile_grids(importer *im)
{
    int i, j, k;

    qsort(im->package_ids->elts, im->package_ids->nelts, sizeof(apr_int64_t), cmp_id);
    for (i = 0; i < im->grid_lists->nelts && !im->fatal; i++) {
        grid_list *gl = &((grid_list *)im->grid_lists->elts)[i];
        pki_ids now;

        apr_pool_clear(im->rpool);
        if (pki_store_grid_members(im->db, im->rpool, gl->grid_id, &now) != APR_SUCCESS) {
            db_failed(im, gl->line);
            return;
        }
        for (j = 0; j < gl->packages.count; j++) {
            apr_int64_t pid = gl->packages.ids[j];
            int exists;
            for (k = 0; k < now.count && now.ids[k] != pid; k++) {
            }
            if (k < now.count) {
                continue;
            }
            if (pki_store_package_exists(im->db, im->rpool, pid, &exists) != APR_SUCCESS) {
                db_failed(im, gl->line);
                return;
            }
            if (!exists && comes_later(im, PKI_RES_PACKAGES, pid)) {
                continue; /* that package's record will add the membership */
            }
            if (!exists && !im->o->create_missing) {
                refuse_record(im, gl->line, gl->record, PKI_RES_GRIDS, gl->grid_id, "packages",
                              apr_psprintf(im->rpool,
                                           "Invalid hyperlink - Object does not exist: %s "
                                           "(use --create-missing for a placeholder)",
                                           link_text(im, PKI_RES_PACKAGES, pid)));
                continue;
            }
            if ((!exists && placeholder(im, PKI_RES_PACKAGES, pid) != APR_SUCCESS) ||
                pki_store_add_member(im->db, im->rpool, gl->grid_id, pid, im->now) != APR_SUCCESS) {
                db_failed(im, gl->line);
                return;
            }
        }
        for (k = 0; k < now.count; k++) {
            for (j = 0; j < gl->packages.count && gl->packages.ids[j] != now.ids[k]; j++) {
            }
            if (j < gl->packages.count) {
                continue;
            }
            if (sorted_contains(im->package_ids, now.ids[k])) {
                say(im,
                    "%s:%ld: warning: grid %" APR_INT64_T_FMT
                    " does not list package %" APR_INT64_T_FMT
                    ", whose record lists the grid: kept",
                    im->name, gl->line, gl->grid_id, now.ids[k]);
                continue;
            }
            if (pki_store_remove_member(im->db, im->rpool, gl->grid_id, now.ids[k]) !=
                APR_SUCCESS) {
                db_failed(im, gl->line);
                return;
            }
        }
    }
}

/* Packages naming a category, memberships naming a grid, that does not exist. */
static void check_references(importer *im, pki_resource res)
{
    pki_ids missing;
    int i;

    apr_pool_clear(im->rpool);
    if (pki_store_dangling(im->db, im->rpool, res, &missing) != APR_SUCCESS) {
        db_failed(im, 0);
        return;
    }
    for (i = 0; i < missing.count; i++) {
        apr_int64_t id = missing.ids[2 * i], by = missing.ids[2 * i + 1];
        if (comes_later(im, res, id)) {
            continue;
        }
        if (!im->o->create_missing) {
            im->invalid++;
            say(im,
                "%s: package %" APR_INT64_T_FMT ": %s: Invalid hyperlink - Object does not "
                "exist: %s (use --create-missing for a placeholder)",
                im->name, by, res == PKI_RES_CATEGORIES ? "category" : "grids",
                link_text(im, res, id));
        } else if (placeholder(im, res, id) != APR_SUCCESS) {
            db_failed(im, 0);
            return;
        }
    }
}

static void collect(pki_import_ids *out, struct json_object *obj)
{
    pki_resource kind = pki_parse_kind(obj);
    struct json_object *id;

    if (kind != PKI_RES_ROOT && json_object_object_get_ex(obj, "id", &id) &&
        json_object_is_type(id, json_type_int)) {
        *(apr_int64_t *)apr_array_push(out->ids[kind]) = json_object_get_int64(id);
    }
}

apr_status_t pki_import_collect_ids(apr_pool_t *pool, apr_file_t *file, pki_import_ids *out)
{
    scanner *sc = apr_pcalloc(pool, sizeof(*sc));
    json_tokener *tok = json_tokener_new_ex(64);
    const char *why;
    long line;
    pki_buf rec;
    scan_result r;
    int i;

    for (i = 0; i < PKI_RES_COUNT_; i++) {
        out->ids[i] = apr_array_make(pool, 256, sizeof(apr_int64_t));
    }
    sc->file = file;
    sc->line = 1;
    pki_buf_init(&rec, pool, 16384);
    while ((r = scan(sc, &rec, &line, &why)) != SCAN_DONE && r != SCAN_TRUNCATED) {
        struct json_object *obj, *results;
        if (r != SCAN_RECORD) {
            continue;
        }
        json_tokener_reset(tok);
        obj = json_tokener_parse_ex(tok, rec.data, (int)rec.len);
        if (!obj) {
            continue;
        }
        if (json_object_is_type(obj, json_type_object) &&
            json_object_object_get_ex(obj, "results", &results) &&
            json_object_is_type(results, json_type_array)) {
            apr_size_t j, n = json_object_array_length(results);
            for (j = 0; j < n; j++) {
                collect(out, json_object_array_get_idx(results, j));
            }
        } else {
            collect(out, obj);
        }
        json_object_put(obj);
    }
    json_tokener_free(tok);
    for (i = 0; i < PKI_RES_COUNT_; i++) {
        qsort(out->ids[i]->elts, out->ids[i]->nelts, sizeof(apr_int64_t), cmp_id);
    }
    return sc->read_error ? sc->read_error : APR_SUCCESS;
}

apr_status_t pki_import_file(pki_db *db, apr_pool_t *pool, apr_file_t *file, const char *name,
                             const pki_import_options *opts, pki_import_counts *counts)
{
    importer im;
    scanner *sc = apr_pcalloc(pool, sizeof(*sc));
    apr_dbd_transaction_t *trans = NULL;
    pki_buf rec;
    const char *why = NULL;
    long line = 1;
    int commit;
    scan_result r;

    memset(counts, 0, sizeof(*counts));
    memset(&im, 0, sizeof(im));
    im.db = db;
    im.pool = pool;
    im.o = opts;
    im.name = name;
    im.counts = counts;
    im.now = apr_time_now();
    im.grid_lists = apr_array_make(pool, 64, sizeof(grid_list));
    im.package_ids = apr_array_make(pool, 1024, sizeof(apr_int64_t));
    apr_pool_create(&im.rpool, pool);
    im.tok = json_tokener_new_ex(64);
    json_tokener_set_flags(im.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    sc->file = file;
    sc->line = 1;
    pki_buf_init(&rec, pool, 16384);

    if (pki_store_begin(db, pool, &trans) != APR_SUCCESS) {
        db_failed(&im, 0);
        json_tokener_free(im.tok);
        return APR_EGENERAL;
    }
    while (!im.fatal && (r = scan(sc, &rec, &line, &why)) != SCAN_DONE) {
        apr_pool_clear(im.rpool);
        if (r == SCAN_RECORD) {
            import_text(&im, &rec, line);
        } else {
            im.records++;
            refuse(&im, line, PKI_RES_ROOT, 0, NULL, why);
            if (r == SCAN_TRUNCATED) {
                break;
            }
        }
        if (opts->progress && im.records % 10000 == 0) {
            opts->progress(opts->ctx, im.records);
        }
    }
    json_tokener_free(im.tok);
    if (sc->read_error) {
        im.fatal = 1;
        say(&im, "%s: read error (%d)", name, sc->read_error);
    }
    if (!im.fatal && (!im.invalid || opts->skip_invalid)) {
        /* categories first: a placeholder package takes an existing category */
        check_references(&im, PKI_RES_CATEGORIES);
        reconcile_grids(&im);
        check_references(&im, PKI_RES_GRIDS);
    }
    counts->skipped = im.invalid;
    commit = !im.fatal && (!im.invalid || opts->skip_invalid);
    if (pki_store_end(db, pool, trans, commit) != APR_SUCCESS) {
        db_failed(&im, 0);
        commit = 0;
    }
    if (!commit) {
        counts->packages = counts->grids = counts->categories = counts->placeholders = 0;
    }
    apr_pool_destroy(im.rpool);
    return commit && !im.invalid ? APR_SUCCESS : APR_EGENERAL;
}
