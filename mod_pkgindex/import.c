/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <json-c/json.h>

#include "buf.h"
#include "import.h"
#include "import_scan.h"
#include "parse.h"

/* Errors listed per file before the rest are only counted. */
#define MAX_MESSAGES 50

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
} importer;

static void vsay(importer *im, int always, const char *fmt, va_list ap)
{
    if (!im->o->say) {
        return;
    }
    if (!always && ++im->messages > MAX_MESSAGES) {
        if (im->messages == MAX_MESSAGES + 1) {
            im->o->say(im->o->ctx, apr_psprintf(im->rpool, "%s: more errors not shown", im->name));
        }
        return;
    }
    im->o->say(im->o->ctx, apr_pvsprintf(im->rpool, fmt, ap));
}

/* A record's complaint: after MAX_MESSAGES of them, only counted. */
static void say(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(importer *im, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(im, 0, fmt, ap);
    va_end(ap);
}

/* Why the whole file is refused: always said, however many complaints came before. */
static void say_always(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say_always(importer *im, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(im, 1, fmt, ap);
    va_end(ap);
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
    const char *what =
        kind == PKI_RES_ROOT ? ""
        : id > 0 ? apr_psprintf(im->rpool, " (%s %" APR_INT64_T_FMT ")", kind_name(kind), id)
                 : apr_psprintf(im->rpool, " (%s)", kind_name(kind));

    im->invalid++;
    say(im, "%s:%ld: record %" APR_INT64_T_FMT "%s: %s%s%s", im->name, line, record, what,
        field ? field : "", field && *field ? ": " : "", message);
}

static void refuse(importer *im, long line, pki_resource kind, apr_int64_t id, const char *field,
                   const char *message)
{
    refuse_record(im, line, im->records, kind, id, field, message);
}

const char *pki_import_fault_advice(pki_db_fault fault)
{
    switch (fault) {
    case PKI_DB_FAULT_FULL:
        return "the disk is full: free space and run again";
    case PKI_DB_FAULT_BUSY:
        return "the database is locked by another writer (another pkgindex-import?): run again "
               "when it has finished, or wait longer (--wait)";
    case PKI_DB_FAULT_READONLY:
        return "the database cannot be written";
    case PKI_DB_FAULT_UNAVAILABLE:
        return "the database cannot be read or written";
    default:
        return "database error";
    }
}

/* The database failed: the file is refused. LINE 0: not at a record (at the end of the file). */
static void db_failed(importer *im, long line)
{
    const char *advice = pki_import_fault_advice(im->db->fault),
               *why = im->db->error ? im->db->error : "unknown";

    im->fatal = 1;
    if (line > 0) {
        say_always(
            im, "%s:%ld: record %" APR_INT64_T_FMT ": %s; nothing was imported from this file (%s)",
            im->name, line, im->records, advice, why);
    } else {
        say_always(im, "%s: %s; nothing was imported from this file (%s)", im->name, advice, why);
    }
}

/* For --prune: object ID of KIND is to be kept (the input holds it, or an object the input
 * holds links to it). RECORD: the input holds it as a record, so the input speaks for KIND. */
static void keep(importer *im, pki_resource kind, apr_int64_t id, int record)
{
    if (im->o->seen) {
        *(apr_int64_t *)apr_array_push(im->o->seen->ids[kind]) = id;
        im->o->seen->records[kind] += record;
    }
}

static void keep_all(importer *im, pki_resource kind, const pki_ids *ids)
{
    int i;

    for (i = 0; i < ids->count; i++) {
        keep(im, kind, ids->ids[i], 0);
    }
}

/* The words for a slug another object of the same kind holds. */
/* A field's name as Django's messages say it: "repo_url" is "repo url". */
static const char *field_words(apr_pool_t *pool, const char *field)
{
    char *words = apr_pstrdup(pool, field), *p;

    for (p = words; *p; p++) {
        *p = *p == '_' ? ' ' : *p;
    }
    return words;
}

static const char *slug_held(importer *im, pki_resource kind, apr_int64_t owner)
{
    return owner > 0
               ? apr_psprintf(im->rpool,
                              "%s with this slug already exists. (%s %" APR_INT64_T_FMT
                              " holds it)",
                              kind_name(kind), kind_name(kind), owner)
               : apr_psprintf(im->rpool, "%s with this slug already exists.", kind_name(kind));
}

/* Refuses a slug another object of the same kind holds. Only --skip-invalid asks first (a
 * failed statement ends a transaction): otherwise the write's unique constraint tells. */
static int slug_taken(importer *im, long line, pki_resource kind, apr_int64_t id, const char *slug)
{
    apr_int64_t owner;

    if (!im->o->skip_invalid) {
        return 0;
    }
    if (pki_store_slug_owner(im->db, im->rpool, kind, slug, &owner) != APR_SUCCESS) {
        db_failed(im, line);
        return 1;
    }
    if (owner && owner != id) {
        refuse(im, line, kind, id, "slug", slug_held(im, kind, owner));
        return 1;
    }
    return 0;
}

/* --- The reader: a thread that splits, parses and validates while the writer writes --- */

/* One record, parsed and validated (or refused, with its complaints). */
typedef struct item {
    pki_resource kind; /* PKI_RES_ROOT: not an API object; ERRS says why */
    long line;
    apr_int64_t record;
    apr_int64_t id;
    apr_array_header_t *errs; /* pki_field_error; any: the record is refused */
    int syntax;               /* ERRS holds one "invalid JSON at byte N" text, said as it is */
    int fatal;                /* the input makes no sense from here on: the file is refused */
    union {
        pki_package p;
        pki_grid g;
        pki_category c;
    } u;
} item;

#define BATCH 256

/* Two batches change hands: the reader fills one while the writer drains the other. */
typedef struct batch {
    apr_pool_t *pool;
    apr_array_header_t *items;
    int last; /* the reader is done after this one */
    int full;
} batch;

typedef struct reader {
    pki_scanner *sc;
    json_tokener *tok;
    pki_resource type;
    apr_int64_t records;
    pki_buf rec;
    batch slots[2];
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;
    apr_pool_t *pool;            /* the reader thread's own (APR pools are not shared) */
    volatile apr_uint32_t abort; /* the writer gave up: stop reading */
} reader;

static item *add_item(batch *b, long line, apr_int64_t record)
{
    item *it = apr_array_push(b->items);

    memset(it, 0, sizeof(*it));
    it->kind = PKI_RES_ROOT;
    it->line = line;
    it->record = record;
    return it;
}

static void item_error(item *it, apr_pool_t *pool, const char *message)
{
    pki_field_error *e;

    it->errs = apr_array_make(pool, 1, sizeof(pki_field_error));
    e = apr_array_push(it->errs);
    e->field = NULL;
    e->message = message;
}

static void read_object(reader *rd, batch *b, struct json_object *obj, long line)
{
    item *it = add_item(b, line, ++rd->records);

    it->kind = rd->type != PKI_RES_ROOT ? rd->type : pki_parse_kind(obj);
    it->errs = apr_array_make(b->pool, 2, sizeof(pki_field_error));
    switch (it->kind) {
    case PKI_RES_PACKAGES:
        pki_parse_package(b->pool, obj, &it->u.p, it->errs);
        it->id = it->u.p.id;
        break;
    case PKI_RES_GRIDS:
        pki_parse_grid(b->pool, obj, &it->u.g, it->errs);
        it->id = it->u.g.id;
        break;
    case PKI_RES_CATEGORIES:
        pki_parse_category(b->pool, obj, &it->u.c, it->errs);
        it->id = it->u.c.id;
        break;
    default:
        item_error(it, b->pool,
                   json_object_is_type(obj, json_type_object)
                       ? "unknown shape: not a package, grid or category (no \"repo_url\", "
                         "\"is_locked\" or \"title_plural\" key)"
                       : "unknown shape: expected a JSON object");
        break;
    }
}

/* A syntax error at OFFSET of the record that starts at AT: its line and byte in the input. */
static void syntax_item(reader *rd, batch *b, const pki_scan_pos *at, apr_size_t offset,
                        const char *what)
{
    item *it;
    long line = at->line;
    apr_size_t i;

    for (i = 0; i < offset && i < rd->rec.len; i++) {
        line += rd->rec.data[i] == '\n';
    }
    it = add_item(b, line, ++rd->records);
    it->syntax = 1;
    item_error(it, b->pool,
               apr_psprintf(b->pool, "invalid JSON at byte %" APR_OFF_T_FMT ": %s",
                            at->byte + (apr_off_t)offset, what));
}

/* One record's text; a list page gives its results. */
static void read_text(reader *rd, batch *b, const pki_scan_pos *at)
{
    struct json_object *obj, *results, *count;
    enum json_tokener_error err;
    apr_size_t i, n, end;
    apr_ssize_t lone;

    json_tokener_reset(rd->tok);
    obj = json_tokener_parse_ex(rd->tok, rd->rec.data, (int)rd->rec.len);
    err = json_tokener_get_error(rd->tok);
    end = json_tokener_get_parse_end(rd->tok);
    if (err == json_tokener_continue) {
        /* a bare number is only complete at the end of input */
        obj = json_tokener_parse_ex(rd->tok, "", 1);
        err = json_tokener_get_error(rd->tok);
        end = rd->rec.len;
    }
    if (err != json_tokener_success || end < rd->rec.len) {
        syntax_item(rd, b, at, end,
                    err != json_tokener_success ? json_tokener_error_desc(err)
                                                : "unexpected data after the value");
        json_object_put(obj);
        return;
    }
    /* json-c lets encoded surrogates, overlong forms and code points past U+10FFFF through */
    if ((lone = pki_utf8_invalid_at(rd->rec.data, rd->rec.len)) >= 0) {
        syntax_item(rd, b, at, (apr_size_t)lone, "invalid UTF-8");
        json_object_put(obj);
        return;
    }
    if (!obj) {
        /* null */
        item_error(add_item(b, at->line, ++rd->records), b->pool,
                   "unknown shape: expected a JSON object");
        return;
    }
    /* json-c reads a lone surrogate as U+FFFD: refused, as the text is not what was sent */
    if ((lone = pki_json_lone_surrogate(rd->rec.data, rd->rec.len)) >= 0) {
        syntax_item(rd, b, at, (apr_size_t)lone,
                    apr_psprintf(b->pool,
                                 "lone surrogate %.6s (half of a UTF-16 pair: not a character)",
                                 rd->rec.data + lone));
        json_object_put(obj);
        return;
    }
    if (json_object_is_type(obj, json_type_object) &&
        json_object_object_get_ex(obj, "results", &results) &&
        json_object_object_get_ex(obj, "count", &count) &&
        json_object_is_type(results, json_type_array)) {
        n = json_object_array_length(results);
        for (i = 0; i < n; i++) {
            read_object(rd, b, json_object_array_get_idx(results, i), at->line);
        }
    } else {
        read_object(rd, b, obj, at->line);
    }
    json_object_put(obj);
}

/* Fills B with the next records; sets B->last at the end of the input, or where it stops
 * being JSON (an item that refuses the file). */
static void fill(reader *rd, batch *b)
{
    const char *why = NULL;
    pki_scan_pos at;
    pki_scan_result r;
    item *it;

    apr_pool_clear(b->pool);
    b->items = apr_array_make(b->pool, BATCH, sizeof(item));
    b->last = 0;
    while (b->items->nelts < BATCH && !apr_atomic_read32(&rd->abort)) {
        r = pki_scan_next(rd->sc, &rd->rec, &at, &why);
        if (r == PKI_SCAN_DONE) {
            b->last = 1;
            return;
        }
        if (r == PKI_SCAN_RECORD) {
            read_text(rd, b, &at);
            continue;
        }
        it = add_item(b, at.line, ++rd->records);
        item_error(it, b->pool, apr_pstrdup(b->pool, why));
        if (r == PKI_SCAN_FATAL) {
            it->syntax = it->fatal = 1;
            b->last = 1;
            return;
        }
    }
}

static void *APR_THREAD_FUNC read_input(apr_thread_t *thread, void *data)
{
    reader *rd = data;
    int i = 0, stop = 0;

    while (!stop) {
        batch *b = &rd->slots[i];

        apr_thread_mutex_lock(rd->mu);
        while (b->full) {
            apr_thread_cond_wait(rd->cv, rd->mu);
        }
        stop = apr_atomic_read32(&rd->abort);
        apr_thread_mutex_unlock(rd->mu);
        if (stop) {
            apr_pool_clear(b->pool);
            b->items = apr_array_make(b->pool, 1, sizeof(item));
            b->last = 1;
        } else {
            fill(rd, b);
            stop = b->last;
        }
        apr_thread_mutex_lock(rd->mu);
        b->full = 1;
        apr_thread_cond_broadcast(rd->cv);
        apr_thread_mutex_unlock(rd->mu);
        i ^= 1;
    }
    /* a plain return: apr_thread_exit's pthread_exit unwinding upsets AddressSanitizer */
    return NULL;
}

/* --- The writer --- */

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

static int in_ids(const pki_import_ids *ids, pki_resource res, apr_int64_t id)
{
    return ids && ids->complete && sorted_contains(ids->ids[res], id);
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

/* With --skip-invalid, a record whose links lead nowhere is refused before it is written (the
 * rest of the file commits, so it must not be in it). A link may name an object of the
 * database, of this file (when it could be read ahead) or of a later file. 1: refused. */
static void dangles(importer *im, const item *it, pki_resource res, const char *field,
                    const pki_ids *links, int *missing)
{
    int i;

    for (i = 0; i < links->count && !im->fatal; i++) {
        apr_int64_t id = links->ids[i];
        int exists = in_ids(im->o->here, res, id) || comes_later(im, res, id);
        if (!exists && pki_store_exists(im->db, im->rpool, res, id, &exists) != APR_SUCCESS) {
            db_failed(im, it->line);
            return;
        }
        if (!exists) {
            refuse(im, it->line, it->kind, it->id, field,
                   apr_pstrcat(im->rpool, "Invalid hyperlink - Object does not exist: ",
                               link_text(im, res, id), NULL));
            im->invalid -= (*missing)++ > 0; /* one record, however many links */
        }
    }
}

static int links_dangle(importer *im, const item *it)
{
    int missing = 0;

    if (!im->o->skip_invalid || im->o->create_missing) {
        return 0; /* refused with the file, or made as placeholders, after the last record */
    }
    if (it->kind == PKI_RES_PACKAGES) {
        pki_ids category = {&it->u.p.category_id, 1};
        dangles(im, it, PKI_RES_CATEGORIES, "category", &category, &missing);
        dangles(im, it, PKI_RES_GRIDS, "grids", &it->u.p.grids, &missing);
    } else if (it->kind == PKI_RES_GRIDS) {
        dangles(im, it, PKI_RES_PACKAGES, "packages", &it->u.g.packages, &missing);
    }
    return missing > 0 || im->fatal;
}

/* With --prune, a slug that moved upstream from a deleted object to another: the deleted one,
 * which the prune would remove after the import, goes first, or the run could never finish
 * (the slug's owner is refused, and nothing is pruned after a refused record). Only when
 * every file of the run could be read ahead: an owner the input holds is not deleted. */
static void slug_moved(importer *im, const item *it, const char *slug)
{
    apr_int64_t owner;

    if (!im->o->seen || !im->o->read_ahead) {
        return;
    }
    if (pki_store_slug_owner(im->db, im->rpool, it->kind, slug, &owner) != APR_SUCCESS) {
        db_failed(im, it->line);
        return;
    }
    if (!owner || owner == it->id || in_ids(im->o->here, it->kind, owner) ||
        comes_later(im, it->kind, owner)) {
        return;
    }
    if (pki_store_delete(im->db, im->rpool, it->kind, owner) != APR_SUCCESS) {
        db_failed(im, it->line);
        return;
    }
    say_always(im,
               "%s:%ld: --prune: %s %" APR_INT64_T_FMT " deleted first: its slug \"%s\" now "
               "belongs to %s %" APR_INT64_T_FMT,
               im->name, it->line, kind_name(it->kind), owner, slug, kind_name(it->kind), it->id);
}

/* A record written: it, and what it links to, are kept. */
static void saw(importer *im, const item *it)
{
    if (!im->o->seen) {
        return;
    }
    keep(im, it->kind, it->id, 1);
    if (it->kind == PKI_RES_PACKAGES) {
        keep(im, PKI_RES_CATEGORIES, it->u.p.category_id, 0);
        keep_all(im, PKI_RES_GRIDS, &it->u.p.grids);
    } else if (it->kind == PKI_RES_GRIDS) {
        keep_all(im, PKI_RES_PACKAGES, &it->u.g.packages);
    }
}

static void write_item(importer *im, const item *it)
{
    /* packages and grids have unique slugs; categories none */
    const char *slug = it->kind == PKI_RES_PACKAGES ? it->u.p.slug
                       : it->kind == PKI_RES_GRIDS  ? it->u.g.slug
                                                    : NULL;
    apr_status_t rv = APR_SUCCESS;
    int i;

    im->records = it->record;
    if (it->syntax) {
        const pki_field_error *e = (const pki_field_error *)it->errs->elts;
        /* a record that is not JSON is an invalid one; input that stops being JSON ends all */
        im->invalid += !it->fatal;
        im->fatal |= it->fatal;
        if (it->fatal) {
            say_always(im, "%s:%ld: %s", im->name, it->line, e->message);
        } else {
            say(im, "%s:%ld: %s", im->name, it->line, e->message);
        }
        return;
    }
    if (it->errs && it->errs->nelts) {
        for (i = 0; i < it->errs->nelts; i++) {
            const pki_field_error *e = &((const pki_field_error *)it->errs->elts)[i];
            refuse_record(im, it->line, it->record, it->kind, it->id, e->field, e->message);
            im->invalid -= i > 0; /* one record, however many complaints */
        }
        return;
    }

    if (links_dangle(im, it)) {
        return;
    }
    if (slug) {
        slug_moved(im, it, slug);
        if (im->fatal || slug_taken(im, it->line, it->kind, it->id, slug)) {
            return;
        }
    }
    switch (it->kind) {
    case PKI_RES_PACKAGES:
        rv = pki_store_put_package(im->db, im->rpool, &it->u.p);
        *(apr_int64_t *)apr_array_push(im->package_ids) = it->id;
        im->counts->packages++;
        break;
    case PKI_RES_GRIDS:
        rv = pki_store_put_grid(im->db, im->rpool, &it->u.g);
        {
            grid_list *gl = apr_array_push(im->grid_lists);
            gl->grid_id = it->id;
            gl->line = it->line;
            gl->record = it->record;
            gl->packages.count = it->u.g.packages.count;
            gl->packages.ids = apr_pmemdup(im->pool, it->u.g.packages.ids,
                                           sizeof(apr_int64_t) * it->u.g.packages.count);
        }
        im->counts->grids++;
        break;
    default:
        rv = pki_store_put_category(im->db, im->rpool, &it->u.c);
        im->counts->categories++;
        break;
    }
    /* the ids are upserted: what is left to break is the slug's uniqueness, or on PostgreSQL
     * the original's repo_url's (a second package without a repository, say) */
    if (rv != APR_SUCCESS && im->db->fault == PKI_DB_FAULT_CONFLICT && im->db->conflict) {
        im->fatal = 1;
        refuse(im, it->line, it->kind, it->id, im->db->conflict,
               apr_psprintf(im->rpool, "%s with this %s already exists.", kind_name(it->kind),
                            field_words(im->rpool, im->db->conflict)));
    } else if (rv != APR_SUCCESS && im->db->fault == PKI_DB_FAULT_CONFLICT) {
        apr_int64_t owner = im->db->holder;
        im->fatal = 1; /* the transaction is over; its reads still see what it wrote */
        if (!owner &&
            pki_store_slug_owner(im->db, im->rpool, it->kind, slug, &owner) != APR_SUCCESS) {
            owner = 0;
        }
        refuse(im, it->line, it->kind, it->id, "slug", slug_held(im, it->kind, owner));
    } else if (rv != APR_SUCCESS) {
        db_failed(im, it->line);
    } else {
        saw(im, it);
    }
}

/* Minimal rows for objects the input only links to (--create-missing). */
#define PLACEHOLDER_REPO "https://placeholder.invalid/packages/"

static apr_status_t placeholder(importer *im, pki_resource res, apr_int64_t id, int counted)
{
    const char *label = apr_psprintf(im->rpool, "%s-%" APR_INT64_T_FMT, kind_name(res), id);
    apr_int64_t category;

    im->counts->placeholders += counted;
    keep(im, res, id, 0); /* a mirror keeps what its objects link to */
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
        if (placeholder(im, PKI_RES_CATEGORIES, category, counted) != APR_SUCCESS) {
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
        /* repo_url is unique in the original's schema (PostgreSQL keeps it so): a reserved
         * name (RFC 2606's .invalid) that says what the row is */
        p.repo_url = apr_psprintf(im->rpool, PLACEHOLDER_REPO "%" APR_INT64_T_FMT, id);
        p.repo_description = p.pypi_url = p.participants = "";
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
        int dangling = 0;
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
            if (pki_store_exists(im->db, im->rpool, PKI_RES_PACKAGES, pid, &exists) !=
                APR_SUCCESS) {
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
                im->invalid -= dangling++ > 0; /* one record, however many links */
                continue;
            }
            if ((!exists && placeholder(im, PKI_RES_PACKAGES, pid, 1) != APR_SUCCESS) ||
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
            /* A database that enforces references (PostgreSQL's foreign keys) will not commit
             * a link to a row a later file makes: that row starts as a placeholder, which the
             * later file's record replaces. */
            if (pki_store_enforces_references(im->db) &&
                placeholder(im, res, id, 0) != APR_SUCCESS) {
                db_failed(im, 0);
                return;
            }
            continue;
        }
        if (!im->o->create_missing) {
            im->invalid++; /* at least one record; more may share the missing object */
            say(im,
                "%s: package %" APR_INT64_T_FMT ": %s: Invalid hyperlink - Object does not "
                "exist: %s (use --create-missing for a placeholder)",
                im->name, by, res == PKI_RES_CATEGORIES ? "category" : "grids",
                link_text(im, res, id));
            /* kept out of what --skip-invalid commits (a link to a record that was refused) */
            if (im->o->skip_invalid &&
                pki_store_drop_referrers(im->db, im->rpool, res, id) != APR_SUCCESS) {
                db_failed(im, 0);
                return;
            }
        } else if (placeholder(im, res, id, 1) != APR_SUCCESS) {
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
    pki_scanner *sc = pki_scanner_file(pool, file);
    json_tokener *tok = json_tokener_new_ex(64);
    const char *why;
    pki_scan_pos at;
    pki_buf rec;
    pki_scan_result r;
    int i;

    for (i = 0; i < PKI_RES_COUNT_; i++) {
        out->ids[i] = apr_array_make(pool, 256, sizeof(apr_int64_t));
    }
    pki_buf_init(&rec, pool, 16384);
    while ((r = pki_scan_next(sc, &rec, &at, &why)) != PKI_SCAN_DONE && r != PKI_SCAN_FATAL) {
        struct json_object *obj, *results;
        if (r != PKI_SCAN_RECORD) {
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
    return pki_scan_read_error(sc);
}

/* What the database keeps beside the objects, brought up to date in the transaction that
 * changed them: the counts (recounted after a bulk load), the deep-page checkpoints and the
 * search index (in bulk mode, the caller rebuilds it once after the last file). */
static void bookkeeping(importer *im)
{
    apr_status_t rv;

    if (!im->fatal && im->o->bulk && pki_store_recount(im->db, im->pool) != APR_SUCCESS) {
        db_failed(im, 0);
    }
    if (!im->fatal && pki_store_refresh_checkpoints(im->db, im->pool) != APR_SUCCESS) {
        db_failed(im, 0);
    }
    if (im->fatal || im->o->bulk) {
        return;
    }
    rv = pki_store_search_sync(im->db, im->pool, NULL);
    if (rv == APR_ENOTIMPL) {
        say(im,
            "%s: no search index in this database (made before search): "
            "`pkgindex-import --init --reindex` adds it",
            im->name);
    } else if (rv != APR_SUCCESS) {
        db_failed(im, 0);
    }
}

/* Reads and writes in step: the reader thread fills a batch while this thread writes the
 * other, so parsing JSON and writing SQL share the machine's cores. The write lock is taken
 * once the first batch is there (input that is slow to come does not hold it); when the file
 * is refused, the reader is told to stop and this returns at once, so that the caller can
 * roll back before waiting for the reader (which may be blocked on a slow pipe). */
static void run_batches(importer *im, reader *rd, int *trans)
{
    int i = 0, last = 0, k;
    apr_int64_t reported = 0;

    while (!last && !im->fatal) {
        batch *b = &rd->slots[i];

        apr_thread_mutex_lock(rd->mu);
        while (!b->full) {
            apr_thread_cond_wait(rd->cv, rd->mu);
        }
        apr_thread_mutex_unlock(rd->mu);
        last = b->last;
        if (!*trans) {
            if (pki_store_begin(im->db, im->pool) == APR_SUCCESS) {
                *trans = 1;
            } else {
                db_failed(im, 0);
            }
        }
        for (k = 0; k < b->items->nelts && !im->fatal; k++) {
            apr_pool_clear(im->rpool);
            write_item(im, &((item *)b->items->elts)[k]);
        }
        if (im->o->progress && im->records - reported >= 10000) {
            reported = im->records;
            im->o->progress(im->o->ctx, im->records);
        }
        apr_thread_mutex_lock(rd->mu);
        if (im->fatal) {
            /* the reader stops; both batches are free, so it never waits for this thread */
            apr_atomic_set32(&rd->abort, 1);
            rd->slots[i ^ 1].full = 0;
        }
        b->full = 0;
        apr_thread_cond_broadcast(rd->cv);
        apr_thread_mutex_unlock(rd->mu);
        i ^= 1;
    }
}

apr_status_t pki_import_file(pki_db *db, apr_pool_t *pool, apr_file_t *file, const char *name,
                             const pki_import_options *opts, pki_import_counts *counts)
{
    importer im;
    reader *rd = apr_pcalloc(pool, sizeof(*rd));
    int trans = 0; /* in a transaction */
    apr_thread_t *thread;
    apr_status_t rv, trv;
    int commit, i;

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

    rd->sc = pki_scanner_file(pool, file);
    rd->type = opts->type;
    rd->tok = json_tokener_new_ex(64);
    json_tokener_set_flags(rd->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* everything the reader thread allocates comes from pools only it uses */
    apr_pool_create(&rd->pool, pool);
    pki_buf_init(&rd->rec, rd->pool, 16384);
    for (i = 0; i < 2; i++) {
        apr_pool_create(&rd->slots[i].pool, pool);
    }
    apr_thread_mutex_create(&rd->mu, APR_THREAD_MUTEX_DEFAULT, pool);
    apr_thread_cond_create(&rd->cv, pool);

    rv = apr_thread_create(&thread, NULL, read_input, rd, pool);
    if (rv != APR_SUCCESS) {
        im.fatal = 1;
        say_always(&im, "%s: cannot start the reader thread (%d)", name, rv);
    } else {
        run_batches(&im, rd, &trans);
        if (im.fatal && trans) {
            /* the lock goes now, not when the reader has finished a slow input */
            pki_store_end(db, pool, 0);
            trans = 0;
        }
        apr_thread_join(&trv, thread);
    }
    json_tokener_free(rd->tok);
    if (pki_scan_read_error(rd->sc) != APR_SUCCESS) {
        char buf[120];
        im.fatal = 1;
        say_always(&im, "%s: cannot read: %s", name,
                   apr_strerror(pki_scan_read_error(rd->sc), buf, sizeof(buf)));
    } else if (!im.fatal && pki_scan_empty(rd->sc)) {
        im.fatal = 1;
        say_always(&im, "%s: no records (an empty file?)", name);
    }
    if (!im.fatal && (!im.invalid || opts->skip_invalid)) {
        /* categories first: a placeholder package takes an existing category */
        check_references(&im, PKI_RES_CATEGORIES);
        reconcile_grids(&im);
        check_references(&im, PKI_RES_GRIDS);
        bookkeeping(&im);
    }
    counts->skipped = im.invalid;
    commit = !im.fatal && (!im.invalid || opts->skip_invalid);
    if (trans && pki_store_end(db, pool, commit) != APR_SUCCESS) {
        db_failed(&im, 0);
        commit = 0;
    }
    if (!commit) {
        counts->packages = counts->grids = counts->categories = counts->placeholders = 0;
    }
    counts->committed = commit;
    apr_pool_destroy(im.rpool);
    return commit && !im.invalid ? APR_SUCCESS : APR_EGENERAL;
}

/* The count of KIND's objects in C. */
static apr_int64_t *count_of(pki_import_counts *c, pki_resource kind)
{
    assert(kind == PKI_RES_PACKAGES || kind == PKI_RES_GRIDS || kind == PKI_RES_CATEGORIES);
    return kind == PKI_RES_PACKAGES ? &c->packages
           : kind == PKI_RES_GRIDS  ? &c->grids
                                    : &c->categories;
}

apr_status_t pki_import_prune(pki_db *db, apr_pool_t *pool, const pki_import_options *opts,
                              pki_import_counts *pruned)
{
    /* packages first: a category can go once no package names it */
    static const pki_resource order[] = {PKI_RES_PACKAGES, PKI_RES_GRIDS, PKI_RES_CATEGORIES};
    pki_import_ids *seen = opts->seen;
    importer im;
    size_t k;
    int i;

    assert(seen);
    memset(pruned, 0, sizeof(*pruned));
    memset(&im, 0, sizeof(im));
    im.db = db;
    im.pool = pool;
    im.o = opts;
    im.name = "--prune";
    apr_pool_create(&im.rpool, pool);

    if (pki_store_begin(db, pool) != APR_SUCCESS) {
        db_failed(&im, 0);
        apr_pool_destroy(im.rpool);
        return APR_EGENERAL;
    }
    for (k = 0; k < sizeof(order) / sizeof(order[0]) && !im.fatal; k++) {
        pki_resource res = order[k];
        apr_array_header_t *kept = seen->ids[res];
        pki_ids all;

        if (!seen->records[res]) {
            /* an input without grids says nothing about grids: they stay */
            say(&im, "--prune: no %s in the input: every %s kept", pki_resource_segment[res],
                kind_name(res));
            continue;
        }
        qsort(kept->elts, kept->nelts, sizeof(apr_int64_t), cmp_id);
        if (pki_store_all_ids(db, pool, res, &all) != APR_SUCCESS) {
            db_failed(&im, 0);
            break;
        }
        for (i = 0; i < all.count && !im.fatal; i++) {
            if (sorted_contains(kept, all.ids[i])) {
                continue;
            }
            apr_pool_clear(im.rpool);
            if (pki_store_delete(db, im.rpool, res, all.ids[i]) == APR_SUCCESS) {
                (*count_of(pruned, res))++;
            } else if (db->fault == PKI_DB_FAULT_CONFLICT) {
                say(&im, "--prune: %s %" APR_INT64_T_FMT " kept: %s", kind_name(res), all.ids[i],
                    db->error);
            } else {
                db_failed(&im, 0);
            }
        }
    }
    bookkeeping(&im);
    pruned->committed = !im.fatal;
    if (pki_store_end(db, pool, pruned->committed) != APR_SUCCESS) {
        db_failed(&im, 0);
        pruned->committed = 0;
    }
    if (!pruned->committed) {
        pruned->packages = pruned->grids = pruned->categories = 0;
    }
    apr_pool_destroy(im.rpool);
    return pruned->committed ? APR_SUCCESS : APR_EGENERAL;
}
