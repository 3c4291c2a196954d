/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Absolute hyperlinks as DRF's reverse() builds them: base URL + prefix + route, with the
 * request's format suffix ("…/categories/1.json") and ?format= parameter carried along. */

#ifndef PKI_LINKS_H
#define PKI_LINKS_H

#include <apr_pools.h>

#include "jsonw.h"
#include "route.h"

typedef struct pki_links {
    apr_pool_t *pool;
    const char *base;   /* "https://host[:port]", no trailing slash */
    const char *prefix; /* "/api/v4/" */
    const char *suffix; /* the request's format suffix, or NULL */
    int suffix_slash;   /* pagination links keep the request's "packages.json/" */
    const char *tail;   /* after a collection or item: "/" or ".json", then "?format=…" */
    /* JSON-escaped "base + prefix + segment + '/'" per resource, and the escaped tail. */
    const char *item_head[PKI_RES_COUNT_];
    apr_size_t item_head_len[PKI_RES_COUNT_];
    const char *item_tail;
    apr_size_t item_tail_len;
} pki_links;

/* FORMAT_PARAM: the last ?format= value when the parameter is present (even empty), else NULL. */
void pki_links_init(pki_links *l, apr_pool_t *pool, const char *base, const char *prefix,
                    const char *suffix, const char *format_param);

/* Writes the item link "…/packages/26/" as a JSON string value. */
void pki_links_write_item(pki_json *j, const pki_links *l, pki_resource res, apr_int64_t id);

/* The collection link "…/packages/" (the root's entries). */
const char *pki_links_collection(const pki_links *l, pki_resource res);

/* A pagination link: the collection's path with QUERY (already encoded, keys sorted). */
const char *pki_links_page(const pki_links *l, pki_resource res, const char *query);

#endif
