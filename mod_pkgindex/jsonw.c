/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <string.h>

#include <apr_strings.h>

#include "jsonw.h"

void pki_json_init(pki_json *j, pki_buf *out, int indent)
{
    j->out = out;
    j->indent = indent;
    j->depth = 0;
    j->overflow = 0;
    j->count[0] = 0;
}

static void newline(pki_json *j, int depth)
{
    pki_buf *b = j->out;
    apr_size_t n = (apr_size_t)j->indent * depth;

    if (b->len + n + 1 > b->cap) {
        pki_buf_grow(b, n + 1);
    }
    b->data[b->len++] = '\n';
    memset(b->data + b->len, ' ', n);
    b->len += n;
}

/* Key flag in count[]: a key was just written, so its value follows without a separator. */
#define AFTER_KEY 0x80000000u

/* The separator and indentation before a member: a key in an object, a value in an array.
 * A value that follows its key needs neither. */
void pki_json_value_begin(pki_json *j)
{
    if (j->depth == 0) {
        return;
    }
    if (j->count[j->depth] & AFTER_KEY) {
        j->count[j->depth] &= ~AFTER_KEY;
        return;
    }
    if (j->count[j->depth]++) {
        pki_buf_putc(j->out, ',');
    }
    if (j->indent) {
        newline(j, j->depth);
    }
}

/* Nesting past PKI_JSON_MAX_DEPTH (no renderer comes near it) is only counted: the bytes stay
 * balanced and the depth never leaves the count[] array. */
static void container_open(pki_json *j, char c)
{
    pki_json_value_begin(j);
    pki_buf_putc(j->out, c);
    if (j->depth < PKI_JSON_MAX_DEPTH - 1) {
        j->depth++;
        j->count[j->depth] = 0;
    } else {
        j->overflow++;
    }
}

static void container_close(pki_json *j, char c)
{
    if (j->overflow) {
        j->overflow--;
    } else if (j->depth > 0) {
        if (j->count[j->depth] && j->indent) {
            newline(j, j->depth - 1);
        }
        j->depth--;
    }
    pki_buf_putc(j->out, c);
}

void pki_json_object_begin(pki_json *j)
{
    container_open(j, '{');
}

void pki_json_object_end(pki_json *j)
{
    container_close(j, '}');
}

void pki_json_array_begin(pki_json *j)
{
    container_open(j, '[');
}

void pki_json_array_end(pki_json *j)
{
    container_close(j, ']');
}

void pki_json_key(pki_json *j, const char *key)
{
    pki_json_value_begin(j);
    pki_buf_putc(j->out, '"');
    pki_json_escape(j->out, key, strlen(key));
    if (j->indent) {
        pki_buf_put(j->out, "\": ", 3);
    } else {
        pki_buf_put(j->out, "\":", 2);
    }
    j->count[j->depth] |= AFTER_KEY;
}

void pki_json_key_literal(pki_json *j, const char *key, apr_size_t n)
{
    pki_buf *b = j->out;

    pki_json_value_begin(j);
    if (b->len + n + 4 > b->cap) {
        pki_buf_grow(b, n + 4);
    }
    b->data[b->len++] = '"';
    memcpy(b->data + b->len, key, n);
    b->len += n;
    b->data[b->len++] = '"';
    b->data[b->len++] = ':';
    if (j->indent) {
        b->data[b->len++] = ' ';
    }
    j->count[j->depth] |= AFTER_KEY;
}

/* Bytes that need escaping: control characters, '"', '\\', and 0xE2 (the lead byte of U+2028
 * and U+2029). Everything else, including other non-ASCII UTF-8, is copied as is. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* SWAR tests over the 8 bytes of X (bit tricks from "Bit Twiddling Hacks"): a byte below 0x20,
 * or equal to '"', '\\' or 0xE2. A false positive only sends the bytes to the slow path. */
#define ONES           0x0101010101010101ULL
#define HIGHS          0x8080808080808080ULL
#define HAS_ZERO(v)    (((v)-ONES) & ~(v)&HIGHS)
#define HAS_LESS(v, n) (((v)-ONES * (n)) & ~(v)&HIGHS)

static inline int has_special(apr_uint64_t x)
{
    return (HAS_LESS(x, 0x20) | HAS_ZERO(x ^ (ONES * '"')) | HAS_ZERO(x ^ (ONES * '\\')) |
            HAS_ZERO(x ^ (ONES * 0xE2))) != 0;
}

void pki_json_escape(pki_buf *out, const char *s, apr_size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;

    while (p < end) {
        unsigned char c;
        const char *esc;
        char u[6];

        /* Eight bytes at a time while none needs a look: most text is plain. */
        while (end - p >= 8) {
            apr_uint64_t x;
            memcpy(&x, p, 8);
            if (has_special(x)) {
                break;
            }
            p += 8;
        }
        if (p == end) {
            break;
        }
        c = *p;
        if (!needs_escape[c]) {
            p++;
            continue;
        }
        if (c == 0xE2) {
            /* U+2028 is E2 80 A8, U+2029 is E2 80 A9; other E2 sequences pass. */
            if (end - p >= 3 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                pki_buf_put(out, (const char *)run, p - run);
                pki_buf_put(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                p += 3;
                run = p;
                continue;
            }
            p++;
            continue;
        }
        pki_buf_put(out, (const char *)run, p - run);
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            pki_buf_put(out, u, 6);
            esc = NULL;
            break;
        }
        if (esc) {
            pki_buf_put(out, esc, 2);
        }
        run = ++p;
    }
    pki_buf_put(out, (const char *)run, p - run);
}

void pki_json_string_n(pki_json *j, const char *s, apr_size_t n)
{
    pki_json_value_begin(j);
    pki_buf_putc(j->out, '"');
    pki_json_escape(j->out, s, n);
    pki_buf_putc(j->out, '"');
}

void pki_json_string(pki_json *j, const char *s)
{
    pki_json_string_n(j, s, strlen(s));
}

void pki_json_int(pki_json *j, apr_int64_t v)
{
    pki_json_value_begin(j);
    pki_buf_put_int(j->out, v);
}

void pki_json_bool(pki_json *j, int v)
{
    pki_json_value_begin(j);
    if (v) {
        pki_buf_put(j->out, "true", 4);
    } else {
        pki_buf_put(j->out, "false", 5);
    }
}

void pki_json_null(pki_json *j)
{
    pki_json_value_begin(j);
    pki_buf_put(j->out, "null", 4);
}
