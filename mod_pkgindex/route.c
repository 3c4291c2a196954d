/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "route.h"

const char *const pki_resource_segment[PKI_RES_COUNT_] = {"", "packages", "grids", "categories",
                                                          "search"};

/* Python's unquote: valid %XX become bytes, anything else stays as it is. Returns NULL when
 * the result would hold a NUL byte, which no route or lookup can contain. */
char *pki_route_unquote(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, strlen(s) + 1), *o = out;

    while (*s) {
        if (s[0] == '%' && apr_isxdigit(s[1]) && apr_isxdigit(s[2])) {
            int hi = apr_isdigit(s[1]) ? s[1] - '0' : (apr_tolower(s[1]) - 'a' + 10);
            int lo = apr_isdigit(s[2]) ? s[2] - '0' : (apr_tolower(s[2]) - 'a' + 10);
            char c = (char)(hi * 16 + lo);
            if (c == '\0') {
                return NULL;
            }
            *o++ = c;
            s += 3;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* DRF's format suffix: "\.(?P<format>[a-z0-9]+)/?$". S points at the '.'. */
static const char *match_suffix(apr_pool_t *pool, const char *s)
{
    const char *p = s + 1;
    apr_size_t n;

    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
        p++;
    }
    n = p - (s + 1);
    if (n == 0 || (p[0] != '\0' && !(p[0] == '/' && p[1] == '\0'))) {
        return NULL;
    }
    return apr_pstrndup(pool, s + 1, n);
}

static int is_digits(const char *s)
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

static apr_int64_t parse_id(const char *s)
{
    apr_int64_t v = 0;

    for (; *s; s++) {
        if (v > (APR_INT64_MAX - (*s - '0')) / 10) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    return v;
}

static pki_route_status match_decoded(apr_pool_t *pool, const char *p, pki_route *out)
{
    int res;
    apr_size_t n, m;
    const char *rest;

    memset(out, 0, sizeof(*out));
    out->id = -1;

    /* The root: "" or ".fmt" */
    if (*p == '\0') {
        out->resource = PKI_RES_ROOT;
        return PKI_ROUTE_OK;
    }
    if (*p == '.') {
        out->resource = PKI_RES_ROOT;
        out->suffix = match_suffix(pool, p);
        return out->suffix ? PKI_ROUTE_OK : PKI_ROUTE_NONE;
    }

    for (res = PKI_RES_PACKAGES; res < PKI_RES_COUNT_; res++) {
        n = strlen(pki_resource_segment[res]);
        if (strncmp(p, pki_resource_segment[res], n) == 0 && (p[n] == '/' || p[n] == '.')) {
            break;
        }
    }
    if (res == PKI_RES_COUNT_) {
        return PKI_ROUTE_NONE;
    }
    out->resource = res;
    rest = p + n;

    if (*rest == '.') {
        out->suffix = match_suffix(pool, rest);
        return out->suffix ? PKI_ROUTE_OK : PKI_ROUTE_NONE;
    }
    rest++; /* the '/' */
    if (*rest == '\0') {
        return PKI_ROUTE_OK;
    }
    if (res == PKI_RES_SEARCH) {
        return PKI_ROUTE_NONE;
    }

    /* Detail: "(?P<pk>[^/.]+)/" or "(?P<pk>[^/.]+)\.(?P<format>[a-z0-9]+)/?" */
    m = strcspn(rest, "/.");
    if (m == 0) {
        return PKI_ROUTE_NONE;
    }
    if (rest[m] == '/') {
        if (rest[m + 1] != '\0') {
            return PKI_ROUTE_NONE;
        }
    } else if (rest[m] == '.') {
        if (!(out->suffix = match_suffix(pool, rest + m))) {
            return PKI_ROUTE_NONE;
        }
    } else {
        return PKI_ROUTE_NONE;
    }
    out->detail = 1;
    out->lookup = apr_pstrndup(pool, rest, m);
    out->lookup_is_id = is_digits(out->lookup);
    if (out->lookup_is_id) {
        out->id = parse_id(out->lookup);
    }
    return PKI_ROUTE_OK;
}

pki_route_status pki_route_match(apr_pool_t *pool, const char *path, pki_route *out)
{
    const char *p;

    /* An encoded '/' would route differently from the path <Location> sections matched (and
     * so slip past their access rules): no route has one. */
    if (!path || strstr(path, "%2F") || strstr(path, "%2f") ||
        !(p = pki_route_unquote(pool, path))) {
        memset(out, 0, sizeof(*out));
        return PKI_ROUTE_NONE;
    }
    if (match_decoded(pool, p, out) == PKI_ROUTE_OK) {
        out->suffix_slash = out->suffix && p[strlen(p) - 1] == '/';
        return PKI_ROUTE_OK;
    }
    /* Django's APPEND_SLASH: redirect when the path with a '/' added is a route. */
    if (*p && p[strlen(p) - 1] != '/' &&
        match_decoded(pool, apr_pstrcat(pool, p, "/", NULL), out) == PKI_ROUTE_OK) {
        return PKI_ROUTE_REDIRECT;
    }
    return PKI_ROUTE_NONE;
}
