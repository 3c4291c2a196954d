/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "cache.h"

typedef struct entry {
    struct entry *prev, *next; /* most recently used first */
    apr_int64_t generation;    /* the data it was rendered from */
    char *key;
    apr_size_t klen;
    char *body;
    apr_size_t len;
    char etag[20];
} entry;

struct pki_cache {
    apr_thread_mutex_t *mu;
    apr_hash_t *index; /* key -> entry; the hash's own memory is reused after clears */
    apr_pool_t *pool;
    entry *head, *tail;
    apr_size_t bytes, max_bytes;
};

static apr_status_t destroy(void *data)
{
    pki_cache *c = data;
    entry *e = c->head;

    while (e) {
        entry *next = e->next;
        free(e);
        e = next;
    }
    c->head = c->tail = NULL;
    return APR_SUCCESS;
}

apr_status_t pki_cache_create(pki_cache **cache, apr_pool_t *pool, apr_size_t max_bytes)
{
    pki_cache *c = apr_pcalloc(pool, sizeof(*c));
    apr_status_t rv = apr_thread_mutex_create(&c->mu, APR_THREAD_MUTEX_DEFAULT, pool);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->pool = pool;
    c->index = apr_hash_make(pool);
    c->max_bytes = max_bytes;
    apr_pool_cleanup_register(pool, c, destroy, apr_pool_cleanup_null);
    *cache = c;
    return APR_SUCCESS;
}

static void unlink_entry(pki_cache *c, entry *e)
{
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static void push_front(pki_cache *c, entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head) {
        c->head->prev = e;
    }
    c->head = e;
    if (!c->tail) {
        c->tail = e;
    }
}

static void evict(pki_cache *c, entry *e)
{
    unlink_entry(c, e);
    apr_hash_set(c->index, e->key, e->klen, NULL);
    c->bytes -= sizeof(entry) + e->klen + 1 + e->len;
    free(e);
}

int pki_cache_get(pki_cache *c, apr_pool_t *pool, const char *key, apr_int64_t generation,
                  const char **body, apr_size_t *len, const char **etag)
{
    entry *e;
    int hit = 0;

    apr_thread_mutex_lock(c->mu);
    e = apr_hash_get(c->index, key, APR_HASH_KEY_STRING);
    if (e && e->generation != generation) {
        evict(c, e); /* rendered from other data */
        e = NULL;
    }
    if (e) {
        unlink_entry(c, e);
        push_front(c, e);
        *body = apr_pmemdup(pool, e->body, e->len);
        *len = e->len;
        *etag = apr_pstrdup(pool, e->etag);
        hit = 1;
    }
    apr_thread_mutex_unlock(c->mu);
    return hit;
}

void pki_cache_put(pki_cache *c, const char *key, apr_int64_t generation, const char *body,
                   apr_size_t len, const char *etag)
{
    apr_size_t klen = strlen(key), size = sizeof(entry) + klen + 1 + len;
    entry *e, *old;

    if (!c->max_bytes || size > c->max_bytes / 8 || strlen(etag) >= sizeof(e->etag)) {
        return; /* one response may not crowd out the rest */
    }
    /* one allocation: the entry, then its key, then its body */
    e = malloc(size);
    if (!e) {
        return;
    }
    e->key = (char *)(e + 1);
    memcpy(e->key, key, klen + 1);
    e->klen = klen;
    e->body = e->key + klen + 1;
    memcpy(e->body, body, len);
    e->len = len;
    strcpy(e->etag, etag);

    e->generation = generation;
    apr_thread_mutex_lock(c->mu);
    if ((old = apr_hash_get(c->index, e->key, klen)) != NULL) {
        if (old->generation == generation) {
            apr_thread_mutex_unlock(c->mu); /* another thread was first */
            free(e);
            return;
        }
        evict(c, old);
    }
    while (c->tail && c->bytes + size > c->max_bytes) {
        evict(c, c->tail);
    }
    push_front(c, e);
    apr_hash_set(c->index, e->key, klen, e);
    c->bytes += size;
    apr_thread_mutex_unlock(c->mu);
}

/* 64-bit FNV-1a over 8-byte words, then mixed: fast, and plenty to tell versions apart. */
const char *pki_etag(apr_pool_t *pool, const char *body, apr_size_t len)
{
    apr_uint64_t h = 0xcbf29ce484222325ULL, w;
    apr_size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, body + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < len; i++) {
        h = (h ^ (unsigned char)body[i]) * 0x100000001b3ULL;
    }
    h ^= len;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return apr_psprintf(pool, "\"%016" APR_UINT64_T_HEX_FMT "\"", h);
}
