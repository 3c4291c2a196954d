/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* query.c against Python 3.11 / Django 4.2 / DRF: every expectation below was produced by
 * parse_qsl, int(), urlencode and DRF's replace_query_param on the same input. */

#include "unit.h"

#include <apr_strings.h>

#include "query.h"

typedef struct {
    const char *key;
    apr_size_t klen;
    const char *val;
    apr_size_t vlen;
} param_case;

/* Octal escapes keep byte values unambiguous: \303\251 is "é" in UTF-8, \357\277\275 U+FFFD. */
static const struct {
    const char *raw;
    int n;
    param_case p[2];
} parse_cases[] = {
    /* NULL and "" are empty; empty parts are skipped; no '=' means an empty value. */
    {NULL, 0, {{NULL, 0, NULL, 0}}},
    {"", 0, {{NULL, 0, NULL, 0}}},
    {"a=1&b=2", 2, {{"a", 1, "1", 1}, {"b", 1, "2", 1}}},
    {"&&a=1&&", 1, {{"a", 1, "1", 1}}},
    {"a=", 1, {{"a", 1, "", 0}}},
    {"=v", 1, {{"", 0, "v", 1}}},
    {"=", 1, {{"", 0, "", 0}}},
    {"x", 1, {{"x", 1, "", 0}}},
    {"a=b=c", 1, {{"a", 1, "b=c", 3}}},
    {"a+b=c+d", 1, {{"a b", 3, "c d", 3}}},
    {"a=%2B+%2b", 1, {{"a", 1, "+ +", 3}}},
    {"q=caf%C3%A9+bar", 1, {{"q", 1, "caf\303\251 bar", 9}}},
    {"k=%zz", 1, {{"k", 1, "%zz", 3}}},
    {"k=%4", 1, {{"k", 1, "%4", 2}}},
    {"k=%%41", 1, {{"k", 1, "%A", 2}}},
    {"k=%4%41", 1, {{"k", 1, "%4A", 3}}},
    {"k=%E9", 1, {{"k", 1, "\357\277\275", 3}}},
    {"k=%E2%82", 1, {{"k", 1, "\357\277\275", 3}}},
    {"k=%E2%82x", 1, {{"k", 1, "\357\277\275x", 4}}},
    {"k=%E2%82%AC", 1, {{"k", 1, "\342\202\254", 3}}},
    {"k=%FF", 1, {{"k", 1, "\357\277\275", 3}}},
    {"k=%C0%80", 1, {{"k", 1, "\357\277\275\357\277\275", 6}}},
    {"k=%ED%A0%80", 1, {{"k", 1, "\357\277\275\357\277\275\357\277\275", 9}}},
    {"k=%E0%80%80", 1, {{"k", 1, "\357\277\275\357\277\275\357\277\275", 9}}},
    {"k=%F4%90%80%80", 1, {{"k", 1, "\357\277\275\357\277\275\357\277\275\357\277\275", 12}}},
    {"k=%F0%9F%98%80", 1, {{"k", 1, "\360\237\230\200", 4}}},
    {"k=%F0%9F%98", 1, {{"k", 1, "\357\277\275", 3}}},
    {"k=\351", 1, {{"k", 1, "\303\251", 2}}},
    {"k=caf\303\251", 1, {{"k", 1, "caf\303\251", 5}}},
    {"k=\303\251&j=\351", 2, {{"k", 1, "\303\203\302\251", 4}, {"j", 1, "\303\251", 2}}},
    {"k=%C3\251", 1, {{"k", 1, "\357\277\275\302\251", 5}}},
    {"k=%E2\303\251", 1, {{"k", 1, "\357\277\275\303\251", 5}}},
    {"k=a%00b", 1, {{"k", 1, "a\000b", 3}}},
    {"a%00=1", 1, {{"a\000", 2, "1", 1}}},
    {"%3D=%26", 1, {{"=", 1, "&", 1}}},
    {"%41%42=%43", 1, {{"AB", 2, "C", 1}}},
};

static void test_parse(void **state)
{
    apr_pool_t *pool = *state;
    const pki_param *p;
    pki_query q;
    size_t i;
    int j;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        assert_int_equal(pki_query_parse(&q, pool, parse_cases[i].raw), 0);
        assert_int_equal(q.params->nelts, parse_cases[i].n);
        p = (const pki_param *)q.params->elts;
        for (j = 0; j < parse_cases[i].n; j++) {
            const param_case *e = &parse_cases[i].p[j];

            assert_int_equal(p[j].klen, e->klen);
            assert_memory_equal(p[j].key, e->key, e->klen + 1);
            assert_int_equal(p[j].vlen, e->vlen);
            assert_memory_equal(p[j].val, e->val, e->vlen + 1);
        }
    }
}

/* Only raw UTF-8 needs the raw query kept for links; Latin-1 and ASCII decode alike there. */
static void test_parse_link_args(void **state)
{
    apr_pool_t *pool = *state;
    pki_query q;

    assert_int_equal(pki_query_parse(&q, pool, "q=caf\303\251"), 0);
    assert_string_equal(q.link_args, "q=caf\303\251");
    assert_int_equal(pki_query_parse(&q, pool, "q=caf\303\251&r=\351"), 0);
    assert_null(q.link_args);
    assert_int_equal(pki_query_parse(&q, pool, "q=caf%C3%A9"), 0);
    assert_null(q.link_args);
}

/* parse_qsl refuses more than max_num_fields, counted as 1 + the number of '&'. */
static void test_parse_max_fields(void **state)
{
    apr_pool_t *pool = *state;
    char *raw = apr_palloc(pool, 4 * 1001 + 1), *amps = apr_palloc(pool, 1001 + 4);
    pki_query q;
    int i;

    for (i = 0; i < 1001; i++) {
        memcpy(raw + 4 * i, "a=1&", 4);
    }
    raw[4 * 1000 - 1] = '\0';
    assert_int_equal(pki_query_parse(&q, pool, raw), 0);
    assert_int_equal(q.params->nelts, 1000);
    raw[4 * 1000 - 1] = '&';
    raw[4 * 1001 - 1] = '\0';
    assert_int_equal(pki_query_parse(&q, pool, raw), -1);
    assert_int_equal(q.params->nelts, 0);

    /* Empty parts count too: "a=1" and 999 '&' is 1000 fields, 1000 '&' is 1001. */
    memcpy(amps, "a=1", 3);
    memset(amps + 3, '&', 1000);
    amps[3 + 999] = '\0';
    assert_int_equal(pki_query_parse(&q, pool, amps), 0);
    assert_int_equal(q.params->nelts, 1);
    amps[3 + 999] = '&';
    amps[3 + 1000] = '\0';
    assert_int_equal(pki_query_parse(&q, pool, amps), -1);
}

static const struct {
    const char *raw, *key, *want;
} get_cases[] = {
    {NULL, "a", NULL},
    {"", "a", NULL},
    {"a=1&b=2&a=3", "a", "3"},
    {"a=1&b=2&a=3", "b", "2"},
    {"a=1", "b", NULL},
    {"a=1", "", NULL},
    {"=v", "", "v"},
    {"a", "a", ""},
    /* A key holding a NUL is not "a"; a value holding one ends there as a C string. */
    {"a%00b=1", "a", NULL},
    {"a=2&a%00b=1", "a", "2"},
    {"a=x%00y", "a", "x"},
    {"caf%C3%A9=1", "caf\303\251", "1"},
    {"caf\303\251=2", "caf\303\251", "2"},
};

static void test_get(void **state)
{
    apr_pool_t *pool = *state;
    pki_query q;
    size_t i;

    for (i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
        assert_int_equal(pki_query_parse(&q, pool, get_cases[i].raw), 0);
        if (get_cases[i].want) {
            assert_string_equal(pki_query_get(&q, get_cases[i].key), get_cases[i].want);
        } else {
            assert_null(pki_query_get(&q, get_cases[i].key));
        }
    }
}

/* LimitOffsetPagination: _positive_int() is Python's int() (whitespace, sign, underscores
 * between digits, Unicode decimal digits), then strict for limit and clamped to max_limit. */
static const struct {
    const char *raw;
    apr_int64_t default_limit, max_limit, limit, offset;
    const char *offset_str;
} page_cases[] = {
    {NULL, 20, 0, 20LL, 0LL, "0"},
    {"", 20, 0, 20LL, 0LL, "0"},
    {"limit=5", 20, 0, 5LL, 0LL, "0"},
    {"limit=0", 20, 0, 20LL, 0LL, "0"},
    {"limit=-3", 20, 0, 20LL, 0LL, "0"},
    {"limit=x", 20, 0, 20LL, 0LL, "0"},
    {"limit=+7+", 20, 0, 7LL, 0LL, "0"},
    {"limit=%207%20", 20, 0, 7LL, 0LL, "0"},
    {"limit=%09%0B7%0C%0D%0A", 20, 0, 7LL, 0LL, "0"},
    {"limit=+5", 20, 0, 5LL, 0LL, "0"},
    {"limit=%2B5", 20, 0, 5LL, 0LL, "0"},
    {"limit=1_0", 20, 0, 10LL, 0LL, "0"},
    {"limit=1__0", 20, 0, 20LL, 0LL, "0"},
    {"limit=_1", 20, 0, 20LL, 0LL, "0"},
    {"limit=1_", 20, 0, 20LL, 0LL, "0"},
    {"limit=5.0", 20, 0, 20LL, 0LL, "0"},
    {"limit=1e3", 20, 0, 20LL, 0LL, "0"},
    {"limit=0x10", 20, 0, 20LL, 0LL, "0"},
    {"limit=", 20, 0, 20LL, 0LL, "0"},
    {"limit", 20, 0, 20LL, 0LL, "0"},
    {"limit=-0", 20, 0, 20LL, 0LL, "0"},
    {"limit=%2B", 20, 0, 20LL, 0LL, "0"},
    {"limit=-", 20, 0, 20LL, 0LL, "0"},
    {"limit=007", 20, 0, 7LL, 0LL, "0"},
    {"limit=%2B_1", 20, 0, 20LL, 0LL, "0"},
    {"limit=1+2", 20, 0, 20LL, 0LL, "0"},
    {"limit=%1C5", 20, 0, 20LL, 0LL, "0"},
    {"limit=%7F5", 20, 0, 20LL, 0LL, "0"},
    {"limit=5%00", 20, 0, 20LL, 0LL, "0"},
    {"limit=%D9%A3", 20, 0, 3LL, 0LL, "0"},
    {"limit=%EF%BC%91%EF%BC%92", 20, 0, 12LL, 0LL, "0"},
    {"limit=\331\243", 20, 0, 3LL, 0LL, "0"},
    {"limit=%C2%A07%E3%80%80", 20, 0, 7LL, 0LL, "0"},
    {"limit=%C2%B2", 20, 0, 20LL, 0LL, "0"},
    {"limit=%C2%857", 20, 0, 7LL, 0LL, "0"},
    {"limit=500", 20, 100, 100LL, 0LL, "0"},
    {"limit=100", 20, 100, 100LL, 0LL, "0"},
    {"limit=99", 20, 100, 99LL, 0LL, "0"},
    {"limit=0", 20, 100, 20LL, 0LL, "0"},
    {"limit=99999999999999999999", 20, 100, 100LL, 0LL, "0"},
    {"limit=99999999999999999999", 20, 0, APR_INT64_MAX, 0LL, "0"},
    {"limit=9223372036854775807", 20, 0, APR_INT64_MAX, 0LL, "0"},
    {"limit=9223372036854775808", 20, 0, APR_INT64_MAX, 0LL, "0"},
    {"limit=5&limit=9", 20, 0, 9LL, 0LL, "0"},
    {"limit=5&limit=x", 20, 0, 20LL, 0LL, "0"},
    {"lim%69t=6", 20, 0, 6LL, 0LL, "0"},
    {"limit%00=6", 20, 0, 20LL, 0LL, "0"},
    {"offset=25", 20, 0, 20LL, 25LL, "25"},
    {"offset=0", 20, 0, 20LL, 0LL, "0"},
    {"offset=-0", 20, 0, 20LL, 0LL, "0"},
    {"offset=-1", 20, 0, 20LL, 0LL, "0"},
    {"offset=y", 20, 0, 20LL, 0LL, "0"},
    {"offset=007", 20, 0, 20LL, 7LL, "7"},
    {"offset=1_000", 20, 0, 20LL, 1000LL, "1000"},
    {"offset=+5", 20, 0, 20LL, 5LL, "5"},
    {"offset=%205", 20, 0, 20LL, 5LL, "5"},
    {"offset=", 20, 0, 20LL, 0LL, "0"},
    {"offset=%D9%A3%D9%A0", 20, 0, 20LL, 30LL, "30"},
    {"offset=99999999999999999999", 20, 0, 20LL, APR_INT64_MAX, "99999999999999999999"},
    {"offset=00099999999999999999999", 20, 0, 20LL, APR_INT64_MAX, "99999999999999999999"},
    {"offset=9223372036854775807", 20, 0, 20LL, APR_INT64_MAX, "9223372036854775807"},
    {"offset=9223372036854775808", 20, 0, 20LL, APR_INT64_MAX, "9223372036854775808"},
    {"limit=x&offset=y", 20, 0, 20LL, 0LL, "0"},
    {"offset=25&limit=20&foo=bar", 20, 0, 20LL, 25LL, "25"},
};

static void test_page_params(void **state)
{
    apr_pool_t *pool = *state;
    pki_page_params pp;
    pki_query q;
    size_t i;

    for (i = 0; i < sizeof(page_cases) / sizeof(page_cases[0]); i++) {
        assert_int_equal(pki_query_parse(&q, pool, page_cases[i].raw), 0);
        pki_query_page_params(&q, pool, page_cases[i].default_limit, page_cases[i].max_limit, &pp);
        assert_int_equal(pp.limit, page_cases[i].limit);
        assert_int_equal(pp.offset, page_cases[i].offset);
        assert_string_equal(pp.offset_str, page_cases[i].offset_str);
    }
}

/* int() refuses more than 4300 digits (sys.int_info.default_max_str_digits), leading zeros
 * included and underscores not. */
static void test_page_params_max_digits(void **state)
{
    apr_pool_t *pool = *state;
    char *raw = apr_palloc(pool, 7 + 2 * 4301 + 1);
    pki_page_params pp;
    pki_query q;
    int i;

    memcpy(raw, "limit=", 6);
    memset(raw + 6, '1', 4300);
    raw[6 + 4300] = '\0';
    pki_query_parse(&q, pool, raw);
    pki_query_page_params(&q, pool, 20, 0, &pp);
    assert_int_equal(pp.limit, APR_INT64_MAX);
    pki_query_page_params(&q, pool, 20, 50, &pp);
    assert_int_equal(pp.limit, 50);
    raw[6 + 4300] = '1';
    raw[6 + 4301] = '\0';
    pki_query_parse(&q, pool, raw);
    pki_query_page_params(&q, pool, 20, 0, &pp);
    assert_int_equal(pp.limit, 20);

    memcpy(raw, "offset=", 7);
    memset(raw + 7, '0', 4300);
    memcpy(raw + 7 + 4300, "5", 2);
    pki_query_parse(&q, pool, raw);
    pki_query_page_params(&q, pool, 20, 0, &pp);
    assert_int_equal(pp.offset, 0);
    assert_string_equal(pp.offset_str, "0");

    for (i = 0; i < 4300; i++) {
        memcpy(raw + 7 + 2 * i, "1_", 2);
    }
    raw[7 + 2 * 4300 - 1] = '\0';
    pki_query_parse(&q, pool, raw);
    pki_query_page_params(&q, pool, 20, 0, &pp);
    assert_int_equal(pp.offset, APR_INT64_MAX);
    assert_int_equal(strlen(pp.offset_str), 4300);
    assert_int_equal(strspn(pp.offset_str, "1"), 4300);
}

/* DRF's replace_query_param / remove_query_param on build_absolute_uri(), whose query is
 * iri_to_uri(QUERY_STRING): raw bytes >= 0x80 are Latin-1 there even when they are UTF-8. */
static const struct {
    const char *raw, *limit, *offset, *want;
} link_cases[] = {
    {"offset=25&limit=20&foo=bar", "20", NULL, "foo=bar&limit=20"},
    {"page=3", "20", "20", "limit=20&offset=20&page=3"},
    {"zzz=1&aaa=2&offset=25&limit=20", "20", "5", "aaa=2&limit=20&offset=5&zzz=1"},
    {"a=1&b=2&a=3", "20", "40", "a=1&a=3&b=2&limit=20&offset=40"},
    {"x", "20", "20", "limit=20&offset=20&x="},
    {"q=caf%C3%A9+bar", "20", "20", "limit=20&offset=20&q=caf%C3%A9+bar"},
    {"k=%zz", "20", "20", "k=%25zz&limit=20&offset=20"},
    {"k=%E9", "20", "20", "k=%EF%BF%BD&limit=20&offset=20"},
    {NULL, "20", "20", "limit=20&offset=20"},
    {"", "20", NULL, "limit=20"},
    {"k=a%00b", "20", NULL, "k=a%00b&limit=20"},
    {"a=%2B+b&c=+", "20", NULL, "a=%2B+b&c=+&limit=20"},
    {"=v", "20", NULL, "=v&limit=20"},
    {"&&a=1&&", "20", NULL, "a=1&limit=20"},
    {"q=caf\303\251", "20", NULL, "limit=20&q=caf%C3%83%C2%A9"},
    {"q=\351", "20", NULL, "limit=20&q=%C3%A9"},
    {"q=caf\303\251&r=\351", "20", NULL, "limit=20&q=caf%C3%83%C2%A9&r=%C3%A9"},
    {"limit=5&offset=10&limit=6&offset=1", "7", "3", "limit=7&offset=3"},
    {"offset=1&offset=2", "7", NULL, "limit=7"},
    {"%C3%A9=1&z=2&Z=3&_=4&~=5&limit=1", "7", NULL, "Z=3&_=4&limit=7&z=2&~=5&%C3%A9=1"},
    {"ab=1&a=2&a%00=3", "7", NULL, "a=2&a%00=3&ab=1&limit=7"},
    {"k=-._~*'()!/?:@$,;", "7", NULL, "k=-._~%2A%27%28%29%21%2F%3F%3A%40%24%2C%3B&limit=7"},
    {"a+b=c+d&a%20b=e", "7", NULL, "a+b=c+d&a+b=e&limit=7"},
    {"offset=99999999999999999999", "20", "99999999999999999979",
     "limit=20&offset=99999999999999999979"},
    {"format=json&limit=2&offset=2", "2", "4", "format=json&limit=2&offset=4"},
};

static void test_page_link(void **state)
{
    apr_pool_t *pool = *state;
    pki_query q;
    size_t i;

    for (i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
        assert_int_equal(pki_query_parse(&q, pool, link_cases[i].raw), 0);
        assert_string_equal(
            pki_query_page_link(pool, &q, link_cases[i].limit, link_cases[i].offset),
            link_cases[i].want);
    }
}

static void test_page_link_no_params(void **state)
{
    apr_pool_t *pool = *state;
    pki_query q;

    assert_int_equal(pki_query_parse(&q, pool, "limit=5&offset=5"), 0);
    assert_string_equal(pki_query_page_link(pool, &q, NULL, NULL), "");
}

static const struct {
    const char *in, *want;
} quote_cases[] = {
    {"", ""},
    {"abcXYZ019", "abcXYZ019"},
    {"-_.~", "-_.~"},
    {"a b", "a+b"},
    {"a+b", "a%2Bb"},
    {"caf\303\251", "caf%C3%A9"},
    {"/?&=#%", "%2F%3F%26%3D%23%25"},
    {"\001\177\377", "%01%7F%FF"},
    {" json ", "+json+"},
};

static void test_quote_plus(void **state)
{
    apr_pool_t *pool = *state;
    const char *same = "json";
    size_t i;

    for (i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
        assert_string_equal(pki_query_quote_plus(pool, quote_cases[i].in), quote_cases[i].want);
    }
    assert_string_equal(pki_query_quote_plus(pool, NULL), "");
    /* Nothing to encode: no copy. */
    assert_ptr_equal(pki_query_quote_plus(pool, same), same);
}

static const struct {
    const char *a;
    apr_int64_t b;
    const char *sum, *diff; /* diff NULL when A > B does not hold */
    int cmp;
} decimal_cases[] = {
    {"0", 0, "0", NULL, 0},
    {"0", 5, "5", NULL, -1},
    {"19", 20, "39", NULL, -1},
    {"20", 20, "40", NULL, 0},
    {"21", 20, "41", "1", 1},
    {"10", 9, "19", "1", 1},
    {"100", 99, "199", "1", 1},
    {"1000", 1, "1001", "999", 1},
    {"9223372036854775807", 1, "9223372036854775808", "9223372036854775806", 1},
    {"9223372036854775807", APR_INT64_MAX, "18446744073709551614", NULL, 0},
    {"9223372036854775808", APR_INT64_MAX, "18446744073709551615", "1", 1},
    {"99999999999999999999", 20, "100000000000000000019", "99999999999999999979", 1},
    {"100000000000000000000", 1, "100000000000000000001", "99999999999999999999", 1},
    {"5", APR_INT64_MAX, "9223372036854775812", NULL, -1},
};

static void test_decimal(void **state)
{
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < sizeof(decimal_cases) / sizeof(decimal_cases[0]); i++) {
        if (decimal_cases[i].diff) {
            assert_string_equal(pki_decimal_sub(pool, decimal_cases[i].a, decimal_cases[i].b),
                                decimal_cases[i].diff);
        }
        assert_int_equal(pki_decimal_cmp(decimal_cases[i].a, decimal_cases[i].b),
                         decimal_cases[i].cmp);
    }
}

/* The previous link of offset=99999999999999999999&limit=20, as DRF computes it. */
static void test_big_offset_previous_link(void **state)
{
    apr_pool_t *pool = *state;
    pki_page_params pp;
    pki_query q;
    char limit[32];

    assert_int_equal(pki_query_parse(&q, pool, "offset=99999999999999999999&limit=20"), 0);
    pki_query_page_params(&q, pool, 10, 0, &pp);
    assert_int_equal(pp.offset, APR_INT64_MAX);
    assert_true(pki_decimal_cmp(pp.offset_str, pp.limit) > 0);
    apr_snprintf(limit, sizeof(limit), "%" APR_INT64_T_FMT, pp.limit);
    assert_string_equal(
        pki_query_page_link(pool, &q, limit, pki_decimal_sub(pool, pp.offset_str, pp.limit)),
        "limit=20&offset=99999999999999999979");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_parse_link_args, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_parse_max_fields, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_get, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_page_params, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_page_params_max_digits, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_page_link, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_page_link_no_params, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_quote_plus, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_decimal, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_big_offset_previous_link, pool_setup, pool_teardown),
    };

    RUN_UNIT_TESTS(tests);
}
