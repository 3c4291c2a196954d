/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Unit tests for tz.c: TZif loading, POSIX footer rules, datetime parse/format. Expected values
 * come from Python's datetime.astimezone(ZoneInfo(...)).isoformat(), and bulk checks compare
 * against glibc's localtime_r (setting TZ is fine in a test, never in the module). */

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>

#include "tz.h"

#define USEC APR_INT64_C(1000000)

static pki_tz *load(apr_pool_t *p, const char *name)
{
    pki_tz *tz = NULL;
    const char *err = NULL;

    if (pki_tz_load(&tz, p, name, NULL, &err) != APR_SUCCESS) {
        fail_msg("loading %s: %s", name, err);
    }
    assert_non_null(tz);
    return tz;
}

/* Parses IN, formats it in TZ, and compares with EXPECT. */
static void check(const pki_tz *tz, const char *in, const char *expect)
{
    apr_int64_t us;
    char out[PKI_TIME_MAX];

    assert_int_equal(pki_time_parse(in, &us), 0);
    assert_int_equal(pki_time_format(tz, us, out), strlen(expect));
    assert_string_equal(out, expect);
}

static apr_int64_t parsed(const char *in)
{
    apr_int64_t us = 0;

    assert_int_equal(pki_time_parse(in, &us), 0);
    return us;
}

/* Deterministic xorshift so failures reproduce. */
static apr_uint64_t rnd(apr_uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* --- temp files --- */

static char tmpdir[64];

static const char *mktmp(void)
{
    strcpy(tmpdir, "/tmp/test_tz.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return tmpdir;
}

static void put(const char *name, const void *data, size_t len)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void rmtmp(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    unlink(path);
    rmdir(tmpdir);
}

static unsigned char *slurp(apr_pool_t *p, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = apr_palloc(p, 1 << 16);

    assert_non_null(f);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void be32(unsigned char *p, apr_uint32_t v)
{
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* A TZif file with N transitions AT (type indices IDX) between two types, OFF0 (std) and OFF1
 * (dst), with both data blocks (v2) and FOOTER (NULL: v1 only). Returns its length. */
static size_t mktzif(unsigned char *b, int n, const apr_int64_t *at, const unsigned char *idx,
                     int off0, int off1, const char *footer)
{
    size_t len = 0;
    int pass, i;

    for (pass = 0; pass < (footer ? 2 : 1); pass++) {
        int ts = pass ? 8 : 4;
        memset(b + len, 0, 44);
        memcpy(b + len, "TZif", 4);
        b[len + 4] = footer ? '2' : 0;
        be32(b + len + 32, n);
        be32(b + len + 36, 2);
        be32(b + len + 40, 4);
        len += 44;
        for (i = 0; i < n; i++, len += ts) {
            if (ts == 8) {
                be32(b + len, (apr_uint32_t)((apr_uint64_t)at[i] >> 32));
            }
            be32(b + len + ts - 4, (apr_uint32_t)at[i]);
        }
        if (n) {
            memcpy(b + len, idx, n);
        }
        len += n;
        be32(b + len, off0), b[len + 4] = 0, b[len + 5] = 0;
        be32(b + len + 6, off1), b[len + 10] = 1, b[len + 11] = 0;
        memcpy(b + len + 12, "XXX", 4);
        len += 16;
    }
    if (footer) {
        len += sprintf((char *)b + len, "\n%s\n", footer);
    }
    return len;
}

/* --- parsing --- */

static void test_parse(void **state)
{
    apr_int64_t base = APR_INT64_C(1436462886) * USEC, us;
    static const char *bad[] = {"",
                                "2015-07-09",
                                "2015-07-09 17:28",
                                "2015-7-09 17:28:06",
                                "15-07-09 17:28:06",
                                "2015-07-09 17:28:06 ",
                                "2015-07-09x17:28:06",
                                "0000-01-01 00:00:00",
                                "2015-00-09 17:28:06",
                                "2015-13-09 17:28:06",
                                "2015-07-00 17:28:06",
                                "2015-04-31 17:28:06",
                                "2023-02-29 00:00:00",
                                "1900-02-29 00:00:00",
                                "2015-07-09 24:00:00",
                                "2015-07-09 17:60:06",
                                "2015-07-09 17:28:60",
                                "2015-07-09 17:28:06.",
                                "2015-07-09 17:28:06.1234567",
                                "2015-07-09 17:28:06.12a",
                                "2015-07-09 17:28:06+",
                                "2015-07-09 17:28:06+5",
                                "2015-07-09 17:28:06+24",
                                "2015-07-09 17:28:06+05:60",
                                "2015-07-09 17:28:06+05:3",
                                "2015-07-09 17:28:06+053",
                                "2015-07-09 17:28:06+05:30:",
                                "2015-07-09 17:28:06ZZ",
                                "2015-07-09 17:28:06Z+00",
                                "2015-07-09 17:28:06z"};
    size_t i;

    assert_int_equal(parsed("2015-07-09 17:28:06"), base);
    assert_int_equal(parsed("2015-07-09T17:28:06"), base);
    assert_int_equal(parsed("2015-07-09T17:28:06Z"), base);
    assert_int_equal(parsed("2015-07-09 17:28:06+00"), base);
    assert_int_equal(parsed("2015-07-09 17:28:06-00:00"), base);
    assert_int_equal(parsed("2015-07-09 13:28:06-04"), base);
    assert_int_equal(parsed("2015-07-09 13:28:06-0400"), base);
    assert_int_equal(parsed("2015-07-09 22:58:06+05:30"), base);
    assert_int_equal(parsed("2015-07-09 22:58:16+05:30:10"), base);
    assert_int_equal(parsed("2015-07-09 17:28:06.4"), base + 400000);
    assert_int_equal(parsed("2015-07-09 17:28:06.04"), base + 40000);
    assert_int_equal(parsed("2015-07-09 17:28:06.000001"), base + 1);
    assert_int_equal(parsed("2015-07-09 17:28:06.400073+00:00"), base + 400073);
    assert_int_equal(parsed("1970-01-01 00:00:00"), 0);
    assert_int_equal(parsed("1969-12-31 23:59:59.999999"), -1);
    assert_int_equal(parsed("0001-01-01 00:00:00"), APR_INT64_C(-62135596800) * USEC);
    assert_int_equal(parsed("9999-12-31 23:59:59.999999"), APR_INT64_C(253402300799999999));
    assert_int_equal(parsed("2000-02-29 12:00:00"), APR_INT64_C(951825600) * USEC);
    assert_int_equal(parsed("2024-02-29 00:00:00"), APR_INT64_C(1709164800) * USEC);
    for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        us = 42;
        if (pki_time_parse(bad[i], &us) != -1) {
            fail_msg("accepted '%s'", bad[i]);
        }
        assert_int_equal(us, 42);
    }
}

/* --- formatting --- */

static void test_utc(void **state)
{
    char out[PKI_TIME_MAX];
    pki_tz *utc = load(*state, "UTC"), *etc = load(*state, "Etc/UTC");

    check(utc, "2015-07-09 17:28:06+00", "2015-07-09T17:28:06Z");
    check(etc, "2026-02-15 18:05:15.400073", "2026-02-15T18:05:15.400073Z");
    check(utc, "2026-02-15 18:05:15.4", "2026-02-15T18:05:15.400000Z");
    check(utc, "1969-12-31 23:59:59.999999", "1969-12-31T23:59:59.999999Z");
    check(utc, "0001-01-01 00:00:00", "0001-01-01T00:00:00Z");
    check(utc, "9999-12-31 23:59:59.999999", "9999-12-31T23:59:59.999999Z");
    check(utc, "2100-03-01 00:00:00", "2100-03-01T00:00:00Z");
    assert_int_equal(pki_time_format(utc, -1, out), 27);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
    pki_time_format(utc, -USEC, out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    pki_time_format(utc, -USEC - 1, out);
    assert_string_equal(out, "1969-12-31T23:59:58.999999Z");
    assert_int_equal(pki_tz_offset(utc, 0), 0);
    /* The extremes do not overflow; no calendar is promised there. */
    assert_true(pki_time_format(utc, APR_INT64_MIN, out) < PKI_TIME_MAX);
    assert_true(pki_time_format(utc, APR_INT64_MAX, out) < PKI_TIME_MAX);
    assert_true(pki_time_format(load(*state, "America/New_York"), APR_INT64_MIN, out) > 0);
    assert_true(pki_time_format(load(*state, "America/New_York"), APR_INT64_MAX, out) > 0);
}

static void test_new_york(void **state)
{
    pki_tz *ny = load(*state, "America/New_York");

    check(ny, "2015-07-09 17:28:06", "2015-07-09T13:28:06-04:00");
    check(ny, "2015-07-09 17:28:06+00", "2015-07-09T13:28:06-04:00");
    check(ny, "2026-02-15 18:05:15.400073", "2026-02-15T13:05:15.400073-05:00");
    check(ny, "2026-03-08 06:59:59Z", "2026-03-08T01:59:59-05:00");
    check(ny, "2026-03-08 07:00:00Z", "2026-03-08T03:00:00-04:00");
    check(ny, "2026-11-01 05:59:59Z", "2026-11-01T01:59:59-04:00");
    check(ny, "2026-11-01 06:00:00Z", "2026-11-01T01:00:00-05:00");
    /* Past the table (2037): the footer rule. */
    check(ny, "2080-07-01 12:00:00Z", "2080-07-01T08:00:00-04:00");
    check(ny, "2080-01-15 12:00:00Z", "2080-01-15T07:00:00-05:00");
    check(ny, "2080-03-10 06:59:59Z", "2080-03-10T01:59:59-05:00");
    check(ny, "2080-03-10 07:00:00Z", "2080-03-10T03:00:00-04:00");
    check(ny, "2080-11-03 05:59:59Z", "2080-11-03T01:59:59-04:00");
    check(ny, "2080-11-03 06:00:00Z", "2080-11-03T01:00:00-05:00");
    check(ny, "9999-07-01 00:00:00Z", "9999-06-30T20:00:00-04:00");
    /* 1950s from the table; LMT (with seconds) before 1883. */
    check(ny, "1955-07-01 12:00:00", "1955-07-01T08:00:00-04:00");
    check(ny, "1955-01-01 12:00:00", "1955-01-01T07:00:00-05:00");
    check(ny, "1800-01-01 00:00:00", "1799-12-31T19:03:58-04:56:02");
    check(ny, "0001-01-01 12:00:00", "0001-01-01T07:03:58-04:56:02");
}

static void test_other_zones(void **state)
{
    apr_pool_t *p = *state;
    pki_tz *london = load(p, "Europe/London"), *kolkata = load(p, "Asia/Kolkata");
    pki_tz *lh = load(p, "Australia/Lord_Howe"), *sp = load(p, "America/Sao_Paulo");
    pki_tz *dublin = load(p, "Europe/Dublin");

    check(london, "2026-07-01 12:00:00", "2026-07-01T13:00:00+01:00");
    check(london, "2026-01-01 12:00:00", "2026-01-01T12:00:00Z");
    check(london, "2090-07-01 12:00:00", "2090-07-01T13:00:00+01:00");
    check(kolkata, "2026-01-01 12:00:00.5", "2026-01-01T17:30:00.500000+05:30");
    check(kolkata, "1850-01-01 00:00:00", "1850-01-01T05:53:28+05:53:28");
    check(lh, "2080-07-01 12:00:00", "2080-07-01T22:30:00+10:30");
    check(lh, "2080-01-01 12:00:00", "2080-01-01T23:00:00+11:00");
    check(lh, "2026-01-01 12:00:00", "2026-01-01T23:00:00+11:00");
    check(sp, "2026-01-15 12:00:00", "2026-01-15T09:00:00-03:00");
    check(sp, "2026-07-15 12:00:00", "2026-07-15T09:00:00-03:00");
    check(sp, "2090-01-15 12:00:00", "2090-01-15T09:00:00-03:00");
    check(sp, "2010-01-15 12:00:00", "2010-01-15T10:00:00-02:00");
    /* Negative DST: winter is the "daylight" time with offset zero. */
    check(dublin, "2090-01-01 12:00:00", "2090-01-01T12:00:00Z");
    check(dublin, "2090-07-01 12:00:00", "2090-07-01T13:00:00+01:00");
    check(dublin, "1900-01-01 12:00:00", "1900-01-01T11:34:39-00:25:21");
}

/* --- failures --- */

static void expect_fail(apr_pool_t *p, const char *name, const char *dir, const char *needle)
{
    pki_tz *tz = NULL;
    const char *err = NULL;

    assert_int_not_equal(pki_tz_load(&tz, p, name, dir, &err), APR_SUCCESS);
    assert_null(tz);
    assert_non_null(err);
    if (!strstr(err, needle)) {
        fail_msg("'%s': error '%s' lacks '%s'", name, err, needle);
    }
}

static void test_bad_names(void **state)
{
    apr_pool_t *p = *state;

    expect_fail(p, "../etc/passwd", NULL, "invalid time zone name");
    expect_fail(p, "America/../../etc/passwd", NULL, "invalid time zone name");
    expect_fail(p, "/etc/passwd", NULL, "invalid time zone name");
    expect_fail(p, "", NULL, "invalid time zone name");
    expect_fail(p, "Mars/Olympus_Mons", NULL, "No such file");
    expect_fail(p, "America", NULL, "unknown time zone");
    expect_fail(p, "UTC", "/nonexistent", "unknown time zone");
    /* A readable file that is not TZif. */
    expect_fail(p, "zone.tab", NULL, "not a TZif file");
}

static void test_malformed(void **state)
{
    apr_pool_t *p = *state;
    size_t len, n, v1;
    unsigned char *ny = slurp(p, "/usr/share/zoneinfo/America/New_York", &len);
    unsigned char b[4096];
    apr_int64_t at[2] = {100, 50};
    unsigned char idx[2] = {1, 0};
    apr_uint64_t seed = 88172645463325252ULL;
    int i;

    mktmp();
    put("z", "hello, world\n", 13);
    expect_fail(p, "z", tmpdir, "not a TZif file");
    put("z", "", 0);
    expect_fail(p, "z", tmpdir, "not a TZif file");
    /* Every proper prefix of a real file is truncated somewhere. */
    for (n = 4; n < len; n++) {
        put("z", ny, n);
        expect_fail(p, "z", tmpdir, "time zone 'z'");
    }
    /* Bad type index, unsorted transitions, unparsable footer. */
    put("z", b, mktzif(b, 1, at, (const unsigned char *)"\2", 0, 3600, ""));
    expect_fail(p, "z", tmpdir, "corrupt TZif transitions");
    put("z", b, mktzif(b, 2, at, idx, 0, 3600, ""));
    expect_fail(p, "z", tmpdir, "corrupt TZif transitions");
    put("z", b, mktzif(b, 0, at, idx, 0, 3600, "EST5EDT,M3.2.0"));
    expect_fail(p, "z", tmpdir, "bad TZ string");
    put("z", b, mktzif(b, 0, at, idx, 0, 3600, "E5"));
    expect_fail(p, "z", tmpdir, "bad TZ string");
    put("z", b, mktzif(b, 0, at, idx, 0, 3600, "EST5EDT,M13.1.0,M11.1.0"));
    expect_fail(p, "z", tmpdir, "bad TZ string");
    /* Random corruption must never crash; whatever loads must answer. */
    for (i = 0; i < 3000; i++) {
        pki_tz *tz = NULL;
        const char *err;
        char out[PKI_TIME_MAX];
        int k;

        memcpy(b, ny, len);
        for (k = 0; k < 1 + (int)(rnd(&seed) % 4); k++) {
            b[rnd(&seed) % len] = (unsigned char)rnd(&seed);
        }
        put("z", b, len);
        if (pki_tz_load(&tz, p, "z", tmpdir, &err) == APR_SUCCESS) {
            for (k = 0; k < 8; k++) {
                apr_int64_t us = (apr_int64_t)rnd(&seed);
                size_t w = pki_time_format(tz, us, out);

                assert_true(w < PKI_TIME_MAX);
                assert_int_equal(strlen(out), w);
            }
        }
    }
    /* A v1-only file: the first header and 32-bit data of the real file. */
    v1 = 44 + 5 * ((apr_size_t)ny[32] << 24 | ny[33] << 16 | ny[34] << 8 | ny[35]) + 6 * ny[39] +
         ny[43] + 8 * ny[31] + ny[27] + ny[23];
    memcpy(b, ny, v1);
    b[4] = 0;
    put("z", b, v1);
    {
        pki_tz *tz = NULL;
        const char *err = NULL;

        assert_int_equal(pki_tz_load(&tz, p, "z", tmpdir, &err), APR_SUCCESS);
        check(tz, "2015-07-09 17:28:06", "2015-07-09T13:28:06-04:00");
        check(tz, "1955-01-01 12:00:00", "1955-01-01T07:00:00-05:00");
    }
    /* Version 2 announced but the 64-bit part missing. */
    b[4] = '2';
    put("z", b, v1);
    expect_fail(p, "z", tmpdir, "v2+ header");
    rmtmp("z");
}

/* --- cross-checks against glibc --- */

/* What Python's isoformat() prints, built from glibc's localtime_r in zone TZ (already set). */
static void glibc_iso(apr_int64_t us, char *out)
{
    time_t t = (time_t)(us >= 0 ? us / USEC : -((-us + USEC - 1) / USEC));
    int frac = (int)(us - (apr_int64_t)t * USEC), n;
    struct tm tm;
    long off, a;

    localtime_r(&t, &tm);
    off = tm.tm_gmtoff;
    a = off < 0 ? -off : off;
    n = sprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) {
        n += sprintf(out + n, ".%06d", frac);
    }
    if (!off) {
        strcpy(out + n, "Z");
    } else {
        n += sprintf(out + n, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
        if (a % 60) {
            sprintf(out + n, ":%02ld", a % 60);
        }
    }
}

/* Compares TZ with glibc under TZ=ENV at N random instants from LO to 2100, plus hour edges. */
static void cross_check(const pki_tz *tz, const char *env, apr_int64_t lo, int n, apr_uint64_t seed)
{
    const apr_int64_t hi = APR_INT64_C(4102444800);
    char got[PKI_TIME_MAX], want[64];
    int i;

    setenv("TZ", env, 1);
    tzset();
    for (i = 0; i < n; i++) {
        apr_int64_t t = lo + (apr_int64_t)(rnd(&seed) % (apr_uint64_t)(hi - lo));
        apr_int64_t us = t * USEC + (i % 3 ? (apr_int64_t)(rnd(&seed) % USEC) : 0);
        int k;

        /* Also probe the seconds around DST changes: the hour boundaries near T. */
        for (k = 0; k < (i % 10 ? 1 : 3); k++) {
            apr_int64_t u = k == 0 ? us : (t - t % 3600 - (k == 1)) * USEC;
            pki_time_format(tz, u, got);
            glibc_iso(u, want);
            if (strcmp(got, want) != 0) {
                fail_msg("%s at %" APR_INT64_T_FMT " us: got %s, glibc %s", env, u, got, want);
            }
        }
    }
    unsetenv("TZ");
    tzset();
}

static void test_glibc_zones(void **state)
{
    static const char *zones[] = {"America/New_York",    "Europe/London",     "Asia/Kolkata",
                                  "Australia/Lord_Howe", "America/Sao_Paulo", "Europe/Dublin",
                                  "Africa/Casablanca",   "Pacific/Chatham",   "America/St_Johns",
                                  "Asia/Tehran",         "Pacific/Apia",      "America/Nuuk",
                                  "Asia/Gaza",           "Antarctica/Troll",  "UTC"};
    size_t i;

    for (i = 0; i < sizeof(zones) / sizeof(*zones); i++) {
        cross_check(load(*state, zones[i]), zones[i], APR_INT64_C(-2208988800), 400,
                    0x9E3779B97F4A7C15ULL + i);
    }
}

/* Footer rules alone (no transitions), against glibc parsing the same POSIX TZ string. */
static void test_glibc_footers(void **state)
{
    static const char *rules[] = {"EST5EDT,M3.2.0,M11.1.0",
                                  "CET-1CEST,M3.5.0,M10.5.0/3",
                                  "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
                                  "EET-2EEST,M3.4.4/50,M10.4.4/50",
                                  "EET-2EEST,M4.5.5/0,M10.5.4/24",
                                  "IST-1GMT0,M10.5.0,M3.5.0/1",
                                  "AEST-10AEDT,M10.1.0,M4.1.0/3",
                                  "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
                                  "NST3:30NDT,M3.2.0,M11.1.0",
                                  "XXX3YYY,J60/1:30,J300",
                                  "XXX-5:30YYY-7,59,300/4",
                                  "XXX+3:15:10YYY,J1/0,J365/23:59:59",
                                  "<-03>3",
                                  "<+0545>-5:45"};
    unsigned char b[256];
    size_t i;

    mktmp();
    for (i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
        pki_tz *tz = NULL;
        const char *err = NULL;

        put("f", b, mktzif(b, 0, NULL, NULL, 0, 0, rules[i]));
        if (pki_tz_load(&tz, *state, "f", tmpdir, &err) != APR_SUCCESS) {
            fail_msg("%s: %s", rules[i], err);
        }
        /* glibc evaluates POSIX rules for years before 1971 as if in 1970. */
        cross_check(tz, rules[i], APR_INT64_C(31536000), 400, 12345 + i);
    }
    rmtmp("f");
}

/* Transitions from the table, then the footer: the table wins up to its last entry. */
static void test_table_then_footer(void **state)
{
    apr_int64_t at[2] = {parsed("2000-01-01 00:00:00") / USEC,
                         parsed("2001-01-01 00:00:00") / USEC};
    unsigned char idx[2] = {1, 0}, b[256];
    pki_tz *tz = NULL;
    const char *err = NULL;

    mktmp();
    put("t", b, mktzif(b, 2, at, idx, 3600, 7200, "<+03>-3"));
    assert_int_equal(pki_tz_load(&tz, *state, "t", tmpdir, &err), APR_SUCCESS);
    assert_int_equal(pki_tz_offset(tz, at[0] - 1), 3600); /* first standard type */
    assert_int_equal(pki_tz_offset(tz, at[0]), 7200);
    assert_int_equal(pki_tz_offset(tz, at[1] - 1), 7200);
    assert_int_equal(pki_tz_offset(tz, at[1]), 3600);
    assert_int_equal(pki_tz_offset(tz, at[1] + 1), 10800);
    /* Without a footer the last type persists. */
    put("t", b, mktzif(b, 2, at, idx, 3600, 7200, ""));
    assert_int_equal(pki_tz_load(&tz, *state, "t", tmpdir, &err), APR_SUCCESS);
    assert_int_equal(pki_tz_offset(tz, at[1] + 86400 * 365 * 50), 3600);
    rmtmp("t");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_utc, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_new_york, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_other_zones, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_glibc_zones, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_glibc_footers, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_table_then_footer, pool_setup, pool_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
