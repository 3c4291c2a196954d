/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* tz.c: the first byte picks what the rest is.
 *   0: a whole TZif file, loaded through pki_tz_load (its entry point) from a temporary
 *      directory;
 *   1: a POSIX TZ string, made the footer of a minimal TZif v2 file without transitions, so
 *      that the footer rules (tzs_parse, footer_offset) get every input;
 *   2: a datetime as stored or as records carry it, for pki_time_parse.
 * A zone that loads is asked for offsets and formats datetimes; what it formats must parse
 * back to the same instant. */

#include <unistd.h>

#include "fuzz.h"
#include "tz.h"

#define USEC       APR_INT64_C(1000000)
#define MAX_OFFSET (26 * 3600)               /* RFC 8536: offsets within +-26 h */
#define YEAR_1     APR_INT64_C(-62135596800) /* 0001-01-01T00:00:00Z, in seconds */
#define YEAR_10000 APR_INT64_C(253402300800) /* 10000-01-01T00:00:00Z */

static char dir[64];

static void remove_dir(void)
{
    char path[80];

    snprintf(path, sizeof(path), "%s/z", dir);
    unlink(path);
    rmdir(dir);
}

static void put_file(const void *data, size_t size)
{
    char path[80];
    FILE *f;

    if (!*dir) {
        /* in memory where there is a tmpfs: a file is written for every input */
        strcpy(dir,
               access("/dev/shm", W_OK) == 0 ? "/dev/shm/fuzz_tz.XXXXXX" : "/tmp/fuzz_tz.XXXXXX");
        if (!mkdtemp(dir)) {
            abort();
        }
        atexit(remove_dir);
    }
    snprintf(path, sizeof(path), "%s/z", dir);
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        abort();
    }
}

static void be32(unsigned char *p, apr_uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A TZif v2 file: one UTC type in both blocks, no transitions, FOOTER. */
static size_t tzif_with_footer(apr_pool_t *pool, const char *footer, unsigned char **out)
{
    size_t n = strlen(footer), len = 0;
    unsigned char *b = apr_pcalloc(pool, 2 * (44 + 6 + 1) + n + 2);
    int pass;

    for (pass = 0; pass < 2; pass++) {
        memcpy(b + len, "TZif2", 5);
        be32(b + len + 20 + 4 * 4, 1); /* typecnt */
        be32(b + len + 20 + 4 * 5, 1); /* charcnt */
        len += 44 + 6 + 1;             /* the type (utoff 0, isdst 0, idx 0), its "" */
    }
    b[len++] = '\n';
    memcpy(b + len, footer, n);
    len += n;
    b[len++] = '\n';
    *out = b;
    return len;
}

/* Formats USEC in TZ and checks the text against its instant. */
static void check_format(const pki_tz *tz, apr_int64_t usec)
{
    char out[PKI_TIME_MAX];
    apr_int64_t back = 0, secs;
    apr_size_t n;
    int off;

    n = pki_time_format(tz, usec, out);
    FUZZ_CHECK(n < PKI_TIME_MAX && n == strlen(out));
    secs = usec / USEC - (usec % USEC < 0);
    off = pki_tz_offset(tz, secs);
    FUZZ_CHECK(off > -MAX_OFFSET && off < MAX_OFFSET);
    /* the local date is within years 1..9999 and the offset within a day (Python's datetime):
     * it reads back */
    if (secs + off >= YEAR_1 && secs + off < YEAR_10000 && off > -86400 && off < 86400) {
        if (pki_time_parse(out, &back) != 0 || back != usec) {
            fprintf(stderr,
                    "%" APR_INT64_T_FMT " formats as %s, which reads back as %" APR_INT64_T_FMT
                    "\n",
                    usec, out, back);
            abort();
        }
    }
    /* what the store writes, for the instants it holds */
    if (usec >= PKI_TIME_FIRST && usec <= PKI_TIME_LAST) {
        n = pki_time_format_sql(usec, out);
        FUZZ_CHECK(n < PKI_TIME_MAX && n == strlen(out));
        FUZZ_CHECK(pki_time_parse(out, &back) == 0 && back == usec);
    }
}

static apr_int64_t bytes64(const uint8_t *p)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return (apr_int64_t)v;
}

static void check_zone(const pki_tz *tz, const uint8_t *data, size_t size)
{
    static const apr_int64_t instants[] = {YEAR_1,
                                           -2208988800 /* 1900 */,
                                           -1,
                                           0,
                                           1,
                                           951782400 /* 2000-02-29 */,
                                           1710054000,
                                           1710057600 /* around 2024's US DST start */,
                                           2147483647,
                                           4102444800,
                                           YEAR_10000 - 86401};
    size_t i;

    for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        check_format(tz, instants[i] * USEC);
        check_format(tz, instants[i] * USEC + 999999);
    }
    /* instants from the input, kept within the years the module formats */
    for (i = 0; i + 8 <= size && i < 64; i += 8) {
        apr_int64_t t = bytes64(data + i) % (YEAR_10000 - YEAR_1 - 2 * 86400);
        check_format(tz, (YEAR_1 + 86400 + (t < 0 ? -t : t)) * USEC + 123456);
    }
    (void)pki_tz_offset(tz, APR_INT64_MIN);
    (void)pki_tz_offset(tz, APR_INT64_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    const char *err = NULL;
    unsigned char *file;
    apr_int64_t usec, back;
    pki_tz *tz = NULL;
    size_t len;

    if (size < 1) {
        return 0;
    }
    pool = fuzz_pool();
    switch (data[0] % 3) {
    case 0:
        put_file(data + 1, size - 1);
        if (pki_tz_load(&tz, pool, "z", dir, &err) == APR_SUCCESS) {
            check_zone(tz, data + 1, size - 1);
        } else {
            FUZZ_CHECK(err && *err);
        }
        break;
    case 1:
        len = tzif_with_footer(pool, fuzz_cstr(pool, data + 1, size - 1), &file);
        put_file(file, len);
        if (pki_tz_load(&tz, pool, "z", dir, &err) == APR_SUCCESS) {
            check_zone(tz, data + 1, size - 1);
        } else {
            FUZZ_CHECK(err && *err);
        }
        break;
    default:
        if (pki_time_parse(fuzz_cstr(pool, data + 1, size - 1), &usec) == 0) {
            char out[PKI_TIME_MAX];
            /* a valid datetime with an offset can leave years 1..9999 in UTC */
            if (usec >= PKI_TIME_FIRST && usec <= PKI_TIME_LAST) {
                pki_time_format_sql(usec, out);
                FUZZ_CHECK(pki_time_parse(out, &back) == 0 && back == usec);
            }
        }
        break;
    }
    apr_pool_destroy(pool);
    return 0;
}
