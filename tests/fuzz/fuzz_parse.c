/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* parse.c: the input is one record's JSON text. It is parsed with json-c as the importer
 * parses records (strict, UTF-8 checked); a list page gives its results. Each object goes
 * through pki_parse_kind and all three record parsers, whatever its kind, and a record that
 * passes must hold what the store relies on. The text itself is also tried as a hyperlink. */

#include <apr_lib.h>
#include <json-c/json.h>

#include "fuzz.h"
#include "parse.h"
#include "tz.h"

static void check_slug(const char *s)
{
    FUZZ_CHECK(s && *s && strlen(s) <= 50);
    for (; *s; s++) {
        FUZZ_CHECK(apr_isalnum(*s) || *s == '-' || *s == '_');
    }
}

static void check_ids(const pki_ids *ids)
{
    int i, k;

    FUZZ_CHECK(ids->count >= 0 && (ids->count == 0 || ids->ids));
    for (i = 0; i < ids->count; i++) {
        FUZZ_CHECK(ids->ids[i] >= 1);
        for (k = 0; k < i; k++) {
            FUZZ_CHECK(ids->ids[k] != ids->ids[i]);
        }
    }
}

/* commits_over_52 is stored as JSON text: it must read back as an array of integers. */
static void check_commits(const char *text)
{
    struct json_object *v = json_tokener_parse(text);
    size_t i;

    FUZZ_CHECK(v && json_object_is_type(v, json_type_array));
    for (i = 0; i < json_object_array_length(v); i++) {
        FUZZ_CHECK(json_object_is_type(json_object_array_get_idx(v, i), json_type_int));
    }
    json_object_put(v);
}

/* A datetime is stored as pki_time_format_sql writes it and read with pki_time_parse. */
static void check_time(apr_int64_t usec, int nullable)
{
    char text[PKI_TIME_MAX];
    apr_int64_t back;

    if (usec == PKI_TIME_NULL) {
        FUZZ_CHECK(nullable);
        return;
    }
    FUZZ_CHECK(usec >= PKI_TIME_FIRST && usec <= PKI_TIME_LAST);
    pki_time_format_sql(usec, text);
    FUZZ_CHECK(pki_time_parse(text, &back) == 0 && back == usec);
}

static void record(apr_pool_t *pool, struct json_object *obj)
{
    apr_array_header_t *errs = apr_array_make(pool, 4, sizeof(pki_field_error));
    pki_resource kind = pki_parse_kind(obj);
    pki_package p;
    pki_grid g;
    pki_category c;
    int n, i;

    FUZZ_CHECK(kind == PKI_RES_ROOT || kind == PKI_RES_PACKAGES || kind == PKI_RES_GRIDS ||
               kind == PKI_RES_CATEGORIES);
    FUZZ_CHECK(kind == PKI_RES_ROOT || json_object_is_type(obj, json_type_object));

    n = pki_parse_package(pool, obj, &p, errs);
    FUZZ_CHECK(n == errs->nelts && (n || kind == PKI_RES_PACKAGES));
    if (!n) {
        FUZZ_CHECK(p.id >= 1 && p.category_id >= 1 && p.title && p.repo_url && p.pypi_url);
        FUZZ_CHECK(p.repo_description && p.participants && p.commits_over_52);
        check_time(p.created, 0);
        check_time(p.modified, 0);
        check_time(p.last_updated, 1);
        check_time(p.last_fetched, 1);
        check_slug(p.slug);
        check_ids(&p.grids);
        check_commits(p.commits_over_52);
        FUZZ_CHECK(!strstr(p.participants, ",,") && p.participants[0] != ',');
    }
    for (i = 0; i < errs->nelts; i++) {
        const pki_field_error *e = &APR_ARRAY_IDX(errs, i, pki_field_error);
        FUZZ_CHECK(e->field && e->message && *e->message);
    }

    apr_array_clear(errs);
    n = pki_parse_grid(pool, obj, &g, errs);
    FUZZ_CHECK(n == errs->nelts && (n || kind != PKI_RES_ROOT));
    if (!n) {
        FUZZ_CHECK(g.id >= 1 && g.title && g.description);
        check_time(g.created, 0);
        check_time(g.modified, 0);
        check_slug(g.slug);
        check_ids(&g.packages);
    }

    apr_array_clear(errs);
    n = pki_parse_category(pool, obj, &c, errs);
    FUZZ_CHECK(n == errs->nelts && (n || kind != PKI_RES_ROOT));
    if (!n) {
        FUZZ_CHECK(c.id >= 1 && c.title && c.description && c.title_plural);
        check_time(c.created, 0);
        check_time(c.modified, 0);
        check_slug(c.slug);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    struct json_tokener *tok = json_tokener_new_ex(64);
    struct json_object *obj, *results, *count;
    const char *text = fuzz_cstr(pool, data, size);
    int res;

    for (res = PKI_RES_PACKAGES; res < PKI_RES_COUNT_; res++) {
        FUZZ_CHECK(pki_parse_link(text, res) >= -1);
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    if (obj && json_tokener_get_parse_end(tok) == size) {
        if (json_object_is_type(obj, json_type_object) &&
            json_object_object_get_ex(obj, "results", &results) &&
            json_object_object_get_ex(obj, "count", &count) &&
            json_object_is_type(results, json_type_array)) {
            size_t i;
            for (i = 0; i < json_object_array_length(results); i++) {
                record(pool, json_object_array_get_idx(results, i));
            }
        } else {
            record(pool, obj);
        }
    }
    json_object_put(obj);
    json_tokener_free(tok);
    apr_pool_destroy(pool);
    return 0;
}
