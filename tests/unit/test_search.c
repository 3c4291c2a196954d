/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* search.c (query syntax, FTS5 expressions, trigrams, edit distance, weights, ranking order)
 * and store_search.c on the test database (index build, incremental sync, matching). */

#include "unit.h"

#include <math.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "buf.h"
#include "search.h"
#include "testdb.h"

#define DAY (86400 * APR_INT64_C(1000000))

static apr_array_header_t *parse(apr_pool_t *pool, const char *q)
{
    apr_array_header_t *w = apr_array_make(pool, 4, sizeof(pki_search_word));
    pki_search_parse(pool, q, w);
    return w;
}

#define WORD(a, i) (&APR_ARRAY_IDX(a, i, pki_search_word))

static void test_parse(void **state)
{
    apr_pool_t *pool = *state;
    apr_array_header_t *w;

    w = parse(pool, "  django   rest ");
    assert_int_equal(w->nelts, 2);
    assert_string_equal(WORD(w, 0)->text, "django");
    assert_string_equal(WORD(w, 1)->text, "rest");
    assert_int_equal(WORD(w, 1)->clause, 0);

    /* phrases, exclusions, alternatives */
    w = parse(pool, "\"debug toolbar\" -cms celery OR rq");
    assert_int_equal(w->nelts, 4);
    assert_string_equal(WORD(w, 0)->text, "debug toolbar");
    assert_true(WORD(w, 0)->quoted);
    assert_string_equal(WORD(w, 1)->text, "cms");
    assert_true(WORD(w, 1)->negated);
    assert_int_equal(WORD(w, 2)->clause, 0);
    assert_string_equal(WORD(w, 3)->text, "rq");
    assert_int_equal(WORD(w, 3)->clause, 1);

    /* an unbalanced quote runs to the end; a lone '-' and a leading or trailing "or" are
     * nothing; "-or" is the word "or" excluded */
    w = parse(pool, "or a - \"b c");
    assert_int_equal(w->nelts, 2);
    assert_string_equal(WORD(w, 1)->text, "b c");
    assert_true(WORD(w, 1)->quoted);
    assert_int_equal(WORD(w, 1)->clause, 0);
    w = parse(pool, "a -or or");
    assert_int_equal(w->nelts, 2);
    assert_string_equal(WORD(w, 1)->text, "or");
    assert_true(WORD(w, 1)->negated);

    /* FTS5 syntax is text to the parser */
    w = parse(pool, "NEAR(a b) c* ^d e:f");
    assert_int_equal(w->nelts, 5);
    assert_string_equal(WORD(w, 0)->text, "NEAR(a");
    assert_string_equal(WORD(w, 4)->text, "e:f");
    assert_int_equal(parse(pool, "")->nelts, 0);
    assert_int_equal(parse(pool, " \t\n")->nelts, 0);
}

static pki_search_item item(apr_pool_t *pool, int clause, int negated, const char *tokens,
                            int prefix, const char *alts)
{
    pki_search_item it;
    char *last, *t;
    apr_array_header_t *a = apr_array_make(pool, 2, sizeof(char *));

    memset(&it, 0, sizeof(it));
    it.clause = clause;
    it.negated = negated;
    it.prefix = prefix;
    for (t = apr_strtok(apr_pstrdup(pool, tokens), " ", &last); t;
         t = apr_strtok(NULL, " ", &last)) {
        *(char **)apr_array_push(a) = t;
    }
    it.tokens = (const char **)a->elts;
    it.ntokens = a->nelts;
    it.phrase = a->nelts > 1;
    if (alts) {
        a = apr_array_make(pool, 2, sizeof(char *));
        for (t = apr_strtok(apr_pstrdup(pool, alts), " ", &last); t;
             t = apr_strtok(NULL, " ", &last)) {
            *(char **)apr_array_push(a) = t;
        }
        it.alts = (const char **)a->elts;
        it.nalts = a->nelts;
    }
    return it;
}

static void test_fts5_expr(void **state)
{
    apr_pool_t *pool = *state;
    pki_search_item items[6];
    const char *phrases = NULL, *expr;

    /* a prefix stands for the title words it starts; never FTS5's own prefix query */
    static const char *celery[] = {"celery", "celerity"};
    items[0] = item(pool, 0, 0, "celer", 1, "cele");
    items[0].prefixes = celery;
    items[0].nprefixes = 2;
    expr = pki_search_fts5_expr(pool, items, 1, &phrases);
    assert_string_equal(expr, "((\"celer\" OR \"celery\" OR \"celerity\" OR \"cele\"))");
    assert_string_equal(phrases, "AAeAApAApAAt");
    assert_string_equal(pki_search_fts5_any(pool, items, 1),
                        "(\"celer\" OR \"celery\" OR \"celerity\" OR \"cele\")");

    /* phrases, exclusions, clauses; a double quote inside a token is doubled */
    items[0] = item(pool, 0, 0, "debug toolbar", 0, NULL);
    items[1] = item(pool, 0, 1, "cms", 0, NULL);
    items[2] = item(pool, 0, 0, "a\"b", 0, NULL);
    items[3] = item(pool, 2, 0, "rq", 0, NULL);
    items[4] = item(pool, 2, 1, "x y", 0, NULL);
    expr = pki_search_fts5_expr(pool, items, 5, &phrases);
    assert_string_equal(expr, "(\"debug toolbar\" AND (\"a\"\"b\") NOT (\"cms\"))"
                              " OR ((\"rq\") NOT (\"x y\"))");
    assert_string_equal(phrases, "AAeABeAAnBAeBAn");

    /* a clause of exclusions only is dropped; nothing left is NULL */
    items[0] = item(pool, 0, 1, "cms", 0, NULL);
    assert_null(pki_search_fts5_expr(pool, items, 1, &phrases));
    items[1] = item(pool, 1, 0, "rq", 0, NULL);
    assert_string_equal(pki_search_fts5_expr(pool, items, 2, &phrases), "((\"rq\"))");
    assert_string_equal(phrases, "AAe");
    assert_null(pki_search_fts5_expr(pool, items, 0, &phrases));
}

static void test_stop_words(void **state)
{
    (void)state;
    assert_true(pki_search_stop_word("the"));
    assert_true(pki_search_stop_word("a"));
    assert_true(pki_search_stop_word("yourselves"));
    assert_true(pki_search_stop_word("for"));
    assert_false(pki_search_stop_word("django"));
    assert_false(pki_search_stop_word("The")); /* tokens are lower case already */
    assert_false(pki_search_stop_word(""));
    assert_false(pki_search_stop_word("zzz"));
}

static void test_similarity(void **state)
{
    apr_uint64_t t[PKI_SEARCH_MAX_TRIGRAMS];

    (void)state;
    /* pg_trgm: show_trgm('cat') = {"  c"," ca","at ","cat"} */
    assert_int_equal(pki_search_trigrams("cat", t, PKI_SEARCH_MAX_TRIGRAMS), 4);
    assert_int_equal(pki_search_trigrams("Cat, CAT!", t, PKI_SEARCH_MAX_TRIGRAMS), 4);
    assert_int_equal(pki_search_trigrams("", t, PKI_SEARCH_MAX_TRIGRAMS), 0);
    assert_int_equal(pki_search_trigrams("-- !", t, PKI_SEARCH_MAX_TRIGRAMS), 0);
    /* PostgreSQL: similarity('word', 'two words') = 0.36363637 */
    assert_true(fabs(pki_search_similarity("word", "two words") - 4.0 / 11.0) < 1e-9);
    assert_true(pki_search_similarity("django", "Django") == 1.0);
    assert_true(pki_search_similarity("djnago", "django") > 0.25);
    assert_true(pki_search_similarity("abc", "") == 0.0);
    /* non-ASCII characters are letters, compared by code point */
    assert_true(pki_search_similarity("caf\303\251", "caf\303\251") == 1.0);
    assert_true(pki_search_similarity("caf\303\251", "cafe") < 1.0);
}

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(pki_search_distance("django", "django", 1), 0);
    assert_int_equal(pki_search_distance("djnago", "django", 1), 1); /* a swap is one edit */
    assert_int_equal(pki_search_distance("toolbr", "toolbar", 1), 1);
    assert_int_equal(pki_search_distance("celery", "celry", 1), 1);
    assert_int_equal(pki_search_distance("kitten", "sitting", 2), 3); /* over the limit */
    assert_int_equal(pki_search_distance("kitten", "sitting", 5), 3);
    assert_int_equal(pki_search_distance("abc", "abcdef", 2), 3);       /* lengths alone */
    assert_int_equal(pki_search_distance("caf\303\251", "cafe", 1), 1); /* code points */
    assert_int_equal(pki_search_typo_limit(2), 0);
    assert_int_equal(pki_search_typo_limit(3), 1);
    assert_int_equal(pki_search_typo_limit(7), 1);
    assert_int_equal(pki_search_typo_limit(8), 2);
    assert_int_equal(pki_search_length("caf\303\251"), 4);
}

static void test_weight(void **state)
{
    apr_int64_t now = apr_time_from_sec(1800000000);
    pki_search_facts f;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.last_commit = f.released = f.modified = PKI_TIME_NULL;
    assert_int_equal(pki_search_weight(&f, now), 0);
    f.description = " \t";
    assert_int_equal(pki_search_weight(&f, now), 0);
    f.description = "x";
    assert_int_equal(pki_search_weight(&f, now), 15);
    f.stars = 99; /* 50+ */
    assert_int_equal(pki_search_weight(&f, now), 15 + 8);
    f.stars = 10000;
    f.forks = 1000;
    f.usage = 50;
    assert_int_equal(pki_search_weight(&f, now), 15 + 20 + 10 + 15);
    f.last_commit = now - 90 * DAY;
    assert_int_equal(pki_search_weight(&f, now), 60 + 20);
    f.last_commit = now - 91 * DAY;
    assert_int_equal(pki_search_weight(&f, now), 60 + 15);
    f.last_commit = now - 731 * DAY;
    assert_int_equal(pki_search_weight(&f, now), 60);
    f.last_commit = now;
    f.has_release = 1;
    assert_int_equal(pki_search_weight(&f, now), 80 + 10);
    f.released = now - 365 * DAY;
    f.has_documentation = 1;
    assert_int_equal(pki_search_weight(&f, now), 100);

    memset(&f, 0, sizeof(f));
    f.grid = 1;
    f.modified = now - 10 * DAY;
    f.description = "d";
    f.packages = 7;
    assert_int_equal(pki_search_weight(&f, now), 10 + 14 + 10);
    f.packages = 500;
    f.modified = now - 400 * DAY;
    assert_int_equal(pki_search_weight(&f, now), 10 + 40);
}

static void test_top(void **state)
{
    pki_search_top t;
    pki_search_candidate c;
    int i;

    (void)state;
    memset(&t, 0, sizeof(t));
    /* 30 candidates: ranks 0..29 step 10, equal ranks of 100 and 200 decided by similarity,
     * then title */
    for (i = 0; i < 30; i++) {
        c.id = i;
        c.rank = (i % 10) * 100;
        c.similarity = i < 10 ? 0.5 : 0.25;
        c.title = i < 20 ? "b" : "a";
        pki_search_top_add(&t, &c);
    }
    assert_int_equal(t.n, PKI_SEARCH_LIMIT);
    pki_search_top_sort(&t);
    /* rank 900: ids 9 (sim .5), then 29 ("a") before 19 ("b") */
    assert_int_equal(t.c[0].id, 9);
    assert_int_equal(t.c[1].id, 29);
    assert_int_equal(t.c[2].id, 19);
    assert_int_equal(t.c[19].rank, 300);
    assert_true(pki_search_top_closed(&t, 299));
    assert_false(pki_search_top_closed(&t, 300));
    /* the worst is rank 300, similarity .25: an equal rank needs at least that similarity */
    assert_false(pki_search_top_may_take(&t, 300, 0.2));
    assert_true(pki_search_top_may_take(&t, 300, 0.25));
    assert_true(pki_search_top_may_take(&t, 301, 0.0));
    /* exact matches beat any weight; weights add 0.02 each */
    assert_true(PKI_RANK((apr_int64_t)PKI_RANK_EXACT * PKI_RANK_UNIT, 0) >
                PKI_RANK((apr_int64_t)PKI_RANK_MAX * PKI_RANK_UNIT, 100));
    assert_int_equal(PKI_RANK(0, 50) / PKI_RANK_UNIT, 1000); /* 1.0 in thousandths */
}

/* --- The index on the test database --- */

static int titles(testdb *t, const char *q, const char **out, int max)
{
    pki_search_hit *hits;
    int n, i;

    assert_int_equal(pki_store_read_begin(&t->db, t->pool), APR_SUCCESS);
    if (pki_store_search(&t->db, t->pool, q, &hits, &n) != APR_SUCCESS) {
        fail_msg("search %s: %s", q, t->db.error);
    }
    pki_store_read_end(&t->db);
    for (i = 0; i < n && i < max; i++) {
        out[i] = hits[i].title;
    }
    return n;
}

static void sync_index_at(testdb *t, int expect_rebuild, const char *where)
{
    int rebuilt = -1;

    /* in a transaction, as the importer calls it */
    assert_int_equal(pki_store_begin(&t->db, t->pool), APR_SUCCESS);
    assert_int_equal(pki_store_search_sync(&t->db, t->pool, &rebuilt), APR_SUCCESS);
    assert_int_equal(pki_store_end(&t->db, t->pool, 1), APR_SUCCESS);
    if (rebuilt != expect_rebuild) {
        fail_msg("sync: rebuilt %d, expected %d (%s)", rebuilt, expect_rebuild, where);
    }
}

static int append_row(void *ctx, int n, char **values, char **names)
{
    pki_buf *b = ctx;
    int i;

    (void)names;
    for (i = 0; i < n; i++) {
        pki_buf_puts(b, values[i] ? values[i] : "NULL");
        pki_buf_putc(b, i + 1 < n ? '|' : '\n');
    }
    return 0;
}

/* The typo word list and its trigrams, as text. */
static const char *word_list(testdb *t)
{
    pki_buf b;

    pki_buf_init(&b, t->pool, 4096);
    assert_int_equal(sqlite3_exec(pki_sqlite_conn(&t->db),
                                  "SELECT w.word, w.n, (SELECT COUNT(*) FROM searchv3_trigram g"
                                  " WHERE g.word_id = w.id) FROM searchv3_word w ORDER BY w.word",
                                  append_row, &b, NULL),
                     SQLITE_OK);
    return pki_buf_cstr(&b);
}

#define sync_index(t, e) sync_index_at(t, e, #e " at line " APR_STRINGIFY(__LINE__))

static void test_index(void **state)
{
    testdb *t = *state;
    const char *got[PKI_SEARCH_LIMIT];
    pki_search_hit *hits;
    int n;

    sync_index(t, 1); /* the first sync builds it */
    assert_int_equal(titles(t, "alpha", got, 20), 1);
    assert_string_equal(got[0], "alpha");
    assert_int_equal(titles(t, "alpah", got, 20), 1); /* a typo */
    assert_int_equal(titles(t, "alp", got, 20), 1);   /* a prefix */
    assert_int_equal(titles(t, "EMILE", got, 20), 1); /* case and diacritics */
    assert_string_equal(got[0], "\303\251mile");
    assert_int_equal(titles(t, "zeta", got, 20), 2);
    assert_int_equal(titles(t, "zeta -z", got, 20), 1); /* package 3's description is "z" */
    assert_int_equal(titles(t, "\"first grid\"", got, 20), 1);
    assert_string_equal(got[0], "Grid One");
    assert_int_equal(titles(t, "\"grid first\"", got, 20), 0);
    assert_int_equal(titles(t, "solo or beta", got, 20), 2);
    assert_int_equal(titles(t, "\xf0\x9f\x9a\x80", got, 20), 0);
    assert_int_equal(titles(t, "NEAR(\"a\" ^b:* )", got, 20), 0);

    /* the row's fields */
    assert_int_equal(pki_store_read_begin(&t->db, t->pool), APR_SUCCESS);
    assert_int_equal(pki_store_search(&t->db, t->pool, "alpha", &hits, &n), APR_SUCCESS);
    pki_store_read_end(&t->db);
    assert_string_equal(hits[0].item_type, "package");
    assert_string_equal(hits[0].category, "App");
    assert_string_equal(hits[0].absolute_url, "/packages/p/alpha/");
    assert_string_equal(hits[0].participants, "a, b");
    assert_int_equal(hits[0].repo_watchers, 420);
    assert_true(hits[0].last_released == PKI_TIME_NULL);
    assert_true(hits[0].last_committed != PKI_TIME_NULL);

    /* last_released is the latest version's upload time, followed when it changes */
    testdb_exec(t, "UPDATE package_version SET upload_time = '2020-05-01 12:00:00' WHERE id = 1");
    sync_index(t, 0);
    assert_int_equal(pki_store_read_begin(&t->db, t->pool), APR_SUCCESS);
    assert_int_equal(pki_store_search(&t->db, t->pool, "alpha", &hits, &n), APR_SUCCESS);
    pki_store_read_end(&t->db);
    assert_true(hits[0].last_released == apr_time_from_sec(1588334400));

    /* one change: updated in place; the old title is forgotten */
    testdb_exec(t, "UPDATE package_package SET title = 'omega' WHERE id = 4");
    sync_index(t, 0);
    assert_int_equal(titles(t, "solo", got, 20), 1); /* the slug is still solo */
    assert_int_equal(titles(t, "omega", got, 20), 1);
    testdb_exec(t, "UPDATE package_package SET slug = 'omega' WHERE id = 4");
    sync_index(t, 0);
    assert_int_equal(titles(t, "solo", got, 20), 0);
    /* a category's new title reaches its packages; a deleted package leaves */
    testdb_exec(t, "UPDATE package_category SET title = 'Frameworkz' WHERE id = 2");
    testdb_exec(t, "DELETE FROM grid_gridpackage WHERE package_id = 7;"
                   " DELETE FROM package_package WHERE id = 7");
    sync_index(t, 1); /* 2 packages and 2 grids of 10 rows */
    assert_int_equal(titles(t, "frameworkz", got, 20), 2);
    /* now a typo of "zeta" */
    assert_int_equal(titles(t, "beta", got, 20), 2);
    assert_string_equal(got[0], "Zeta");
    assert_string_equal(got[1], "Zeta");
    /* nothing changed: nothing to do */
    sync_index(t, 0);

    /* one by one, the word list ends as a rebuild makes it: counts up and down, a word no
     * title has any more gone with its trigrams */
    testdb_exec(t, "UPDATE package_package SET title = 'zeta gamma gamma' WHERE id = 3");
    testdb_exec(t, "UPDATE package_package SET title = 'alphabet', slug = 'alphabet' WHERE id = 1");
    sync_index(t, 0);
    {
        const char *incremental = word_list(t);
        assert_non_null(strstr(incremental, "gamma|2|"));
        assert_null(strstr(incremental, "\nalpha|"));
        assert_int_equal(pki_store_begin(&t->db, t->pool), APR_SUCCESS);
        assert_int_equal(pki_store_search_rebuild(&t->db, t->pool), APR_SUCCESS);
        assert_int_equal(pki_store_end(&t->db, t->pool, 1), APR_SUCCESS);
        assert_string_equal(incremental, word_list(t));
    }

    /* a deleted version or category marks the packages that point at it */
    testdb_exec(t, "DELETE FROM package_version WHERE id = 1;"
                   " DELETE FROM package_category WHERE id = 2");
    {
        pki_buf b;
        pki_buf_init(&b, t->pool, 64);
        assert_int_equal(sqlite3_exec(pki_sqlite_conn(&t->db),
                                      "SELECT group_concat(item_id) FROM (SELECT item_id FROM"
                                      " searchv3_dirty ORDER BY item_id)",
                                      append_row, &b, NULL),
                         SQLITE_OK);
        assert_string_equal(pki_buf_cstr(&b), "1,2,5\n"); /* version 1: package 1; category 2 */
    }
    sync_index(t, 1);
}

/* --- The early stops against ranking every match, on a few thousand random objects --- */

static const char *const words[] = {
    "django", "rest",    "framework", "admin",   "forms",   "celery",   "cms",      "auth",
    "oauth",  "api",     "debug",     "toolbar", "cache",   "redis",    "search",   "filter",
    "table",  "import",  "export",    "storage", "upload",  "image",    "gallery",  "blog",
    "tags",   "payment", "shop",      "maps",    "geo",     "markdown", "editor",   "wiki",
    "queue",  "tasks",   "email",     "sms",     "caching", "tagging",  "comments", "djangos"};
#define NWORDS ((int)(sizeof(words) / sizeof(words[0])))

static unsigned rnd_next(unsigned *x)
{
    *x = *x * 1103515245u + 12345u;
    return (*x >> 8) & 0xffffff;
}

static const char *rnd_words(apr_pool_t *pool, unsigned *x, int n, const char *sep, int caps)
{
    const char *out = "";
    int i;

    for (i = 0; i < n; i++) {
        char *w = apr_pstrdup(pool, words[rnd_next(x) % NWORDS]);
        if (caps && rnd_next(x) % 3 == 0) {
            w[0] = (char)(w[0] - 32);
        }
        out = apr_pstrcat(pool, out, i ? sep : "", w, NULL);
    }
    return out;
}

static void random_objects(testdb *t, int packages, int grids)
{
    apr_pool_t *pool = t->pool;
    pki_buf sql;
    unsigned x = 2026;
    int i;

    pki_buf_init(&sql, pool, 1 << 20);
    pki_buf_puts(&sql, "BEGIN; DELETE FROM grid_gridpackage; DELETE FROM package_package;"
                       " DELETE FROM grid_grid; DELETE FROM package_version;");
    for (i = 1; i <= packages; i++) {
        int nw = 1 + (int)(rnd_next(&x) % 3);
        const char *title = rnd_words(pool, &x, nw, rnd_next(&x) % 2 ? " " : "-", 1);
        unsigned r = rnd_next(&x);
        pki_buf_printf(&sql,
                       "INSERT INTO package_package (id, created, modified, title, slug,"
                       " category_id, repo_description, repo_watchers, repo_forks,"
                       " participants, documentation_url, last_commit_date) VALUES (%d,"
                       " '2020-01-01 00:00:00', '2021-01-01 00:00:00', '%s', 'p%d-%s', %d,"
                       " '%s', %u, %u, 'user%u,login%u', %s, %s);",
                       i, title, i, rnd_words(pool, &x, 1, "", 0), 1 + (int)(r % 2),
                       r % 5 ? rnd_words(pool, &x, 3 + (int)(r % 6), " ", 0) : "",
                       (r >> 3) % 7 ? (r >> 5) % 12000 : 0, (r >> 7) % 1500, r % 97, (r >> 11) % 13,
                       r % 4 ? "NULL" : "'https://docs.example/'",
                       r % 3 ? apr_psprintf(pool, "'%d-0%d-15 00:00:00'", 2023 + (int)(r % 4),
                                            1 + (int)(r % 9))
                             : "NULL");
    }
    for (i = 1; i <= grids; i++) {
        int k;
        pki_buf_printf(&sql,
                       "INSERT INTO grid_grid VALUES (%d, '2020-01-01 00:00:00',"
                       " '2026-01-01 00:00:00', '%s', 'g%d', '%s', 0, 0);",
                       i, rnd_words(pool, &x, 1 + (int)(rnd_next(&x) % 2), " ", 1), i,
                       rnd_words(pool, &x, 2, " ", 0));
        for (k = 0; k < (int)(rnd_next(&x) % 30); k++) {
            pki_buf_printf(&sql,
                           "INSERT OR IGNORE INTO grid_gridpackage (created, modified,"
                           " grid_id, package_id) VALUES ('2020-01-01 00:00:00',"
                           " '2020-01-01 00:00:00', %d, %d);",
                           i, 1 + (int)(rnd_next(&x) % packages));
        }
    }
    pki_buf_puts(&sql, "COMMIT;");
    testdb_exec(t, pki_buf_cstr(&sql));
}

static const char *hits_text(apr_pool_t *pool, testdb *t, const char *q)
{
    pki_search_hit *hits;
    const char *out = "";
    int n, i;

    assert_int_equal(pki_store_read_begin(&t->db, t->pool), APR_SUCCESS);
    if (pki_store_search(&t->db, pool, q, &hits, &n) != APR_SUCCESS) {
        fail_msg("search %s: %s", q, t->db.error);
    }
    pki_store_read_end(&t->db);
    for (i = 0; i < n; i++) {
        out = apr_psprintf(pool, "%s%s/%s(%" APR_INT64_T_FMT ") ", out, hits[i].item_type,
                           hits[i].slug, hits[i].weight);
    }
    return out;
}

static void test_early_stops_change_nothing(void **state)
{
    testdb *t = *state;
    apr_pool_t *pool = t->pool;
    apr_array_header_t *queries = apr_array_make(pool, 256, sizeof(const char *));
    int i, checked = 0;

    random_objects(t, 3000, 150);
    sync_index(t, 1);
    for (i = 0; i < NWORDS; i++) {
        const char *w = words[i], *v = words[(i * 7 + 3) % NWORDS];
        size_t n = strlen(w);
        const char *q[] = {
            w,
            apr_pstrndup(pool, w, 3),
            apr_pstrndup(pool, w, 4),
            apr_psprintf(pool, "%c%c%s", w[1], w[0], w + 2), /* a swap */
            apr_pstrndup(pool, w, n - 1),                    /* a letter missing */
            apr_psprintf(pool, "%s %s", w, v),
            apr_psprintf(pool, "\"%s %s\"", w, v),
            apr_psprintf(pool, "%s -%s", w, v),
            apr_psprintf(pool, "%s or %s", w, v),
            apr_psprintf(pool, "%s-%s", w, v),
            apr_psprintf(pool, "user%d", i % 97),
        };
        size_t k;
        for (k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
            *(const char **)apr_array_push(queries) = q[k];
        }
    }
    for (i = 0; i < queries->nelts; i++) {
        const char *q = APR_ARRAY_IDX(queries, i, const char *), *fast, *all;
        apr_pool_t *sub;
        apr_pool_create(&sub, pool);
        fast = hits_text(sub, t, q);
        pki_store_search_exhaustive(1);
        all = hits_text(sub, t, q);
        pki_store_search_exhaustive(0);
        if (strcmp(fast, all) != 0) {
            fail_msg("q=%s\n stopped early: %s\n every match:  %s", q, fast, all);
        }
        checked += *fast != '\0';
        apr_pool_destroy(sub);
    }
    /* most queries find something: the comparison is not of empty lists */
    assert_true(checked > queries->nelts * 3 / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_fts5_expr, pool_setup, pool_teardown),
        cmocka_unit_test(test_stop_words),
        cmocka_unit_test(test_similarity),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_weight),
        cmocka_unit_test(test_top),
        cmocka_unit_test_setup_teardown(test_index, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_early_stops_change_nothing, testdb_setup,
                                        testdb_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
