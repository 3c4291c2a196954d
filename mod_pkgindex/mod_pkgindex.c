/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* mod_pkgindex: the Django Packages REST API v4 from a SQL database through mod_dbd.
 *
 * The glue only: claim the prefix early so httpd skips its URL decoding and filesystem walk,
 * give every response under it the API's Allow and Vary, describe the request to the core
 * (api.c), and send what it answers as one brigade. */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_dbd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include <mod_dbd.h>

#include "api.h"
#include "cache.h"
#include "config.h"
#include "errlog.h"

#define HANDLER_NAME "pkgindex"
#define ALLOW        "GET, HEAD, OPTIONS"
#define CACHE_NOTE   "pkgindex-cache"

/* The prefix a request was claimed for, kept in r->request_config. */
typedef struct pki_claim {
    const char *prefix;
    int bare;         /* the prefix without its trailing slash: redirect */
    const char *path; /* after the prefix, as sent; NULL when what was sent is not under it */
} pki_claim;

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;

/* This process's rendered responses (created in child_init; NULL when off). */
static pki_cache *cache;

/* The 503s of this process: an outage answers thousands a second, each with the same reason.
 * The first is logged, then one line a second at most, with the count of those left out. */
#define UNAVAILABLE_LOG_INTERVAL apr_time_from_sec(1)
static pki_throttle unavailable_log;

/* The request's claim; one with a NULL prefix records a URI PkgIndex Off left alone. */
static pki_claim *claim_of(request_rec *r)
{
    pki_claim *c = ap_get_module_config(r->request_config, &pkgindex_module);

    return c && c->prefix ? c : NULL;
}

/* The longest claimed prefix URI falls under, or NULL; *BARE is set for the prefix without
 * its slash. */
static const char *claimed_prefix(request_rec *r, const char *uri, int *bare)
{
    pki_server_conf *sconf = ap_get_module_config(r->server->module_config, &pkgindex_module);
    const char **prefixes = (const char **)sconf->prefixes->elts, *best = NULL;
    apr_size_t best_len = 0;
    int i;

    *bare = 0;
    if (!uri || uri[0] != '/') {
        return NULL;
    }
    for (i = 0; i < sconf->prefixes->nelts; i++) {
        apr_size_t n = strlen(prefixes[i]);
        int is_bare = strncmp(uri, prefixes[i], n - 1) == 0 && uri[n - 1] == '\0';
        if ((is_bare || strncmp(uri, prefixes[i], n) == 0) && n > best_len) {
            best = prefixes[i];
            best_len = n;
            *bare = is_bare;
        }
    }
    return best;
}

/* The path as the client sent it, without the query: Django routes on that, while httpd
 * merges '//' and resolves dot segments in r->uri. */
static const char *sent_path(request_rec *r)
{
    const char *u = r->unparsed_uri, *p;

    if (u && *u != '/') { /* absolute form: scheme://authority/path */
        p = u ? strstr(u, "://") : NULL;
        u = p ? strchr(p + 3, '/') : NULL;
    }
    return u ? apr_pstrmemdup(r->pool, u, strcspn(u, "?#")) : NULL;
}

static pki_claim *make_claim(request_rec *r, const char *prefix, int bare, const char *path)
{
    pki_claim *c = apr_palloc(r->pool, sizeof(*c));
    apr_size_t n = strlen(prefix);

    c->prefix = prefix;
    c->bare = bare;
    c->path = path && strncmp(path, prefix, n) == 0 ? path + n : NULL;
    ap_set_module_config(r->request_config, &pkgindex_module, c);
    return c;
}

/* httpd answers a path with a malformed escape ("%zz") with its own HTML 400 before any
 * hook sees it. Django keeps such text literally: under the prefix, escape the stray '%'
 * ("%25zz") so httpd lets the request through; the route reads the path as sent. */
static int post_read_request(request_rec *r)
{
    const char *path = r->parsed_uri.path, *p;
    char *fixed, *o;
    int bare, bad = 0;

    if (r->main || !path || !ap_strchr_c(path, '%') || !claimed_prefix(r, path, &bare)) {
        return DECLINED;
    }
    for (p = path; (p = ap_strchr_c(p, '%')); p++) {
        bad += !(apr_isxdigit(p[1]) && apr_isxdigit(p[2]));
    }
    if (!bad) {
        return DECLINED;
    }
    fixed = o = apr_palloc(r->pool, strlen(path) + 2 * bad + 1);
    for (p = path; *p; p++) {
        *o++ = *p;
        if (*p == '%' && !(apr_isxdigit(p[1]) && apr_isxdigit(p[2]))) {
            *o++ = '2';
            *o++ = '5';
        }
    }
    *o = '\0';
    r->parsed_uri.path = fixed;
    r->uri = fixed;
    return DECLINED;
}

/* Before httpd decodes the URI (the location walk has run): a request under a prefix whose
 * location has PkgIndex On is ours, undecoded, so that escapes such as %00 reach the API's
 * own 404 instead of httpd's HTML 400/404. Runs after other modules' hooks (mod_proxy). */
static int pre_translate(request_rec *r)
{
    pki_dir_conf *conf = ap_get_module_config(r->per_dir_config, &pkgindex_module);
    const char *prefix;
    int bare;

    if (r->main || !(prefix = claimed_prefix(r, r->uri, &bare))) {
        return DECLINED;
    }
    if (!bare && conf->enabled != 1) {
        pki_claim *off = apr_pcalloc(r->pool, sizeof(*off));
        off->path = r->uri;
        ap_set_module_config(r->request_config, &pkgindex_module, off);
        return DECLINED;
    }
    make_claim(r, prefix, bare, sent_path(r));
    return DONE;
}

/* After mod_alias, mod_rewrite and mod_proxy had their say: a URI they rewrote into the
 * prefix ([PT]) is claimed here, one they mapped elsewhere is theirs. */
static int translate(request_rec *r)
{
    pki_claim *c = claim_of(r);
    const char *prefix;
    int bare;

    if (!c && !r->main && (prefix = claimed_prefix(r, r->uri, &bare))) {
        pki_claim *off = ap_get_module_config(r->request_config, &pkgindex_module);
        if (off && strcmp(off->path, r->uri) == 0) {
            return DECLINED; /* PkgIndex Off there, and not rewritten since */
        }
        c = make_claim(r, prefix, bare, r->uri);
    }
    if (!c) {
        return DECLINED;
    }
    /* No path, no extension: nothing for mod_mime to map to a handler or a language. */
    r->filename = apr_pstrdup(r->pool, HANDLER_NAME ":");
    r->handler = HANDLER_NAME;
    return OK;
}

/* No file behind the API: skip the directory walk and its .htaccess probes. */
static int map_to_storage(request_rec *r)
{
    return claim_of(r) && r->handler && strcmp(r->handler, HANDLER_NAME) == 0 ? OK : DECLINED;
}

/* After the location walk, before authentication: so Allow and Vary also reach httpd's own
 * responses (401, 413, ...), not only the module's. */
static int header_parser(request_rec *r)
{
    pki_claim *claim = claim_of(r);

    if (claim && !claim->bare) {
        apr_table_setn(r->err_headers_out, "Allow", ALLOW);
        apr_table_mergen(r->err_headers_out, "Vary", "Accept");
    }
    return DECLINED;
}

/* Logs why the database failed, unless a line went out less than a second ago. */
static void log_unavailable(request_rec *r, const char *why)
{
    pki_server_conf *sconf = ap_get_module_config(r->server->module_config, &pkgindex_module);
    const char *db = sconf->dbd_params ? sconf->dbd_params : "DBDParams unknown";
    apr_uint32_t more;
    apr_time_t since;

    if (!pki_throttle_hit(&unavailable_log, apr_time_now(), UNAVAILABLE_LOG_INTERVAL, &more,
                          &since)) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  APLOGNO(19001) "PkgIndex: database unavailable (%s): %s%s", db, why,
                  more ? apr_psprintf(r->pool, " (%u more 503s in the last %" APR_TIME_T_FMT "s)",
                                      more, apr_time_sec(since))
                       : "");
}

/* While mod_dbd cannot open a connection (the database is missing or unreadable), each try
 * costs a failed open and two lines in the error log: a process then tries once a second at
 * most, and answers 503 (Retry-After: 1) in between. */
#define ACQUIRE_RETRY_INTERVAL apr_time_from_sec(1)

static pki_db *acquire(void *ctx)
{
    request_rec *r = ctx;
    pki_server_conf *sconf = ap_get_module_config(r->server->module_config, &pkgindex_module);
    pki_throttle *gate = &sconf->acquire_gate;
    int failing = apr_atomic_read64(&gate->last) != 0;
    apr_uint32_t more;
    apr_time_t since;
    ap_dbd_t *dbd;
    pki_db *db;

    /* while it fails, one request a second tries again (the rest are counted, not used) */
    if (failing && !pki_throttle_hit(gate, apr_time_now(), ACQUIRE_RETRY_INTERVAL, &more, &since)) {
        return NULL;
    }
    if (!dbd_acquire || !(dbd = dbd_acquire(r))) {
        apr_atomic_set64(&gate->last, (apr_uint64_t)apr_time_now());
        return NULL;
    }
    if (failing) {
        apr_atomic_set64(&gate->last, 0);
    }
    db = apr_palloc(r->pool, sizeof(*db));
    if (pki_store_attach(db, dbd->pool, apr_dbd_name(dbd->driver),
                         apr_dbd_native_handle(dbd->driver, dbd->handle)) != APR_SUCCESS) {
        log_unavailable(r, db->error);
        return NULL;
    }
    return db;
}

/* Absolute links use PkgIndexBaseURL, else the request's scheme and Host, as Django does;
 * without a Host header (HTTP/1.0), the server's name and the port the request came in on. */
static const char *base_url(request_rec *r, const pki_dir_conf *conf)
{
    const char *host, *scheme = ap_run_http_scheme(r);
    apr_port_t port = r->connection->local_addr->port;

    if (conf->base_url) {
        return conf->base_url;
    }
    host = apr_table_get(r->headers_in, "Host");
    if (host && *host) {
        return apr_pstrcat(r->pool, scheme, "://", host, NULL);
    }
    if (ap_is_default_port(port, r)) {
        return apr_pstrcat(r->pool, scheme, "://", ap_get_server_name_for_url(r), NULL);
    }
    return apr_psprintf(r->pool, "%s://%s:%u", scheme, ap_get_server_name_for_url(r), port);
}

/* mod_deflate (DeflateAlterETag AddSuffix, its default) sends the tag "T" of a response it
 * compresses as "T-gzip", and leaves If-None-Match and If-Match as they come: a client sending
 * "T-gzip" back would never get a 304 (httpd bug 45023). The suffixed tag names the same body
 * here, so it is read as ETAG. Returns it when If-None-Match had it (the tag of a 304), else
 * NULL. */
#define DEFLATE_ETAG_SUFFIX "-gzip"

static const char *accept_deflate_etag(request_rec *r, const char *etag)
{
    const char *inm = apr_table_get(r->headers_in, "If-None-Match");
    const char *im = apr_table_get(r->headers_in, "If-Match");
    apr_size_t n = strlen(etag);
    const char *gzip;

    if (!inm && !im) {
        return NULL;
    }
    assert(n >= 2 && etag[0] == '"' && etag[n - 1] == '"');
    gzip = apr_psprintf(r->pool, "%.*s" DEFLATE_ETAG_SUFFIX "\"", (int)(n - 1), etag);
    if (im && ap_find_etag_strong(r->pool, im, gzip)) {
        apr_table_setn(r->headers_in, "If-Match", etag);
    }
    if (inm && ap_find_etag_weak(r->pool, inm, gzip)) {
        apr_table_setn(r->headers_in, "If-None-Match", etag);
        return gzip;
    }
    return NULL;
}

static int send_body(request_rec *r, const char *data, apr_size_t len, int with_length)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    if (with_length) {
        ap_set_content_length(r, len);
    }
    if (len) {
        APR_BRIGADE_INSERT_TAIL(
            bb, apr_bucket_pool_create(data, len, r->pool, r->connection->bucket_alloc));
    }
    /* Flush now: left in the core output filter, a small response goes out only after the
     * connection has made a round trip through the event MPM's listener (measured: half the
     * throughput on 1 KB responses). */
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

static int handler(request_rec *r)
{
    pki_claim *claim = claim_of(r);
    pki_dir_conf *conf;
    pki_settings settings;
    pki_request req;
    pki_response resp;
    const char *redirected;
    int rv;

    if (!claim || !r->handler || strcmp(r->handler, HANDLER_NAME) != 0) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &pkgindex_module);
    if (!claim->bare && conf->enabled != 1) {
        return DECLINED;
    }
    /* A stray body must not be read as the next request. */
    if ((rv = ap_discard_request_body(r)) != OK) {
        return rv;
    }

    if (r->prev && (redirected = apr_table_get(r->subprocess_env, "REDIRECT_STATUS")) &&
        atoi(redirected) >= 400) {
        /* ErrorDocument pointing into the API: httpd's own error, in JSON. */
        int status = atoi(redirected);
        const char *line = ap_get_status_line(status);
        pki_api_error(r->pool, status, line && strlen(line) > 4 ? line + 4 : NULL, &resp);
    } else if (claim->bare) {
        /* "/api/v4" is the root without its slash: APPEND_SLASH, as for every route. */
        pki_api_append_slash(r->pool,
                             apr_pstrndup(r->pool, claim->prefix, strlen(claim->prefix) - 1),
                             r->args, &resp);
    } else {
        pki_config_settings(conf, &settings);
        req.pool = r->pool;
        req.method = r->method;
        req.prefix = claim->prefix;
        req.path = claim->path;
        req.args = r->args;
        req.accept = apr_table_get(r->headers_in, "Accept");
        req.base = base_url(r, conf);
        req.settings = &settings;
        req.acquire = acquire;
        req.acquire_ctx = r;
        req.cache = cache;
        req.scope = r->server; /* DBDParams are per virtual host */
        pki_api_handle(&req, &resp);
    }

    if (resp.cache) {
        /* for the access log: LogFormat "... %{pkgindex-cache}n" */
        apr_table_setn(r->notes, CACHE_NOTE, resp.cache);
    }
    if (resp.log) {
        log_unavailable(r, resp.log);
    }
    r->status = resp.status;
    if (resp.location) {
        /* Django's redirect carries neither Allow nor Vary. */
        apr_table_unset(r->err_headers_out, "Allow");
        apr_table_unset(r->err_headers_out, "Vary");
        apr_table_setn(r->headers_out, "Location", resp.location);
    }
    if (resp.retry_after) {
        apr_table_setn(r->headers_out, "Retry-After", apr_itoa(r->pool, resp.retry_after));
    }
    if (resp.content_type) {
        ap_set_content_type(r, resp.content_type);
    }
    /* whatever mod_mime may have concluded: the API's answers have neither */
    r->content_languages = NULL;
    r->content_encoding = NULL;
    if (resp.etag) {
        const char *gzip_etag;

        /* conditional requests: 304 for If-None-Match, 412 for a failed If-Match */
        apr_table_setn(r->headers_out, "ETag", resp.etag);
        /* no Last-Modified: date preconditions do not apply (RFC 9110 13.1.3, 13.1.4), and
         * httpd would compare them with the current time */
        apr_table_unset(r->headers_in, "If-Modified-Since");
        apr_table_unset(r->headers_in, "If-Unmodified-Since");
        gzip_etag = accept_deflate_etag(r, resp.etag);
        rv = ap_meets_conditions(r);
        if (rv == HTTP_NOT_MODIFIED) {
            r->status = HTTP_NOT_MODIFIED;
            if (gzip_etag) {
                /* mod_deflate leaves a body-less 304 alone: say what its 200 would */
                apr_table_setn(r->headers_out, "ETag", gzip_etag);
                apr_table_mergen(r->headers_out, "Vary", "Accept-Encoding");
            }
            return send_body(r, NULL, 0, 0);
        }
        if (rv != OK) {
            pki_api_error(r->pool, rv, NULL, &resp);
            apr_table_unset(r->headers_out, "ETag");
            r->status = resp.status;
            ap_set_content_type(r, resp.content_type); /* JSON, also for a page */
        }
    }
    return send_body(r, resp.body.data, resp.body.len, 1);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    return pki_config_init(pconf, s) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* Before mod_dbd opens this child's connections, the database library is set up for worker
 * threads that each hold one connection at a time (pki_store_process_init). A no-op when the
 * library is in use already in this process. */
static void child_init(apr_pool_t *pool, server_rec *s)
{
    pki_server_conf *sconf = ap_get_module_config(s->module_config, &pkgindex_module);
    apr_int64_t size = sconf->cache_size != -1 ? sconf->cache_size : PKI_DEFAULT_CACHE;
    apr_status_t rv;

    if (pki_store_process_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                     APLOGNO(19003) "PkgIndex: SQLite already initialised");
    }
    if (size > 0 && (rv = pki_cache_create(&cache, pool, (apr_size_t)size)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     APLOGNO(19004) "PkgIndex: no response cache");
        cache = NULL;
    }
}

static void register_hooks(apr_pool_t *pool)
{
    static const char *const dbd[] = {"mod_dbd.c", NULL};

    ap_hook_child_init(child_init, NULL, dbd, APR_HOOK_REALLY_FIRST);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(post_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_translate_name(pre_translate, NULL, NULL, APR_HOOK_LAST);
    ap_hook_translate_name(translate, NULL, NULL, APR_HOOK_LAST);
    ap_hook_map_to_storage(map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_header_parser(header_parser, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(pkgindex) = {
    STANDARD20_MODULE_STUFF, pki_create_dir_conf, pki_merge_dir_conf, pki_create_server_conf,
    pki_merge_server_conf,   pki_directives,      register_hooks,     AP_MODULE_FLAG_NONE,
};
