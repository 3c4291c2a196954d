/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* jsonw.c: the input is a program of writer calls. The first byte picks the indent (0 compact,
 * else 1..8) and the mode: in "grammar" mode the calls form a valid document (keys where
 * objects need them, everything closed at the end) and, when every string was valid UTF-8, the
 * output must parse back with json-c into the tree built alongside; in "free" mode any call
 * comes in any order (unbalanced ends, keys in arrays), and the writer must only not crash.
 *
 * Each call is one opcode byte; strings take a length byte and that many bytes. */

#include <json-c/json.h>

#include "buf.h"
#include "fuzz.h"
#include "jsonw.h"

/* Deeper than PKI_JSON_MAX_DEPTH, so the overflow path runs too. */
#define MAX_NEST (PKI_JSON_MAX_DEPTH + 8)

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static int next_byte(reader *r)
{
    return r->p < r->end ? *r->p++ : -1;
}

/* A string of the input: a length byte, then up to that many bytes. */
static const char *next_string(reader *r, apr_pool_t *pool, size_t *n)
{
    int len = next_byte(r);
    const char *s;

    *n = len < 0 ? 0 : (size_t)len;
    if (*n > (size_t)(r->end - r->p)) {
        *n = (size_t)(r->end - r->p);
    }
    s = apr_pstrmemdup(pool, (const char *)r->p, *n);
    r->p += *n;
    return s;
}

static void free_mode(pki_json *j, reader *r, apr_pool_t *pool)
{
    int op;
    size_t n;
    const char *s;

    while ((op = next_byte(r)) >= 0) {
        switch (op % 11) {
        case 0:
            pki_json_object_begin(j);
            break;
        case 1:
            pki_json_object_end(j);
            break;
        case 2:
            pki_json_array_begin(j);
            break;
        case 3:
            pki_json_array_end(j);
            break;
        case 4:
            pki_json_key(j, next_string(r, pool, &n));
            break;
        case 5:
            s = next_string(r, pool, &n);
            pki_json_key_literal(j, s, n);
            break;
        case 6:
            s = next_string(r, pool, &n);
            pki_json_string_n(j, s, n);
            break;
        case 7:
            pki_json_string(j, next_string(r, pool, &n));
            break;
        case 8:
            pki_json_int(j, (apr_int64_t)(op * 0x0101010101010101ULL) - op);
            break;
        case 9:
            pki_json_bool(j, op & 16);
            break;
        default:
            pki_json_null(j);
            break;
        }
        FUZZ_CHECK(j->depth >= 0 && j->depth < PKI_JSON_MAX_DEPTH && j->overflow >= 0);
    }
}

/* The writer's calls and the json-c tree they stand for, side by side. */
typedef struct level {
    struct json_object *obj;
    int is_object;
    const char *key; /* an object's pending key */
    size_t klen;
} level;

typedef struct doc {
    pki_json *j;
    level stack[MAX_NEST];
    int depth, max_depth;
    struct json_object *root;
    int valid_utf8;
} doc;

/* Adds V where the writer put it: at the root, in an array, or under the pending key. */
static void place(doc *d, struct json_object *v)
{
    level *top;

    if (!d->depth) {
        d->root = v;
        return;
    }
    top = &d->stack[d->depth - 1];
    if (top->is_object) {
        json_object_object_add_ex(top->obj, top->key, v, 0);
        top->key = NULL;
    } else {
        json_object_array_add(top->obj, v);
    }
}

static int key_pending(const doc *d)
{
    return d->depth && d->stack[d->depth - 1].is_object && !d->stack[d->depth - 1].key;
}

static void open_container(doc *d, int is_object)
{
    struct json_object *v = is_object ? json_object_new_object() : json_object_new_array();

    if (is_object) {
        pki_json_object_begin(d->j);
    } else {
        pki_json_array_begin(d->j);
    }
    place(d, v);
    d->stack[d->depth].obj = v;
    d->stack[d->depth].is_object = is_object;
    d->stack[d->depth].key = NULL;
    d->depth++;
    d->max_depth = d->depth > d->max_depth ? d->depth : d->max_depth;
}

static void close_container(doc *d)
{
    d->depth--;
    if (d->stack[d->depth].is_object) {
        pki_json_object_end(d->j);
    } else {
        pki_json_array_end(d->j);
    }
}

/* A value op: scalars, or a container while nesting allows. */
static void value(doc *d, reader *r, apr_pool_t *pool, int op)
{
    size_t n;
    const char *s;
    apr_int64_t v;

    switch (op % 8) {
    case 0:
    case 1:
        if (d->depth < MAX_NEST) {
            open_container(d, op % 8 == 0);
            break;
        }
        /* fall through */
    case 2:
        s = next_string(r, pool, &n);
        d->valid_utf8 &= fuzz_utf8_valid((const unsigned char *)s, n);
        pki_json_string_n(d->j, s, n);
        place(d, json_object_new_string_len(s, (int)n));
        break;
    case 3:
        s = next_string(r, pool, &n);
        d->valid_utf8 &= fuzz_utf8_valid((const unsigned char *)s, strlen(s));
        pki_json_string(d->j, s);
        place(d, json_object_new_string(s));
        break;
    case 4:
        v = 0;
        for (n = 0; n < 8; n++) {
            int b = next_byte(r);
            v = (apr_int64_t)((apr_uint64_t)v << 8 | (apr_uint64_t)(b < 0 ? 0 : b));
        }
        pki_json_int(d->j, v);
        place(d, json_object_new_int64(v));
        break;
    case 5:
        pki_json_bool(d->j, op & 8);
        place(d, json_object_new_boolean(op & 8 ? 1 : 0));
        break;
    case 6:
        pki_json_null(d->j);
        place(d, NULL);
        break;
    default:
        /* an array's end; after a key, its value must come first */
        if (d->depth && !d->stack[d->depth - 1].is_object) {
            close_container(d);
        } else {
            pki_json_null(d->j);
            place(d, NULL);
        }
        break;
    }
}

static void grammar_mode(pki_json *j, reader *r, apr_pool_t *pool, int indent)
{
    struct json_tokener *tok;
    struct json_object *back;
    doc d;
    int op;

    memset(&d, 0, sizeof(d));
    d.j = j;
    d.valid_utf8 = 1;
    open_container(&d, next_byte(r) & 1);
    while (d.depth && (op = next_byte(r)) >= 0) {
        if (key_pending(&d)) {
            /* an object wants a key, or its end */
            level *top = &d.stack[d.depth - 1];
            size_t n;
            if (op % 5 == 4) {
                close_container(&d);
                continue;
            }
            top->key = next_string(r, pool, &n);
            top->klen = strlen(top->key);
            d.valid_utf8 &= fuzz_utf8_valid((const unsigned char *)top->key, top->klen);
            if (op % 5 == 3 && top->klen == n) {
                pki_json_key_literal(j, top->key, top->klen); /* for keys needing no escape */
                d.valid_utf8 &= !strpbrk(top->key, "\"\\") && !memchr(top->key, '\xE2', n);
                for (n = 0; n < top->klen; n++) {
                    d.valid_utf8 &= (unsigned char)top->key[n] >= 0x20;
                }
            } else {
                pki_json_key(j, top->key);
            }
            continue;
        }
        value(&d, r, pool, op);
    }
    while (d.depth) {
        if (key_pending(&d) || !d.stack[d.depth - 1].is_object) {
            close_container(&d);
        } else {
            pki_json_null(j); /* the pending key's value */
            place(&d, NULL);
        }
    }
    FUZZ_CHECK(j->depth == 0 && j->overflow == 0);
    /* past the maximum depth only the brackets stay balanced (no renderer nests that deep) */
    if (d.valid_utf8 && d.max_depth < PKI_JSON_MAX_DEPTH) {
        tok = json_tokener_new_ex(MAX_NEST + 2);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        back = json_tokener_parse_ex(tok, j->out->data, (int)j->out->len);
        if (!back || json_tokener_get_parse_end(tok) != j->out->len) {
            fprintf(stderr, "indent %d: does not parse back (%s): %.*s\n", indent,
                    json_tokener_error_desc(json_tokener_get_error(tok)), (int)j->out->len,
                    j->out->data);
            abort();
        }
        FUZZ_CHECK(json_object_equal(back, d.root));
        json_object_put(back);
        json_tokener_free(tok);
    }
    json_object_put(d.root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    reader r = {data + 1, data + size};
    pki_buf out;
    pki_json j;
    int indent;

    if (size < 1) {
        return 0;
    }
    pool = fuzz_pool();
    indent = (data[0] >> 1) % 9;
    pki_buf_init(&out, pool, 16);
    pki_json_init(&j, &out, indent);
    if (data[0] & 1) {
        free_mode(&j, &r, pool);
    } else {
        grammar_mode(&j, &r, pool, indent);
    }
    FUZZ_CHECK(out.len <= out.cap);
    apr_pool_destroy(pool);
    return 0;
}
