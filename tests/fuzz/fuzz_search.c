/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* search.c: the input is the raw value of ?q=, decoded by query.c as the API decodes it (so
 * valid UTF-8; a NUL read as a space and spaces trimmed, as api.c does). The websearch parser
 * splits it into words; FTS5's unicode61 tokenizer (as store_search.c configures it) makes
 * their tokens; the items are built as store_search.c's query_items() builds them, with the
 * query's own tokens standing in for the prefix and typo words the database would give. The
 * FTS5 expressions must then be valid FTS5 (run against the compiled-in schema in memory),
 * and trigram similarity and edit distance must keep their properties. */

#include <math.h>
#include <strings.h>
#include <sqlite3.h>

#include <apr_lib.h>
#include <apr_tables.h>

#include "fuzz.h"
#include "query.h"
#include "search.h"
#include "store_sqlite.h"

extern const char pki_schema_sqlite[];

static sqlite3 *conn;
static fts5_tokenizer tok;
static Fts5Tokenizer *tokenizer;
static sqlite3_stmt *match_all, *match_title;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_search: %s: %s\n", what, sqlite3_errmsg(conn));
    abort();
}

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK) {
        die(sql);
    }
    return st;
}

/* The schema in memory, three rows indexed, the tokenizer store_search.c uses. */
static void setup(void)
{
    static const char *args[] = {"remove_diacritics", "2"};
    fts5_api *api = NULL;
    sqlite3_stmt *st;
    void *tctx = NULL;

    if (sqlite3_open(":memory:", &conn) != SQLITE_OK ||
        sqlite3_exec(conn, pki_schema_sqlite, NULL, NULL, NULL) != SQLITE_OK) {
        die("schema");
    }
    if (sqlite3_exec(
            conn,
            "INSERT INTO searchv3_searchv3 (id, created, modified, item_type, item_id, title,"
            " title_no_prefix, slug, slug_no_prefix, clean_title, description, absolute_url)"
            " VALUES (1, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 'package', 1,"
            " 'django-debug-toolbar', 'debug-toolbar', 'django-debug-toolbar', 'debug-toolbar',"
            " 'debug toolbar', 'A configurable set of panels', '/packages/p/x/'),"
            " (2, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 'grid', 2, 'Caching',"
            " 'Caching', 'caching', 'caching', 'caching', 'Caché et «café» 日本語', '/grids/g/c/'),"
            " (3, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 'package', 3, 'or and not',"
            " 'or and not', 'or-and-not', 'or-and-not', 'or and not', 'NEAR AND OR NOT', '/x/');"
            "INSERT INTO searchv3_fts (searchv3_fts) VALUES ('rebuild');"
            "INSERT INTO searchv3_title_fts (searchv3_title_fts) VALUES ('rebuild');",
            NULL, NULL, NULL) != SQLITE_OK) {
        die("rows");
    }
    st = prepare("SELECT fts5(?1)");
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api || api->xFindTokenizer(api, "unicode61", &tctx, &tok) != SQLITE_OK ||
        tok.xCreate(tctx, args, 2, &tokenizer) != SQLITE_OK) {
        die("tokenizer");
    }
    match_all = prepare("SELECT rowid FROM searchv3_fts WHERE searchv3_fts MATCH ?1");
    match_title = prepare("SELECT rowid FROM searchv3_title_fts WHERE searchv3_title_fts MATCH ?1");
}

typedef struct sink {
    apr_pool_t *pool;
    apr_array_header_t *out;
} sink;

static int take_token(void *ctx, int tflags, const char *token, int n, int start, int end)
{
    sink *k = ctx;

    (void)start, (void)end;
    if (!(tflags & FTS5_TOKEN_COLOCATED) && n > 0) {
        *(const char **)apr_array_push(k->out) = apr_pstrmemdup(k->pool, token, n);
    }
    return SQLITE_OK;
}

static apr_array_header_t *tokenize(apr_pool_t *pool, const char *text)
{
    sink k = {pool, apr_array_make(pool, 4, sizeof(const char *))};

    if (*text) {
        tok.xTokenize(tokenizer, &k, FTS5_TOKENIZE_QUERY, text, (int)strlen(text), take_token);
    }
    return k.out;
}

/* Runs EXPR through ST to its end: FTS5 must accept it. */
static void must_match(sqlite3_stmt *st, const char *expr)
{
    int rc;

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "FTS5 refuses %s: %s\n", expr, sqlite3_errmsg(conn));
        abort();
    }
}

/* query_items() of store_search.c without a database: ALL holds every token of the query,
 * which stand in for the title words a prefix or a typo would find. */
static int build_items(apr_pool_t *pool, apr_array_header_t *words, pki_search_item *items,
                       apr_array_header_t *all)
{
    int i, k, n = 0;

    for (i = 0; i < words->nelts && n < PKI_SEARCH_MAX_ITEMS; i++) {
        const pki_search_word *w = &APR_ARRAY_IDX(words, i, pki_search_word);
        apr_array_header_t *tokens = tokenize(pool, w->text);
        pki_search_item it;

        for (k = 0; k < tokens->nelts; k++) {
            *(const char **)apr_array_push(all) = APR_ARRAY_IDX(tokens, k, const char *);
        }
        if (!tokens->nelts) {
            continue;
        }
        memset(&it, 0, sizeof(it));
        it.clause = w->clause;
        it.negated = w->negated;
        if (w->quoted || w->negated) {
            it.phrase = tokens->nelts > 1;
            it.quoted = w->quoted;
            it.tokens = (const char **)tokens->elts;
            it.ntokens = tokens->nelts;
            items[n++] = it;
            continue;
        }
        for (k = 0; k < tokens->nelts && n < PKI_SEARCH_MAX_ITEMS; k++) {
            it.tokens = (const char **)tokens->elts + k;
            it.ntokens = 1;
            if (!pki_search_stop_word(it.tokens[0])) {
                items[n++] = it;
            }
        }
    }
    for (i = 0; i < n; i++) {
        pki_search_item *it = &items[i];
        int len = pki_search_length(it->tokens[0]);
        if (it->negated || it->quoted) {
            continue;
        }
        it->prefix = n == 1 && len >= 3 && len <= 5;
        it->prefixes = (const char **)all->elts;
        it->nprefixes = all->nelts < PKI_SEARCH_MAX_PREFIXES ? all->nelts : PKI_SEARCH_MAX_PREFIXES;
        it->alts = (const char **)all->elts + (i % all->nelts);
        it->nalts = all->nelts - i % all->nelts;
        it->nalts = it->nalts < PKI_SEARCH_MAX_ALTS ? it->nalts : PKI_SEARCH_MAX_ALTS;
        it->not_title = len % 2;
    }
    return n;
}

static void check_words(const char *q, apr_array_header_t *words)
{
    int i, last = 0;

    for (i = 0; i < words->nelts; i++) {
        const pki_search_word *w = &APR_ARRAY_IDX(words, i, pki_search_word);
        FUZZ_CHECK(w->text && strlen(w->text) <= strlen(q));
        FUZZ_CHECK(w->clause == last || w->clause == last + 1);
        last = w->clause;
        if (!w->quoted) {
            /* a bare word has no space or quote, and "or" is no word but a separator */
            FUZZ_CHECK(*w->text && !strpbrk(w->text, " \t\n\r\f\v\""));
            FUZZ_CHECK(w->negated || strcasecmp(w->text, "or") != 0);
        }
    }
}

static void check_expressions(apr_pool_t *pool, const pki_search_item *items, int n)
{
    const char *phrases = NULL, *expr, *any;
    int i, positive = 0, phrase_count = 0;
    apr_int64_t best = pki_search_best_text(items, n);

    for (i = 0; i < n; i++) {
        positive += !items[i].negated;
    }
    expr = pki_search_fts5_expr(pool, items, n, &phrases);
    any = pki_search_fts5_any(pool, items, n);
    FUZZ_CHECK(!expr == !positive && !any == !positive);
    FUZZ_CHECK(best >= 0 && best <= (apr_int64_t)PKI_RANK_TITLE * PKI_RANK_UNIT);
    FUZZ_CHECK(!positive || best > 0);
    if (!expr) {
        return;
    }
    FUZZ_CHECK(strlen(phrases) % 3 == 0);
    for (i = 0; phrases[i]; i += 3) {
        FUZZ_CHECK(strchr("epnt", phrases[i + 2]) != NULL);
        phrase_count++;
    }
    FUZZ_CHECK(phrase_count > 0);
    must_match(match_all, expr);
    must_match(match_title, any);
}

static void check_similarity(const char *a, const char *b)
{
    apr_uint64_t tri[PKI_SEARCH_MAX_TRIGRAMS];
    int n = pki_search_trigrams(a, tri, PKI_SEARCH_MAX_TRIGRAMS), i, d, limit;
    double s = pki_search_similarity(a, b), self = pki_search_similarity(a, a);

    FUZZ_CHECK(n >= 0 && n <= PKI_SEARCH_MAX_TRIGRAMS);
    for (i = 1; i < n; i++) {
        FUZZ_CHECK(tri[i - 1] < tri[i]);
    }
    FUZZ_CHECK(s >= 0.0 && s <= 1.0 && !isnan(s));
    FUZZ_CHECK(s == pki_search_similarity(b, a));
    FUZZ_CHECK(self == (n ? 1.0 : 0.0));
    for (limit = 0; limit <= 2; limit++) {
        d = pki_search_distance(a, b, limit);
        FUZZ_CHECK(d >= 0 && d <= limit + 1);
        FUZZ_CHECK(d == pki_search_distance(b, a, limit));
        FUZZ_CHECK(pki_search_distance(a, a, limit) == 0 || pki_search_length(a) > 64);
    }
}

/* Without the spaces around it, as api.c's search_param() reads ?q=. */
static char *trim(char *s)
{
    char *end = s + strlen(s);

    while (apr_isspace(*s)) {
        s++;
    }
    while (end > s && apr_isspace(end[-1])) {
        *--end = '\0';
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    apr_array_header_t *words, *all;
    pki_search_item items[PKI_SEARCH_MAX_ITEMS];
    const pki_param *param;
    pki_query query;
    char *q;
    size_t i;
    int n;

    if (!conn) {
        setup();
    }
    pool = fuzz_pool();
    if (pki_query_parse(&query, pool, apr_pstrcat(pool, "q=", fuzz_cstr(pool, data, size), NULL)) !=
        0) {
        apr_pool_destroy(pool);
        return 0;
    }
    param = &APR_ARRAY_IDX(query.params, 0, pki_param);
    q = apr_pstrmemdup(pool, param->val, param->vlen);
    for (i = 0; i < param->vlen; i++) {
        q[i] = q[i] ? q[i] : ' ';
    }
    q = apr_pstrdup(pool, trim(q));
    words = apr_array_make(pool, 8, sizeof(pki_search_word));
    all = apr_array_make(pool, 8, sizeof(const char *));
    pki_search_parse(pool, q, words);
    check_words(q, words);
    n = build_items(pool, words, items, all);
    check_expressions(pool, items, n);
    if (all->nelts) {
        const char **t = (const char **)all->elts;
        const char *key = pki_search_key(pool, t, all->nelts);
        FUZZ_CHECK(strlen(key) >= (size_t)all->nelts * 2 - 1);
        check_similarity(t[0], t[all->nelts - 1]);
    }
    check_similarity(q, words->nelts ? APR_ARRAY_IDX(words, 0, pki_search_word).text : "");
    apr_pool_destroy(pool);
    return 0;
}
