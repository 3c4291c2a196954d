/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Content negotiation as DRF's DefaultContentNegotiation does it: a format (URL suffix or
 * ?format=) filters the renderers, then Accept media ranges are tried by specificity. */

#ifndef PKI_NEGOTIATE_H
#define PKI_NEGOTIATE_H

#include <apr_pools.h>

typedef enum pki_renderer {
    PKI_RENDER_JSON = 0, /* application/json, format "json" */
    PKI_RENDER_API       /* text/html, format "api": the browsable API */
} pki_renderer;

typedef enum pki_negotiation {
    PKI_NEG_OK = 0,
    PKI_NEG_BAD_FORMAT,    /* 404 {"detail":"Not found."} */
    PKI_NEG_NOT_ACCEPTABLE /* 406 */
} pki_negotiation;

typedef struct pki_accepted {
    pki_renderer renderer;
    int indent; /* 0, or 1..8 from "application/json; indent=N" */
} pki_accepted;

/* FORMAT: the suffix's format, else ?format='s last value, else NULL (or "": no filter).
 * ACCEPT: the Accept header, NULL when absent. */
pki_negotiation pki_negotiate(apr_pool_t *pool, const char *format, const char *accept,
                              pki_accepted *out);

#endif
