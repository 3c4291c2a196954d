/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The URL space under the prefix, as DRF's DefaultRouter and format_suffix_patterns match it. */

#ifndef PKI_ROUTE_H
#define PKI_ROUTE_H

#include <apr_pools.h>

typedef enum pki_resource {
    PKI_RES_ROOT = 0,
    PKI_RES_PACKAGES,
    PKI_RES_GRIDS,
    PKI_RES_CATEGORIES,
    PKI_RES_SEARCH,
    PKI_RES_COUNT_
} pki_resource;

typedef enum pki_route_status {
    PKI_ROUTE_OK = 0,
    PKI_ROUTE_NONE,    /* no route: 404 */
    PKI_ROUTE_REDIRECT /* no route, but the path with '/' appended is one: 301 */
} pki_route_status;

typedef struct pki_route {
    pki_resource resource;
    int detail;         /* an item, not the collection */
    const char *lookup; /* detail: the decoded lookup value */
    int lookup_is_id;   /* all ASCII digits */
    apr_int64_t id;     /* when lookup_is_id and it fits in 63 bits, else -1 */
    const char *suffix; /* the format of a ".json"-style suffix, or NULL */
    int suffix_slash;   /* the suffix was followed by a slash ("packages.json/") */
} pki_route;

/* The collection's path segment ("packages"), "" for the root. */
extern const char *const pki_resource_segment[PKI_RES_COUNT_];

/* Python's unquote: valid %XX become bytes, anything else stays. NULL when the result would
 * hold a NUL byte. */
char *pki_route_unquote(apr_pool_t *pool, const char *s);

/* Matches PATH, the raw (still percent-encoded) path after the prefix; NULL matches nothing.
 * A path with an encoded slash (%2F) matches nothing: a deviation, see the README. */
pki_route_status pki_route_match(apr_pool_t *pool, const char *path, pki_route *out);

#endif
