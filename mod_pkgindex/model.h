/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The API's objects as plain structs: what the store reads and the renderers write. Strings
 * point into the request pool; datetimes are microseconds since the epoch (UTC). */

#ifndef PKI_MODEL_H
#define PKI_MODEL_H

#include <apr.h>

/* A NULL datetime. */
#define PKI_TIME_NULL APR_INT64_MIN

/* Ids of related objects, in the order the API lists them. */
typedef struct pki_ids {
    const apr_int64_t *ids;
    int count;
} pki_ids;

typedef struct pki_package {
    apr_int64_t id;
    apr_int64_t category_id;
    const char *title;
    const char *slug;
    apr_int64_t last_updated; /* last_commit_date, or PKI_TIME_NULL */
    apr_int64_t last_fetched; /* or PKI_TIME_NULL */
    const char *repo_url;
    const char *pypi_version; /* NULL when there is no latest version */
    apr_int64_t created;
    apr_int64_t modified;
    apr_int64_t repo_forks;
    const char *repo_description;
    const char *pypi_url;
    const char *documentation_url; /* may be NULL */
    apr_int64_t repo_watchers;
    const char *commits_over_52; /* JSON array text */
    const char *participants;    /* comma-separated */
    pki_ids grids;
} pki_package;

typedef struct pki_grid {
    apr_int64_t id;
    const char *title;
    const char *slug;
    const char *description;
    int is_locked;
    pki_ids packages; /* ordered by package title, then id */
    int header;
    apr_int64_t created;
    apr_int64_t modified;
} pki_grid;

typedef struct pki_category {
    apr_int64_t id;
    const char *title;
    const char *slug;
    const char *description;
    const char *title_plural;
    int show_pypi;
    apr_int64_t created;
    apr_int64_t modified;
} pki_category;

/* A search result: a row of searchv3_searchv3. */
typedef struct pki_search_hit {
    const char *description;
    const char *title;
    const char *slug;
    const char *absolute_url;
    apr_int64_t created;
    apr_int64_t modified;
    apr_int64_t weight;
    const char *item_type; /* "package" or "grid" */
    const char *category;  /* the category's title; "" for grids */
    apr_int64_t repo_watchers;
    apr_int64_t repo_forks;
    apr_int64_t pypi_downloads;
    apr_int64_t score;
    apr_int64_t usage;
    const char *participants;   /* comma-separated, as stored */
    apr_int64_t last_committed; /* or PKI_TIME_NULL */
    apr_int64_t last_released;  /* or PKI_TIME_NULL */
} pki_search_hit;

/* One page of a list: COUNT objects in total, ITEMS of them here (an array of the type). */
typedef struct pki_page {
    apr_int64_t count;
    void *items;
    int n;
} pki_page;

#endif
