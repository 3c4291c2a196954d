/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Search without SQL: the websearch query syntax, the items a backend searches for, the weight
 * of an object, trigram similarity and edit distance for typos, and the ranking that picks the
 * top 20. The backends' SQL is in store_*_search.c. */

#ifndef PKI_SEARCH_H
#define PKI_SEARCH_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "model.h"

/* At most this many results, as the original. */
#define PKI_SEARCH_LIMIT 20
/* A longer q is a 400: it cannot be a search anyone typed, and every word costs index reads. */
#define PKI_SEARCH_MAX_QUERY 400
/* Query words past this many are ignored. */
#define PKI_SEARCH_MAX_ITEMS 16
/* Typo alternatives searched per query word. */
#define PKI_SEARCH_MAX_ALTS 6
/* Title words a prefix stands for, the most common first. */
#define PKI_SEARCH_MAX_PREFIXES 8

/* --- The query --- */

/* A word of websearch syntax (PostgreSQL's websearch_to_tsquery): words are ANDed, "quoted
 * words" are a phrase, -word excludes, the word "or" separates alternatives (clauses). Every
 * other character is text: the backend's tokenizer decides what is a word. */
typedef struct pki_search_word {
    const char *text; /* as typed; a phrase without its quotes */
    int quoted;
    int negated;
    int clause; /* 0, 1, … : the clauses are ORed */
} pki_search_word;

/* Whether TOKEN (lower case) is an English stop word, which PostgreSQL's 'english'
 * configuration leaves out of queries and which is not searched for here either ("gallery for
 * django" is "gallery django"). */
int pki_search_stop_word(const char *token);

/* Parses Q (NUL-terminated) into WORDS (pki_search_word). */
void pki_search_parse(apr_pool_t *pool, const char *q, apr_array_header_t *words);

/* What one word searches for, once the backend has tokenized it. */
typedef struct pki_search_item {
    int clause;
    int negated;
    int phrase; /* the tokens must follow each other */
    int quoted; /* as typed: no prefix, no typos */
    const char **tokens;
    int ntokens;
    int prefix; /* a lone 3-5 character query: also the title words it starts (PREFIXES) */
    const char **prefixes;
    int nprefixes;
    const char **alts; /* words one typo away (from titles and slugs) */
    int nalts;
    int not_title; /* the token is known to be no word of any title or slug */
} pki_search_item;

/* --- Ranking --- */

/* Ranks are integers, so that equal ranks are equal and ties go to similarity and title:
 * text rank in units of 1/PKI_RANK_UNIT, weight × 0.02 likewise. */
#define PKI_RANK_UNIT 720720 /* divisible by every item count up to 16 */
/* Column weights of the text rank (title A, slug B, description C, category/participants D,
 * as PostgreSQL's ts_rank defaults), and how much a prefix or typo hit counts. */
#define PKI_RANK_TITLE       1000
#define PKI_RANK_SLUG        400
#define PKI_RANK_DESCRIPTION 200
#define PKI_RANK_CATEGORY    100
#define PKI_RANK_PARTICIPANT 100
#define PKI_RANK_MAX         1000 /* the best text rank of a match that is not exact */
#define PKI_RANK_EXACT       3500 /* the title or slug is the query: above any weight */
#define PKI_RANK_PREFIX_PCT  80
#define PKI_RANK_TYPO_PCT    60

/* rank = text rank + weight × 0.02. TEXT is in thousandths × PKI_RANK_UNIT, as the weight part:
 * weight × 20 thousandths. */
#define PKI_RANK(text, weight) ((text) + (apr_int64_t)(weight)*20 * PKI_RANK_UNIT)

/* The best text rank a match of ITEMS can have (in the rank's units): a word that is no title
 * word can only hit a title as a prefix or a typo, or else a description. */
apr_int64_t pki_search_best_text(const pki_search_item *items, int n);

typedef struct pki_search_candidate {
    apr_int64_t id; /* the backend's row */
    apr_int64_t rank;
    double similarity; /* of title and query, pg_trgm's */
    const char *title;
} pki_search_candidate;

/* The best PKI_SEARCH_LIMIT candidates: rank desc, similarity desc, title asc (code points),
 * then id. */
typedef struct pki_search_top {
    pki_search_candidate c[PKI_SEARCH_LIMIT];
    int n;
    int worst; /* which comes last, when the list is full (start from all zeros) */
} pki_search_top;

/* Whether A comes before B. */
int pki_search_before(const pki_search_candidate *a, const pki_search_candidate *b);
/* Whether the list is full and a candidate of RANK cannot enter it whatever its title. */
int pki_search_top_closed(const pki_search_top *t, apr_int64_t rank);
/* Whether a candidate of RANK and a similarity of at most SIMILARITY might enter. */
int pki_search_top_may_take(const pki_search_top *t, apr_int64_t rank, double similarity);
void pki_search_top_add(pki_search_top *t, const pki_search_candidate *c);
/* Sorts the list in result order. */
void pki_search_top_sort(pki_search_top *t);

/* --- Weight --- */

/* What the weight of a package is computed from (times in microseconds, PKI_TIME_NULL). */
typedef struct pki_search_facts {
    int grid; /* a grid: description, packages and modified count */
    const char *description;
    apr_int64_t stars, forks, usage, packages;
    apr_int64_t last_commit, released, modified;
    int has_release;
    int has_documentation;
} pki_search_facts;

/* 0-100; see docs/search.md for the table. NOW in microseconds. */
int pki_search_weight(const pki_search_facts *f, apr_int64_t now);

/* --- Typos --- */

/* pg_trgm's trigrams of TEXT: lower-cased (ASCII), every run of letters and digits (any
 * non-ASCII character counts as a letter) padded with two spaces before and one after. Each is
 * packed in an integer (three 21-bit code points); OUT gets at most MAX of them, sorted and
 * without duplicates. Returns how many. */
int pki_search_trigrams(const char *text, apr_uint64_t *out, int max);

/* pg_trgm's similarity() of two such sets: shared trigrams / all trigrams, 0 when either is
 * empty. */
double pki_search_similarity_sets(const apr_uint64_t *a, int na, const apr_uint64_t *b, int nb);
double pki_search_similarity(const char *a, const char *b);

/* Trigrams kept of one text: a title has at most 100 characters. */
#define PKI_SEARCH_MAX_TRIGRAMS 512

/* The optimal-string-alignment distance of A and B in code points (an adjacent swap is one
 * edit), or LIMIT + 1 as soon as it exceeds LIMIT. */
int pki_search_distance(const char *a, const char *b, int limit);

/* The edits a word of LEN code points may be away from a title word to count as a typo of it:
 * 0 below 3 characters, 1, or 2 from 8 characters. */
int pki_search_typo_limit(int len);

/* The number of code points of S (UTF-8). */
int pki_search_length(const char *s);

/* The exact-match key of WORDS (tokens): lower-case words joined by one space. */
const char *pki_search_key(apr_pool_t *pool, const char **tokens, int n);

#endif
