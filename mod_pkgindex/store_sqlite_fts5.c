/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The FTS5 MATCH expressions of search items (search.h): SQLite's query syntax, so the SQLite
 * backend's. */

#include "buf.h"
#include "store_sqlite.h"

/* Text inside an FTS5 string: a double quote doubled. */
static void put_escaped(pki_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"') {
            pki_buf_putc(b, '"');
        }
        pki_buf_putc(b, *s);
    }
}

/* An FTS5 string: in double quotes, so that FTS5 syntax inside is text. */
static void put_quoted(pki_buf *b, const char *s)
{
    pki_buf_putc(b, '"');
    put_escaped(b, s);
    pki_buf_putc(b, '"');
}

/* A phrase: its tokens in one string, which FTS5 reads as words that follow each other. */
static void put_phrase(pki_buf *b, const pki_search_item *it)
{
    int k;

    pki_buf_putc(b, '"');
    for (k = 0; k < it->ntokens; k++) {
        if (k) {
            pki_buf_putc(b, ' ');
        }
        put_escaped(b, it->tokens[k]);
    }
    pki_buf_putc(b, '"');
}

static void note(pki_buf *ph, int clause, int item, char kind)
{
    pki_buf_putc(ph, (char)('A' + clause));
    pki_buf_putc(ph, (char)('A' + item));
    pki_buf_putc(ph, kind);
}

const char *pki_search_fts5_expr(apr_pool_t *pool, const pki_search_item *items, int n,
                                 const char **phrases)
{
    pki_buf b, ph;
    int last = -1, i, c, emitted = 0;

    pki_buf_init(&b, pool, 256);
    pki_buf_init(&ph, pool, 64);
    for (i = 0; i < n; i++) {
        last = items[i].clause > last ? items[i].clause : last;
    }
    for (c = 0; c <= last; c++) {
        int pos = 0, neg = 0;
        for (i = 0; i < n; i++) {
            pos += items[i].clause == c && !items[i].negated;
        }
        if (!pos) {
            continue;
        }
        pki_buf_puts(&b, emitted ? " OR (" : "(");
        pos = 0;
        for (i = 0; i < n; i++) {
            const pki_search_item *it = &items[i];
            int a;
            if (it->clause != c || it->negated) {
                continue;
            }
            if (pos) {
                pki_buf_puts(&b, " AND ");
            }
            if (it->phrase || it->ntokens != 1) {
                put_phrase(&b, it);
                note(&ph, emitted, pos++, PKI_HIT_EXACT);
                continue;
            }
            pki_buf_putc(&b, '(');
            put_quoted(&b, it->tokens[0]);
            note(&ph, emitted, pos, PKI_HIT_EXACT);
            for (a = 0; it->prefix && a < it->nprefixes; a++) {
                pki_buf_puts(&b, " OR ");
                put_quoted(&b, it->prefixes[a]);
                note(&ph, emitted, pos, PKI_HIT_PREFIX);
            }
            for (a = 0; a < it->nalts; a++) {
                pki_buf_puts(&b, " OR ");
                put_quoted(&b, it->alts[a]);
                note(&ph, emitted, pos, PKI_HIT_TYPO);
            }
            pki_buf_putc(&b, ')');
            pos++;
        }
        for (i = 0; i < n; i++) {
            if (items[i].clause != c || !items[i].negated) {
                continue;
            }
            pki_buf_puts(&b, neg++ ? " OR " : " NOT (");
            put_phrase(&b, &items[i]);
            note(&ph, emitted, 0, PKI_HIT_NOT);
        }
        pki_buf_puts(&b, neg ? "))" : ")");
        emitted++;
    }
    if (!emitted) {
        return NULL;
    }
    *phrases = pki_buf_cstr(&ph);
    return pki_buf_cstr(&b);
}

const char *pki_search_fts5_any(apr_pool_t *pool, const pki_search_item *items, int n)
{
    pki_buf b;
    int i, a, any = 0;

    pki_buf_init(&b, pool, 128);
    pki_buf_putc(&b, '(');
    for (i = 0; i < n; i++) {
        const pki_search_item *it = &items[i];
        if (it->negated) {
            continue;
        }
        pki_buf_puts(&b, any++ ? " OR " : "");
        if (it->phrase || it->ntokens != 1) {
            /* its words: the title index has no positions, and a superset does */
            int k;
            pki_buf_putc(&b, '(');
            for (k = 0; k < it->ntokens; k++) {
                pki_buf_puts(&b, k ? " AND " : "");
                put_quoted(&b, it->tokens[k]);
            }
            pki_buf_putc(&b, ')');
            continue;
        }
        put_quoted(&b, it->tokens[0]);
        for (a = 0; it->prefix && a < it->nprefixes; a++) {
            pki_buf_puts(&b, " OR ");
            put_quoted(&b, it->prefixes[a]);
        }
        for (a = 0; a < it->nalts; a++) {
            pki_buf_puts(&b, " OR ");
            put_quoted(&b, it->alts[a]);
        }
    }
    pki_buf_putc(&b, ')');
    return any ? pki_buf_cstr(&b) : NULL;
}
