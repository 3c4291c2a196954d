/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The query string as Django and DRF read it: parameters, limit/offset pagination, and the
 * re-encoded query strings of pagination links and ?format= decorated hyperlinks. */

#ifndef PKI_QUERY_H
#define PKI_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "buf.h"

/* Django's DATA_UPLOAD_MAX_NUMBER_FIELDS: more parameters than this is a 400. */
#define PKI_QUERY_MAX_FIELDS 1000

/* One parameter, decoded to UTF-8 as Python's parse_qsl does. A %00 decodes to a NUL byte
 * that C strings cannot hold: KEY and VAL end at it, KLEN and VLEN count every byte. */
typedef struct pki_param {
    const char *key;
    const char *val;
    apr_size_t klen;
    apr_size_t vlen;
} pki_param;

typedef struct pki_query {
    apr_array_header_t *params; /* pki_param, in order of appearance */
    /* A copy of the raw query when it holds raw UTF-8, which Django decodes as UTF-8 in
     * QueryDict but as Latin-1 in the links it builds; NULL when both read the same. */
    const char *link_args;
} pki_query;

/* Parses RAW (r->args; NULL or "" is an empty query). Returns 0, or -1 when there are more
 * than PKI_QUERY_MAX_FIELDS parameters. */
int pki_query_parse(pki_query *q, apr_pool_t *pool, const char *raw);

/* The last value of KEY (QueryDict.get / __getitem__), or NULL when absent. */
const char *pki_query_get(const pki_query *q, const char *key);

/* Limit/offset as DRF's LimitOffsetPagination computes them. */
typedef struct pki_page_params {
    apr_int64_t limit;      /* >= 1 */
    apr_int64_t offset;     /* >= 0, saturated at APR_INT64_MAX */
    const char *offset_str; /* the exact offset in decimal, however large */
} pki_page_params;

/* DEFAULT_LIMIT is the page size; MAX_LIMIT 0 means no maximum. */
void pki_query_page_params(const pki_query *q, apr_pool_t *pool, apr_int64_t default_limit,
                           apr_int64_t max_limit, pki_page_params *out);

/* The query string (without '?') of a pagination link: every parameter re-encoded, keys
 * sorted, 'limit' set to LIMIT and 'offset' set to OFFSET, or removed when OFFSET is NULL. */
const char *pki_query_page_link(apr_pool_t *pool, const pki_query *q, const char *limit,
                                const char *offset);

/* VALUE encoded as Python's urllib.parse.quote_plus does (VALUE itself when nothing changes). */
const char *pki_query_quote_plus(apr_pool_t *pool, const char *value);

/* Appends VALUE (up to its first NUL) to B, encoded as quote_plus does. */
void pki_query_put_quote_plus(pki_buf *b, const char *value);

/* Decimal arithmetic on non-negative integers in text, for offsets beyond 64 bits:
 * A - B (callers ensure A > B). */
const char *pki_decimal_sub(apr_pool_t *pool, const char *a, apr_int64_t b);

/* Compares decimal A with B: <0, 0, >0. */
int pki_decimal_cmp(const char *a, apr_int64_t b);

#endif
