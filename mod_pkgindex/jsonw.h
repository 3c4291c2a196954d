/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* A streaming JSON writer whose bytes are DRF's: Python's json.dumps(ensure_ascii=False) with
 * separators (",", ":") when compact, and (",", ": ") plus newlines when indented, and U+2028 /
 * U+2029 escaped. Values are written in order; the writer only tracks nesting for commas and
 * indentation, so output costs one pass and no tree. */

#ifndef PKI_JSONW_H
#define PKI_JSONW_H

#include <apr.h>

#include "buf.h"

#define PKI_JSON_MAX_DEPTH 32

typedef struct pki_json {
    pki_buf *out;
    int indent; /* 0: compact */
    int depth;
    int overflow;                           /* levels opened past the maximum depth */
    apr_uint32_t count[PKI_JSON_MAX_DEPTH]; /* members written at each depth */
} pki_json;

void pki_json_init(pki_json *j, pki_buf *out, int indent);

void pki_json_object_begin(pki_json *j);
void pki_json_object_end(pki_json *j);
void pki_json_array_begin(pki_json *j);
void pki_json_array_end(pki_json *j);

/* The next member's key (plain ASCII literals need no escaping, but any key is escaped). */
void pki_json_key(pki_json *j, const char *key);

/* A key known to need no escaping (a literal): written in one piece. */
void pki_json_key_literal(pki_json *j, const char *key, apr_size_t n);
#define PKI_JSON_KEY(j, lit) pki_json_key_literal((j), (lit), sizeof(lit) - 1)

void pki_json_string(pki_json *j, const char *s);
void pki_json_string_n(pki_json *j, const char *s, apr_size_t n);
void pki_json_int(pki_json *j, apr_int64_t v);
void pki_json_bool(pki_json *j, int v);
void pki_json_null(pki_json *j);

/* Starts a value: the comma and indentation before it. For callers that write a scalar's
 * bytes themselves (pki_json_escape). */
void pki_json_value_begin(pki_json *j);

/* Appends S escaped as a JSON string body (no quotes), DRF-exact. */
void pki_json_escape(pki_buf *out, const char *s, apr_size_t n);

#endif
