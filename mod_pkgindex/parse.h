/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* API v4 JSON objects (json-c trees) into model structs, validated field by field with DRF's
 * messages. The importer reads with it; request bodies of writes will too. */

#ifndef PKI_PARSE_H
#define PKI_PARSE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "model.h"
#include "route.h"

/* One field's complaint: FIELD is the key ("" for the object as a whole). */
typedef struct pki_field_error {
    const char *field;
    const char *message;
} pki_field_error;

/* What a serialized object is, by the keys only its kind has: packages have "repo_url", grids
 * "is_locked", categories "title_plural". PKI_RES_ROOT when it is none of them. */
pki_resource pki_parse_kind(struct json_object *obj);

/* The id of a hyperlink to an object of RES ("…/categories/1/", any scheme and host, any
 * prefix, a ".json" suffix or a query allowed), or -1 when it is not one. */
apr_int64_t pki_parse_link(const char *url, pki_resource res);

/* The offset in JSON text TEXT of a \u escape that is half of a UTF-16 surrogate pair without
 * its other half, or -1 when there is none. json-c would read it as U+FFFD: not the text sent,
 * so it is refused rather than stored. Escapes outside strings are not looked at. */
apr_ssize_t pki_json_lone_surrogate(const char *text, apr_size_t len);

/* The offset of the first byte of TEXT that does not begin a well-formed UTF-8 character
 * (RFC 3629: no overlong forms, no encoded surrogates, nothing past U+10FFFF), or -1. */
apr_ssize_t pki_utf8_invalid_at(const char *text, apr_size_t len);

/* Parse a complete object as the API serves it (every field present). Strings and arrays
 * are copied into POOL. Returns the number of errors appended to ERRS (pki_field_error). */
int pki_parse_package(apr_pool_t *pool, struct json_object *obj, pki_package *out,
                      apr_array_header_t *errs);
int pki_parse_grid(apr_pool_t *pool, struct json_object *obj, pki_grid *out,
                   apr_array_header_t *errs);
int pki_parse_category(apr_pool_t *pool, struct json_object *obj, pki_category *out,
                       apr_array_header_t *errs);

#endif
