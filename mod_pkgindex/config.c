/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <errno.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_dbd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>

#include <mod_dbd.h>

#include "config.h"
#include "errlog.h"
#include "store.h"

APLOG_USE_MODULE(pkgindex);

/* Loaded once in post_config, read-only afterwards. */
static const pki_tz *default_tz;

void *pki_create_dir_conf(apr_pool_t *pool, char *dir)
{
    pki_dir_conf *conf = apr_pcalloc(pool, sizeof(*conf));

    conf->enabled = -1;
    conf->page_size = -1;
    conf->max_limit = -1;
    return conf;
}

void *pki_merge_dir_conf(apr_pool_t *pool, void *basev, void *addv)
{
    pki_dir_conf *base = basev, *add = addv, *conf = apr_palloc(pool, sizeof(*conf));

    conf->enabled = add->enabled != -1 ? add->enabled : base->enabled;
    conf->base_url = add->base_url ? add->base_url : base->base_url;
    conf->tz = add->tz ? add->tz : base->tz;
    conf->page_size = add->page_size != -1 ? add->page_size : base->page_size;
    conf->max_limit = add->max_limit != -1 ? add->max_limit : base->max_limit;
    return conf;
}

void *pki_create_server_conf(apr_pool_t *pool, server_rec *s)
{
    pki_server_conf *conf = apr_pcalloc(pool, sizeof(*conf));

    conf->prefixes = apr_array_make(pool, 2, sizeof(const char *));
    conf->cache_size = -1;
    return conf;
}

/* A virtual host serves its own prefixes and those of the main server, as <Location>
 * sections of the main server apply to virtual hosts too. */
void *pki_merge_server_conf(apr_pool_t *pool, void *basev, void *addv)
{
    pki_server_conf *base = basev, *add = addv, *conf = apr_palloc(pool, sizeof(*conf));

    conf->prefixes = apr_array_append(pool, add->prefixes, base->prefixes);
    conf->cache_size = add->cache_size != -1 ? add->cache_size : base->cache_size;
    conf->dbd_params = add->dbd_params ? add->dbd_params : base->dbd_params;
    memset(&conf->acquire_gate, 0, sizeof(conf->acquire_gate));
    return conf;
}

void pki_config_settings(const pki_dir_conf *conf, pki_settings *out)
{
    out->tz = conf->tz ? conf->tz : default_tz;
    out->page_size = conf->page_size != -1 ? conf->page_size : PKI_DEFAULT_PAGE_SIZE;
    out->max_limit = conf->max_limit != -1 ? conf->max_limit : PKI_DEFAULT_MAX_LIMIT;
}

apr_status_t pki_config_init(apr_pool_t *pconf, server_rec *s)
{
    const char *err;
    pki_tz *tz;
    apr_status_t rv = pki_tz_load(&tz, pconf, PKI_DEFAULT_TIMEZONE, NULL, &err);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     APLOGNO(19002) "PkgIndex: default time zone: %s", err);
        return rv;
    }
    default_tz = tz;
    return APR_SUCCESS;
}

/* PkgIndex On inside <Location /path/> claims /path/; at server level, the default prefix.
 * The store prepares its statements on each connection itself, in the driver's dialect. */
static const char *set_enabled(cmd_parms *cmd, void *dirconf, int flag)
{
    pki_dir_conf *conf = dirconf;
    pki_server_conf *sconf = ap_get_module_config(cmd->server->module_config, &pkgindex_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_FILES | NOT_IN_HTACCESS);
    const char *prefix;
    core_dir_config *core;

    if (err) {
        return err;
    }
    conf->enabled = flag;
    if (!flag) {
        return NULL;
    }
    prefix = cmd->path ? cmd->path : PKI_DEFAULT_PREFIX;
    core = cmd->path ? ap_get_core_module_config(cmd->context) : NULL;
    if (prefix[0] != '/' || (core && core->r) || ap_strchr_c(prefix, '*') ||
        ap_strchr_c(prefix, '?') || ap_strchr_c(prefix, '[')) {
        return "PkgIndex On must be used at server level or in a <Location> with a literal path";
    }
    if (prefix[strlen(prefix) - 1] != '/') {
        prefix = apr_pstrcat(cmd->pool, prefix, "/", NULL);
    }
    *(const char **)apr_array_push(sconf->prefixes) = prefix;

    if (!APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire)) {
        return "PkgIndex On needs mod_dbd: load it before mod_pkgindex";
    }
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *dirconf, const char *arg)
{
    pki_dir_conf *conf = dirconf;
    apr_uri_t uri;
    apr_size_t n = strlen(arg);

    if (apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostname ||
        (strcasecmp(uri.scheme, "http") != 0 && strcasecmp(uri.scheme, "https") != 0) ||
        uri.query || uri.fragment) {
        return "PkgIndexBaseURL must be an absolute http or https URL, such as "
               "https://djangopackages.org";
    }
    /* Links are base + prefix: drop a trailing slash so they do not double it. */
    while (n > 0 && arg[n - 1] == '/') {
        n--;
    }
    conf->base_url = apr_pstrndup(cmd->pool, arg, n);
    return NULL;
}

static const char *set_timezone(cmd_parms *cmd, void *dirconf, const char *arg)
{
    pki_dir_conf *conf = dirconf;
    const char *err;
    pki_tz *tz;

    if (pki_tz_load(&tz, cmd->pool, arg, NULL, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "PkgIndexTimeZone %s: %s", arg, err);
    }
    conf->tz = tz;
    return NULL;
}

static const char *parse_count(cmd_parms *cmd, const char *arg, apr_int64_t min, apr_int64_t *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > APR_INT32_MAX) {
        return apr_psprintf(cmd->pool, "%s must be an integer from %" APR_INT64_T_FMT " to %d",
                            cmd->cmd->name, min, APR_INT32_MAX);
    }
    *out = v;
    return NULL;
}

static const char *set_page_size(cmd_parms *cmd, void *dirconf, const char *arg)
{
    return parse_count(cmd, arg, 1, &((pki_dir_conf *)dirconf)->page_size);
}

/* Per process, so in the main server only: every child keeps its own. */
static const char *set_cache_size(cmd_parms *cmd, void *dirconf, const char *arg)
{
    pki_server_conf *sconf = ap_get_module_config(cmd->server->module_config, &pkgindex_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    apr_int64_t v;

    if (err) {
        return err;
    }
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!errno && end != arg && (*end == 'K' || *end == 'k' || *end == 'M' || *end == 'm') &&
        !end[1]) {
        v *= (*end == 'K' || *end == 'k') ? 1024 : 1024 * 1024;
        end++;
    }
    if (errno || end == arg || *end || v < 0 || v > (APR_INT64_C(1) << 40)) {
        return "PkgIndexCacheSize must be a size in bytes (K or M suffix allowed), 0 for none";
    }
    sconf->cache_size = v;
    return NULL;
}

static const char *set_max_limit(cmd_parms *cmd, void *dirconf, const char *arg)
{
    return parse_count(cmd, arg, 0, &((pki_dir_conf *)dirconf)->max_limit);
}

/* mod_dbd's own directive, seen here too so that the error log can name the database:
 * DECLINE_CMD leaves it to mod_dbd, which httpd then calls as usual. */
static const char *set_dbd_params(cmd_parms *cmd, void *dconf, const char *arg)
{
    pki_server_conf *sconf = ap_get_module_config(cmd->server->module_config, &pkgindex_module);

    sconf->dbd_params = pki_redact_params(cmd->pool, arg);
    return DECLINE_CMD;
}

const command_rec pki_directives[] = {
    AP_INIT_FLAG("PkgIndex", set_enabled, NULL, RSRC_CONF | ACCESS_CONF,
                 "On to serve the package index API at this location (default /api/v4/)"),
    AP_INIT_TAKE1("PkgIndexBaseURL", set_base_url, NULL, RSRC_CONF | ACCESS_CONF,
                  "Scheme and host of absolute links, instead of the request's Host header"),
    AP_INIT_TAKE1("PkgIndexTimeZone", set_timezone, NULL, RSRC_CONF | ACCESS_CONF,
                  "tz database zone datetimes are shown in (default " PKI_DEFAULT_TIMEZONE ")"),
    AP_INIT_TAKE1("PkgIndexPageSize", set_page_size, NULL, RSRC_CONF | ACCESS_CONF,
                  "Default page size of lists (default 20)"),
    AP_INIT_TAKE1("PkgIndexMaxLimit", set_max_limit, NULL, RSRC_CONF | ACCESS_CONF,
                  "Largest ?limit= a list honours (default 1000, 0 for no maximum)"),
    AP_INIT_TAKE1("PkgIndexCacheSize", set_cache_size, NULL, RSRC_CONF,
                  "Memory for rendered responses, per httpd process (default 64M, 0 for none)"),
    AP_INIT_TAKE1("DBDParams", set_dbd_params, NULL, RSRC_CONF,
                  "mod_dbd's database parameters (read by mod_pkgindex for its error log)"),
    {NULL},
};
