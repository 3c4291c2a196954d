/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_strings.h>

#include "render.h"

static void write_time(pki_json *j, const pki_tz *tz, apr_int64_t usec)
{
    char text[PKI_TIME_MAX];
    apr_size_t n;

    if (usec == PKI_TIME_NULL) {
        pki_json_null(j);
        return;
    }
    n = pki_time_format(tz, usec, text);
    pki_json_value_begin(j);
    pki_buf_putc(j->out, '"');
    pki_buf_put(j->out, text, n);
    pki_buf_putc(j->out, '"');
}

static void write_string_or_null(pki_json *j, const char *s)
{
    if (s) {
        pki_json_string(j, s);
    } else {
        pki_json_null(j);
    }
}

/* What commits_over_52w text is: */
#define NOT_INTS  0 /* anything but an array of integers */
#define INTS      1 /* "[int, int, ...]" with JSON whitespace, leading zeros or "-0" */
#define CANONICAL 2 /* exactly the bytes json.dumps writes: "[n,n,...]" */

static int int_array_shape(const char *p)
{
    int items = 0, canonical = 1;

#define SKIP_WS()                                                                                  \
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {                                  \
        p++;                                                                                       \
        canonical = 0;                                                                             \
    }
    SKIP_WS();
    if (*p++ != '[') {
        return NOT_INTS;
    }
    for (;;) {
        int digits = 0;
        SKIP_WS();
        if (*p == ']' && items == 0) {
            p++;
            break;
        }
        if (*p == '-') {
            p++;
            canonical &= *p != '0'; /* "-0" */
        }
        canonical &= !(*p == '0' && p[1] >= '0' && p[1] <= '9'); /* a leading zero */
        while (*p >= '0' && *p <= '9' && digits < 19) {
            p++;
            digits++;
        }
        SKIP_WS();
        if (!digits || (*p != ',' && *p != ']')) {
            return NOT_INTS;
        }
        items++;
        if (*p++ == ']') {
            break;
        }
    }
    SKIP_WS();
#undef SKIP_WS
    return *p != '\0' ? NOT_INTS : canonical ? CANONICAL : INTS;
}

/* commits_over_52w: a JSON array of integers (the spec's type), written compactly. Text of
 * any other shape renders as [], never as whatever nesting a database might hold. The numbers
 * are copied as text, as Python prints them (no leading zeros, no "-0"): no conversions on a
 * path that sees 52 of them per package. */
static void write_commits(pki_json *j, const char *s)
{
    int shape = int_array_shape(s);

    /* What the importer stores is already Python's compact form: copy it whole. */
    if (shape == CANONICAL && !j->indent) {
        pki_json_value_begin(j);
        pki_buf_puts(j->out, s);
        return;
    }
    pki_json_array_begin(j);
    if (shape != NOT_INTS) {
        s = strchr(s, '[') + 1;
        for (;;) {
            const char *digits;
            int neg = 0;
            while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == ',') {
                s++;
            }
            if (*s == ']') {
                break;
            }
            if (*s == '-') {
                neg = 1;
                s++;
            }
            while (*s == '0' && s[1] >= '0' && s[1] <= '9') {
                s++;
            }
            for (digits = s; *s >= '0' && *s <= '9'; s++) {
            }
            pki_json_value_begin(j);
            if (neg && !(s - digits == 1 && *digits == '0')) {
                pki_buf_putc(j->out, '-');
            }
            pki_buf_put(j->out, digits, s - digits);
        }
    }
    pki_json_array_end(j);
}

/* Bytes of the whitespace character Python's str.strip() removes at S (0: none), and of the
 * one that ends just before END. */
static int py_space_at(const unsigned char *s, const unsigned char *end)
{
    unsigned cp;

    if (s >= end) {
        return 0;
    }
    if (*s < 0x80) {
        return (*s >= '\t' && *s <= '\r') || (*s >= 0x1c && *s <= ' ');
    }
    if (s[0] == 0xC2 && end - s >= 2) {
        return s[1] == 0x85 || s[1] == 0xA0 ? 2 : 0;
    }
    if ((s[0] & 0xF0) != 0xE0 || end - s < 3) {
        return 0;
    }
    cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    return (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
            cp == 0x202F || cp == 0x205F || cp == 0x3000)
               ? 3
               : 0;
}

static int py_space_before(const unsigned char *start, const unsigned char *end)
{
    int n;

    for (n = 1; n <= 3 && end - n >= start; n++) {
        if (py_space_at(end - n, end) == n) {
            return n;
        }
    }
    return 0;
}

/* participants: split on ',', each trimmed as Python's str.strip(), empties dropped. */
static void write_participants(pki_json *j, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;

    pki_json_array_begin(j);
    while (*s) {
        const unsigned char *end = (const unsigned char *)strchr((const char *)s, ','), *a, *b;
        int n;
        if (!end) {
            end = s + strlen((const char *)s);
        }
        for (a = s; (n = py_space_at(a, end)); a += n) {
        }
        for (b = end; b > a && (n = py_space_before(a, b)); b -= n) {
        }
        if (b > a) {
            pki_json_string_n(j, (const char *)a, b - a);
        }
        s = *end ? end + 1 : end;
    }
    pki_json_array_end(j);
}

static void write_links(pki_json *j, const pki_links *l, pki_resource res, const pki_ids *ids)
{
    int i;

    pki_json_array_begin(j);
    for (i = 0; i < ids->count; i++) {
        pki_links_write_item(j, l, res, ids->ids[i]);
    }
    pki_json_array_end(j);
}

void pki_render_package(pki_json *j, const pki_links *l, const pki_tz *tz, const pki_package *p)
{
    pki_json_object_begin(j);
    PKI_JSON_KEY(j, "category");
    pki_links_write_item(j, l, PKI_RES_CATEGORIES, p->category_id);
    PKI_JSON_KEY(j, "grids");
    write_links(j, l, PKI_RES_GRIDS, &p->grids);
    PKI_JSON_KEY(j, "id");
    pki_json_int(j, p->id);
    PKI_JSON_KEY(j, "title");
    pki_json_string(j, p->title);
    PKI_JSON_KEY(j, "slug");
    pki_json_string(j, p->slug);
    PKI_JSON_KEY(j, "last_updated");
    write_time(j, tz, p->last_updated);
    PKI_JSON_KEY(j, "last_fetched");
    write_time(j, tz, p->last_fetched);
    PKI_JSON_KEY(j, "repo_url");
    pki_json_string(j, p->repo_url);
    PKI_JSON_KEY(j, "pypi_version");
    write_string_or_null(j, p->pypi_version);
    PKI_JSON_KEY(j, "created");
    write_time(j, tz, p->created);
    PKI_JSON_KEY(j, "modified");
    write_time(j, tz, p->modified);
    PKI_JSON_KEY(j, "repo_forks");
    pki_json_int(j, p->repo_forks);
    PKI_JSON_KEY(j, "repo_description");
    pki_json_string(j, p->repo_description);
    PKI_JSON_KEY(j, "pypi_url");
    pki_json_string(j, p->pypi_url);
    PKI_JSON_KEY(j, "documentation_url");
    write_string_or_null(j, p->documentation_url);
    PKI_JSON_KEY(j, "repo_watchers");
    pki_json_int(j, p->repo_watchers);
    PKI_JSON_KEY(j, "commits_over_52");
    write_commits(j, p->commits_over_52);
    PKI_JSON_KEY(j, "participants");
    write_participants(j, p->participants);
    pki_json_object_end(j);
}

void pki_render_grid(pki_json *j, const pki_links *l, const pki_tz *tz, const pki_grid *g)
{
    pki_json_object_begin(j);
    PKI_JSON_KEY(j, "id");
    pki_json_int(j, g->id);
    PKI_JSON_KEY(j, "title");
    pki_json_string(j, g->title);
    PKI_JSON_KEY(j, "slug");
    pki_json_string(j, g->slug);
    PKI_JSON_KEY(j, "description");
    pki_json_string(j, g->description);
    PKI_JSON_KEY(j, "is_locked");
    pki_json_bool(j, g->is_locked);
    PKI_JSON_KEY(j, "packages");
    write_links(j, l, PKI_RES_PACKAGES, &g->packages);
    PKI_JSON_KEY(j, "header");
    pki_json_bool(j, g->header);
    PKI_JSON_KEY(j, "created");
    write_time(j, tz, g->created);
    PKI_JSON_KEY(j, "modified");
    write_time(j, tz, g->modified);
    pki_json_object_end(j);
}

void pki_render_category(pki_json *j, const pki_tz *tz, const pki_category *c)
{
    pki_json_object_begin(j);
    PKI_JSON_KEY(j, "id");
    pki_json_int(j, c->id);
    PKI_JSON_KEY(j, "title");
    pki_json_string(j, c->title);
    PKI_JSON_KEY(j, "slug");
    pki_json_string(j, c->slug);
    PKI_JSON_KEY(j, "description");
    pki_json_string(j, c->description);
    PKI_JSON_KEY(j, "title_plural");
    pki_json_string(j, c->title_plural);
    PKI_JSON_KEY(j, "show_pypi");
    pki_json_bool(j, c->show_pypi);
    PKI_JSON_KEY(j, "created");
    write_time(j, tz, c->created);
    PKI_JSON_KEY(j, "modified");
    write_time(j, tz, c->modified);
    pki_json_object_end(j);
}

/* SearchV3Serializer's fields, in its order; title and slug stand in for the no-prefix and
 * clean variants, as in the original's rows. */
void pki_render_search(pki_json *j, const pki_tz *tz, const pki_search_hit *hits, int n)
{
    int i;

    pki_json_array_begin(j);
    for (i = 0; i < n; i++) {
        const pki_search_hit *h = &hits[i];
        pki_json_object_begin(j);
        PKI_JSON_KEY(j, "description");
        pki_json_string(j, h->description ? h->description : "");
        PKI_JSON_KEY(j, "title");
        pki_json_string(j, h->title);
        PKI_JSON_KEY(j, "title_no_prefix");
        pki_json_string(j, h->title);
        PKI_JSON_KEY(j, "slug_no_prefix");
        pki_json_string(j, h->slug);
        PKI_JSON_KEY(j, "clean_title");
        pki_json_string(j, h->title);
        PKI_JSON_KEY(j, "absolute_url");
        pki_json_string(j, h->absolute_url);
        PKI_JSON_KEY(j, "created");
        write_time(j, tz, h->created);
        PKI_JSON_KEY(j, "modified");
        write_time(j, tz, h->modified);
        PKI_JSON_KEY(j, "weight");
        pki_json_int(j, h->weight);
        PKI_JSON_KEY(j, "item_type");
        pki_json_string(j, h->item_type);
        PKI_JSON_KEY(j, "slug");
        pki_json_string(j, h->slug);
        PKI_JSON_KEY(j, "category");
        pki_json_string(j, h->category ? h->category : "");
        PKI_JSON_KEY(j, "repo_watchers");
        pki_json_int(j, h->repo_watchers);
        PKI_JSON_KEY(j, "repo_forks");
        pki_json_int(j, h->repo_forks);
        PKI_JSON_KEY(j, "pypi_downloads");
        pki_json_int(j, h->pypi_downloads);
        PKI_JSON_KEY(j, "score");
        pki_json_int(j, h->score);
        PKI_JSON_KEY(j, "usage");
        pki_json_int(j, h->usage);
        PKI_JSON_KEY(j, "participants");
        pki_json_string(j, h->participants ? h->participants : "");
        PKI_JSON_KEY(j, "last_committed");
        write_time(j, tz, h->last_committed);
        PKI_JSON_KEY(j, "last_released");
        write_time(j, tz, h->last_released);
        pki_json_object_end(j);
    }
    pki_json_array_end(j);
}

void pki_render_page(pki_json *j, const pki_links *l, const pki_tz *tz, pki_resource res,
                     const pki_page *page, const char *next, const char *previous)
{
    int i;

    pki_json_object_begin(j);
    PKI_JSON_KEY(j, "count");
    pki_json_int(j, page->count);
    PKI_JSON_KEY(j, "next");
    write_string_or_null(j, next);
    PKI_JSON_KEY(j, "previous");
    write_string_or_null(j, previous);
    PKI_JSON_KEY(j, "results");
    pki_json_array_begin(j);
    for (i = 0; i < page->n; i++) {
        if (res == PKI_RES_PACKAGES) {
            pki_render_package(j, l, tz, &((const pki_package *)page->items)[i]);
        } else if (res == PKI_RES_GRIDS) {
            pki_render_grid(j, l, tz, &((const pki_grid *)page->items)[i]);
        } else {
            pki_render_category(j, tz, &((const pki_category *)page->items)[i]);
        }
    }
    pki_json_array_end(j);
    pki_json_object_end(j);
}

void pki_render_root(pki_json *j, const pki_links *l)
{
    static const pki_resource order[] = {PKI_RES_PACKAGES, PKI_RES_SEARCH, PKI_RES_GRIDS,
                                         PKI_RES_CATEGORIES};
    apr_size_t i;

    pki_json_object_begin(j);
    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        pki_json_key(j, pki_resource_segment[order[i]]);
        pki_json_string(j, pki_links_collection(l, order[i]));
    }
    pki_json_object_end(j);
}

const char *pki_view_name(pki_resource res, int detail)
{
    static const char *const names[PKI_RES_COUNT_][2] = {
        [PKI_RES_ROOT] = {"Api Root", "Api Root"},
        [PKI_RES_PACKAGES] = {"Package List", "Package Instance"},
        [PKI_RES_GRIDS] = {"Grid List", "Grid Instance"},
        [PKI_RES_CATEGORIES] = {"Category List", "Category Instance"},
        [PKI_RES_SEARCH] = {"Search V3 List", "Search V3 List"},
    };
    return names[res][detail ? 1 : 0];
}

const char *pki_view_description(pki_resource res)
{
    switch (res) {
    case PKI_RES_ROOT:
        return "The default basic root view for DefaultRouter";
    case PKI_RES_PACKAGES:
        return "API endpoint that allows packages to be viewed or edited.";
    case PKI_RES_SEARCH:
        return "Accepts a 'q' GET parameter.\n\nReturns SearchV3 (PostgreSQL FTS) results.";
    default:
        return "";
    }
}

const char *pki_model_name(pki_resource res)
{
    switch (res) {
    case PKI_RES_PACKAGES:
        return "Package";
    case PKI_RES_GRIDS:
        return "Grid";
    case PKI_RES_CATEGORIES:
        return "Category";
    default:
        return "";
    }
}

void pki_render_options(pki_json *j, pki_resource res, int detail)
{
    pki_json_object_begin(j);
    PKI_JSON_KEY(j, "name");
    pki_json_string(j, pki_view_name(res, detail));
    PKI_JSON_KEY(j, "description");
    pki_json_string(j, pki_view_description(res));
    PKI_JSON_KEY(j, "renders");
    pki_json_array_begin(j);
    pki_json_string(j, "application/json");
    pki_json_string(j, "text/html");
    pki_json_array_end(j);
    PKI_JSON_KEY(j, "parses");
    pki_json_array_begin(j);
    pki_json_string(j, "application/json");
    pki_json_string(j, "application/x-www-form-urlencoded");
    pki_json_string(j, "multipart/form-data");
    pki_json_array_end(j);
    pki_json_object_end(j);
}

void pki_render_detail(pki_json *j, const char *detail)
{
    pki_json_object_begin(j);
    PKI_JSON_KEY(j, "detail");
    pki_json_string(j, detail);
    pki_json_object_end(j);
}
