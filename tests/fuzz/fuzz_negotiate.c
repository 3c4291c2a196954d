/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* negotiate.c: the first byte says which of format and Accept are present (bit 0: a format,
 * bit 1: an Accept header); the rest is the format, a newline, then the Accept header. */

#include "fuzz.h"
#include "negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    const char *format = NULL, *accept = NULL;
    char *text, *nl;
    pki_accepted acc;
    pki_negotiation res;

    if (size < 1) {
        return 0;
    }
    pool = fuzz_pool();
    text = fuzz_cstr(pool, data + 1, size - 1);
    nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
    }
    if (data[0] & 1) {
        format = text;
    }
    if (data[0] & 2) {
        accept = nl ? nl + 1 : text;
    }
    res = pki_negotiate(pool, format, accept, &acc);
    FUZZ_CHECK(res == PKI_NEG_OK || res == PKI_NEG_BAD_FORMAT || res == PKI_NEG_NOT_ACCEPTABLE);
    if (res == PKI_NEG_OK) {
        FUZZ_CHECK(acc.renderer == PKI_RENDER_JSON || acc.renderer == PKI_RENDER_API);
        FUZZ_CHECK(acc.indent >= 0 && acc.indent <= 8);
        FUZZ_CHECK(acc.renderer == PKI_RENDER_JSON || acc.indent == 0);
        if (format && *format) {
            FUZZ_CHECK(acc.renderer == (strcmp(format, "api") ? PKI_RENDER_JSON : PKI_RENDER_API));
        }
    }
    if (res == PKI_NEG_BAD_FORMAT) {
        FUZZ_CHECK(format && strcmp(format, "json") && strcmp(format, "api"));
    } else if (format && *format) {
        FUZZ_CHECK(!strcmp(format, "json") || !strcmp(format, "api"));
    }
    /* no header accepts anything, an empty one nothing */
    if (!accept && res != PKI_NEG_BAD_FORMAT) {
        FUZZ_CHECK(res == PKI_NEG_OK);
    }
    if (accept && !*accept) {
        FUZZ_CHECK(res != PKI_NEG_OK);
    }
    apr_pool_destroy(pool);
    return 0;
}
