/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* One API request, start to finish, without httpd: route, query, negotiation, store, render.
 * The glue describes the request, calls pki_api_handle and sends what it answers. */

#ifndef PKI_API_H
#define PKI_API_H

#include <apr_pools.h>

#include <apr_tables.h>

#include "buf.h"
#include "cache.h"
#include "store.h"
#include "tz.h"

/* The effective configuration of the location serving the request. */
typedef struct pki_settings {
    const pki_tz *tz;
    apr_int64_t page_size;
    apr_int64_t max_limit; /* 0: none */
} pki_settings;

typedef struct pki_request {
    apr_pool_t *pool;
    const char *method;
    const char *prefix; /* the claimed prefix, "/api/v4/" */
    const char *path;   /* the raw path after the prefix, still percent-encoded */
    const char *args;   /* the raw query string, or NULL */
    const char *accept; /* the Accept header, or NULL */
    const char *base;   /* "scheme://host[:port]" for absolute links */
    const pki_settings *settings;
    /* Returns a database connection, or NULL when the database is unavailable. Called only
     * by requests that read data, so errors and metadata never touch the database. */
    pki_db *(*acquire)(void *ctx);
    void *acquire_ctx;
    pki_cache *cache;  /* rendered responses of this process, or NULL */
    const void *scope; /* the database's identity for the cache (the virtual host) */
} pki_request;

typedef struct pki_response {
    int status;
    const char *content_type; /* NULL: none (empty body) */
    const char *location;     /* for redirects */
    int retry_after;          /* seconds, for 503; 0: none */
    const char *log;          /* what went wrong, for the error log; NULL: nothing */
    const char *etag;         /* a strong ETag of a 200's body, or NULL */
    const char *cache;        /* "hit" or "miss" when the response cache was asked, else NULL */
    /* for the browsable page: a list's links and position (html set before rendering) */
    int html;
    const char *next, *previous;
    apr_array_header_t *pages; /* pki_html_page_link */
    pki_buf body;
} pki_response;

void pki_api_handle(const pki_request *req, pki_response *resp);

/* Answers the 301 of Django's APPEND_SLASH for PATH (decoded, without its slash). */
void pki_api_append_slash(apr_pool_t *pool, const char *path, const char *args, pki_response *resp);

/* Django's APPEND_SLASH Location: the decoded PATH re-escaped (escape_uri_path) with '/'
 * added, and the raw ARGS through iri_to_uri when there are any. Relative, as Django's. */
const char *pki_append_slash_location(apr_pool_t *pool, const char *path, const char *args);

/* The JSON answer to an error httpd raised itself (reached through ErrorDocument):
 * STATUS with a {"detail"} in DRF's words where DRF has them, else REASON ("Not Found"). */
void pki_api_error(apr_pool_t *pool, int status, const char *reason, pki_response *resp);

#endif
