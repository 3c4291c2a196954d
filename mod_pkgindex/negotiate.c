/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "negotiate.h"

/* A media range split as Django's parse_header_parameters splits it. */
typedef struct media_range {
    const char *main; /* lower-cased */
    const char *sub;
    const char *indent; /* the "indent" parameter's value, or NULL */
    int precedence;     /* DRF's _MediaType.precedence: 3 params, 2 type/sub, 1 type/\*, 0 *\/\* */
} media_range;

static const struct {
    const char *main, *sub, *format;
} renderers[] = {{"application", "json", "json"}, {"text", "html", "api"}};

static void lower(char *s)
{
    for (; *s; s++) {
        *s = (char)apr_tolower(*s);
    }
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
        *--e = '\0';
    }
    return s;
}

static void parse_range(apr_pool_t *pool, char *token, media_range *m)
{
    char *params = strchr(token, ';'), *type, *slash;
    int has_params = 0;

    if (params) {
        *params++ = '\0';
    }
    type = trim(token);
    lower(type);
    slash = strchr(type, '/');
    if (slash) {
        *slash = '\0';
        m->sub = trim(slash + 1);
    } else {
        m->sub = "";
    }
    m->main = trim(type);
    m->indent = NULL;

    while (params) {
        char *next = strchr(params, ';'), *eq, *name, *value;
        if (next) {
            *next++ = '\0';
        }
        eq = strchr(params, '=');
        if (eq) {
            *eq = '\0';
            name = trim(params);
            lower(name);
            value = trim(eq + 1);
            if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
                /* int() strips what the quotes kept */
                value = trim(apr_pstrndup(pool, value + 1, strlen(value) - 2));
            }
            if (strcmp(name, "q") != 0) {
                has_params = 1;
            }
            if (strcmp(name, "indent") == 0) {
                m->indent = value;
            }
        }
        params = next;
    }
    if (strcmp(m->main, "*") == 0) {
        m->precedence = 0;
    } else if (strcmp(m->sub, "*") == 0) {
        m->precedence = 1;
    } else {
        m->precedence = has_params ? 3 : 2;
    }
}

/* DRF's JSONRenderer.get_indent: int(value) clamped to 0..8, 0 meaning none. */
static int parse_indent(const char *v)
{
    apr_int64_t n = 0;
    int neg = 0, digits = 0;

    if (!v) {
        return 0;
    }
    if (*v == '+' || *v == '-') {
        neg = *v++ == '-';
    }
    for (; *v; v++) {
        if (*v == '_' && digits && v[1] >= '0' && v[1] <= '9') {
            continue;
        }
        if (*v < '0' || *v > '9') {
            return 0;
        }
        digits++;
        if (n < 100) {
            n = n * 10 + (*v - '0');
        }
    }
    if (!digits || neg) {
        return 0;
    }
    return n > 8 ? 8 : (int)n;
}

static int matches(int r, const media_range *m)
{
    return (strcmp(m->sub, "*") == 0 || strcmp(m->sub, renderers[r].sub) == 0) &&
           (strcmp(m->main, "*") == 0 || strcmp(m->main, renderers[r].main) == 0);
}

pki_negotiation pki_negotiate(apr_pool_t *pool, const char *format, const char *accept,
                              pki_accepted *out)
{
    int allowed[2] = {1, 1}, r, prec, i, n;
    apr_array_header_t *parsed;
    media_range *ranges;
    char *list, *tok, *state;

    out->renderer = PKI_RENDER_JSON;
    out->indent = 0;

    if (format && *format) {
        allowed[0] = strcmp(format, renderers[0].format) == 0;
        allowed[1] = strcmp(format, renderers[1].format) == 0;
        if (!allowed[0] && !allowed[1]) {
            return PKI_NEG_BAD_FORMAT;
        }
    }

    /* No Accept header is "*" "/" "*"; an empty one matches nothing, as in DRF. */
    list = apr_pstrdup(pool, accept ? accept : "*/*");
    if (*list == '\0') {
        return PKI_NEG_NOT_ACCEPTABLE;
    }
    parsed = apr_array_make(pool, 4, sizeof(media_range));
    for (tok = list;; tok = state + 1) {
        state = strchr(tok, ',');
        if (state) {
            *state = '\0';
        }
        parse_range(pool, tok, apr_array_push(parsed));
        if (!state) {
            break;
        }
    }
    ranges = (media_range *)parsed->elts;
    n = parsed->nelts;

    /* Most specific ranges first; within one precedence, renderer order wins, then the
     * client's order (DRF's select_renderer loops renderers outside media types). */
    for (prec = 3; prec >= 0; prec--) {
        for (r = 0; r < 2; r++) {
            if (!allowed[r]) {
                continue;
            }
            for (i = 0; i < n; i++) {
                if (ranges[i].precedence == prec && matches(r, &ranges[i])) {
                    out->renderer = r;
                    out->indent = r == PKI_RENDER_JSON ? parse_indent(ranges[i].indent) : 0;
                    return PKI_NEG_OK;
                }
            }
        }
    }
    return PKI_NEG_NOT_ACCEPTABLE;
}
