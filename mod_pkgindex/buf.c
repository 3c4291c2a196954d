/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "buf.h"

void pki_buf_init(pki_buf *b, apr_pool_t *pool, apr_size_t initial)
{
    b->pool = pool;
    b->len = 0;
    b->cap = initial ? initial : 256;
    b->data = apr_palloc(pool, b->cap);
}

/* Pool memory is not freed on growth; doubling bounds the waste to the final size. */
void pki_buf_grow(pki_buf *b, apr_size_t need)
{
    apr_size_t cap = b->cap * 2;
    char *data;

    while (cap < b->len + need) {
        cap *= 2;
    }
    data = apr_palloc(b->pool, cap);
    memcpy(data, b->data, b->len);
    b->data = data;
    b->cap = cap;
}

void pki_buf_puts(pki_buf *b, const char *s)
{
    pki_buf_put(b, s, strlen(s));
}

void pki_buf_printf(pki_buf *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[128];
    int n;

    va_start(ap, fmt);
    n = apr_vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if ((apr_size_t)n < sizeof(tmp) - 1) {
        pki_buf_put(b, tmp, n);
        return;
    }
    va_start(ap, fmt);
    pki_buf_puts(b, apr_pvsprintf(b->pool, fmt, ap));
    va_end(ap);
}

void pki_buf_put_int(pki_buf *b, apr_int64_t v)
{
    char digits[24], *p = digits + sizeof(digits);
    apr_uint64_t u = v < 0 ? -(apr_uint64_t)v : (apr_uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    pki_buf_put(b, p, digits + sizeof(digits) - p);
}

const char *pki_buf_cstr(pki_buf *b)
{
    pki_buf_putc(b, '\0');
    b->len--;
    return b->data;
}
