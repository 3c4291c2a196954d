/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* negotiate.c against DRF 3.17's DefaultContentNegotiation with the renderers
 * [JSONRenderer, BrowsableAPIRenderer] (spec §4): the format filters the renderers, media
 * ranges are grouped by precedence (params > type/sub > type/\* > \*\/\*, q ignored), and in each
 * group the renderers are tried in their own order, each against the client's ranges. The
 * JSON indent is JSONRenderer.get_indent: int(params["indent"]) clamped to 0..8, 0 = none. */

#include "unit.h"

#include <apr_strings.h>

#include "negotiate.h"

enum { OK = PKI_NEG_OK, BAD_FORMAT = PKI_NEG_BAD_FORMAT, NOT_ACCEPTABLE = PKI_NEG_NOT_ACCEPTABLE };
enum { JSON = PKI_RENDER_JSON, API = PKI_RENDER_API };

#define BROWSER "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

static const struct {
    const char *format;
    const char *accept;
    int status;
    int renderer;
    int indent;
} cases[] = {
    /* No Accept header is * / *: JSON. An empty header matches nothing. */
    {NULL, NULL, OK, JSON, 0},
    {NULL, "", NOT_ACCEPTABLE, 0, 0},
    {NULL, " ", NOT_ACCEPTABLE, 0, 0},
    {NULL, "*/*", OK, JSON, 0},
    {NULL, "*/*;q=0", OK, JSON, 0}, /* q-values are ignored */
    {NULL, "application/json", OK, JSON, 0},
    {NULL, "APPLICATION/JSON", OK, JSON, 0},
    {NULL, " application/json ", OK, JSON, 0},
    {NULL, "application/*", OK, JSON, 0},
    {NULL, "*/json", OK, JSON, 0},
    {NULL, "text/html", OK, API, 0},
    {NULL, "Text/HTML", OK, API, 0},
    {NULL, "text/*", OK, API, 0},
    {NULL, BROWSER, OK, API, 0},
    {NULL, "application/xml", NOT_ACCEPTABLE, 0, 0},
    {NULL, "text/plain", NOT_ACCEPTABLE, 0, 0},
    {NULL, "application", NOT_ACCEPTABLE, 0, 0},
    {NULL, "*", NOT_ACCEPTABLE, 0, 0},
    {NULL, "json", NOT_ACCEPTABLE, 0, 0},
    {NULL, ",", NOT_ACCEPTABLE, 0, 0},
    {NULL, "application/json,,text/html", OK, JSON, 0},
    /* Same precedence: the renderer order (JSON first) beats the client's order. */
    {NULL, "text/html, application/json", OK, JSON, 0},
    {NULL, "text/html;q=0.5, application/json", OK, JSON, 0},
    {NULL, "text/html;q=1, application/json;q=0.1", OK, JSON, 0},
    {NULL, "text/*, application/*", OK, JSON, 0},
    /* Higher precedence wins whatever the q-values. */
    {NULL, "image/png, application/json;q=0.1", OK, JSON, 0},
    {NULL, "application/*, text/html", OK, API, 0},
    {NULL, "*/*, text/*", OK, API, 0},
    {NULL, "application/json, text/html; level=1", OK, API, 0},
    {NULL, "text/html, application/json; charset=utf-8", OK, JSON, 0},
    {NULL, "application/json; version=2", OK, JSON, 0},
    /* indent */
    {NULL, "application/json; indent=4", OK, JSON, 4},
    {NULL, "application/json;indent=2", OK, JSON, 2},
    {NULL, "application/json ; indent = 3 ", OK, JSON, 3},
    {NULL, "application/json; INDENT=5", OK, JSON, 5},
    {NULL, "application/json; indent=0", OK, JSON, 0},
    {NULL, "application/json; indent=-2", OK, JSON, 0},
    {NULL, "application/json; indent=8", OK, JSON, 8},
    {NULL, "application/json; indent=12", OK, JSON, 8},
    {NULL, "application/json; indent=99999999999999999999", OK, JSON, 8},
    {NULL, "application/json; indent=x", OK, JSON, 0},
    {NULL, "application/json; indent=", OK, JSON, 0},
    {NULL, "application/json; indent=2.0", OK, JSON, 0},
    {NULL, "application/json; indent=+3", OK, JSON, 3},
    {NULL, "application/json; indent=1_0", OK, JSON, 8},
    {NULL, "application/json; indent=\"3\"", OK, JSON, 3},
    {NULL, "application/json; indent", OK, JSON, 0},
    {NULL, "application/json; q=0.5; indent=6", OK, JSON, 6},
    {NULL, "application/json; indent=2; indent=7", OK, JSON, 7},
    {NULL, "*/*; indent=2", OK, JSON, 2},
    {NULL, "application/*; indent=2", OK, JSON, 2},
    /* The matched range's own indent, not another's. */
    {NULL, "text/html; indent=4, application/json", OK, API, 0},
    {NULL, "application/json, */*; indent=4", OK, JSON, 0},
    {NULL, "application/json; indent=4, application/json; indent=2", OK, JSON, 4},
    /* The format filters the renderers first. */
    {"json", NULL, OK, JSON, 0},
    {"json", "*/*", OK, JSON, 0},
    {"json", "text/html", NOT_ACCEPTABLE, 0, 0},
    {"json", "text/*", NOT_ACCEPTABLE, 0, 0},
    {"json", BROWSER, OK, JSON, 0},
    {"json", "application/json; indent=4", OK, JSON, 4},
    {"api", NULL, OK, API, 0},
    {"api", "application/json", NOT_ACCEPTABLE, 0, 0},
    {"api", "application/json, text/html", OK, API, 0},
    {"api", "application/json; indent=4, */*", OK, API, 0},
    {"yaml", NULL, BAD_FORMAT, 0, 0},
    {"yaml", "application/xml", BAD_FORMAT, 0, 0}, /* the format is checked before Accept */
    {"JSON", NULL, BAD_FORMAT, 0, 0},
    {"json ", NULL, BAD_FORMAT, 0, 0},
    {"5", NULL, BAD_FORMAT, 0, 0},
    {"", NULL, OK, JSON, 0},
    {"", "text/html", OK, API, 0},
};

static void test_negotiate(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pki_accepted acc = {.renderer = 99, .indent = 99};
        int st = pki_negotiate(*state, cases[i].format, cases[i].accept, &acc);

        if (st != cases[i].status) {
            fail_msg("format '%s' accept '%s': status %d, want %d",
                     cases[i].format ? cases[i].format : "(null)",
                     cases[i].accept ? cases[i].accept : "(null)", st, cases[i].status);
        }
        if (st == OK &&
            (acc.renderer != (pki_renderer)cases[i].renderer || acc.indent != cases[i].indent)) {
            fail_msg("format '%s' accept '%s': renderer %d indent %d, want %d %d",
                     cases[i].format ? cases[i].format : "(null)",
                     cases[i].accept ? cases[i].accept : "(null)", acc.renderer, acc.indent,
                     cases[i].renderer, cases[i].indent);
        }
    }
}

/* The header is not modified in place (it is httpd's table value). */
static void test_accept_untouched(void **state)
{
    char accept[] = "Text/HTML; q=0.5 , application/json; indent=\"3\"";
    pki_accepted acc;

    assert_int_equal(pki_negotiate(*state, NULL, accept, &acc), OK);
    assert_int_equal(acc.renderer, JSON);
    assert_int_equal(acc.indent, 3);
    assert_string_equal(accept, "Text/HTML; q=0.5 , application/json; indent=\"3\"");
}

/* Many media ranges: DRF considers all of them, however many. */
static void test_many_ranges(void **state)
{
    apr_pool_t *p = *state;
    pki_accepted acc;
    const char *accept = "application/json";
    int i;

    /* 200 unmatched ranges after a match: still JSON. */
    for (i = 0; i < 200; i++) {
        accept = apr_pstrcat(p, accept, ", image/png", NULL);
    }
    assert_int_equal(pki_negotiate(p, NULL, accept, &acc), OK);
    assert_int_equal(acc.renderer, JSON);
}

/* BUG: negotiate.c pki_negotiate keeps only the first MAX_RANGES (64) media ranges and drops
 * the rest, so a match after 64 other ranges is a 406; DRF answers JSON. */
static void test_bug_range_after_64(void **state)
{
    apr_pool_t *p = *state;
    pki_accepted acc;
    const char *accept = "image/png";
    int i;

    for (i = 1; i < 64; i++) {
        accept = apr_pstrcat(p, accept, ", image/png", NULL);
    }
    accept = apr_pstrcat(p, accept, ", application/json", NULL);
    assert_int_equal(pki_negotiate(p, NULL, accept, &acc), OK);
    assert_int_equal(acc.renderer, JSON);
}

/* BUG: negotiate.c parse_indent rejects whitespace inside a quoted value, but DRF's
 * int(params["indent"]) strips it: indent=" 4" and indent="4 " are 4, not 0. */
static void test_bug_quoted_indent_whitespace(void **state)
{
    pki_accepted acc;

    assert_int_equal(pki_negotiate(*state, NULL, "application/json; indent=\" 4\"", &acc), OK);
    assert_int_equal(acc.indent, 4);
    assert_int_equal(pki_negotiate(*state, NULL, "application/json; indent=\"4 \"", &acc), OK);
    assert_int_equal(acc.indent, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_negotiate, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_accept_untouched, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_many_ranges, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_bug_range_after_64, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_bug_quoted_indent_whitespace, pool_setup,
                                        pool_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
