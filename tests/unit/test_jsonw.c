/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* jsonw.c against Python 3.11: every expectation below is the output of
 * json.dumps(obj, ensure_ascii=False, separators=(",", ":")) (compact) or
 * json.dumps(obj, ensure_ascii=False, indent=N, separators=(",", ": ")) (indented), with
 * U+2028 / U+2029 then written as \u2028 / \u2029, as DRF's JSONRenderer does. */

#include "unit.h"

#include <apr_strings.h>

#include "jsonw.h"

/* Runs WRITE on a fresh writer and returns its bytes. The buffer starts at one byte so that
 * every test also exercises growth. */
static const char *emit(apr_pool_t *pool, int indent, void (*write)(pki_json *))
{
    pki_buf b;
    pki_json j;

    pki_buf_init(&b, pool, 1);
    pki_json_init(&j, &b, indent);
    write(&j);
    assert_int_equal(j.depth, 0);
    assert_int_equal(strlen(pki_buf_cstr(&b)), b.len);
    return pki_buf_cstr(&b);
}

/* {"a":[1,2,{"b":null,"c":[]}],"d":{},"e":true,"f":"x/y","g":[[]],"h":{"i":{"j":false}},"k":-7} */
static void write_nested(pki_json *j)
{
    pki_json_object_begin(j);
    pki_json_key(j, "a");
    pki_json_array_begin(j);
    pki_json_int(j, 1);
    pki_json_int(j, 2);
    pki_json_object_begin(j);
    pki_json_key(j, "b");
    pki_json_null(j);
    pki_json_key(j, "c");
    pki_json_array_begin(j);
    pki_json_array_end(j);
    pki_json_object_end(j);
    pki_json_array_end(j);
    pki_json_key(j, "d");
    pki_json_object_begin(j);
    pki_json_object_end(j);
    pki_json_key(j, "e");
    pki_json_bool(j, 1);
    pki_json_key(j, "f");
    pki_json_string(j, "x/y");
    pki_json_key(j, "g");
    pki_json_array_begin(j);
    pki_json_array_begin(j);
    pki_json_array_end(j);
    pki_json_array_end(j);
    pki_json_key(j, "h");
    pki_json_object_begin(j);
    pki_json_key(j, "i");
    pki_json_object_begin(j);
    pki_json_key(j, "j");
    pki_json_bool(j, 0);
    pki_json_object_end(j);
    pki_json_object_end(j);
    pki_json_key(j, "k");
    pki_json_int(j, -7);
    pki_json_object_end(j);
}

static void test_nested(void **state)
{
    static const struct {
        int indent;
        const char *expect;
    } cases[] = {
        {0, "{\"a\":[1,2,{\"b\":null,\"c\":[]}],\"d\":{},\"e\":true,\"f\":\"x/y\",\"g\":[[]],"
            "\"h\":{\"i\":{\"j\":false}},\"k\":-7}"},
        {1, "{\n \"a\": [\n  1,\n  2,\n  {\n   \"b\": null,\n   \"c\": []\n  }\n ],\n \"d\": {},\n"
            " \"e\": true,\n \"f\": \"x/y\",\n \"g\": [\n  []\n ],\n \"h\": {\n  \"i\": {\n"
            "   \"j\": false\n  }\n },\n \"k\": -7\n}"},
        {2, "{\n  \"a\": [\n    1,\n    2,\n    {\n      \"b\": null,\n      \"c\": []\n    }\n"
            "  ],\n  \"d\": {},\n  \"e\": true,\n  \"f\": \"x/y\",\n  \"g\": [\n    []\n  ],\n"
            "  \"h\": {\n    \"i\": {\n      \"j\": false\n    }\n  },\n  \"k\": -7\n}"},
        {4, "{\n    \"a\": [\n        1,\n        2,\n        {\n            \"b\": null,\n"
            "            \"c\": []\n        }\n    ],\n    \"d\": {},\n    \"e\": true,\n"
            "    \"f\": \"x/y\",\n    \"g\": [\n        []\n    ],\n    \"h\": {\n"
            "        \"i\": {\n            \"j\": false\n        }\n    },\n    \"k\": -7\n}"},
        {8, "{\n        \"a\": [\n                1,\n                2,\n                {\n"
            "                        \"b\": null,\n                        \"c\": []\n"
            "                }\n        ],\n        \"d\": {},\n        \"e\": true,\n"
            "        \"f\": \"x/y\",\n        \"g\": [\n                []\n        ],\n"
            "        \"h\": {\n                \"i\": {\n                        \"j\": false\n"
            "                }\n        },\n        \"k\": -7\n}"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(emit(*state, cases[i].indent, write_nested), cases[i].expect);
    }
}

static void write_empty_array(pki_json *j)
{
    pki_json_array_begin(j);
    pki_json_array_end(j);
}

static void write_empty_object(pki_json *j)
{
    pki_json_object_begin(j);
    pki_json_object_end(j);
}

/* [[],{}] */
static void write_empties(pki_json *j)
{
    pki_json_array_begin(j);
    write_empty_array(j);
    write_empty_object(j);
    pki_json_array_end(j);
}

/* {"a":{}} */
static void write_key_empty_object(pki_json *j)
{
    pki_json_object_begin(j);
    pki_json_key(j, "a");
    write_empty_object(j);
    pki_json_object_end(j);
}

static void test_empty_containers(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(emit(p, 0, write_empty_array), "[]");
    assert_string_equal(emit(p, 2, write_empty_array), "[]");
    assert_string_equal(emit(p, 0, write_empty_object), "{}");
    assert_string_equal(emit(p, 2, write_empty_object), "{}");
    assert_string_equal(emit(p, 0, write_empties), "[[],{}]");
    assert_string_equal(emit(p, 2, write_empties), "[\n  [],\n  {}\n]");
    assert_string_equal(emit(p, 3, write_key_empty_object), "{\n   \"a\": {}\n}");
}

/* [-9223372036854775808,9223372036854775807,0,true,false,null] */
static void write_scalars(pki_json *j)
{
    pki_json_array_begin(j);
    pki_json_int(j, APR_INT64_MIN);
    pki_json_int(j, APR_INT64_MAX);
    pki_json_int(j, 0);
    pki_json_bool(j, 1);
    pki_json_bool(j, 0);
    pki_json_null(j);
    pki_json_array_end(j);
}

static void write_int_min(pki_json *j)
{
    pki_json_int(j, APR_INT64_MIN);
}

static void write_true(pki_json *j)
{
    pki_json_bool(j, 42); /* any non-zero value is true */
}

static void write_top_string(pki_json *j)
{
    pki_json_string(j, "top");
}

static void test_scalars(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(emit(p, 0, write_scalars),
                        "[-9223372036854775808,9223372036854775807,0,true,false,null]");
    assert_string_equal(emit(p, 1, write_scalars),
                        "[\n -9223372036854775808,\n 9223372036854775807,\n 0,\n true,\n"
                        " false,\n null\n]");
    /* Top-level scalars: no newline before or after, even when indented. */
    assert_string_equal(emit(p, 4, write_int_min), "-9223372036854775808");
    assert_string_equal(emit(p, 4, write_true), "true");
    assert_string_equal(emit(p, 4, write_top_string), "\"top\"");
}

/* Keys are escaped like values: {"k\"\n":1} */
static void write_odd_key(pki_json *j)
{
    pki_json_object_begin(j);
    pki_json_key(j, "k\"\n");
    pki_json_int(j, 1);
    pki_json_object_end(j);
}

/* pki_json_value_begin lets a caller write raw bytes. */
static void write_parts(pki_json *j)
{
    pki_json_array_begin(j);
    pki_json_string(j, "https://h/a\"b\nc");
    pki_json_string_n(j, "a\0b", 3);
    pki_json_value_begin(j);
    pki_buf_puts(j->out, "\"raw\"");
    pki_json_object_begin(j);
    pki_json_key(j, "t");
    pki_json_value_begin(j);
    pki_buf_puts(j->out, "\"2015-07-09T13:28:06-04:00\"");
    pki_json_key(j, "u");
    pki_json_string(j, "");
    pki_json_object_end(j);
    pki_json_array_end(j);
}

static void test_keys_and_parts(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(emit(p, 0, write_odd_key), "{\"k\\\"\\n\":1}");
    assert_string_equal(emit(p, 0, write_parts),
                        "[\"https://h/a\\\"b\\nc\",\"a\\u0000b\",\"raw\","
                        "{\"t\":\"2015-07-09T13:28:06-04:00\",\"u\":\"\"}]");
    assert_string_equal(emit(p, 2, write_parts),
                        "[\n  \"https://h/a\\\"b\\nc\",\n  \"a\\u0000b\",\n  \"raw\",\n  {\n"
                        "    \"t\": \"2015-07-09T13:28:06-04:00\",\n    \"u\": \"\"\n  }\n]");
}

/* String bodies: octal escapes keep the bytes unambiguous (\303\251 is "é"). */
#define S(lit) lit, sizeof(lit) - 1
static const struct {
    const char *in;
    apr_size_t n;
    const char *out;
} escapes[] = {
    {S(""), ""},
    {S("plain ASCII text"), "plain ASCII text"},
    {S("\""), "\\\""},
    {S("\\"), "\\\\"},
    {S("\b\f\n\r\t"), "\\b\\f\\n\\r\\t"},
    {S("\0"), "\\u0000"},
    {S("\001"), "\\u0001"},
    {S("\013"), "\\u000b"}, /* \v has no short escape */
    {S("\016\037"), "\\u000e\\u001f"},
    {S("\033[0m"), "\\u001b[0m"},
    {S("\177"), "\177"}, /* DEL is not a control character to JSON */
    {S("a/b</script>"), "a/b</script>"},
    {S("'<>&"), "'<>&"},
    {S("caf\303\251"), "caf\303\251"},
    {S("\346\227\245\346\234\254"), "\346\227\245\346\234\254"},
    {S("\360\237\230\200"), "\360\237\230\200"},
    {S("\302\200\337\277\357\277\277"), "\302\200\337\277\357\277\277"},
    /* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR are escaped ... */
    {S("\342\200\250"), "\\u2028"},
    {S("\342\200\251"), "\\u2029"},
    {S("a\342\200\250b\342\200\251c"), "a\\u2028b\\u2029c"},
    /* ... their neighbours and other E2 sequences are not: U+2026 U+2027 U+202A U+20AC. */
    {S("\342\200\246\342\200\247\342\200\252"), "\342\200\246\342\200\247\342\200\252"},
    {S("\342\202\254"), "\342\202\254"},
    /* A truncated E2 sequence at the end is copied, never read past. */
    {S("a\342"), "a\342"},
    {S("a\342\200"), "a\342\200"},
    {"a\342\200\250", 3, "a\342\200"},
    {S("\342\200\250\""), "\\u2028\\\""},
    /* Only N bytes are read. */
    {"ab\"cd", 2, "ab"},
};

static void test_escape(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        pki_buf b;
        pki_json j;
        const char *quoted = apr_pstrcat(*state, "\"", escapes[i].out, "\"", NULL);

        pki_buf_init(&b, *state, 1);
        pki_json_escape(&b, escapes[i].in, escapes[i].n);
        if (b.len != strlen(escapes[i].out) || memcmp(b.data, escapes[i].out, b.len) != 0) {
            fail_msg("escape case %zu: got '%.*s', want '%s'", i, (int)b.len, b.data,
                     escapes[i].out);
        }
        /* The same through a string value. */
        pki_buf_init(&b, *state, 1);
        pki_json_init(&j, &b, 0);
        pki_json_string_n(&j, escapes[i].in, escapes[i].n);
        assert_string_equal(pki_buf_cstr(&b), quoted);
    }
}

static void test_every_byte(void **state)
{
    /* Each byte 0x00..0x7f alone, against json.dumps(chr(c)). */
    static const char *const short_escapes[32] = {
        [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r"};
    int c;

    for (c = 0; c < 128; c++) {
        char in = (char)c, want[8];
        pki_buf b;

        if (c < 32) {
            if (short_escapes[c]) {
                strcpy(want, short_escapes[c]);
            } else {
                apr_snprintf(want, sizeof(want), "\\u%04x", c);
            }
        } else if (c == '"' || c == '\\') {
            want[0] = '\\';
            want[1] = (char)c;
            want[2] = '\0';
        } else {
            want[0] = (char)c;
            want[1] = '\0';
        }
        pki_buf_init(&b, *state, 1);
        pki_json_escape(&b, &in, 1);
        if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) {
            fail_msg("byte 0x%02x: got '%.*s', want '%s'", c, (int)b.len, b.data, want);
        }
    }
}

/* PKI_JSON_MAX_DEPTH - 1 nested arrays, the deepest the writer tracks. */
#define DEEP (PKI_JSON_MAX_DEPTH - 1)

static void write_deep(pki_json *j)
{
    int i;

    for (i = 0; i < DEEP; i++) {
        pki_json_array_begin(j);
    }
    for (i = 0; i < DEEP; i++) {
        pki_json_array_end(j);
    }
}

static void test_deep(void **state)
{
    apr_pool_t *p = *state;
    pki_buf want;
    int i;

    /* Compact: [[[...]]] */
    pki_buf_init(&want, p, 0);
    for (i = 0; i < DEEP; i++) {
        pki_buf_putc(&want, '[');
    }
    for (i = 0; i < DEEP; i++) {
        pki_buf_putc(&want, ']');
    }
    assert_string_equal(emit(p, 0, write_deep), pki_buf_cstr(&want));

    /* indent=1: one bracket per line, the innermost "[]" on one line. */
    pki_buf_init(&want, p, 0);
    for (i = 0; i < DEEP - 1; i++) {
        pki_buf_printf(&want, "%*s[\n", i, "");
    }
    pki_buf_printf(&want, "%*s[]", DEEP - 1, "");
    for (i = DEEP - 2; i >= 0; i--) {
        pki_buf_printf(&want, "\n%*s]", i, "");
    }
    assert_string_equal(emit(p, 1, write_deep), pki_buf_cstr(&want));
}

/* A long value grows the buffer many times over. */
static void test_long_string(void **state)
{
    apr_pool_t *p = *state;
    char *in = apr_palloc(p, 100001), *want = apr_palloc(p, 200003);
    pki_buf b;
    pki_json j;
    int i;

    for (i = 0; i < 100000; i++) {
        in[i] = i % 2 ? 'x' : '\n';
    }
    in[100000] = '\0';
    want[0] = '"';
    for (i = 0; i < 100000; i += 2) {
        memcpy(want + 1 + i / 2 * 3, "\\nx", 3);
    }
    strcpy(want + 1 + 150000, "\"");
    pki_buf_init(&b, p, 1);
    pki_json_init(&j, &b, 0);
    pki_json_string(&j, in);
    assert_int_equal(b.len, 150002);
    assert_string_equal(pki_buf_cstr(&b), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nested, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_empty_containers, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_scalars, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_keys_and_parts, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_escape, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_every_byte, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_deep, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_long_string, pool_setup, pool_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
