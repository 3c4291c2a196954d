/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* route.c against DRF's DefaultRouter and format_suffix_patterns (spec §1): the routes
 * "^$", "^packages/$", "^packages/(?P<pk>[^/.]+)/$" ..., each also with
 * "\.(?P<format>[a-z0-9]+)/?$" in place of its trailing slash, matched on the
 * percent-decoded path, and Django's APPEND_SLASH for paths that match only with a '/'. */

#include "unit.h"

#include "route.h"

enum { OK = PKI_ROUTE_OK, NONE = PKI_ROUTE_NONE, REDIRECT = PKI_ROUTE_REDIRECT };

#define ROOT   PKI_RES_ROOT
#define PKGS   PKI_RES_PACKAGES
#define GRIDS  PKI_RES_GRIDS
#define CATS   PKI_RES_CATEGORIES
#define SEARCH PKI_RES_SEARCH

/* A path that matches no route. */
/* clang-format off */
#define NO(path) {path, NONE, ROOT, 0, NULL, 0, -1, NULL}
/* clang-format on */

/* Octal escapes keep byte values unambiguous: \303\251 is "é" in UTF-8. */
static const struct {
    const char *path;
    int status;
    pki_resource res;
    int detail;
    const char *lookup; /* detail only */
    int is_id;
    apr_int64_t id;
    const char *suffix;
} cases[] = {
    /* The root and its suffixes. */
    {"", OK, ROOT, 0, NULL, 0, -1, NULL},
    {".json", OK, ROOT, 0, NULL, 0, -1, "json"},
    {".api", OK, ROOT, 0, NULL, 0, -1, "api"},
    {".json/", OK, ROOT, 0, NULL, 0, -1, "json"},
    NO("."),
    NO("./"),
    NO(".json//"),
    NO("/"),
    NO("//"),
    /* Collections. */
    {"packages/", OK, PKGS, 0, NULL, 0, -1, NULL},
    {"grids/", OK, GRIDS, 0, NULL, 0, -1, NULL},
    {"categories/", OK, CATS, 0, NULL, 0, -1, NULL},
    {"search/", OK, SEARCH, 0, NULL, 0, -1, NULL},
    {"packages.json", OK, PKGS, 0, NULL, 0, -1, "json"},
    {"packages.json/", OK, PKGS, 0, NULL, 0, -1, "json"},
    {"packages.api", OK, PKGS, 0, NULL, 0, -1, "api"},
    {"grids.json", OK, GRIDS, 0, NULL, 0, -1, "json"},
    {"categories.api/", OK, CATS, 0, NULL, 0, -1, "api"},
    {"search.json", OK, SEARCH, 0, NULL, 0, -1, "json"},
    /* Any [a-z0-9]+ is a suffix here; negotiation rejects unknown formats later. */
    {"packages.xml", OK, PKGS, 0, NULL, 0, -1, "xml"},
    {"packages.5", OK, PKGS, 0, NULL, 0, -1, "5"},
    NO("packages.JSON"),
    NO("packages.Json/"),
    NO("packages."),
    NO("packages.json.json"),
    NO("packages.json/x"),
    NO("packages.js-on"),
    NO("Packages/"),
    NO("package/"),
    NO("packagesx/"),
    NO("xpackages/"),
    NO("/packages/"),
    NO("nope/"),
    /* Details. */
    {"packages/26/", OK, PKGS, 1, "26", 1, 26, NULL},
    {"packages/26.json", OK, PKGS, 1, "26", 1, 26, "json"},
    {"packages/26.json/", OK, PKGS, 1, "26", 1, 26, "json"},
    {"packages/django-debug-toolbar/", OK, PKGS, 1, "django-debug-toolbar", 0, -1, NULL},
    {"packages/django-debug-toolbar.api", OK, PKGS, 1, "django-debug-toolbar", 0, -1, "api"},
    {"packages/1.5/", OK, PKGS, 1, "1", 1, 1, "5"},
    {"packages/3.14/", OK, PKGS, 1, "3", 1, 3, "14"},
    NO("packages/1.5.6/"),
    NO("packages/1.JSON"),
    NO("packages/1./"),
    NO("packages/.json"),
    {"grids/x/", OK, GRIDS, 1, "x", 0, -1, NULL},
    {"grids/12/", OK, GRIDS, 1, "12", 1, 12, NULL},
    {"categories/1/", OK, CATS, 1, "1", 1, 1, NULL},
    {"categories/apps/", OK, CATS, 1, "apps", 0, -1, NULL},
    {"categories/1.json", OK, CATS, 1, "1", 1, 1, "json"},
    NO("search/x/"),
    NO("search/x"),
    NO("search/1.json"),
    /* Lookups: ids are ASCII digits; 63-bit overflow keeps lookup_is_id with id -1. */
    {"packages/0/", OK, PKGS, 1, "0", 1, 0, NULL},
    {"packages/00026/", OK, PKGS, 1, "00026", 1, 26, NULL},
    {"packages/9223372036854775807/", OK, PKGS, 1, "9223372036854775807", 1, APR_INT64_MAX, NULL},
    {"packages/9223372036854775808/", OK, PKGS, 1, "9223372036854775808", 1, -1, NULL},
    {"packages/12345678901234567890/", OK, PKGS, 1, "12345678901234567890", 1, -1, NULL},
    {"packages/99999999999999999999999999999999/", OK, PKGS, 1, "99999999999999999999999999999999",
     1, -1, NULL},
    {"packages/-1/", OK, PKGS, 1, "-1", 0, -1, NULL},
    {"packages/+1/", OK, PKGS, 1, "+1", 0, -1, NULL},
    {"packages/1a/", OK, PKGS, 1, "1a", 0, -1, NULL},
    {"packages/ /", OK, PKGS, 1, " ", 0, -1, NULL},
    {"packages/\331\241\331\242/", OK, PKGS, 1, "\331\241\331\242", 0, -1, NULL}, /* ١٢ */
    {"packages/x' OR '1'='1/", OK, PKGS, 1, "x' OR '1'='1", 0, -1, NULL},
    {"packages/\377\376/", OK, PKGS, 1, "\377\376", 0, -1, NULL},
    /* Percent-decoding: valid escapes decode, malformed ones stay literal, NUL never routes. */
    {"packages/%41/", OK, PKGS, 1, "A", 0, -1, NULL},
    {"packages/%7a%7A/", OK, PKGS, 1, "zz", 0, -1, NULL},
    {"packages/%32%36/", OK, PKGS, 1, "26", 1, 26, NULL},
    {"packages/caf%C3%A9/", OK, PKGS, 1, "caf\303\251", 0, -1, NULL},
    {"packages/%zz/", OK, PKGS, 1, "%zz", 0, -1, NULL},
    {"packages/%4/", OK, PKGS, 1, "%4", 0, -1, NULL},
    {"packages/%/", OK, PKGS, 1, "%", 0, -1, NULL},
    {"packages/%%41/", OK, PKGS, 1, "%A", 0, -1, NULL},
    {"packages/%2541/", OK, PKGS, 1, "%41", 0, -1, NULL}, /* decoded once only */
    NO("packages/%00/"),
    NO("packages/a%00/"),
    NO("%00"),
    NO("packages/a%2Fb/"),
    /* an encoded slash routes nowhere (it would dodge <Location> access rules) */
    NO("packages/1%2F"),
    NO("packages%2F"),
    NO("packages%2f"),
    {"%70ackages/", OK, PKGS, 0, NULL, 0, -1, NULL},
    {"packages%2Ejson", OK, PKGS, 0, NULL, 0, -1, "json"},
    NO("packages/%2E/"),
    {"packages/1%2E5/", OK, PKGS, 1, "1", 1, 1, "5"},
    /* Empty segments. */
    NO("packages//"),
    NO("packages///"),
    NO("packages/1//"),
    NO("packages//1/"),
    NO("packages/1/x"),
    NO("packages/1/x/"),
    NO("packages/1/2/"),
    /* APPEND_SLASH: a redirect only when the path plus '/' is a route. */
    {"packages", REDIRECT, PKGS, 0, NULL, 0, -1, NULL},
    {"grids", REDIRECT, GRIDS, 0, NULL, 0, -1, NULL},
    {"categories", REDIRECT, CATS, 0, NULL, 0, -1, NULL},
    {"search", REDIRECT, SEARCH, 0, NULL, 0, -1, NULL},
    {"packages/1", REDIRECT, PKGS, 1, "1", 1, 1, NULL},
    {"packages/django-debug-toolbar", REDIRECT, PKGS, 1, "django-debug-toolbar", 0, -1, NULL},
    {"categories/apps", REDIRECT, CATS, 1, "apps", 0, -1, NULL},
    {"packages/%41", REDIRECT, PKGS, 1, "A", 0, -1, NULL},
    {"%70ackages", REDIRECT, PKGS, 0, NULL, 0, -1, NULL},
    NO("nope"),
    NO("package"),
    NO("packages/1/x"),
    NO("search/x"),
    NO("packages.JSON"),
    NO("packages/1.JSON"),
};

static void test_match(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pki_route r;
        int st;

        memset(&r, 0x5a, sizeof(r));
        st = pki_route_match(*state, cases[i].path, &r);
        if (st != cases[i].status) {
            fail_msg("'%s': status %d, want %d", cases[i].path, st, cases[i].status);
        }
        if (st == NONE) {
            continue;
        }
        if (r.resource != cases[i].res || r.detail != cases[i].detail ||
            r.lookup_is_id != cases[i].is_id || r.id != cases[i].id) {
            fail_msg("'%s': resource %d detail %d is_id %d id %" APR_INT64_T_FMT, cases[i].path,
                     r.resource, r.detail, r.lookup_is_id, r.id);
        }
        if (cases[i].lookup) {
            assert_non_null(r.lookup);
            assert_string_equal(r.lookup, cases[i].lookup);
        } else {
            assert_null(r.lookup);
        }
        if (cases[i].suffix) {
            assert_non_null(r.suffix);
            assert_string_equal(r.suffix, cases[i].suffix);
        } else {
            assert_null(r.suffix);
        }
    }
}

static void test_segments(void **state)
{
    assert_string_equal(pki_resource_segment[PKI_RES_ROOT], "");
    assert_string_equal(pki_resource_segment[PKI_RES_PACKAGES], "packages");
    assert_string_equal(pki_resource_segment[PKI_RES_GRIDS], "grids");
    assert_string_equal(pki_resource_segment[PKI_RES_CATEGORIES], "categories");
    assert_string_equal(pki_resource_segment[PKI_RES_SEARCH], "search");
}

/* A very long path neither crashes nor routes. */
static void test_long_path(void **state)
{
    apr_pool_t *p = *state;
    char *path = apr_palloc(p, 70000);
    pki_route r;

    memcpy(path, "packages/", 9);
    memset(path + 9, '7', 65536);
    strcpy(path + 9 + 65536, "/");
    assert_int_equal(pki_route_match(p, path, &r), OK);
    assert_true(r.lookup_is_id);
    assert_int_equal(r.id, -1);
    assert_int_equal(strlen(r.lookup), 65536);

    memset(path, '%', 65536);
    path[65536] = '\0';
    assert_int_equal(pki_route_match(p, path, &r), NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_match, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_segments, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_long_path, pool_setup, pool_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
