/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Search in SQLite: searchv3_searchv3 and its FTS5 index (sql/schema-sqlite.sql), kept and
 * queried straight through SQLite on the pooled connection. FTS5 is SQLite's own, so this
 * file is the SQLite backend of search; a PostgreSQL one (tsvector + pg_trgm, as the
 * original) takes the same items from search.c. */

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "buf.h"
#include "search.h"
#include "store_sqlite.h"
#include "tz.h"

/* searchv3_searchv3.id: (100 - weight) << 48 | title trigrams (at most 255) << 40 | n, so that
 * rowid order is weight order, and a row's best similarity to a query is known before its
 * title is read (ties of rank are many at a million rows). */
#define WEIGHT_SHIFT 48
#define TRI_SHIFT    40
#define SEQ_MASK     ((APR_INT64_C(1) << TRI_SHIFT) - 1)
#define TRI_MAX      255
#define ROW_ID(weight, ntri, seq)                                                                  \
    ((apr_int64_t)(100 - (weight)) << WEIGHT_SHIFT |                                               \
     (apr_int64_t)((ntri) < TRI_MAX ? (ntri) : TRI_MAX) << TRI_SHIFT | ((seq)&SEQ_MASK))
#define ROW_WEIGHT(id) (100 - (int)((id) >> WEIGHT_SHIFT))
#define ROW_NTRI(id)   ((int)(((id) >> TRI_SHIFT) & TRI_MAX))

/* Rebuild rather than update row by row when more than a quarter of the index changed. */
#define REBUILD_FRACTION 4

/* The search rows of packages and of grids, as INSERT ... SELECT: a rebuild numbers them with
 * pkgindex_seq() over every object, a sync gives one object (?3) its number (?2). One
 * statement either way, so a row is the same whichever way it was made. ?1: now. */
#define ROW_COLUMNS                                                                                \
    "INSERT INTO searchv3_searchv3 (id, created, modified, item_type, item_id, title,"             \
    " title_no_prefix, slug, slug_no_prefix, clean_title, description, category,"                  \
    " absolute_url, repo_watchers, repo_forks, pypi_downloads, score, usage, participants,"        \
    " last_committed, last_released, weight) SELECT ((100 - w) << 48) |"                           \
    " (min(pkgindex_trigrams(title), 255) << 40) | "
#define PACKAGE_ROWS(seq, where)                                                                   \
    ROW_COLUMNS seq ", created, modified, 'package', id, title, title, slug, slug, title,"         \
                    " description, category, '/packages/p/' || slug || '/', stars, forks,"         \
                    " downloads, score, usage, participants, last_commit, released, w FROM"        \
                    " (SELECT p.id, p.created, p.modified, p.title, p.slug,"                       \
                    " p.repo_description AS description, COALESCE(c.title, '') AS category,"       \
                    " p.participants, p.repo_watchers AS stars, p.repo_forks AS forks,"            \
                    " p.pypi_downloads AS downloads, p.score, p.usage_count AS usage,"             \
                    " p.last_commit_date AS last_commit, v.upload_time AS released,"               \
                    " pkgindex_weight(?1, 0, p.repo_description, p.repo_watchers, p.repo_forks,"   \
                    " p.usage_count, 0, p.last_commit_date, v.upload_time,"                        \
                    " p.latest_version_id IS NOT NULL, COALESCE(p.documentation_url, '') <> '',"   \
                    " p.modified) AS w FROM package_package p"                                     \
                    " LEFT JOIN package_category c ON c.id = p.category_id"                        \
                    " LEFT JOIN package_version v ON v.id = p.latest_version_id" where ")"
#define GRID_ROWS(seq, where)                                                                      \
    ROW_COLUMNS seq ", created, modified, 'grid', id, title, title, slug, slug, title,"            \
                    " description, '', '/grids/g/' || slug || '/', 0, 0, 0, 0, 0, '', NULL, NULL," \
                    " w FROM (SELECT g.id, g.created, g.modified, g.title, g.slug, g.description," \
                    " pkgindex_weight(?1, 1, g.description, 0, 0, 0, (SELECT COUNT(*) FROM"        \
                    " grid_gridpackage gp WHERE gp.grid_id = g.id), NULL, NULL, 0, 0, g.modified)" \
                    " AS w FROM grid_grid g" where ")"
/* A row's text, into an FTS5 index. */
#define FTS_ROW(table, columns)                                                                    \
    "INSERT INTO " table " (rowid, " columns ") SELECT id, " columns                               \
    " FROM searchv3_searchv3 WHERE id = ?1"

typedef enum {
    S_SCAN,
    S_MATCH_ONE,
    S_EXACT,
    S_TITLE,
    S_ROW,
    S_IS_WORD,
    S_WORD_EXISTS,
    S_PREFIX_WORDS,
    S_TYPOS,
    S_PACKAGE_ROW,
    S_GRID_ROW,
    S_OLD,
    S_FTS_DELETE,
    S_FTS_INSERT,
    S_TITLE_FTS_DELETE,
    S_TITLE_FTS_INSERT,
    S_TITLE_MATCHES,
    S_ROW_DELETE,
    S_EXACT_DELETE,
    S_EXACT_INSERT,
    S_WORD_ADD,
    S_WORD_DROP,
    S_WORD_DELETE,
    S_TRIGRAM_DELETE,
    S_WORD_PUT,
    S_TRIGRAM_ADD,
    S_NEXT_SEQ,
    S_SET_SEQ,
    S_DIRTY,
    S_DIRTY_COUNT,
    S_ROW_COUNT,
    S_OBJECT_COUNT,
    S_HAS_INDEX,
    S_BULK_PACKAGES,
    S_BULK_GRIDS,
    S_TITLES,
    S_COUNT_
} stmt_id;

static const char *const sql[S_COUNT_] = {
    /* rank() sees which phrase matched in which column: see rank() below */
    [S_SCAN] = "SELECT rowid, pkgindex_rank(searchv3_fts, ?1) FROM searchv3_fts"
               " WHERE searchv3_fts MATCH ?2 ORDER BY rowid",
    [S_MATCH_ONE] = "SELECT pkgindex_rank(searchv3_fts, ?1) FROM searchv3_fts"
                    " WHERE searchv3_fts MATCH ?2 AND rowid = ?3",
    [S_EXACT] = "SELECT id FROM searchv3_exact WHERE key = ?1 ORDER BY id",
    [S_TITLE] = "SELECT title FROM searchv3_searchv3 WHERE id = ?1",
    [S_ROW] = "SELECT description, title, slug, absolute_url, created, modified, weight,"
              " item_type, category, repo_watchers, repo_forks, pypi_downloads, score, usage,"
              " participants, last_committed, last_released FROM searchv3_searchv3 WHERE id = ?1",
    /* FTS5 itself, not the word list: "storag" is no title word, but Porter's stem of
     * "storage", so it hits titles */
    [S_IS_WORD] = "SELECT 1 FROM searchv3_title_fts WHERE searchv3_title_fts MATCH ?1 LIMIT 1",
    [S_WORD_EXISTS] = "SELECT 1 FROM searchv3_word WHERE word = ?1",
    [S_PREFIX_WORDS] =
        "SELECT word FROM searchv3_word WHERE word > ?1 AND (?2 IS NULL OR word < ?2)"
        " ORDER BY n DESC, word LIMIT ?3",
    [S_TYPOS] =
        "SELECT w.word, w.n FROM searchv3_trigram t JOIN searchv3_word w ON w.id = t.word_id"
        " WHERE t.trigram IN (SELECT value FROM json_each(?1)) GROUP BY t.word_id"
        " HAVING COUNT(*) >= ?2",
    [S_PACKAGE_ROW] = PACKAGE_ROWS("?2", " WHERE p.id = ?3"),
    [S_GRID_ROW] = GRID_ROWS("?2", " WHERE g.id = ?3"),
    [S_OLD] = "SELECT id, title, slug, description, category, participants FROM searchv3_searchv3"
              " WHERE item_type = ?1 AND item_id = ?2",
    [S_FTS_DELETE] = "INSERT INTO searchv3_fts (searchv3_fts, rowid, title, slug, description,"
                     " category, participants) VALUES ('delete', ?1, ?2, ?3, ?4, ?5, ?6)",
    [S_FTS_INSERT] = FTS_ROW("searchv3_fts", "title, slug, description, category, participants"),
    [S_TITLE_FTS_DELETE] = "INSERT INTO searchv3_title_fts (searchv3_title_fts, rowid, title, slug)"
                           " VALUES ('delete', ?1, ?2, ?3)",
    [S_TITLE_FTS_INSERT] = FTS_ROW("searchv3_title_fts", "title, slug"),
    [S_TITLE_MATCHES] = "SELECT rowid FROM searchv3_title_fts WHERE searchv3_title_fts MATCH ?1"
                        " ORDER BY rowid LIMIT ?2",
    [S_ROW_DELETE] = "DELETE FROM searchv3_searchv3 WHERE id = ?1",
    [S_EXACT_DELETE] = "DELETE FROM searchv3_exact WHERE key = ?1 AND id = ?2",
    [S_EXACT_INSERT] = "INSERT INTO searchv3_exact (key, id) VALUES (?1, ?2)",
    /* title words are counted, per occurrence, as a rebuild counts them */
    [S_WORD_ADD] = "INSERT INTO searchv3_word (word, n) VALUES (?1, 1) ON CONFLICT (word)"
                   " DO UPDATE SET n = n + 1 RETURNING id, n",
    [S_WORD_DROP] = "UPDATE searchv3_word SET n = n - 1 WHERE word = ?1 RETURNING id, n",
    [S_WORD_DELETE] = "DELETE FROM searchv3_word WHERE id = ?1",
    [S_TRIGRAM_DELETE] = "DELETE FROM searchv3_trigram WHERE trigram = ?1 AND word_id = ?2",
    [S_WORD_PUT] = "INSERT INTO searchv3_word (word, n) VALUES (?1, ?2)",
    [S_TRIGRAM_ADD] = "INSERT OR IGNORE INTO searchv3_trigram (trigram, word_id) VALUES (?1, ?2)",
    [S_NEXT_SEQ] = "SELECT seq FROM searchv3_state WHERE id = 1",
    [S_SET_SEQ] = "UPDATE searchv3_state SET seq = ?1 WHERE id = 1",
    [S_DIRTY] = "SELECT item_type, item_id FROM searchv3_dirty",
    [S_DIRTY_COUNT] = "SELECT COUNT(*) FROM searchv3_dirty",
    [S_ROW_COUNT] = "SELECT COUNT(*) FROM searchv3_searchv3",
    [S_HAS_INDEX] = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'searchv3_dirty'",
    [S_OBJECT_COUNT] = "SELECT (SELECT n FROM pkgindex_count WHERE name = 'package_package') +"
                       " (SELECT n FROM pkgindex_count WHERE name = 'grid_grid')",
    [S_BULK_PACKAGES] = PACKAGE_ROWS("pkgindex_seq()", ""),
    [S_BULK_GRIDS] = GRID_ROWS("pkgindex_seq()", ""),
    [S_TITLES] = "SELECT id, title, slug FROM searchv3_searchv3",
};

/* A connection's search statements and tokenizer. */
typedef struct sconn {
    apr_int64_t seq; /* pkgindex_seq()'s last value */
    sqlite3 *conn;
    fts5_tokenizer tok;
    Fts5Tokenizer *tokenizer;
    sqlite3_stmt *st[S_COUNT_];
    apr_pool_t *scratch; /* pkgindex_key()'s, cleared per call */
} sconn;

static void register_functions(sconn *s);

static apr_status_t sconn_cleanup(void *data)
{
    sconn *s = data;
    int i;

    for (i = 0; i < S_COUNT_; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
    if (s->tokenizer) {
        s->tok.xDelete(s->tokenizer);
        s->tokenizer = NULL;
    }
    return APR_SUCCESS;
}

void pki_sqlite_search_release(pki_sqlite *c)
{
    if (c->search) {
        sconn_cleanup(c->search);
        c->search = NULL;
    }
}

/* --- The text rank, an FTS5 auxiliary function --- */

static const int column_points[] = {PKI_RANK_TITLE, PKI_RANK_SLUG, PKI_RANK_DESCRIPTION,
                                    PKI_RANK_CATEGORY, PKI_RANK_PARTICIPANT};

#define MAX_CLAUSES PKI_SEARCH_MAX_ITEMS

/* pkgindex_rank(fts, phrases): for every query item, its best hit (the column's points, less
 * for a prefix or typo hit); the text rank is the mean over a clause's items, of the best
 * clause, in thousandths × PKI_RANK_UNIT. PHRASES is pki_search_fts5_expr's map. */
static void rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                 sqlite3_value **val)
{
    const char *map = nval ? (const char *)sqlite3_value_text(val[0]) : NULL;
    int best[MAX_CLAUSES][PKI_SEARCH_MAX_ITEMS], items[MAX_CLAUSES];
    int nmap, ninst = 0, i, c;
    apr_int64_t text = 0;

    if (!map) {
        sqlite3_result_int64(ctx, 0);
        return;
    }
    nmap = (int)strlen(map) / 3;
    memset(best, 0, sizeof(best));
    memset(items, 0, sizeof(items));
    for (i = 0; i < nmap; i++) {
        int clause = map[3 * i] - 'A', item = map[3 * i + 1] - 'A';
        if (map[3 * i + 2] != PKI_HIT_NOT && clause < MAX_CLAUSES && item < PKI_SEARCH_MAX_ITEMS &&
            item + 1 > items[clause]) {
            items[clause] = item + 1;
        }
    }
    if (api->xInstCount(fts, &ninst) != SQLITE_OK) {
        sqlite3_result_error(ctx, "pkgindex_rank: no instances", -1);
        return;
    }
    for (i = 0; i < ninst; i++) {
        int phrase, col, off, clause, item, points;
        char kind;
        if (api->xInst(fts, i, &phrase, &col, &off) != SQLITE_OK || phrase >= nmap || col < 0 ||
            col > 4) {
            continue;
        }
        clause = map[3 * phrase] - 'A';
        item = map[3 * phrase + 1] - 'A';
        kind = map[3 * phrase + 2];
        if (kind == PKI_HIT_NOT || clause >= MAX_CLAUSES || item >= PKI_SEARCH_MAX_ITEMS) {
            continue;
        }
        points = column_points[col];
        if (kind == PKI_HIT_PREFIX) {
            points = points * PKI_RANK_PREFIX_PCT / 100;
        } else if (kind == PKI_HIT_TYPO) {
            points = points * PKI_RANK_TYPO_PCT / 100;
        }
        if (points > best[clause][item]) {
            best[clause][item] = points;
        }
    }
    for (c = 0; c < MAX_CLAUSES; c++) {
        apr_int64_t sum = 0;
        if (!items[c]) {
            continue;
        }
        for (i = 0; i < items[c]; i++) {
            sum += best[c][i];
        }
        sum = sum * (PKI_RANK_UNIT / items[c]);
        text = sum > text ? sum : text;
    }
    sqlite3_result_int64(ctx, text);
}

static fts5_api *fts5_of(sqlite3 *conn)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(conn, "SELECT fts5(?1)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return api;
}

/* The connection's search state, made on first use: NULL (DB->error set) when the database
 * has no search tables or is not SQLite. */
static sconn *sconn_of(pki_db *db, apr_pool_t *pool)
{
    static const char *args[] = {"remove_diacritics", "2"};
    void *data = NULL, *tctx = NULL;
    sqlite3 *conn;
    fts5_api *api;
    sconn *s;

    if (!(conn = pki_sqlite_conn(db))) {
        pki_store_fail(db, PKI_DB_FAULT_OTHER, "search: not a SQLite connection");
        return NULL;
    }
    if ((data = ((pki_sqlite *)db->conn)->search)) {
        return data;
    }
    if (!(api = fts5_of(conn)) || api->iVersion < 2) {
        db->error = "search: this SQLite has no FTS5";
        return NULL;
    }
    s = apr_pcalloc(db->pool, sizeof(*s));
    s->conn = conn;
    if (api->xFindTokenizer(api, "unicode61", &tctx, &s->tok) != SQLITE_OK ||
        s->tok.xCreate(tctx, args, 2, &s->tokenizer) != SQLITE_OK ||
        api->xCreateFunction(api, "pkgindex_rank", NULL, rank, NULL) != SQLITE_OK) {
        db->error = apr_psprintf(pool, "search: %s", sqlite3_errmsg(conn));
        if (s->tokenizer) {
            s->tok.xDelete(s->tokenizer);
        }
        return NULL;
    }
    apr_pool_create(&s->scratch, db->pool);
    register_functions(s);
    /* released with the connection's other statements (pki_sqlite_search_release) */
    ((pki_sqlite *)db->conn)->search = s;
    return s;
}

/* Statement ID, reset and unbound, prepared on first use. */
static sqlite3_stmt *stmt(pki_db *db, sconn *s, stmt_id id, apr_pool_t *pool)
{
    if (!s->st[id] && sqlite3_prepare_v3(s->conn, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                         &s->st[id], NULL) != SQLITE_OK) {
        db->error = apr_psprintf(pool, "search: %s", sqlite3_errmsg(s->conn));
        s->st[id] = NULL;
        return NULL;
    }
    return s->st[id];
}

static apr_status_t failed(pki_db *db, sconn *s, sqlite3_stmt *st, apr_pool_t *pool)
{
    db->error = apr_psprintf(pool, "search: %s", sqlite3_errmsg(s->conn));
    db->fault = pki_sqlite_fault(s->conn);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return APR_EGENERAL;
}

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static const char *col_dup(apr_pool_t *pool, sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? apr_pstrmemdup(pool, s, sqlite3_column_bytes(st, col)) : NULL;
}

static apr_int64_t col_time(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    apr_int64_t usec;

    return s && pki_time_parse(s, &usec) == 0 ? usec : PKI_TIME_NULL;
}

/* --- Tokens --- */

typedef struct token_sink {
    apr_pool_t *pool;
    apr_array_header_t *out;
} token_sink;

static int take_token(void *ctx, int tflags, const char *token, int n, int start, int end)
{
    token_sink *k = ctx;

    (void)start, (void)end;
    if (!(tflags & FTS5_TOKEN_COLOCATED) && n > 0) {
        *(const char **)apr_array_push(k->out) = apr_pstrmemdup(k->pool, token, n);
    }
    return SQLITE_OK;
}

/* TEXT's words as FTS5's unicode61 sees them (lower case, no diacritics), appended to OUT. */
static void tokenize(sconn *s, apr_pool_t *pool, const char *text, int flags,
                     apr_array_header_t *out)
{
    token_sink k = {pool, out};

    if (text && *text) {
        s->tok.xTokenize(s->tokenizer, &k, flags, text, (int)strlen(text), take_token);
    }
}

/* --- SQL functions for the rebuild, so that it runs as a few statements --- */

static apr_int64_t value_time(sqlite3_value *v)
{
    const char *t = (const char *)sqlite3_value_text(v);
    apr_int64_t usec;

    return t && pki_time_parse(t, &usec) == 0 ? usec : PKI_TIME_NULL;
}

/* pkgindex_weight(now, grid, description, stars, forks, usage, packages, last_commit,
 * released, has_release, has_documentation, modified): pki_search_weight(). */
static void weight_fn(sqlite3_context *ctx, int n, sqlite3_value **v)
{
    pki_search_facts f;

    (void)n;
    memset(&f, 0, sizeof(f));
    f.grid = sqlite3_value_int(v[1]);
    f.description = (const char *)sqlite3_value_text(v[2]);
    f.stars = sqlite3_value_int64(v[3]);
    f.forks = sqlite3_value_int64(v[4]);
    f.usage = sqlite3_value_int64(v[5]);
    f.packages = sqlite3_value_int64(v[6]);
    f.last_commit = value_time(v[7]);
    f.released = value_time(v[8]);
    f.has_release = sqlite3_value_int(v[9]);
    f.has_documentation = sqlite3_value_int(v[10]);
    f.modified = value_time(v[11]);
    sqlite3_result_int(ctx, pki_search_weight(&f, sqlite3_value_int64(v[0])));
}

/* pkgindex_key(text): the exact-match key of TEXT's words. */
static void key_fn(sqlite3_context *ctx, int n, sqlite3_value **v)
{
    sconn *s = sqlite3_user_data(ctx);
    apr_array_header_t *tokens = apr_array_make(s->scratch, 8, sizeof(const char *));
    const char *key;

    (void)n;
    tokenize(s, s->scratch, (const char *)sqlite3_value_text(v[0]), FTS5_TOKENIZE_DOCUMENT, tokens);
    key = pki_search_key(s->scratch, (const char **)tokens->elts, tokens->nelts);
    sqlite3_result_text(ctx, key, -1, SQLITE_TRANSIENT);
    apr_pool_clear(s->scratch);
}

/* pkgindex_seq(): 1, 2, 3, … from the rebuild's start (row_number() would materialize the
 * whole result first). */
static void seq_fn(sqlite3_context *ctx, int n, sqlite3_value **v)
{
    sconn *s = sqlite3_user_data(ctx);

    (void)n, (void)v;
    sqlite3_result_int64(ctx, ++s->seq);
}

/* pkgindex_trigrams(text): how many pg_trgm trigrams TEXT has. */
static void trigrams_fn(sqlite3_context *ctx, int n, sqlite3_value **v)
{
    apr_uint64_t tri[PKI_SEARCH_MAX_TRIGRAMS];
    const char *text = (const char *)sqlite3_value_text(v[0]);

    (void)n;
    sqlite3_result_int(ctx, pki_search_trigrams(text ? text : "", tri, PKI_SEARCH_MAX_TRIGRAMS));
}

static void register_functions(sconn *s)
{
    sqlite3_create_function_v2(s->conn, "pkgindex_trigrams", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                               NULL, trigrams_fn, NULL, NULL, NULL);
    sqlite3_create_function_v2(s->conn, "pkgindex_seq", 0, SQLITE_UTF8, s, seq_fn, NULL, NULL,
                               NULL);
    sqlite3_create_function_v2(s->conn, "pkgindex_weight", 12, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                               NULL, weight_fn, NULL, NULL, NULL);
    sqlite3_create_function_v2(s->conn, "pkgindex_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, s,
                               key_fn, NULL, NULL, NULL);
}

/* --- Searching --- */

/* A swap of the first letters of a short word ("mcs" for "cms") leaves no trigram in common,
 * so the words made by swapping two neighbours are looked up as they are. */
static apr_status_t short_swaps(pki_db *db, sconn *s, apr_pool_t *pool, pki_search_item *it)
{
    const char *token = it->tokens[0];
    apr_size_t n = strlen(token), i;
    int a;

    if (pki_search_length(token) != (int)n || n < 3 || n > 4) {
        return APR_SUCCESS; /* ASCII words of 3 and 4 letters */
    }
    for (i = 0; i + 1 < n && it->nalts < PKI_SEARCH_MAX_ALTS; i++) {
        char *v = apr_pstrdup(pool, token);
        sqlite3_stmt *st = stmt(db, s, S_WORD_EXISTS, pool);
        int rc, known = 0;
        if (!st) {
            return APR_EGENERAL;
        }
        v[i] = token[i + 1];
        v[i + 1] = token[i];
        for (a = 0; a < it->nalts; a++) {
            known |= strcmp(it->alts[a], v) == 0;
        }
        if (known || strcmp(v, token) == 0) {
            continue;
        }
        sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        done(st);
        if (rc == SQLITE_ROW) {
            it->alts[it->nalts++] = v;
        } else if (rc != SQLITE_DONE) {
            return failed(db, s, NULL, pool);
        }
    }
    return APR_SUCCESS;
}

/* Title words within a typo of TOKEN, the closest and most common first. */
static apr_status_t typos(pki_db *db, sconn *s, apr_pool_t *pool, pki_search_item *it)
{
    apr_uint64_t tri[PKI_SEARCH_MAX_TRIGRAMS];
    const char *token = it->tokens[0];
    int len = pki_search_length(token), limit = pki_search_typo_limit(len), ntri, i, rc;
    int dist[PKI_SEARCH_MAX_ALTS];
    apr_int64_t freq[PKI_SEARCH_MAX_ALTS];
    sqlite3_stmt *st;
    pki_buf json;

    it->alts = apr_pcalloc(pool, sizeof(*it->alts) * PKI_SEARCH_MAX_ALTS);
    it->nalts = 0;
    if (!limit) {
        return APR_SUCCESS;
    }
    if (!(st = stmt(db, s, S_IS_WORD, pool))) {
        return APR_EGENERAL;
    }
    /* a token: letters and digits, no quote to double */
    sqlite3_bind_text(st, 1, apr_pstrcat(pool, "\"", token, "\"", NULL), -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    done(st);
    if (rc == SQLITE_ROW) {
        return APR_SUCCESS; /* it hits a title or slug: no typo */
    }
    if (rc != SQLITE_DONE) {
        return failed(db, s, NULL, pool);
    }
    it->not_title = 1;
    ntri = pki_search_trigrams(token, tri, PKI_SEARCH_MAX_TRIGRAMS);
    pki_buf_init(&json, pool, 32 * ntri + 2);
    pki_buf_putc(&json, '[');
    for (i = 0; i < ntri; i++) {
        if (i) {
            pki_buf_putc(&json, ',');
        }
        pki_buf_put_int(&json, (apr_int64_t)tri[i]);
    }
    pki_buf_putc(&json, ']');
    if (!(st = stmt(db, s, S_TYPOS, pool))) {
        return APR_EGENERAL;
    }
    /* An edit changes at most four trigrams (a swap), so a word one edit away shares all but
     * four; two edits away, most words share all but seven. */
    sqlite3_bind_text(st, 1, pki_buf_cstr(&json), (int)json.len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, ntri - (limit == 1 ? 4 : 7) > 1 ? ntri - (limit == 1 ? 4 : 7) : 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *word = (const char *)sqlite3_column_text(st, 0);
        apr_int64_t n = sqlite3_column_int64(st, 1);
        int d = word ? pki_search_distance(token, word, limit) : limit + 1, at;
        if (d == 0) {
            continue;
        }
        /* a long word cut short ("downlo", "geoposition") counts as a typo of the whole, after
         * the real ones (pg_trgm's similarity finds those too) */
        if (d > limit && !(len >= 6 && strncmp(word, token, strlen(token)) == 0)) {
            continue;
        }
        /* insertion into the kept few, closest first, then the most frequent, then by text */
        for (at = it->nalts; at > 0; at--) {
            if (dist[at - 1] < d || (dist[at - 1] == d && freq[at - 1] > n) ||
                (dist[at - 1] == d && freq[at - 1] == n && strcmp(it->alts[at - 1], word) < 0)) {
                break;
            }
        }
        if (at >= PKI_SEARCH_MAX_ALTS) {
            continue;
        }
        i = it->nalts < PKI_SEARCH_MAX_ALTS ? it->nalts++ : PKI_SEARCH_MAX_ALTS - 1;
        for (; i > at; i--) {
            it->alts[i] = it->alts[i - 1], dist[i] = dist[i - 1], freq[i] = freq[i - 1];
        }
        it->alts[at] = apr_pstrdup(pool, word), dist[at] = d, freq[at] = n;
    }
    if (rc != SQLITE_DONE) {
        return failed(db, s, st, pool);
    }
    done(st);
    return short_swaps(db, s, pool, it);
}

/* The title words TOKEN starts, the most common first. Written out as words rather than as
 * FTS5's prefix query, which merges every matching word's whole list before the first row
 * (all of "django"'s million rows for "dja"). */
static apr_status_t prefixes(pki_db *db, sconn *s, apr_pool_t *pool, pki_search_item *it)
{
    sqlite3_stmt *st = stmt(db, s, S_PREFIX_WORDS, pool);
    char *upper = apr_pstrdup(pool, it->tokens[0]);
    apr_size_t n = strlen(upper);
    int rc;

    it->prefixes = apr_pcalloc(pool, sizeof(*it->prefixes) * PKI_SEARCH_MAX_PREFIXES);
    it->nprefixes = 0;
    if (!st) {
        return APR_EGENERAL;
    }
    /* [token, token with its last byte + 1): every word it starts, in byte order */
    while (n && (unsigned char)upper[n - 1] == 0xff) {
        upper[--n] = '\0';
    }
    if (n) {
        upper[n - 1]++;
    }
    sqlite3_bind_text(st, 1, it->tokens[0], -1, SQLITE_STATIC);
    if (n) {
        sqlite3_bind_text(st, 2, upper, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 3, PKI_SEARCH_MAX_PREFIXES);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        it->prefixes[it->nprefixes++] = col_dup(pool, st, 0);
    }
    if (rc != SQLITE_DONE) {
        return failed(db, s, st, pool);
    }
    done(st);
    return APR_SUCCESS;
}

static int same_tokens(const pki_search_item *a, const pki_search_item *b)
{
    int k;

    if (a->ntokens != b->ntokens) {
        return 0;
    }
    for (k = 0; k < a->ntokens; k++) {
        if (strcmp(a->tokens[k], b->tokens[k]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* A clause that excludes what it requires ("django -django") matches nothing: dropped, rather
 * than read through every row that has the word. (Not when the required word also stands for
 * typos or prefixes, which the exclusion does not exclude.) */
static void drop_contradictions(apr_array_header_t *items)
{
    pki_search_item *it = (pki_search_item *)items->elts;
    int i, j, k, n = items->nelts;

    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            if (it[i].negated && !it[j].negated && it[i].clause == it[j].clause && !it[j].nalts &&
                !it[j].nprefixes && same_tokens(&it[i], &it[j])) {
                int clause = it[i].clause, kept = 0;
                for (k = 0; k < n; k++) {
                    if (it[k].clause != clause) {
                        it[kept++] = it[k]; /* in order: the exact key reads it */
                    }
                }
                items->nelts = n = kept;
                i = -1; /* again, over what is left */
                break;
            }
        }
    }
}

/* The query's items: each word tokenized as the index was; an unquoted word of several tokens
 * ("debug-toolbr") is several items, so each may be a prefix or a typo. */
static int same_item(const pki_search_item *a, const pki_search_item *b)
{
    return a->clause == b->clause && a->negated == b->negated && a->phrase == b->phrase &&
           same_tokens(a, b);
}

/* Appends an item unless the clause has it already (a repeated word would use up the cap). */
static void add_item(apr_array_header_t *items, const pki_search_item *it)
{
    int i;

    for (i = 0; i < items->nelts; i++) {
        if (same_item(&APR_ARRAY_IDX(items, i, pki_search_item), it)) {
            return;
        }
    }
    *(pki_search_item *)apr_array_push(items) = *it;
}

static apr_status_t query_items(pki_db *db, sconn *s, apr_pool_t *pool, const char *q,
                                apr_array_header_t *items, const char **key)
{
    apr_array_header_t *words = apr_array_make(pool, 8, sizeof(pki_search_word));
    apr_array_header_t *key_tokens = apr_array_make(pool, 8, sizeof(const char *));
    int i, k, clauses = 0;

    pki_search_parse(pool, q, words);
    for (i = 0; i < words->nelts && items->nelts < PKI_SEARCH_MAX_ITEMS; i++) {
        const pki_search_word *w = &APR_ARRAY_IDX(words, i, pki_search_word);
        apr_array_header_t *tokens = apr_array_make(pool, 4, sizeof(const char *));
        pki_search_item it;

        tokenize(s, pool, w->text, FTS5_TOKENIZE_QUERY, tokens);
        if (!tokens->nelts) {
            continue; /* punctuation, emoji: no word to search for */
        }
        clauses = w->clause + 1 > clauses ? w->clause + 1 : clauses;
        for (k = 0; !w->negated && k < tokens->nelts; k++) {
            *(const char **)apr_array_push(key_tokens) = APR_ARRAY_IDX(tokens, k, const char *);
        }
        memset(&it, 0, sizeof(it));
        it.clause = w->clause;
        it.negated = w->negated;
        if (w->quoted || w->negated) {
            /* a phrase keeps its stop words: they are in the text it must follow */
            it.phrase = tokens->nelts > 1;
            it.quoted = w->quoted;
            it.tokens = (const char **)tokens->elts;
            it.ntokens = tokens->nelts;
            add_item(items, &it);
            continue;
        }
        for (k = 0; k < tokens->nelts && items->nelts < PKI_SEARCH_MAX_ITEMS; k++) {
            it.tokens = (const char **)tokens->elts + k;
            it.ntokens = 1;
            if (!pki_search_stop_word(it.tokens[0])) {
                add_item(items, &it);
            }
        }
    }
    /* the exact-match key: every positive word as typed, stop words too, of a single clause */
    *key = clauses == 1 && key_tokens->nelts
               ? pki_search_key(pool, (const char **)key_tokens->elts, key_tokens->nelts)
               : NULL;
    if (items->nelts == 1) {
        pki_search_item *it = &APR_ARRAY_IDX(items, 0, pki_search_item);
        int len = pki_search_length(it->tokens[0]);
        it->prefix = !it->negated && !it->quoted && len >= 3 && len <= 5;
        if (it->prefix && prefixes(db, s, pool, it) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    for (i = 0; i < items->nelts; i++) {
        pki_search_item *it = &APR_ARRAY_IDX(items, i, pki_search_item);
        if (!it->negated && !it->quoted && typos(db, s, pool, it) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    drop_contradictions(items);
    return APR_SUCCESS;
}

/* One search: the query as FTS5 sees it, and the list being filled. */
typedef struct ranking {
    pki_db *db;
    sconn *s;
    apr_pool_t *pool;
    const char *expr;    /* the MATCH expression */
    const char *phrases; /* its phrase map, for pkgindex_rank() */
    apr_uint64_t qtri[PKI_SEARCH_MAX_TRIGRAMS];
    int nqtri;
    apr_array_header_t *done; /* rows ranked before the scan: it skips them */
    pki_search_top top;
} ranking;

static int ranked_before(const ranking *r, apr_int64_t id)
{
    int i;

    for (i = 0; i < r->done->nelts; i++) {
        if (APR_ARRAY_IDX(r->done, i, apr_int64_t) == id) {
            return 1;
        }
    }
    return 0;
}

/* Whether row ID matches the query (FTS5 looks it up by rowid), and its text rank. */
static apr_status_t match_one(ranking *r, apr_int64_t id, int *matches, apr_int64_t *text)
{
    sqlite3_stmt *st = stmt(r->db, r->s, S_MATCH_ONE, r->pool);
    int rc;

    if (!st) {
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, r->phrases, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->expr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    rc = sqlite3_step(st);
    *matches = rc == SQLITE_ROW;
    *text = *matches ? sqlite3_column_int64(st, 0) : 0;
    done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? APR_SUCCESS : failed(r->db, r->s, NULL, r->pool);
}

/* Offers row ID of RANK to the top list: its title decides between equal ranks. */
static apr_status_t offer(ranking *r, apr_int64_t id, apr_int64_t rank)
{
    apr_uint64_t tri[PKI_SEARCH_MAX_TRIGRAMS];
    sqlite3_stmt *st = stmt(r->db, r->s, S_TITLE, r->pool);
    pki_search_candidate c;
    int rc, n;

    if (!st) {
        return APR_EGENERAL;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        done(st);
        return rc == SQLITE_DONE ? APR_SUCCESS : failed(r->db, r->s, NULL, r->pool);
    }
    c.id = id;
    c.rank = rank;
    c.title = col_dup(r->pool, st, 0);
    done(st);
    n = pki_search_trigrams(c.title ? c.title : "", tri, PKI_SEARCH_MAX_TRIGRAMS);
    c.similarity = pki_search_similarity_sets(r->qtri, r->nqtri, tri, n);
    pki_search_top_add(&r->top, &c);
    return APR_SUCCESS;
}

static apr_status_t read_hits(ranking *r, pki_search_hit **hits, int *n)
{
    sqlite3_stmt *st = stmt(r->db, r->s, S_ROW, r->pool);
    pki_search_hit *out = apr_pcalloc(r->pool, sizeof(*out) * (r->top.n ? r->top.n : 1));
    int i, k = 0;

    if (!st) {
        return APR_EGENERAL;
    }
    for (i = 0; i < r->top.n; i++) {
        pki_search_hit *h = &out[k];
        int rc;
        sqlite3_bind_int64(st, 1, r->top.c[i].id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            h->description = col_dup(r->pool, st, 0);
            h->title = col_dup(r->pool, st, 1);
            h->slug = col_dup(r->pool, st, 2);
            h->absolute_url = col_dup(r->pool, st, 3);
            h->created = col_time(st, 4);
            h->modified = col_time(st, 5);
            h->weight = sqlite3_column_int64(st, 6);
            h->item_type = col_dup(r->pool, st, 7);
            h->category = col_dup(r->pool, st, 8);
            h->repo_watchers = sqlite3_column_int64(st, 9);
            h->repo_forks = sqlite3_column_int64(st, 10);
            h->pypi_downloads = sqlite3_column_int64(st, 11);
            h->score = sqlite3_column_int64(st, 12);
            h->usage = sqlite3_column_int64(st, 13);
            h->participants = col_dup(r->pool, st, 14);
            h->last_committed = col_time(st, 15);
            h->last_released = col_time(st, 16);
            k++;
        } else if (rc != SQLITE_DONE) {
            return failed(r->db, r->s, st, r->pool);
        }
        done(st);
    }
    *hits = out;
    *n = k;
    return APR_SUCCESS;
}

/* For tests: rank every match, to check the early stops against. */
static int exhaustive;

void pki_store_search_exhaustive(int on)
{
    exhaustive = on;
}

/* The best similarity row ID's title can have to the query, from its trigram count. */
static double similarity_bound(const ranking *r, apr_int64_t id)
{
    int t = ROW_NTRI(id), q = r->nqtri;

    if (exhaustive) {
        return 1.0;
    }
    if (t >= TRI_MAX || q >= TRI_MAX || !t || !q) {
        return t && q ? 1.0 : 0.0; /* (a count at the cap is a lower bound) */
    }
    return t < q ? (double)t / q : (double)q / t;
}

/* The matches with a word in the title or slug, when there are at most this many: every other
 * match has a text rank of at most a description's 0.2, which lets the scan stop sooner. */
#define TITLED_MAX 4096
/* ... and when they are at most this many, each is ranked by itself (a lookup by rowid). */
#define TITLED_DIRECT 64

/* The ids (ascending) of the rows whose title or slug holds a word of ANY, into *OUT; NULL
 * when there are more than TITLED_MAX. */
static apr_status_t titled_rows(ranking *r, const char *any, apr_array_header_t **out)
{
    sqlite3_stmt *st = stmt(r->db, r->s, S_TITLE_MATCHES, r->pool);
    apr_array_header_t *ids = apr_array_make(r->pool, 64, sizeof(apr_int64_t));
    int rc;

    *out = NULL;
    if (!st) {
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, any, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, TITLED_MAX + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *(apr_int64_t *)apr_array_push(ids) = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) {
        return failed(r->db, r->s, st, r->pool);
    }
    done(st);
    *out = ids->nelts <= TITLED_MAX ? ids : NULL;
    return APR_SUCCESS;
}

/* Offers the matches in rowid (weight) order, until no later row could enter the list even
 * with the best text rank it can have: BEST if it is in TITLED (or TITLED is NULL), no more
 * than a description's otherwise. */
static apr_status_t scan(ranking *r, apr_int64_t best, const apr_array_header_t *titled)
{
    apr_int64_t other = (apr_int64_t)PKI_RANK_DESCRIPTION * PKI_RANK_UNIT;
    sqlite3_stmt *st = stmt(r->db, r->s, S_SCAN, r->pool);
    const apr_int64_t *t = titled ? (const apr_int64_t *)titled->elts : NULL;
    int rc, k = 0;

    if (!st) {
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, r->phrases, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->expr, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        apr_int64_t id = sqlite3_column_int64(st, 0), rank, bound;
        int weight = ROW_WEIGHT(id);

        if (t) {
            while (k < titled->nelts && t[k] < id) {
                k++;
            }
            bound = PKI_RANK(other < best ? other : best, weight);
            if (k < titled->nelts && PKI_RANK(best, ROW_WEIGHT(t[k])) > bound) {
                bound = PKI_RANK(best, ROW_WEIGHT(t[k]));
            }
        } else {
            bound = PKI_RANK(best, weight);
        }
        if (!exhaustive && pki_search_top_closed(&r->top, bound)) {
            break;
        }
        rank = PKI_RANK(sqlite3_column_int64(st, 1), weight);
        if (pki_search_top_may_take(&r->top, rank, similarity_bound(r, id)) &&
            !ranked_before(r, id) && offer(r, id, rank) != APR_SUCCESS) {
            done(st);
            return APR_EGENERAL;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return failed(r->db, r->s, st, r->pool);
    }
    done(st);
    return APR_SUCCESS;
}

/* The objects whose title or slug is the query (KEY) come first whatever their weight: found
 * by key, heaviest first (by id), until the list is full of heavier ones. They hold every word
 * of the query; with EXCLUSIONS, FTS5 checks each for them. */
static apr_status_t rank_exact(ranking *r, const char *key, int exclusions)
{
    sqlite3_stmt *st = stmt(r->db, r->s, S_EXACT, r->pool);
    int rc;

    if (!st) {
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        apr_int64_t id = sqlite3_column_int64(st, 0), text;
        apr_int64_t rank = PKI_RANK((apr_int64_t)PKI_RANK_EXACT * PKI_RANK_UNIT, ROW_WEIGHT(id));
        int matches = 1;
        if (!exhaustive && pki_search_top_closed(&r->top, rank)) {
            break;
        }
        if ((exclusions && match_one(r, id, &matches, &text) != APR_SUCCESS) ||
            (matches && offer(r, id, rank) != APR_SUCCESS)) {
            done(st);
            return APR_EGENERAL;
        }
        if (matches) {
            *(apr_int64_t *)apr_array_push(r->done) = id;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return failed(r->db, r->s, st, r->pool);
    }
    done(st);
    return APR_SUCCESS;
}

/* A few rows with a title word (TITLED), ranked one by one: then the scan is of rows that
 * reach at most a description's text rank, and need not go down to the lightest of these. */
static apr_status_t rank_titled(ranking *r, const apr_array_header_t *titled)
{
    int i;

    for (i = 0; i < titled->nelts; i++) {
        apr_int64_t id = APR_ARRAY_IDX(titled, i, apr_int64_t), text, rank;
        int matches;
        if (ranked_before(r, id)) {
            continue;
        }
        if (match_one(r, id, &matches, &text) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        rank = PKI_RANK(text, ROW_WEIGHT(id));
        if (matches && pki_search_top_may_take(&r->top, rank, similarity_bound(r, id)) &&
            offer(r, id, rank) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        *(apr_int64_t *)apr_array_push(r->done) = id;
    }
    return APR_SUCCESS;
}

apr_status_t pki_sqlite_search(pki_db *db, apr_pool_t *pool, const char *q, pki_search_hit **hits,
                               int *n)
{
    apr_array_header_t *items = apr_array_make(pool, 8, sizeof(pki_search_item));
    const pki_search_item *it;
    const char *key;
    apr_array_header_t *titled;
    ranking *r;
    int i, exclusions = 0;

    *hits = NULL;
    *n = 0;
    r = apr_pcalloc(pool, sizeof(*r));
    r->db = db;
    r->pool = pool;
    r->done = apr_array_make(pool, 32, sizeof(apr_int64_t));
    if (!(r->s = sconn_of(db, pool))) {
        return APR_ENOTIMPL;
    }
    if (query_items(db, r->s, pool, q, items, &key) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    it = (const pki_search_item *)items->elts;
    r->expr = pki_search_fts5_expr(pool, it, items->nelts, &r->phrases);
    if (!r->expr) {
        return APR_SUCCESS;
    }
    r->nqtri = pki_search_trigrams(q, r->qtri, PKI_SEARCH_MAX_TRIGRAMS);
    for (i = 0; i < items->nelts; i++) {
        exclusions |= it[i].negated;
    }
    if (key && rank_exact(r, key, exclusions) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* the rest from the heaviest down, until no lighter row can enter the list */
    if (titled_rows(r, pki_search_fts5_any(pool, it, items->nelts), &titled) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (titled && titled->nelts <= TITLED_DIRECT && !exhaustive) {
        if (rank_titled(r, titled) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        titled = apr_array_make(pool, 1, sizeof(apr_int64_t)); /* none left for the scan */
    }
    if (scan(r, pki_search_best_text(it, items->nelts), titled) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    pki_search_top_sort(&r->top);
    return read_hits(r, hits, n);
}

/* --- Keeping the index --- */

/* Whether the database has the search tables (a schema older than search has not). */
static apr_status_t has_index(pki_db *db, sconn *s, apr_pool_t *pool)
{
    sqlite3_stmt *st = stmt(db, s, S_HAS_INDEX, pool);
    int rc, n = 0;

    if (!st) {
        return APR_EGENERAL;
    }
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n = sqlite3_column_int(st, 0);
    }
    done(st);
    if (rc != SQLITE_ROW) {
        return failed(db, s, NULL, pool);
    }
    if (!n) {
        db->error = "no search index (searchv3_*): `pkgindex-import --init --reindex` adds it";
        return APR_ENOTIMPL;
    }
    return APR_SUCCESS;
}

static apr_status_t exec(pki_db *db, sconn *s, apr_pool_t *pool, const char *script)
{
    char *err = NULL;

    if (sqlite3_exec(s->conn, script, NULL, NULL, &err) != SQLITE_OK) {
        db->error = apr_psprintf(pool, "search: %s", err ? err : sqlite3_errmsg(s->conn));
        db->fault = pki_sqlite_fault(s->conn);
        sqlite3_free(err);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t step_done(pki_db *db, sconn *s, sqlite3_stmt *st, apr_pool_t *pool)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return failed(db, s, st, pool);
    }
    done(st);
    return APR_SUCCESS;
}

/* The exact-match keys of a title and a slug (the second NULL when it is the first), and
 * their words in TOKENS. */
static void object_keys(sconn *s, apr_pool_t *pool, const char *title, const char *slug,
                        const char *keys[2], apr_array_header_t *tokens)
{
    int ntitle;

    tokenize(s, pool, title, FTS5_TOKENIZE_DOCUMENT, tokens);
    ntitle = tokens->nelts;
    keys[0] = pki_search_key(pool, (const char **)tokens->elts, ntitle);
    tokenize(s, pool, slug, FTS5_TOKENIZE_DOCUMENT, tokens);
    keys[1] = pki_search_key(pool, (const char **)tokens->elts + ntitle, tokens->nelts - ntitle);
    if (!*keys[0]) {
        keys[0] = *keys[1] ? keys[1] : NULL;
        keys[1] = NULL;
    } else if (!*keys[1] || strcmp(keys[0], keys[1]) == 0) {
        keys[1] = NULL;
    }
}

/* Runs ID (S_EXACT_INSERT or S_EXACT_DELETE) for each key of row ROW. */
static apr_status_t each_key(pki_db *db, sconn *s, apr_pool_t *pool, stmt_id id,
                             const char *keys[2], apr_int64_t row)
{
    sqlite3_stmt *st = stmt(db, s, id, pool);
    int i;

    if (!st) {
        return APR_EGENERAL;
    }
    for (i = 0; i < 2 && keys[i]; i++) {
        sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, row);
        if (step_done(db, s, st, pool) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* Adds (DELTA 1) or takes away (-1) one occurrence of each title word in TOKENS: a word new to
 * the list gets its trigrams, a word no title has any more leaves with them. */
static apr_status_t count_words(pki_db *db, sconn *s, apr_pool_t *pool,
                                const apr_array_header_t *tokens, int delta)
{
    int i, k;

    for (i = 0; i < tokens->nelts; i++) {
        const char *w = APR_ARRAY_IDX(tokens, i, const char *);
        apr_uint64_t tri[PKI_SEARCH_MAX_TRIGRAMS];
        sqlite3_stmt *st = stmt(db, s, delta > 0 ? S_WORD_ADD : S_WORD_DROP, pool);
        apr_int64_t word_id, n;
        int rc, ntri;

        if (pki_search_length(w) < 3) {
            continue; /* too short to be a typo's target */
        }
        if (!st) {
            return APR_EGENERAL;
        }
        sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            done(st);
            continue; /* (a word taken away that was never counted) */
        }
        if (rc != SQLITE_ROW) {
            return failed(db, s, st, pool);
        }
        word_id = sqlite3_column_int64(st, 0);
        n = sqlite3_column_int64(st, 1);
        if (sqlite3_step(st) != SQLITE_DONE) {
            return failed(db, s, st, pool);
        }
        done(st);
        if ((delta > 0 && n != 1) || (delta < 0 && n > 0)) {
            continue;
        }
        ntri = pki_search_trigrams(w, tri, PKI_SEARCH_MAX_TRIGRAMS);
        if (!(st = stmt(db, s, delta > 0 ? S_TRIGRAM_ADD : S_TRIGRAM_DELETE, pool))) {
            return APR_EGENERAL;
        }
        for (k = 0; k < ntri; k++) {
            sqlite3_bind_int64(st, 1, (apr_int64_t)tri[k]);
            sqlite3_bind_int64(st, 2, word_id);
            if (step_done(db, s, st, pool) != APR_SUCCESS) {
                return APR_EGENERAL;
            }
        }
        if (delta < 0) {
            if (!(st = stmt(db, s, S_WORD_DELETE, pool))) {
                return APR_EGENERAL;
            }
            sqlite3_bind_int64(st, 1, word_id);
            if (step_done(db, s, st, pool) != APR_SUCCESS) {
                return APR_EGENERAL;
            }
        }
    }
    return APR_SUCCESS;
}

/* Indexes row ID (already in searchv3_searchv3): its text, its exact keys, its title words. */
static apr_status_t index_row(pki_db *db, sconn *s, apr_pool_t *pool, apr_int64_t id,
                              const char *title, const char *slug)
{
    apr_array_header_t *tokens = apr_array_make(pool, 8, sizeof(const char *));
    static const stmt_id fts[] = {S_FTS_INSERT, S_TITLE_FTS_INSERT};
    const char *keys[2];
    size_t i;

    for (i = 0; i < sizeof(fts) / sizeof(fts[0]); i++) {
        sqlite3_stmt *st = stmt(db, s, fts[i], pool);
        if (!st) {
            return APR_EGENERAL;
        }
        sqlite3_bind_int64(st, 1, id);
        if (step_done(db, s, st, pool) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    object_keys(s, pool, title, slug, keys, tokens);
    if (each_key(db, s, pool, S_EXACT_INSERT, keys, id) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    return count_words(db, s, pool, tokens, 1);
}

/* Brings one object's row up to date: the old one out (FTS5 needs its old text to forget
 * it), the current one in, under the same n. */
static apr_status_t sync_item(pki_db *db, sconn *s, apr_pool_t *pool, int grid, apr_int64_t item_id,
                              apr_int64_t now)
{
    sqlite3_stmt *st = stmt(db, s, S_OLD, pool), *del;
    apr_array_header_t *old_words;
    apr_int64_t old = 0, seq = 0, next = 0, id;
    const char *keys[2], *title, *slug;
    int rc, k;

    if (!st) {
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, grid ? "grid" : "package", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, item_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        old = sqlite3_column_int64(st, 0);
        if (!(del = stmt(db, s, S_FTS_DELETE, pool))) {
            done(st);
            return APR_EGENERAL;
        }
        sqlite3_bind_int64(del, 1, old);
        for (k = 1; k <= 5; k++) {
            sqlite3_bind_value(del, k + 1, sqlite3_column_value(st, k));
        }
        rc = sqlite3_step(del);
        done(del);
        if (rc == SQLITE_DONE) {
            if (!(del = stmt(db, s, S_TITLE_FTS_DELETE, pool))) {
                done(st);
                return APR_EGENERAL;
            }
            sqlite3_bind_int64(del, 1, old);
            sqlite3_bind_value(del, 2, sqlite3_column_value(st, 1));
            sqlite3_bind_value(del, 3, sqlite3_column_value(st, 2));
            rc = sqlite3_step(del);
            done(del);
        }
        old_words = apr_array_make(pool, 8, sizeof(const char *));
        object_keys(s, pool, (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 2), keys, old_words);
        done(st);
        if (rc != SQLITE_DONE) {
            return failed(db, s, NULL, pool);
        }
        if (!(st = stmt(db, s, S_ROW_DELETE, pool))) {
            return APR_EGENERAL;
        }
        sqlite3_bind_int64(st, 1, old);
        if (step_done(db, s, st, pool) != APR_SUCCESS ||
            each_key(db, s, pool, S_EXACT_DELETE, keys, old) != APR_SUCCESS ||
            count_words(db, s, pool, old_words, -1) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        seq = old & SEQ_MASK;
    } else if (rc != SQLITE_DONE) {
        return failed(db, s, st, pool);
    } else {
        done(st);
    }

    /* a new object takes the next n (kept only if it exists: a deleted one takes none) */
    if (!seq) {
        if (!(st = stmt(db, s, S_NEXT_SEQ, pool))) {
            return APR_EGENERAL;
        }
        if (sqlite3_step(st) != SQLITE_ROW) {
            return failed(db, s, st, pool);
        }
        seq = next = sqlite3_column_int64(st, 0);
        done(st);
    }
    if (!(st = stmt(db, s, grid ? S_GRID_ROW : S_PACKAGE_ROW, pool))) {
        return APR_EGENERAL;
    }
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, item_id);
    if (step_done(db, s, st, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (sqlite3_changes(s->conn) == 0) {
        return APR_SUCCESS; /* deleted: nothing to put back */
    }
    if (next) {
        if (!(st = stmt(db, s, S_SET_SEQ, pool))) {
            return APR_EGENERAL;
        }
        sqlite3_bind_int64(st, 1, next + 1);
        if (step_done(db, s, st, pool) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    /* the row as made: its id (weight, trigram count, n), title and slug */
    if (!(st = stmt(db, s, S_OLD, pool))) {
        return APR_EGENERAL;
    }
    sqlite3_bind_text(st, 1, grid ? "grid" : "package", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, item_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        return failed(db, s, st, pool);
    }
    id = sqlite3_column_int64(st, 0);
    title = col_dup(pool, st, 1);
    slug = col_dup(pool, st, 2);
    done(st);
    return index_row(db, s, pool, id, title, slug);
}

static apr_status_t count_of(pki_db *db, sconn *s, apr_pool_t *pool, stmt_id id, apr_int64_t *out)
{
    sqlite3_stmt *st = stmt(db, s, id, pool);

    if (!st) {
        return APR_EGENERAL;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        return failed(db, s, st, pool);
    }
    *out = sqlite3_column_int64(st, 0);
    done(st);
    return APR_SUCCESS;
}

apr_status_t pki_sqlite_search_rebuild(pki_db *db, apr_pool_t *pool)
{
    apr_status_t rv;
    apr_int64_t now = apr_time_now();
    apr_pool_t *scratch;
    apr_hash_t *words = apr_hash_make(pool);
    apr_hash_index_t *hi;
    sqlite3_stmt *st;
    sconn *s = sconn_of(db, pool);
    int rc;

    if (!s) {
        return APR_ENOTIMPL;
    }
    if ((rv = has_index(db, s, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (exec(db, s, pool,
             "DELETE FROM searchv3_searchv3; DROP INDEX IF EXISTS searchv3_exact_key;"
             " DELETE FROM searchv3_exact; DELETE FROM searchv3_trigram;"
             " DELETE FROM searchv3_word; DELETE FROM searchv3_dirty;") != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* The rows in two statements, weights by pkgindex_weight() (search.c's formula, as the
     * row-by-row path computes them), numbered in table order. */
    s->seq = 0;
    if (!(st = stmt(db, s, S_BULK_PACKAGES, pool))) {
        return APR_EGENERAL;
    }
    sqlite3_bind_int64(st, 1, now);
    if (step_done(db, s, st, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!(st = stmt(db, s, S_BULK_GRIDS, pool))) {
        return APR_EGENERAL;
    }
    sqlite3_bind_int64(st, 1, now);
    if (step_done(db, s, st, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* One pass over the titles and slugs: exact keys (in table order; the index is made
     * after, by one sort) and title words for typos, counted. */
    if (!(st = stmt(db, s, S_TITLES, pool))) {
        return APR_EGENERAL;
    }
    apr_pool_create(&scratch, pool);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        apr_array_header_t *tokens = apr_array_make(scratch, 8, sizeof(const char *));
        const char *keys[2];
        int i;
        object_keys(s, scratch, (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 2), keys, tokens);
        if (each_key(db, s, scratch, S_EXACT_INSERT, keys, sqlite3_column_int64(st, 0)) !=
            APR_SUCCESS) {
            done(st);
            return APR_EGENERAL;
        }
        for (i = 0; i < tokens->nelts; i++) {
            const char *w = APR_ARRAY_IDX(tokens, i, const char *);
            apr_int64_t *count;
            if (pki_search_length(w) < 3) {
                continue; /* too short to be a typo's target */
            }
            if (!(count = apr_hash_get(words, w, APR_HASH_KEY_STRING))) {
                count = apr_pcalloc(pool, sizeof(*count));
                apr_hash_set(words, apr_pstrdup(pool, w), APR_HASH_KEY_STRING, count);
            }
            ++*count;
        }
        apr_pool_clear(scratch);
    }
    apr_pool_destroy(scratch);
    if (rc != SQLITE_DONE) {
        return failed(db, s, st, pool);
    }
    done(st);
    /* FTS5 indexes the whole table in one pass, faster than row by row */
    if (exec(db, s, pool,
             "CREATE INDEX searchv3_exact_key ON searchv3_exact (key, id);"
             " INSERT INTO searchv3_fts (searchv3_fts) VALUES ('rebuild');"
             " INSERT INTO searchv3_title_fts (searchv3_title_fts) VALUES ('rebuild')") !=
        APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (hi = apr_hash_first(pool, words); hi; hi = apr_hash_next(hi)) {
        apr_uint64_t tri[PKI_SEARCH_MAX_TRIGRAMS];
        const void *w;
        void *count;
        apr_int64_t word_id;
        int k, ntri;

        apr_hash_this(hi, &w, NULL, &count);
        if (!(st = stmt(db, s, S_WORD_PUT, pool))) {
            return APR_EGENERAL;
        }
        sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, *(apr_int64_t *)count);
        if (step_done(db, s, st, pool) != APR_SUCCESS || !(st = stmt(db, s, S_TRIGRAM_ADD, pool))) {
            return APR_EGENERAL;
        }
        word_id = sqlite3_last_insert_rowid(s->conn);
        ntri = pki_search_trigrams(w, tri, PKI_SEARCH_MAX_TRIGRAMS);
        for (k = 0; k < ntri; k++) {
            sqlite3_bind_int64(st, 1, (apr_int64_t)tri[k]);
            sqlite3_bind_int64(st, 2, word_id);
            if (step_done(db, s, st, pool) != APR_SUCCESS) {
                return APR_EGENERAL;
            }
        }
    }
    if (!(st = stmt(db, s, S_SET_SEQ, pool))) {
        return APR_EGENERAL;
    }
    sqlite3_bind_int64(st, 1, s->seq + 1);
    if (step_done(db, s, st, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* weights moved (recency): cached search answers are stale */
    return exec(db, s, pool, "UPDATE pkgindex_state SET generation = random()");
}

apr_status_t pki_sqlite_search_sync(pki_db *db, apr_pool_t *pool, int *rebuilt)
{
    apr_status_t rv;
    apr_int64_t dirty, rows, now = apr_time_now();
    apr_pool_t *scratch;
    sqlite3_stmt *st;
    sconn *s = sconn_of(db, pool);
    int rc;

    if (rebuilt) {
        *rebuilt = 0;
    }
    if (!s) {
        return APR_ENOTIMPL;
    }
    if ((rv = has_index(db, s, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (count_of(db, s, pool, S_DIRTY_COUNT, &dirty) != APR_SUCCESS ||
        count_of(db, s, pool, S_ROW_COUNT, &rows) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (!rows) {
        /* nothing was marked (see the schema): built whole when there is anything to index */
        if (count_of(db, s, pool, S_OBJECT_COUNT, &dirty) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    if (!dirty) {
        return APR_SUCCESS;
    }
    if (dirty * REBUILD_FRACTION > rows) {
        if (rebuilt) {
            *rebuilt = 1;
        }
        return pki_sqlite_search_rebuild(db, pool);
    }
    /* The list is read whole first: syncing writes to the tables it would be read from. */
    {
        apr_array_header_t *items = apr_array_make(pool, (int)dirty, sizeof(apr_int64_t) * 2);
        int i;
        if (!(st = stmt(db, s, S_DIRTY, pool))) {
            return APR_EGENERAL;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            apr_int64_t *e = apr_array_push(items);
            const char *type = (const char *)sqlite3_column_text(st, 0);
            e[0] = type && strcmp(type, "grid") == 0;
            e[1] = sqlite3_column_int64(st, 1);
        }
        if (rc != SQLITE_DONE) {
            return failed(db, s, st, pool);
        }
        done(st);
        apr_pool_create(&scratch, pool);
        for (i = 0; i < items->nelts; i++) {
            apr_int64_t *e = (apr_int64_t *)items->elts + 2 * i;
            apr_pool_clear(scratch);
            if (sync_item(db, s, scratch, (int)e[0], e[1], now) != APR_SUCCESS) {
                db->error = apr_pstrdup(pool, db->error);
                apr_pool_destroy(scratch);
                return APR_EGENERAL;
            }
        }
        apr_pool_destroy(scratch);
    }
    /* the index changed: so may search answers, even when the objects did not (they were
     * changed by another tool, and this caught up) */
    return exec(db, s, pool,
                "DELETE FROM searchv3_dirty; UPDATE pkgindex_state SET generation = random()");
}
