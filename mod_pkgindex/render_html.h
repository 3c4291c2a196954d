/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The browsable API: the page a browser gets, around the JSON DRF's BrowsableAPIRenderer shows.
 * Server-side, self-contained (inline CSS, no scripts), every datum HTML-escaped. */

#ifndef PKI_RENDER_HTML_H
#define PKI_RENDER_HTML_H

#include <apr_tables.h>

#include "buf.h"

/* A link of the pagination controls: a page number (0: an ellipsis) and its URL. */
typedef struct pki_html_page_link {
    apr_int64_t number;
    const char *url;
    int current;
} pki_html_page_link;

typedef struct pki_html_page {
    const char *name;        /* "Package Instance" */
    const char *description; /* may hold blank lines: paragraphs */
    const char *method;      /* as requested */
    const char *target;      /* the path and query as requested */
    int status;
    const char *allow;
    const char *json; /* the response as JSON, indented by 4 */
    apr_size_t json_len;
    const char *options_json;    /* the OPTIONS metadata, indented */
    const char *json_url;        /* the same resource as JSON (?format=json) */
    const char *root_url;        /* the API root */
    const char *previous, *next; /* list pages: links, or NULL */
    apr_array_header_t *pages;   /* pki_html_page_link, or NULL */
    /* the search page's form: its action (the path as requested), the query shown, and a
     * ?format= to keep (or NULL) */
    const char *search_action, *search_q, *search_format;
} pki_html_page;

void pki_render_html(pki_buf *out, const pki_html_page *page);

#endif
