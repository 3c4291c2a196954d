/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Directives, their defaults in one place, and the merge of per-location settings. */

#ifndef PKI_CONFIG_H
#define PKI_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "api.h"
#include "errlog.h"
#include "tz.h"

#define PKI_DEFAULT_PREFIX    "/api/v4/"
#define PKI_DEFAULT_TIMEZONE  "America/New_York"
#define PKI_DEFAULT_PAGE_SIZE 20
#define PKI_DEFAULT_MAX_LIMIT 1000
#define PKI_DEFAULT_CACHE     (64 * 1024 * 1024)

/* Per server or <Location>. Every field starts "unset" (-1 / NULL) so merges can tell. */
typedef struct pki_dir_conf {
    int enabled;
    const char *base_url;
    const pki_tz *tz;
    apr_int64_t page_size;
    apr_int64_t max_limit;
} pki_dir_conf;

/* Per virtual host: the prefixes `PkgIndex On` claimed, which the URI hooks look for. */
typedef struct pki_server_conf {
    apr_array_header_t *prefixes; /* const char *, each ending in '/' */
    apr_int64_t cache_size;       /* PkgIndexCacheSize (main server), -1: unset */
    const char *dbd_params;       /* mod_dbd's DBDParams without passwords, or NULL */
    /* When mod_dbd last failed to give this process a connection (last = 0: it did not),
     * and the gate that lets one try a second through until it does again. */
    pki_throttle acquire_gate;
} pki_server_conf;

extern module AP_MODULE_DECLARE_DATA pkgindex_module;
extern const command_rec pki_directives[];

void *pki_create_dir_conf(apr_pool_t *pool, char *dir);
void *pki_merge_dir_conf(apr_pool_t *pool, void *basev, void *addv);
void *pki_create_server_conf(apr_pool_t *pool, server_rec *s);
void *pki_merge_server_conf(apr_pool_t *pool, void *basev, void *addv);

/* Loads the default zone; called from post_config. */
apr_status_t pki_config_init(apr_pool_t *pconf, server_rec *s);

/* The effective settings of a merged configuration. */
void pki_config_settings(const pki_dir_conf *conf, pki_settings *out);

#endif
