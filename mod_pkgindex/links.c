/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_strings.h>

#include "links.h"
#include "query.h"

static const char *escaped(apr_pool_t *pool, const char *s, apr_size_t *len)
{
    pki_buf b;

    pki_buf_init(&b, pool, strlen(s) + 16);
    pki_json_escape(&b, s, strlen(s));
    *len = b.len;
    return pki_buf_cstr(&b);
}

void pki_links_init(pki_links *l, apr_pool_t *pool, const char *base, const char *prefix,
                    const char *suffix, const char *format_param)
{
    int res;

    l->pool = pool;
    l->base = base;
    l->prefix = prefix;
    l->suffix = suffix;
    l->suffix_slash = 0;
    l->tail =
        apr_pstrcat(pool, suffix ? "." : "/", suffix ? suffix : "", format_param ? "?format=" : "",
                    format_param ? pki_query_quote_plus(pool, format_param) : "", NULL);
    l->item_tail = escaped(pool, l->tail, &l->item_tail_len);
    for (res = PKI_RES_PACKAGES; res < PKI_RES_COUNT_; res++) {
        l->item_head[res] =
            escaped(pool, apr_pstrcat(pool, base, prefix, pki_resource_segment[res], "/", NULL),
                    &l->item_head_len[res]);
    }
}

void pki_links_write_item(pki_json *j, const pki_links *l, pki_resource res, apr_int64_t id)
{
    pki_json_value_begin(j);
    pki_buf_putc(j->out, '"');
    pki_buf_put(j->out, l->item_head[res], l->item_head_len[res]);
    pki_buf_put_int(j->out, id);
    pki_buf_put(j->out, l->item_tail, l->item_tail_len);
    pki_buf_putc(j->out, '"');
}

const char *pki_links_collection(const pki_links *l, pki_resource res)
{
    return apr_pstrcat(l->pool, l->base, l->prefix, pki_resource_segment[res], l->tail, NULL);
}

const char *pki_links_page(const pki_links *l, pki_resource res, const char *query)
{
    const char *seg = pki_resource_segment[res];

    if (l->suffix) {
        return apr_pstrcat(l->pool, l->base, l->prefix, seg, ".", l->suffix,
                           l->suffix_slash ? "/?" : "?", query, NULL);
    }
    return apr_pstrcat(l->pool, l->base, l->prefix, seg, *seg ? "/" : "", "?", query, NULL);
}
