/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* route.c: the input is the raw path after the prefix, as pki_api_handle passes it. */

#include <apr_lib.h>

#include "fuzz.h"
#include "route.h"

static int only(const char *s, const char *set_lo, const char *set_hi)
{
    for (; *s; s++) {
        if (!((*s >= set_lo[0] && *s <= set_hi[0]) || (*s >= set_lo[1] && *s <= set_hi[1]))) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *path = fuzz_cstr(pool, data, size);
    const char *plain = pki_route_unquote(pool, path);
    pki_route r;
    pki_route_status st;

    /* unquoting never grows the text */
    FUZZ_CHECK(!plain || strlen(plain) <= strlen(path));
    st = pki_route_match(pool, path, &r);
    FUZZ_CHECK(st == PKI_ROUTE_OK || st == PKI_ROUTE_NONE || st == PKI_ROUTE_REDIRECT);
    if (st != PKI_ROUTE_NONE) {
        FUZZ_CHECK(plain != NULL);
        FUZZ_CHECK(!strstr(path, "%2F") && !strstr(path, "%2f"));
    }
    if (st == PKI_ROUTE_OK) {
        FUZZ_CHECK(r.resource >= PKI_RES_ROOT && r.resource < PKI_RES_COUNT_);
        FUZZ_CHECK(!r.suffix || (*r.suffix && only(r.suffix, "a0", "z9")));
        FUZZ_CHECK(!r.suffix_slash || r.suffix);
        if (r.detail) {
            FUZZ_CHECK(r.resource != PKI_RES_ROOT && r.resource != PKI_RES_SEARCH);
            FUZZ_CHECK(r.lookup && *r.lookup && !strpbrk(r.lookup, "/."));
            FUZZ_CHECK(r.lookup_is_id == only(r.lookup, "00", "99"));
            if (r.lookup_is_id && r.id >= 0) {
                FUZZ_CHECK(apr_strtoi64(r.lookup, NULL, 10) == r.id);
            } else {
                FUZZ_CHECK(r.id == -1);
            }
        } else {
            FUZZ_CHECK(!r.lookup && r.id == -1);
        }
    }
    if (st == PKI_ROUTE_REDIRECT) {
        /* the path with a slash is a route */
        pki_route again;
        FUZZ_CHECK(*plain && plain[strlen(plain) - 1] != '/');
        FUZZ_CHECK(pki_route_match(pool, apr_pstrcat(pool, path, "/", NULL), &again) ==
                   PKI_ROUTE_OK);
    }
    apr_pool_destroy(pool);
    return 0;
}
