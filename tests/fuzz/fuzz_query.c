/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* query.c: the input is the raw query string (r->args). Parses it, reads the pagination
 * parameters as a list view does, builds its next/previous links, and checks that a link
 * parses back to the same parameters. */

#include "fuzz.h"
#include "query.h"

static int digits_only(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

/* What quote_plus may write. */
static int link_chars(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_.-~%+=&", *s))) {
            return 0;
        }
    }
    return 1;
}

static int is_key(const pki_param *p, const char *key)
{
    return p->klen == strlen(key) && !memcmp(p->key, key, p->klen);
}

typedef struct ordered {
    const pki_param *p;
    int order;
} ordered;

static int compare_ordered(const void *a, const void *b)
{
    const ordered *x = a, *y = b;
    size_t n = x->p->klen < y->p->klen ? x->p->klen : y->p->klen;
    int c = memcmp(x->p->key, y->p->key, n);

    if (c) {
        return c;
    }
    if (x->p->klen != y->p->klen) {
        return x->p->klen < y->p->klen ? -1 : 1;
    }
    return x->order - y->order;
}

/* LINK (no limit/offset of its own beyond LIMIT and OFFSET) holds Q's other parameters,
 * sorted by key, byte for byte. */
static void check_link(apr_pool_t *pool, const pki_query *q, const char *link, const char *limit,
                       const char *offset)
{
    const pki_param *p = (const pki_param *)q->params->elts, *lp;
    ordered *want = apr_palloc(pool, sizeof(*want) * (q->params->nelts + 1));
    pki_query back;
    int i, n = 0, k = 0, seen_limit = 0, seen_offset = 0;

    FUZZ_CHECK(link_chars(link));
    FUZZ_CHECK(pki_query_parse(&back, pool, link) == 0);
    for (i = 0; i < q->params->nelts; i++) {
        if (!is_key(&p[i], "limit") && !is_key(&p[i], "offset")) {
            want[n].p = &p[i];
            want[n].order = n;
            n++;
        }
    }
    qsort(want, n, sizeof(*want), compare_ordered);
    lp = (const pki_param *)back.params->elts;
    FUZZ_CHECK(back.params->nelts == n + (limit != NULL) + (offset != NULL));
    for (i = 0; i < back.params->nelts; i++) {
        if (is_key(&lp[i], "limit")) {
            FUZZ_CHECK(limit && !strcmp(lp[i].val, limit) && !seen_limit++);
        } else if (is_key(&lp[i], "offset")) {
            FUZZ_CHECK(offset && !strcmp(lp[i].val, offset) && !seen_offset++);
        } else if (!q->link_args) {
            /* raw UTF-8 reads as Latin-1 in links (link_args): other bytes, same count */
            FUZZ_CHECK(k < n);
            FUZZ_CHECK(lp[i].klen == want[k].p->klen && lp[i].vlen == want[k].p->vlen);
            FUZZ_CHECK(!memcmp(lp[i].key, want[k].p->key, lp[i].klen));
            FUZZ_CHECK(!memcmp(lp[i].val, want[k].p->val, lp[i].vlen));
            k++;
        }
    }
}

static void pages(apr_pool_t *pool, const pki_query *q, apr_int64_t max_limit)
{
    pki_page_params pp;
    const char *limit, *link;

    pki_query_page_params(q, pool, 20, max_limit, &pp);
    FUZZ_CHECK(pp.limit >= 1 && pp.offset >= 0);
    FUZZ_CHECK(!max_limit || pp.limit <= max_limit);
    FUZZ_CHECK(digits_only(pp.offset_str) && (pp.offset_str[0] != '0' || !pp.offset_str[1]));
    if (pp.offset < APR_INT64_MAX) {
        FUZZ_CHECK(pki_decimal_cmp(pp.offset_str, pp.offset) == 0);
    } else {
        FUZZ_CHECK(pki_decimal_cmp(pp.offset_str, APR_INT64_MAX - 1) > 0);
    }
    limit = apr_psprintf(pool, "%" APR_INT64_T_FMT, pp.limit);
    /* next, as get_list builds it */
    if (pp.offset < APR_INT64_MAX - pp.limit) {
        const char *next = apr_psprintf(pool, "%" APR_INT64_T_FMT, pp.offset + pp.limit);
        link = pki_query_page_link(pool, q, limit, next);
        check_link(pool, q, link, limit, next);
    }
    /* previous */
    if (pp.offset > 0) {
        const char *offset = NULL;
        if (pki_decimal_cmp(pp.offset_str, pp.limit) > 0) {
            offset = pki_decimal_sub(pool, pp.offset_str, pp.limit);
            FUZZ_CHECK(digits_only(offset) && offset[0] != '0');
            if (pp.offset < APR_INT64_MAX) {
                FUZZ_CHECK(pki_decimal_cmp(offset, pp.offset - pp.limit) == 0);
            }
        }
        link = pki_query_page_link(pool, q, limit, offset);
        check_link(pool, q, link, limit, offset);
    }
    /* the first page of the browsable API's page links */
    check_link(pool, q, pki_query_page_link(pool, q, limit, NULL), limit, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *raw = fuzz_cstr(pool, data, size);
    const pki_param *p;
    pki_query q;
    int i;

    if (pki_query_parse(&q, pool, raw) != 0) {
        const char *s;
        int amps = 0;
        for (s = raw; *s; s++) {
            amps += *s == '&';
        }
        FUZZ_CHECK(amps >= PKI_QUERY_MAX_FIELDS);
        apr_pool_destroy(pool);
        return 0;
    }
    p = (const pki_param *)q.params->elts;
    for (i = 0; i < q.params->nelts; i++) {
        /* the strings end at their length; a %00 inside ends them early */
        FUZZ_CHECK(p[i].key[p[i].klen] == '\0' && strlen(p[i].key) <= p[i].klen);
        FUZZ_CHECK(p[i].val[p[i].vlen] == '\0' && strlen(p[i].val) <= p[i].vlen);
        FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)p[i].key, p[i].klen));
        FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)p[i].val, p[i].vlen));
        FUZZ_CHECK(link_chars(pki_query_quote_plus(pool, p[i].key)));
        FUZZ_CHECK(link_chars(pki_query_quote_plus(pool, p[i].val)));
    }
    (void)pki_query_get(&q, "format");
    (void)pki_query_get(&q, "q");
    pages(pool, &q, 0);
    pages(pool, &q, 50);
    apr_pool_destroy(pool);
    return 0;
}
