/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Shared by the libFuzzer targets: APR set up once, a pool per input, and checks that abort
 * (so libFuzzer saves the input) with a message saying which property broke. */

#ifndef PKI_FUZZ_H
#define PKI_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static apr_pool_t *fuzz_root;

/* A fresh pool for one input, a child of a root pool made on first use. */
static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;

    if (!fuzz_root) {
        if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS) {
            abort();
        }
    }
    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS) {
        abort();
    }
    return p;
}

/* DATA as a C string: it ends at the first NUL byte, as text from httpd would. */
static char *fuzz_cstr(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    return apr_pstrndup(pool, (const char *)data, size);
}

/* Whether S[0..N) is valid UTF-8 (no surrogates, no overlongs, at most U+10FFFF). */
static int fuzz_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t need, k;
        unsigned char lo = 0x80, hi = 0xBF;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c < 0xC2 || c > 0xF4) {
            return 0;
        }
        need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
        lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        for (k = 1; k <= need; k++) {
            if (i + k >= n || s[i + k] < lo || s[i + k] > hi) {
                return 0;
            }
            lo = 0x80;
            hi = 0xBF;
        }
        i += need + 1;
    }
    return 1;
}

#endif
