/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>
#include <strings.h>

#include <apr_atomic.h>

#include "buf.h"
#include "errlog.h"

int pki_throttle_hit(pki_throttle *t, apr_time_t now, apr_time_t interval, apr_uint32_t *more,
                     apr_time_t *since)
{
    apr_uint64_t last = apr_atomic_read64(&t->last);

    /* within the interval either way: a thread that read the clock just before the one that
     * logged sees the last line in its future */
    if (last && now < (apr_time_t)last + interval && now > (apr_time_t)last - interval) {
        apr_atomic_inc32(&t->suppressed);
        return 0;
    }
    if (apr_atomic_cas64(&t->last, (apr_uint64_t)now, last) != last) {
        apr_atomic_inc32(&t->suppressed); /* another thread logs this interval's line */
        return 0;
    }
    *more = apr_atomic_xchg32(&t->suppressed, 0);
    *since = last && now > (apr_time_t)last ? now - (apr_time_t)last : 0;
    return 1;
}

#define REDACTED "***"

/* Separators of key=value lists: libpq's conninfo (spaces), apr_dbd_mysql's (','), ODBC
 * strings (';') and URI queries ('&', '?'). */
static int list_separator(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' || c == '&' ||
           c == '?';
}

/* At S, a password key and '=' (libpq allows spaces around it): the length up to the value;
 * 0 for anything else. */
static apr_size_t password_key(const char *s)
{
    static const char *const keys[] = {"password", "passwd", "pass", "pwd"};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        apr_size_t n = strlen(keys[i]);
        const char *p = s + n;
        if (strncasecmp(s, keys[i], n) != 0) {
            continue;
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '=') {
            for (p++; *p == ' ' || *p == '\t'; p++) {
            }
            return p - s;
        }
    }
    return 0;
}

/* The end of the value at S: a quoted one (with backslash escapes, as libpq reads it) after
 * its closing quote, any other at the next separator. */
static const char *value_end(const char *s)
{
    if (*s == '\'') {
        for (s++; *s && *s != '\''; s++) {
            if (*s == '\\' && s[1]) {
                s++;
            }
        }
        return *s ? s + 1 : s;
    }
    while (*s && !list_separator(*s)) {
        s++;
    }
    return s;
}

const char *pki_redact_params(apr_pool_t *pool, const char *params)
{
    const char *s = params;
    pki_buf b;

    pki_buf_init(&b, pool, strlen(params) + sizeof(REDACTED));
    while (*s) {
        apr_size_t key;

        if ((s == params || list_separator(s[-1])) && (key = password_key(s))) {
            pki_buf_put(&b, s, key);
            pki_buf_puts(&b, REDACTED);
            s = value_end(s + key);
        } else if (strncmp(s, "://", 3) == 0) {
            /* scheme://user:password@host: the user info ends at the authority's last '@' */
            const char *auth = s + 3, *at = NULL, *colon, *p;
            for (p = auth; *p && !strchr("/?#", *p); p++) {
                at = *p == '@' ? p : at;
            }
            colon = at ? memchr(auth, ':', at - auth) : NULL;
            if (colon) {
                pki_buf_put(&b, s, colon + 1 - s);
                pki_buf_puts(&b, REDACTED);
                s = at;
            } else {
                pki_buf_put(&b, s, 3);
                s = auth;
            }
        } else {
            pki_buf_putc(&b, *s++);
        }
    }
    return pki_buf_cstr(&b);
}
