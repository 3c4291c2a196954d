/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Rendered responses, kept per process and keyed by everything that shapes the bytes, each
 * valid for the data generation it was rendered from (pkgindex_state.generation, a new random
 * value on every write by anyone). A hit costs one tiny query and a copy instead of the
 * queries and the rendering; an entry of another generation is dropped when met. */

#ifndef PKI_CACHE_H
#define PKI_CACHE_H

#include <apr_pools.h>

typedef struct pki_cache pki_cache;

/* MAX_BYTES bounds the bodies and keys held (least recently used go first). */
apr_status_t pki_cache_create(pki_cache **cache, apr_pool_t *pool, apr_size_t max_bytes);

/* The body and ETag stored under KEY for GENERATION, copied into POOL; 0 when there is none. */
int pki_cache_get(pki_cache *cache, apr_pool_t *pool, const char *key, apr_int64_t generation,
                  const char **body, apr_size_t *len, const char **etag);

void pki_cache_put(pki_cache *cache, const char *key, apr_int64_t generation, const char *body,
                   apr_size_t len, const char *etag);

/* A strong ETag for BODY: a quoted 64-bit hash in hex. */
const char *pki_etag(apr_pool_t *pool, const char *body, apr_size_t len);

#endif
