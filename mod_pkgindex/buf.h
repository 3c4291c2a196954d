/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* A growable byte buffer in an APR pool: every renderer writes into one. */

#ifndef PKI_BUF_H
#define PKI_BUF_H

#include <apr_pools.h>

typedef struct pki_buf {
    apr_pool_t *pool;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} pki_buf;

void pki_buf_init(pki_buf *b, apr_pool_t *pool, apr_size_t initial);
void pki_buf_grow(pki_buf *b, apr_size_t need);
void pki_buf_puts(pki_buf *b, const char *s);
void pki_buf_printf(pki_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends V in decimal, as Python prints an int. */
void pki_buf_put_int(pki_buf *b, apr_int64_t v);

/* NUL-terminates without counting the NUL, so data can be used as a string. */
const char *pki_buf_cstr(pki_buf *b);

static inline void pki_buf_put(pki_buf *b, const char *s, apr_size_t n)
{
    if (b->len + n > b->cap) {
        pki_buf_grow(b, n);
    }
    __builtin_memcpy(b->data + b->len, s, n);
    b->len += n;
}

static inline void pki_buf_putc(pki_buf *b, char c)
{
    if (b->len + 1 > b->cap) {
        pki_buf_grow(b, 1);
    }
    b->data[b->len++] = c;
}

#endif
