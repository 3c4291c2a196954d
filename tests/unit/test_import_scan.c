/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* import_scan.c: records split out of a stream read in pieces of any size, exact positions,
 * encodings named, and the promise that every call consumes input or ends the scan. Also the
 * lone-surrogate check the importer applies to each record (parse.c). */

#include "unit.h"

#include <stdlib.h>

#include <apr_strings.h>

#include "import_scan.h"
#include "parse.h"

/* An input in memory, handed out STEP bytes at a time (1: every chunk boundary is tried). */
typedef struct mem {
    const char *data;
    apr_size_t len, pos, step;
} mem;

static apr_status_t mem_read(void *ctx, char *buf, apr_size_t *len)
{
    mem *m = ctx;
    apr_size_t n = m->len - m->pos;

    if (n > m->step) {
        n = m->step;
    }
    if (n > *len) {
        n = *len;
    }
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    *len = n;
    return n ? APR_SUCCESS : APR_EOF;
}

/* What a scan of DATA gives, as text: one line per call, "R<line>@<byte>:<text>" for a
 * record, "B<line>@<byte>" for a bad one, "F<line>@<byte>:<why>" for the end by error. The
 * number of calls is bounded by the input's size: a scan that loops fails the test. */
static const char *scan_all(apr_pool_t *pool, const char *data, apr_size_t len, apr_size_t step)
{
    mem m = {data, len, 0, step};
    pki_scanner *sc = pki_scanner_make(pool, mem_read, &m);
    pki_buf rec, out;
    apr_size_t calls = 0;

    pki_buf_init(&rec, pool, 64);
    pki_buf_init(&out, pool, 256);
    for (;;) {
        pki_scan_pos at;
        const char *why = NULL;
        pki_scan_result r = pki_scan_next(sc, &rec, &at, &why);

        assert_true(++calls <= len + 2);
        if (r == PKI_SCAN_DONE) {
            break;
        }
        if (r == PKI_SCAN_RECORD) {
            pki_buf_printf(&out, "R%ld@%" APR_OFF_T_FMT ":%.*s\n", at.line, at.byte, (int)rec.len,
                           rec.data);
        } else if (r == PKI_SCAN_BAD) {
            pki_buf_printf(&out, "B%ld@%" APR_OFF_T_FMT "\n", at.line, at.byte);
        } else {
            pki_buf_printf(&out, "F%ld@%" APR_OFF_T_FMT ":%s\n", at.line, at.byte, why);
            /* the end is for good */
            assert_int_equal(pki_scan_next(sc, &rec, &at, &why), PKI_SCAN_FATAL);
            break;
        }
    }
    return pki_buf_cstr(&out);
}

static void expect_scan(apr_pool_t *pool, const char *data, apr_size_t len, const char *want)
{
    static const apr_size_t steps[] = {1, 2, 3, 7, 65536};
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const char *got = scan_all(pool, data, len, steps[i]);
        if (strcmp(got, want) != 0) {
            fail_msg("input %.*s, %zu bytes at a time:\ngot\n%s\nwant\n%s", (int)len, data,
                     (size_t)steps[i], got, want);
        }
    }
}

#define EXPECT(pool, literal, want) expect_scan(pool, literal, sizeof(literal) - 1, want)

static void test_records(void **state)
{
    apr_pool_t *p = *state;

    EXPECT(p, "", "");
    EXPECT(p, " \n\t\r\n", "");
    EXPECT(p, "{\"a\":1}", "R1@0:{\"a\":1}\n");
    /* JSON Lines, concatenated values, blank lines */
    EXPECT(p, "{\"a\":1}\n\n{\"b\":[2,{}]}\n{}{}",
           "R1@0:{\"a\":1}\nR3@9:{\"b\":[2,{}]}\nR4@22:{}\nR4@24:{}\n");
    /* a top-level array's elements; strings with brackets and escaped quotes */
    EXPECT(p, "[{\"x\":\"]}\\\"[\"} ,\n {\"y\":2}]", "R1@1:{\"x\":\"]}\\\"[\"}\nR2@18:{\"y\":2}\n");
    EXPECT(p, "[]\n[ ]", "");
    /* scalars are records too (json-c and the importer refuse them later) */
    EXPECT(p, "42 \"s\" true", "R1@0:42\nR1@3:\"s\"\nR1@7:true\n");
    EXPECT(p, "[1,\"a\",null]", "R1@1:1\nR1@3:\"a\"\nR1@7:null\n");
    /* newlines inside strings count, even escaped ones (both invalid JSON) */
    EXPECT(p, "{\"a\":\"x\ny\"}\n{}", "R1@0:{\"a\":\"x\ny\"}\nR3@12:{}\n");
    EXPECT(p, "{\"a\":\"x\\\ny\"}\n{}", "R1@0:{\"a\":\"x\\\ny\"}\nR3@13:{}\n");
    /* a closing bracket of the wrong kind ends the record (json-c says what is wrong) and
     * the rest is read as what it is */
    EXPECT(p, "{\"a\":[1}\n{\"b\":2}", "R1@0:{\"a\":[1}\nR2@9:{\"b\":2}\n");
    EXPECT(p, "[[}]", "R1@1:[}\n");
}

static void test_stray_bytes_end_the_scan(void **state)
{
    apr_pool_t *p = *state;

    EXPECT(p, "{},{}",
           "R1@0:{}\nF1@2:invalid JSON at byte 2: unexpected ',' between records (a file holds "
           "JSON objects, one after the other or one per line, or arrays of them)\n");
    EXPECT(p, "{}\n}",
           "R1@0:{}\nF2@3:invalid JSON at byte 3: unexpected '}' between records "
           "(a file holds JSON objects, one after the other or one per line, or "
           "arrays of them)\n");
    EXPECT(p, "\x01", "F1@0:invalid JSON at byte 0: unexpected byte 0x01\n");
    EXPECT(p, "{}\n:", "R1@0:{}\nF2@3:invalid JSON at byte 3: unexpected ':'\n");
    EXPECT(p, "[{},]",
           "R1@1:{}\nF1@4:invalid JSON at byte 4: expected an array element, found "
           "']'\n");
    EXPECT(p, "[{} {}]",
           "R1@1:{}\nF1@4:invalid JSON at byte 4: expected ',' or ']' after an "
           "array element, found '{'\n");
    EXPECT(p, "[,]", "F1@1:invalid JSON at byte 1: expected an array element, found ','\n");
}

static void test_nul_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *nul = "unexpected NUL byte (binary data, or UTF-16/UTF-32 text?)\n";

    EXPECT(p, "{}\n\0", apr_pstrcat(p, "R1@0:{}\nF2@3:invalid JSON at byte 3: ", nul, NULL));
    EXPECT(p, "{\"a\":\"\0\"}", apr_pstrcat(p, "F1@6:invalid JSON at byte 6: ", nul, NULL));
    EXPECT(p, "[12\0]", apr_pstrcat(p, "F1@3:invalid JSON at byte 3: ", nul, NULL));
}

static void test_truncated(void **state)
{
    apr_pool_t *p = *state;

    EXPECT(p, "{}\n{\"a\":[1,",
           "R1@0:{}\nF2@11:truncated JSON at byte 11: the input ends inside a value that starts "
           "on line 2\n");
    EXPECT(p, "\"abc",
           "F1@4:truncated JSON at byte 4: the input ends inside a value that starts "
           "on line 1\n");
    EXPECT(p, "[{},\n", "R1@1:{}\nF2@5:truncated JSON at byte 5: the input ends inside an array\n");
    EXPECT(p, "[", "F1@1:truncated JSON at byte 1: the input ends inside an array\n");
}

static void test_encodings(void **state)
{
    apr_pool_t *p = *state;

    /* a UTF-8 byte order mark is skipped; positions still count it */
    EXPECT(p, "\xef\xbb\xbf{}", "R1@3:{}\n");
    EXPECT(p, "\xef\xbb\xbf", "");
    EXPECT(p, "\x1f\x8b\x08\x00",
           "F1@0:gzip-compressed data, not JSON text: decompress it first "
           "(zcat FILE.gz | pkgindex-import --db ... -)\n");
    EXPECT(p, "\xff\xfe{\0}\0",
           "F1@0:UTF-16 text (little-endian byte order mark): convert it to "
           "UTF-8 first (iconv -f UTF-16 -t UTF-8 FILE)\n");
    EXPECT(p, "\xfe\xff\0{\0}",
           "F1@0:UTF-16 text (big-endian byte order mark): convert it to "
           "UTF-8 first (iconv -f UTF-16 -t UTF-8 FILE)\n");
    EXPECT(p, "{\0}\0",
           "F1@0:UTF-16 text (no byte order mark): convert it to UTF-8 first "
           "(iconv -f UTF-16 -t UTF-8 FILE)\n");
    EXPECT(p, "\0{\0}",
           "F1@0:UTF-16 text (no byte order mark): convert it to UTF-8 first "
           "(iconv -f UTF-16 -t UTF-8 FILE)\n");
    EXPECT(p, "\xff\xfe\0\0{\0\0\0",
           "F1@0:UTF-32 text (little-endian byte order mark): convert "
           "it to UTF-8 first (iconv -f UTF-32 -t UTF-8 FILE)\n");
}

static void test_empty(void **state)
{
    apr_pool_t *p = *state;
    static const char *inputs[] = {"", "  \n", "\xef\xbb\xbf", "[]", "{}"};
    size_t i;

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        mem m = {inputs[i], strlen(inputs[i]), 0, 1};
        pki_scanner *sc = pki_scanner_make(p, mem_read, &m);
        pki_buf rec;
        pki_scan_pos at;
        const char *why;

        pki_buf_init(&rec, p, 16);
        while (pki_scan_next(sc, &rec, &at, &why) == PKI_SCAN_RECORD) {
        }
        assert_int_equal(pki_scan_empty(sc), i < 3);
    }
}

/* Every input, however broken, ends in a bounded number of calls: every prefix of a real
 * record and random bytes biased towards JSON's punctuation. */
static void test_every_input_ends(void **state)
{
    apr_pool_t *p = *state;
    static const char record[] = "[{\"id\": 1, \"t\": \"a\\\"]}\", \"g\": [1, {\"x\": null}]},\n"
                                 " {\"id\": 2}] {\"z\": \"\\u00e9\"}\n";
    static const char alphabet[] = "{}[]\",:\\ \n0a-\x00\xff";
    char buf[200];
    size_t i, n;
    unsigned seed = 20261206;

    for (n = 0; n <= sizeof(record) - 1; n++) {
        scan_all(p, record, n, 1);
        scan_all(p, record, n, 5);
    }
    for (i = 0; i < 3000; i++) {
        apr_size_t len = (seed = seed * 1103515245 + 12345) % sizeof(buf);
        for (n = 0; n < len; n++) {
            seed = seed * 1103515245 + 12345;
            buf[n] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        scan_all(p, buf, len, 1 + i % 4);
    }
}

static void test_lone_surrogates(void **state)
{
    (void)state;
#define LONE(literal) pki_json_lone_surrogate(literal, sizeof(literal) - 1)
    assert_int_equal(LONE("{\"a\":\"x\"}"), -1);
    assert_int_equal(LONE("{\"a\":\"\\ud83d\\ude00\"}"), -1);
    assert_int_equal(LONE("{\"a\":\"\\uD83D\\uDE00\"}"), -1);
    assert_int_equal(LONE("{\"a\":\"\\ud800\"}"), 6);
    assert_int_equal(LONE("{\"a\":\"\\udc00\"}"), 6);
    assert_int_equal(LONE("{\"a\":\"\\ud83dx\"}"), 6);
    assert_int_equal(LONE("{\"a\":\"\\ud83d\\ud83d\"}"), 6);
    assert_int_equal(LONE("{\"a\":\"\\ud83d\\u0041\"}"), 6);
    /* an escaped backslash before "ud800" is text, not an escape */
    assert_int_equal(LONE("{\"a\":\"\\\\ud800\"}"), -1);
    assert_int_equal(LONE("{\"a\":\"\\\\\\ud800\"}"), 8);
    /* outside strings nothing is looked at */
    assert_int_equal(LONE("{\\ud800:1}"), -1);
#undef LONE
}

/* Cut short: on heap buffers of the exact size, so a sanitizer sees any read past the end. */
static void test_lone_surrogates_cut_short(void **state)
{
    static const struct {
        const char *text;
        apr_ssize_t want;
    } cases[] = {
        {"\"\\ud8", -1},        {"\"\\u12", -1},     {"\"\\", -1},       {"\"\\ud83d", 1},
        {"\"\\ud83d\\ude0", 1}, {"\"\\ud83d\\u", 1}, {"\"\\ud83d\\", 1},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].text);
        char *exact = malloc(n);
        assert_non_null(exact);
        memcpy(exact, cases[i].text, n);
        assert_int_equal(pki_json_lone_surrogate(exact, n), cases[i].want);
        free(exact);
    }
}

static void test_strict_utf8(void **state)
{
    static const struct {
        const char *text;
        apr_ssize_t want;
    } cases[] = {
        {"plain", -1},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", -1},
        {"a\xc0\x80", 1},        /* overlong NUL */
        {"a\xe0\x80\xaf", 1},    /* overlong '/' */
        {"ab\xed\xa0\x80", 2},   /* an encoded surrogate */
        {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
        {"\xf5\x80\x80\x80", 0}, /* no such first byte */
        {"x\x80", 1},            /* a continuation alone */
        {"x\xc3", 1},            /* cut short */
        {"x\xe2\x82", 1},        /* cut short */
        {"x\xe2\x28\xa1", 1},    /* a bad continuation */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].text);
        char *exact = malloc(n);
        assert_non_null(exact);
        memcpy(exact, cases[i].text, n);
        if (pki_utf8_invalid_at(exact, n) != cases[i].want) {
            fail_msg("case %zu: got %ld, want %ld", i, (long)pki_utf8_invalid_at(exact, n),
                     (long)cases[i].want);
        }
        free(exact);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_stray_bytes_end_the_scan, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_truncated, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_encodings, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_empty, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_every_input_ends, pool_setup, pool_teardown),
        cmocka_unit_test(test_lone_surrogates),
        cmocka_unit_test(test_lone_surrogates_cut_short),
        cmocka_unit_test(test_strict_utf8),
    };
    RUN_UNIT_TESTS(tests);
}
