/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "buf.h"
#include "search.h"

#define DAY_USEC (86400 * APR_INT64_C(1000000))

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void add_word(apr_array_header_t *words, const char *text, int quoted, int negated,
                     int clause)
{
    pki_search_word *w = apr_array_push(words);

    w->text = text;
    w->quoted = quoted;
    w->negated = negated;
    w->clause = clause;
}

/* As websearch_to_tsquery reads its input: a leading '-' negates, '"' opens a phrase that runs
 * to the next '"' or the end, a bare "or" between words starts another clause. */
void pki_search_parse(apr_pool_t *pool, const char *q, apr_array_header_t *words)
{
    const char *p = q, *start;
    int clause = 0, in_clause = 0, negated;

    while (*p) {
        while (is_space(*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        negated = 0;
        if (*p == '-') {
            negated = 1;
            if (!*++p || is_space(*p)) {
                continue;
            }
        }
        if (*p == '"') {
            start = ++p;
            while (*p && *p != '"') {
                p++;
            }
            add_word(words, apr_pstrmemdup(pool, start, p - start), 1, negated, clause);
            in_clause = 1;
            if (*p) {
                p++;
            }
            continue;
        }
        start = p;
        while (*p && !is_space(*p) && *p != '"') {
            p++;
        }
        if (!negated && p - start == 2 && (start[0] | 0x20) == 'o' && (start[1] | 0x20) == 'r') {
            if (in_clause) {
                clause++;
                in_clause = 0;
            }
            continue;
        }
        add_word(words, apr_pstrmemdup(pool, start, p - start), 0, negated, clause);
        in_clause = 1;
    }
}

/* PostgreSQL's (Snowball's) english.stop, sorted for bsearch. */
static const char *const stop_words[] = {
    "a",      "about",  "above", "after", "again",   "against",   "all",       "am",
    "an",     "and",    "any",   "are",   "as",      "at",        "be",        "because",
    "been",   "before", "being", "below", "between", "both",      "but",       "by",
    "can",    "did",    "do",    "does",  "doing",   "don",       "down",      "during",
    "each",   "few",    "for",   "from",  "further", "had",       "has",       "have",
    "having", "he",     "her",   "here",  "hers",    "herself",   "him",       "himself",
    "his",    "how",    "i",     "if",    "in",      "into",      "is",        "it",
    "its",    "itself", "just",  "me",    "more",    "most",      "my",        "myself",
    "no",     "nor",    "not",   "now",   "of",      "off",       "on",        "once",
    "only",   "or",     "other", "our",   "ours",    "ourselves", "out",       "over",
    "own",    "s",      "same",  "she",   "should",  "so",        "some",      "such",
    "t",      "than",   "that",  "the",   "their",   "theirs",    "them",      "themselves",
    "then",   "there",  "these", "they",  "this",    "those",     "through",   "to",
    "too",    "under",  "until", "up",    "very",    "was",       "we",        "were",
    "what",   "when",   "where", "which", "while",   "who",       "whom",      "why",
    "will",   "with",   "you",   "your",  "yours",   "yourself",  "yourselves"};

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pki_search_stop_word(const char *token)
{
    return bsearch(&token, stop_words, sizeof(stop_words) / sizeof(stop_words[0]),
                   sizeof(stop_words[0]), compare_str) != NULL;
}

/* --- Ranking --- */

apr_int64_t pki_search_best_text(const pki_search_item *items, int n)
{
    apr_int64_t best = 0;
    int last = -1, i, c;

    for (i = 0; i < n; i++) {
        last = items[i].clause > last ? items[i].clause : last;
    }
    for (c = 0; c <= last; c++) {
        apr_int64_t sum = 0;
        int count = 0;
        for (i = 0; i < n; i++) {
            const pki_search_item *it = &items[i];
            int points = PKI_RANK_TITLE;
            if (it->clause != c || it->negated) {
                continue;
            }
            if (it->not_title) {
                points = PKI_RANK_DESCRIPTION;
                if (it->nprefixes && PKI_RANK_TITLE * PKI_RANK_PREFIX_PCT / 100 > points) {
                    points = PKI_RANK_TITLE * PKI_RANK_PREFIX_PCT / 100;
                }
                if (it->nalts && PKI_RANK_TITLE * PKI_RANK_TYPO_PCT / 100 > points) {
                    points = PKI_RANK_TITLE * PKI_RANK_TYPO_PCT / 100;
                }
            }
            sum += points;
            count++;
        }
        if (count && sum * (PKI_RANK_UNIT / count) > best) {
            best = sum * (PKI_RANK_UNIT / count);
        }
    }
    return best;
}

int pki_search_before(const pki_search_candidate *a, const pki_search_candidate *b)
{
    int cmp;

    if (a->rank != b->rank) {
        return a->rank > b->rank;
    }
    if (a->similarity != b->similarity) {
        return a->similarity > b->similarity;
    }
    cmp = strcmp(a->title ? a->title : "", b->title ? b->title : "");
    if (cmp) {
        return cmp < 0;
    }
    return a->id < b->id;
}

/* The index of the candidate that comes last, found again after each change of a full list,
 * so that the checks made for every row a search reads are one comparison. */
static void find_worst(pki_search_top *t)
{
    int i;

    t->worst = 0;
    for (i = 1; i < t->n; i++) {
        if (pki_search_before(&t->c[t->worst], &t->c[i])) {
            t->worst = i;
        }
    }
}

int pki_search_top_closed(const pki_search_top *t, apr_int64_t rank)
{
    return t->n == PKI_SEARCH_LIMIT && rank < t->c[t->worst].rank;
}

int pki_search_top_may_take(const pki_search_top *t, apr_int64_t rank, double similarity)
{
    const pki_search_candidate *w = &t->c[t->worst];

    return t->n < PKI_SEARCH_LIMIT || rank > w->rank ||
           (rank == w->rank && similarity >= w->similarity);
}

void pki_search_top_add(pki_search_top *t, const pki_search_candidate *c)
{
    if (t->n < PKI_SEARCH_LIMIT) {
        t->c[t->n++] = *c;
    } else if (pki_search_before(c, &t->c[t->worst])) {
        t->c[t->worst] = *c;
    } else {
        return;
    }
    if (t->n == PKI_SEARCH_LIMIT) {
        find_worst(t);
    }
}

static int compare_candidates(const void *a, const void *b)
{
    return pki_search_before(a, b) ? -1 : (pki_search_before(b, a) ? 1 : 0);
}

void pki_search_top_sort(pki_search_top *t)
{
    qsort(t->c, t->n, sizeof(t->c[0]), compare_candidates);
    find_worst(t);
}

/* --- Weight --- */

typedef struct step {
    apr_int64_t at_least;
    int points;
} step;

static int steps(const step *s, apr_int64_t v)
{
    int points = 0;

    for (; s->at_least; s++) {
        if (v >= s->at_least) {
            points = s->points;
        }
    }
    return points;
}

static int blank(const char *s)
{
    for (; s && *s; s++) {
        if (!is_space(*s)) {
            return 0;
        }
    }
    return 1;
}

/* Age in days at NOW, or -1 for none. */
static apr_int64_t age_days(apr_int64_t t, apr_int64_t now)
{
    if (t == PKI_TIME_NULL) {
        return -1;
    }
    return t >= now ? 0 : (now - t) / DAY_USEC;
}

int pki_search_weight(const pki_search_facts *f, apr_int64_t now)
{
    static const step stars[] = {{1, 2},     {10, 5},    {50, 8},     {100, 10}, {500, 13},
                                 {1000, 15}, {5000, 18}, {10000, 20}, {0, 0}};
    static const step forks[] = {{1, 2}, {10, 4}, {50, 6}, {200, 8}, {1000, 10}, {0, 0}};
    static const step usage[] = {{1, 5}, {10, 10}, {50, 15}, {0, 0}};
    apr_int64_t days;
    int w = 0;

    /* A grid is a good answer, but no more than a well-kept package: at most 60. */
    if (f->grid) {
        w += blank(f->description) ? 0 : 10;
        w += f->packages >= 20 ? 40 : (int)f->packages * 2;
        days = age_days(f->modified, now);
        w += days >= 0 && days <= 365 ? 10 : 0;
        return w;
    }
    w += blank(f->description) ? 0 : 15;
    w += steps(stars, f->stars);
    w += steps(forks, f->forks);
    w += steps(usage, f->usage);
    days = age_days(f->last_commit, now);
    if (days >= 0) {
        w += days <= 90 ? 20 : days <= 182 ? 15 : days <= 365 ? 10 : days <= 730 ? 5 : 0;
    }
    if (f->has_release) {
        days = age_days(f->released, now);
        w += 10 + (days >= 0 && days <= 365 ? 5 : 0);
    }
    w += f->has_documentation ? 5 : 0;
    return w > 100 ? 100 : w;
}

/* --- Typos --- */

/* The next code point of *S (a stray byte counts as itself), advancing *S. */
static uint32_t next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = *p++;
    int more = 0;

    if (c >= 0xf0 && c < 0xf8) {
        c &= 0x07, more = 3;
    } else if (c >= 0xe0) {
        c &= 0x0f, more = 2;
    } else if (c >= 0xc0) {
        c &= 0x1f, more = 1;
    }
    for (; more && (*p & 0xc0) == 0x80; more--) {
        c = (c << 6) | (*p++ & 0x3f);
    }
    *s = p;
    return c;
}

int pki_search_length(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int n = 0;

    while (*p) {
        next_cp(&p);
        n++;
    }
    return n;
}

static int word_char(uint32_t c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int compare_u64(const void *a, const void *b)
{
    apr_uint64_t x = *(const apr_uint64_t *)a, y = *(const apr_uint64_t *)b;
    return x < y ? -1 : x > y;
}

int pki_search_trigrams(const char *text, apr_uint64_t *out, int max)
{
    const unsigned char *p = (const unsigned char *)text;
    apr_uint64_t a = ' ', b = ' ';
    int n = 0, in_word = 0, i, k;

    for (;;) {
        apr_uint64_t c = *p ? next_cp(&p) : 0;
        if (c && word_char((uint32_t)c)) {
            if (c >= 'A' && c <= 'Z') {
                c |= 0x20;
            }
            if (!in_word) {
                a = b = ' ';
                in_word = 1;
            }
            if (n < max) {
                out[n++] = (a << 42) | (b << 21) | c;
            }
            a = b;
            b = c;
            continue;
        }
        if (in_word && n < max) {
            out[n++] = (a << 42) | (b << 21) | ' '; /* the word's end */
        }
        in_word = 0;
        if (!c) {
            break;
        }
    }
    qsort(out, n, sizeof(*out), compare_u64);
    for (i = k = 0; i < n; i++) {
        if (!k || out[k - 1] != out[i]) {
            out[k++] = out[i];
        }
    }
    return k;
}

double pki_search_similarity_sets(const apr_uint64_t *a, int na, const apr_uint64_t *b, int nb)
{
    int i = 0, j = 0, shared = 0;

    if (!na || !nb) {
        return 0.0;
    }
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            shared++, i++, j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (double)shared / (double)(na + nb - shared);
}

double pki_search_similarity(const char *a, const char *b)
{
    apr_uint64_t ka[PKI_SEARCH_MAX_TRIGRAMS], kb[PKI_SEARCH_MAX_TRIGRAMS];
    int na = pki_search_trigrams(a, ka, PKI_SEARCH_MAX_TRIGRAMS);
    int nb = pki_search_trigrams(b, kb, PKI_SEARCH_MAX_TRIGRAMS);

    return pki_search_similarity_sets(ka, na, kb, nb);
}

#define MAX_WORD 64

int pki_search_distance(const char *a, const char *b, int limit)
{
    uint32_t x[MAX_WORD], y[MAX_WORD];
    int d[3][MAX_WORD + 1], n = 0, m = 0, i, j;
    const unsigned char *p;

    for (p = (const unsigned char *)a; *p && n < MAX_WORD;) {
        x[n++] = next_cp(&p);
    }
    if (*p) {
        return limit + 1;
    }
    for (p = (const unsigned char *)b; *p && m < MAX_WORD;) {
        y[m++] = next_cp(&p);
    }
    if (*p || abs(n - m) > limit) {
        return limit + 1;
    }
    /* rows i-2, i-1, i of the optimal-string-alignment table, by i % 3 */
    for (j = 0; j <= m; j++) {
        d[0][j] = j;
    }
    for (i = 1; i <= n; i++) {
        int *cur = d[i % 3], *prev = d[(i + 2) % 3], *prev2 = d[(i + 1) % 3], best;
        cur[0] = best = i;
        for (j = 1; j <= m; j++) {
            int cost = x[i - 1] != y[j - 1], v = prev[j - 1] + cost;
            if (prev[j] + 1 < v) {
                v = prev[j] + 1;
            }
            if (cur[j - 1] + 1 < v) {
                v = cur[j - 1] + 1;
            }
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
                prev2[j - 2] + 1 < v) {
                v = prev2[j - 2] + 1;
            }
            cur[j] = v;
            best = v < best ? v : best;
        }
        if (best > limit) {
            return limit + 1;
        }
    }
    return d[n % 3][m] > limit ? limit + 1 : d[n % 3][m];
}

int pki_search_typo_limit(int len)
{
    return len < 3 ? 0 : len < 8 ? 1 : 2;
}

const char *pki_search_key(apr_pool_t *pool, const char **tokens, int n)
{
    pki_buf b;
    int i;

    pki_buf_init(&b, pool, 64);
    for (i = 0; i < n; i++) {
        if (i) {
            pki_buf_putc(&b, ' ');
        }
        pki_buf_puts(&b, tokens[i]);
    }
    return pki_buf_cstr(&b);
}
