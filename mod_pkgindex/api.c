/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "api.h"
#include "links.h"
#include "negotiate.h"
#include "query.h"
#include "render.h"
#include "render_html.h"
#include "route.h"
#include "search.h"

#define JSON_TYPE "application/json"

/* Every field of RESP to its default: a 200 JSON answer with an empty body of CAP bytes. */
static void init_response(pki_response *resp, apr_pool_t *pool, apr_size_t cap)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    resp->content_type = JSON_TYPE;
    pki_buf_init(&resp->body, pool, cap);
}

void pki_api_append_slash(apr_pool_t *pool, const char *path, const char *args, pki_response *resp)
{
    /* Django's APPEND_SLASH: a relative Location, the query kept, an empty body. */
    init_response(resp, pool, 1);
    resp->status = 301;
    resp->content_type = "text/html; charset=utf-8";
    resp->location = pki_append_slash_location(pool, path, args);
}

/* Answers {"detail": TEXT} with STATUS, compact or indented as negotiated. */
static void error(pki_response *resp, int status, int indent, const char *detail)
{
    pki_json j;

    resp->status = status;
    resp->content_type = JSON_TYPE;
    resp->body.len = 0;
    pki_json_init(&j, &resp->body, indent);
    pki_render_detail(&j, detail);
}

static void unavailable(pki_response *resp, int indent, const pki_db *db)
{
    resp->log = db && db->error ? db->error : "no database connection";
    error(resp, 503, indent, "Service temporarily unavailable, try again later.");
    resp->retry_after = 1;
}

/* The browsable page's numbered links, as DRF shows them: the first and last pages, and two
 * on each side of the current one, with gaps between. */
static apr_array_header_t *page_links(const pki_request *req, const pki_links *l,
                                      const pki_route *route, const pki_query *q,
                                      const pki_page_params *pp, apr_int64_t count,
                                      const char *limit)
{
    apr_array_header_t *out = apr_array_make(req->pool, 8, sizeof(pki_html_page_link));
    apr_int64_t pages, current, k, last = 0;

    if (count <= pp->limit || pp->offset >= APR_INT64_MAX / 2) {
        return out;
    }
    pages = (count + pp->limit - 1) / pp->limit;
    current = pp->offset / pp->limit + 1;
    if (pp->offset % pp->limit) {
        current++; /* between pages: DRF counts the partial one */
    }
    for (k = 1; k <= pages; k++) {
        pki_html_page_link *pl;
        if (k != 1 && k != pages && (k < current - 2 || k > current + 2)) {
            continue;
        }
        if (last && k != last + 1) {
            pl = apr_array_push(out);
            pl->number = 0;
            pl->url = NULL;
            pl->current = 0;
        }
        pl = apr_array_push(out);
        pl->number = k;
        pl->current = k == current;
        pl->url = pki_links_page(
            l, route->resource,
            pki_query_page_link(
                req->pool, q, limit,
                k == 1 ? NULL : apr_psprintf(req->pool, "%" APR_INT64_T_FMT, (k - 1) * pp->limit)));
        last = k;
    }
    return out;
}

static void get_list(const pki_request *req, pki_response *resp, pki_json *j, const pki_links *l,
                     const pki_route *route, const pki_query *q, pki_db *db)
{
    pki_page_params pp;
    pki_page page;
    const char *limit, *next = NULL, *previous = NULL;

    pki_query_page_params(q, req->pool, req->settings->page_size, req->settings->max_limit, &pp);
    if (pki_store_page(db, req->pool, route->resource, pp.limit, pp.offset, &page) != APR_SUCCESS) {
        unavailable(resp, j->indent, db);
        return;
    }
    /* DRF's get_next_link / get_previous_link, with exact arithmetic on huge offsets. */
    limit = apr_psprintf(req->pool, "%" APR_INT64_T_FMT, pp.limit);
    if (pp.offset < APR_INT64_MAX - pp.limit && pp.offset + pp.limit < page.count) {
        next = pki_links_page(l, route->resource,
                              pki_query_page_link(req->pool, q, limit,
                                                  apr_psprintf(req->pool, "%" APR_INT64_T_FMT,
                                                               pp.offset + pp.limit)));
    }
    if (pp.offset > 0) {
        const char *offset = NULL;
        if (pki_decimal_cmp(pp.offset_str, pp.limit) > 0) {
            offset = pki_decimal_sub(req->pool, pp.offset_str, pp.limit);
        }
        previous =
            pki_links_page(l, route->resource, pki_query_page_link(req->pool, q, limit, offset));
    }
    pki_render_page(j, l, req->settings->tz, route->resource, &page, next, previous);
    if (resp->html) {
        resp->next = next;
        resp->previous = previous;
        resp->pages = page_links(req, l, route, q, &pp, page.count, limit);
    }
}

static void get_detail(const pki_request *req, pki_response *resp, pki_json *j, const pki_links *l,
                       const pki_route *route, pki_db *db)
{
    apr_status_t rv;
    void *obj = NULL;

    switch (route->resource) {
    case PKI_RES_PACKAGES:
        rv = pki_store_package(db, req->pool, route, (pki_package **)&obj);
        break;
    case PKI_RES_GRIDS:
        rv = pki_store_grid(db, req->pool, route, (pki_grid **)&obj);
        break;
    default:
        rv = pki_store_category(db, req->pool, route, (pki_category **)&obj);
        break;
    }
    if (rv != APR_SUCCESS) {
        unavailable(resp, j->indent, db);
        return;
    }
    if (!obj) {
        error(resp, 404, j->indent,
              apr_pstrcat(req->pool, "No ", pki_model_name(route->resource),
                          " matches the given query.", NULL));
        return;
    }
    switch (route->resource) {
    case PKI_RES_PACKAGES:
        pki_render_package(j, l, req->settings->tz, obj);
        break;
    case PKI_RES_GRIDS:
        pki_render_grid(j, l, req->settings->tz, obj);
        break;
    default:
        pki_render_category(j, req->settings->tz, obj);
        break;
    }
}

/* ?q='s last value without the spaces around it (which search nothing, nor count toward the
 * length limit), a NUL byte read as a space; NULL when there is none. */
static const char *search_param(apr_pool_t *pool, const pki_query *q)
{
    const pki_param *params = (const pki_param *)q->params->elts;
    int i;

    for (i = q->params->nelts - 1; i >= 0; i--) {
        if (params[i].klen == 1 && params[i].key[0] == 'q') {
            const char *v = params[i].val, *end = v + params[i].vlen;
            char *out, *o;
            while (v < end && (!*v || apr_isspace(*v))) {
                v++;
            }
            while (end > v && (!end[-1] || apr_isspace(end[-1]))) {
                end--;
            }
            out = apr_pstrmemdup(pool, v, end - v);
            for (o = out; o < out + (end - v); o++) {
                *o = *o ? *o : ' ';
            }
            return out;
        }
    }
    return NULL;
}

static void get_search(const pki_request *req, pki_response *resp, pki_json *j, const char *q,
                       pki_db *db)
{
    pki_search_hit *hits;
    int n;

    if (pki_store_search(db, req->pool, q, &hits, &n) != APR_SUCCESS) {
        unavailable(resp, j->indent, db);
        return;
    }
    pki_render_search(j, req->settings->tz, hits, n);
}

static void links_for(const pki_request *req, const pki_route *route, const pki_query *q,
                      pki_links *l)
{
    pki_links_init(l, req->pool, req->base, req->prefix, route->suffix, pki_query_get(q, "format"));
    l->suffix_slash = route->suffix_slash; /* DRF's page links are the request URI's */
}

static void get(const pki_request *req, pki_response *resp, pki_json *j, const pki_route *route,
                const pki_query *q)
{
    pki_links l;
    pki_db *db;
    apr_int64_t generation = 0;
    const char *key = NULL, *body, *search = NULL;
    apr_size_t len;
    apr_status_t cached; /* whether the generation was read, for the cache */

    if (route->resource == PKI_RES_ROOT) {
        links_for(req, route, q, &l);
        pki_render_root(j, &l);
        return;
    }
    if (route->resource == PKI_RES_SEARCH) {
        search = search_param(req->pool, q);
        if (!search || !*search) {
            pki_render_search(j, req->settings->tz, NULL, 0); /* the original's [] */
            return;
        }
        if (pki_search_length(search) > PKI_SEARCH_MAX_QUERY) {
            error(resp, 400, j->indent,
                  apr_psprintf(req->pool, "Search query too long: at most %d characters.",
                               PKI_SEARCH_MAX_QUERY));
            return;
        }
    }
    /* Categories are looked up by id only: anything else is DRF's Http404. */
    if (route->detail && route->resource == PKI_RES_CATEGORIES && !route->lookup_is_id) {
        error(resp, 404, j->indent, "Not found.");
        return;
    }
    if (!(db = req->acquire(req->acquire_ctx)) || pki_store_check(db, req->pool) != APR_SUCCESS) {
        unavailable(resp, j->indent, db);
        return;
    }
    /* A hit needs only the generation (one statement); a miss reads it again inside the
     * transaction that renders, so the entry is filed under its own snapshot. */
    cached =
        req->cache && !resp->html ? pki_store_generation(db, req->pool, &generation) : APR_ENOTIMPL;
    if (cached != APR_SUCCESS && db->fault == PKI_DB_FAULT_UNAVAILABLE) {
        unavailable(resp, j->indent, db); /* with its reason, not a later statement's */
        return;
    }
    if (cached == APR_SUCCESS) {
        /* everything that shapes the bytes: the database (scope), the settings, the URL */
        key = apr_psprintf(
            req->pool, "%pp %pp %" APR_INT64_T_FMT " %" APR_INT64_T_FMT " %d\n%s\n%s\n%s\n%s",
            req->scope, req->settings->tz, req->settings->page_size, req->settings->max_limit,
            j->indent, req->base, req->prefix, req->path, req->args ? req->args : "");
        if (pki_cache_get(req->cache, req->pool, key, generation, &body, &len, &resp->etag)) {
            resp->body.data = (char *)body;
            resp->body.len = resp->body.cap = len;
            resp->cache = "hit";
            return;
        }
        resp->cache = "miss";
    }
    if (pki_store_read_begin(db, req->pool) != APR_SUCCESS ||
        (key && pki_store_generation(db, req->pool, &generation) != APR_SUCCESS)) {
        pki_store_read_end(db);
        unavailable(resp, j->indent, db);
        return;
    }
    links_for(req, route, q, &l); /* only now: a cache hit needs none */
    if (search) {
        get_search(req, resp, j, search, db);
    } else if (route->detail) {
        get_detail(req, resp, j, &l, route, db);
    } else {
        get_list(req, resp, j, &l, route, q, db);
    }
    pki_store_read_end(db);
    if (key && resp->status == 200) {
        resp->etag = pki_etag(req->pool, resp->body.data, resp->body.len);
        pki_cache_put(req->cache, key, generation, resp->body.data, resp->body.len, resp->etag);
    }
}

void pki_api_error(apr_pool_t *pool, int status, const char *reason, pki_response *resp)
{
    const char *detail;

    switch (status) {
    case 400:
        detail = "Bad request.";
        break;
    case 401:
        detail = "Authentication credentials were not provided.";
        break;
    case 403:
        detail = "You do not have permission to perform this action.";
        break;
    case 404:
        detail = "Not found.";
        break;
    case 413:
        detail = "Request body is too large.";
        break;
    case 412:
        detail = "Precondition failed.";
        break;
    case 414:
        detail = "Request URI is too long.";
        break;
    default:
        detail = apr_pstrcat(pool, reason && *reason ? reason : "Error", ".", NULL);
        break;
    }
    init_response(resp, pool, 64);
    error(resp, status, 0, detail);
}

/* Python's quote(): bytes outside the unreserved set and SAFE become %XX. With LATIN1, a byte
 * of 0x80 or more is a Latin-1 character (WSGI's QUERY_STRING), written as UTF-8 first. */
static void quote(pki_buf *b, const char *s, const char *safe, int latin1)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (apr_isalnum(c) || (c < 0x80 && strchr("_.-~", c)) || (c < 0x80 && strchr(safe, c))) {
            pki_buf_putc(b, (char)c);
        } else if (latin1 && c >= 0x80) {
            unsigned char u[2] = {(unsigned char)(0xC0 | (c >> 6)),
                                  (unsigned char)(0x80 | (c & 0x3F))};
            int i;
            for (i = 0; i < 2; i++) {
                pki_buf_putc(b, '%');
                pki_buf_putc(b, hex[u[i] >> 4]);
                pki_buf_putc(b, hex[u[i] & 15]);
            }
        } else {
            pki_buf_putc(b, '%');
            pki_buf_putc(b, hex[c >> 4]);
            pki_buf_putc(b, hex[c & 15]);
        }
    }
}

const char *pki_append_slash_location(apr_pool_t *pool, const char *path, const char *args)
{
    pki_buf b;

    pki_buf_init(&b, pool, strlen(path) + (args ? 3 * strlen(args) : 0) + 8);
    quote(&b, path, "/:@&+$,!*'()", 0);
    pki_buf_putc(&b, '/');
    if (args && *args) {
        pki_buf_putc(&b, '?');
        quote(&b, args, "/#%[]=:;$&()+,!?*@'", 1);
    }
    return pki_buf_cstr(&b);
}

/* ?format='s last value. A value holding a NUL byte names no renderer: it is returned as a
 * string that matches none, as Python compares the whole value. */
static const char *format_param(const pki_query *q)
{
    const pki_param *params = (const pki_param *)q->params->elts;
    int i;

    for (i = q->params->nelts - 1; i >= 0; i--) {
        if (params[i].klen == 6 && memcmp(params[i].key, "format", 6) == 0) {
            return params[i].vlen == strlen(params[i].val) ? params[i].val : "\x01";
        }
    }
    return NULL;
}

/* The query string with ?format= set to VALUE (other parameters kept, re-encoded). One pass
 * into one buffer: joining a new string per parameter made a long query quadratic. */
static const char *with_format(const pki_request *req, const pki_query *q, const char *value)
{
    const pki_param *p = (const pki_param *)q->params->elts;
    pki_buf b;
    int i;

    /* re-encoding mostly gives the query back: one allocation in the common case */
    pki_buf_init(&b, req->pool, (req->args ? strlen(req->args) : 0) + strlen(value) + 16);
    for (i = 0; i < q->params->nelts; i++) {
        if (strcmp(p[i].key, "format") != 0) {
            pki_query_put_quote_plus(&b, p[i].key);
            pki_buf_putc(&b, '=');
            pki_query_put_quote_plus(&b, p[i].val);
            pki_buf_putc(&b, '&');
        }
    }
    pki_buf_puts(&b, "format=");
    pki_buf_puts(&b, value);
    return pki_buf_cstr(&b);
}

static void wrap_html(const pki_request *req, pki_response *resp, const pki_route *route,
                      const pki_query *q)
{
    pki_html_page page;
    pki_buf options, html;
    pki_json oj;

    pki_buf_init(&options, req->pool, 512);
    pki_json_init(&oj, &options, 4);
    pki_render_options(&oj, route->resource, route->detail);
    memset(&page, 0, sizeof(page));
    page.name = pki_view_name(route->resource, route->detail);
    page.description = pki_view_description(route->resource);
    /* a HEAD answers with the GET's headers, Content-Length included: the same page */
    page.method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    page.target = apr_pstrcat(req->pool, req->prefix, req->path, req->args ? "?" : "",
                              req->args ? req->args : "", NULL);
    page.status = resp->status;
    page.allow = "GET, HEAD, OPTIONS";
    page.json = resp->body.data;
    page.json_len = resp->body.len;
    page.options_json = pki_buf_cstr(&options);
    page.json_url =
        apr_pstrcat(req->pool, req->prefix, req->path, "?", with_format(req, q, "json"), NULL);
    page.root_url = req->prefix;
    page.previous = resp->previous;
    page.next = resp->next;
    page.pages = resp->pages;
    if (route->resource == PKI_RES_SEARCH) {
        const char *format = format_param(q);
        page.search_action = apr_pstrcat(req->pool, req->prefix, req->path, NULL);
        page.search_q = search_param(req->pool, q);
        /* ?format=api keeps the browsable page (a .api suffix is in the action already) */
        page.search_format = format && strcmp(format, "api") == 0 ? format : NULL;
    }
    pki_buf_init(&html, req->pool, resp->body.len * 2 + 4096);
    pki_render_html(&html, &page);
    resp->body = html;
    resp->content_type = "text/html; charset=utf-8";
    resp->etag = NULL; /* made again from the page */
}

void pki_api_handle(const pki_request *req, pki_response *resp)
{
    pki_route route;
    pki_query q;
    pki_accepted acc;
    pki_json j;
    const char *format;

    /* a list page of packages is ~20 KB: no growing */
    init_response(resp, req->pool, 32768);

    switch (pki_route_match(req->pool, req->path, &route)) {
    case PKI_ROUTE_OK:
        break;
    case PKI_ROUTE_REDIRECT:
        pki_api_append_slash(
            req->pool,
            apr_pstrcat(req->pool, req->prefix, pki_route_unquote(req->pool, req->path), NULL),
            req->args, resp);
        return;
    default:
        error(resp, 404, 0, "Not found.");
        return;
    }

    if (pki_query_parse(&q, req->pool, req->args) != 0) {
        error(resp, 400, 0, "Too many query parameters.");
        return;
    }

    /* The URL suffix wins over ?format= (DRF's format_suffix or query_params.get). */
    format = route.suffix ? route.suffix : format_param(&q);
    switch (pki_negotiate(req->pool, format, req->accept, &acc)) {
    case PKI_NEG_OK:
        break;
    case PKI_NEG_BAD_FORMAT:
        error(resp, 404, 0, "Not found.");
        return;
    default:
        error(resp, 406, 0, "Could not satisfy the request Accept header.");
        return;
    }
    /* The browsable page holds the JSON indented by 4, then wraps it. */
    resp->html = acc.renderer == PKI_RENDER_API;
    pki_json_init(&j, &resp->body, resp->html ? 4 : acc.indent);
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        get(req, resp, &j, &route, &q);
    } else if (strcmp(req->method, "OPTIONS") == 0) {
        pki_render_options(&j, route.resource, route.detail);
    } else {
        error(resp, 405, j.indent,
              apr_pstrcat(req->pool, "Method \"", req->method, "\" not allowed.", NULL));
    }
    if (resp->html) {
        wrap_html(req, resp, &route, &q);
    }
    if (resp->status == 200 && !resp->etag &&
        (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)) {
        resp->etag = pki_etag(req->pool, resp->body.data, resp->body.len);
    }
}
