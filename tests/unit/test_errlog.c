/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* errlog.c: the throttle of recurring error lines (one an interval, none lost from the
 * counts, also under threads) and the database parameters shown in the error log. */

#include "unit.h"

#include <apr_thread_proc.h>

#include "errlog.h"

#define SEC      APR_USEC_PER_SEC
#define START    ((apr_time_t)1700000000 * SEC)
#define INTERVAL SEC

/* One occurrence at START + AT: whether it is logged, and with what. */
typedef struct hit {
    apr_time_t at;
    int logged;
    apr_uint32_t more;
    apr_time_t since;
} hit;

static void test_throttle_sequence(void **state)
{
    static const hit hits[] = {
        {0, 1, 0, 0},                           /* the first is logged */
        {SEC / 2, 0, 0, 0},                     /* then counted */
        {SEC - 1, 0, 0, 0},                     /* */
        {SEC, 1, 2, SEC},                       /* one interval later: a line with the count */
        {SEC + SEC / 10, 0, 0, 0},              /* */
        {SEC / 2, 0, 0, 0},                     /* another thread's older clock reading */
        {5 * SEC, 1, 2, 4 * SEC},               /* a quiet spell: the count is what it is */
        {3600 * SEC, 1, 0, 3595 * SEC},         /* a new outage: a line without a count */
        {3600 * SEC + 1, 0, 0, 0},              /* */
        {3 * SEC, 1, 1, 0},                     /* the clock stepped back an hour: start over */
        {3 * SEC + SEC / 2, 0, 0, 0},           /* */
        {4 * SEC + SEC / 2, 1, 1, 3 * SEC / 2}, /* */
    };
    pki_throttle t;
    size_t i;

    memset(&t, 0, sizeof(t));
    for (i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
        apr_uint32_t more = 77;
        apr_time_t since = 77;
        int logged = pki_throttle_hit(&t, START + hits[i].at, INTERVAL, &more, &since);

        if (logged != hits[i].logged) {
            fail_msg("hit %zu: logged %d, want %d", i, logged, hits[i].logged);
        }
        if (logged) {
            assert_int_equal(more, hits[i].more);
            assert_int_equal(since, hits[i].since);
        } else {
            assert_int_equal(more, 77); /* untouched */
        }
    }
}

enum { THREADS = 4, HITS_PER_THREAD = 1000000 };

typedef struct hammer {
    pki_throttle *t;
    int logged;
} hammer;

static void *APR_THREAD_FUNC hammer_run(apr_thread_t *thread, void *data)
{
    hammer *h = data;
    apr_uint32_t more;
    apr_time_t since;
    int i;

    for (i = 0; i < HITS_PER_THREAD; i++) {
        h->logged += pki_throttle_hit(h->t, START, INTERVAL, &more, &since);
    }
    (void)thread;
    /* a plain return: apr_thread_exit's pthread_exit unwinding upsets AddressSanitizer */
    return NULL;
}

/* Threads hitting at once: one line, and the next line counts every other occurrence. */
static void test_throttle_threads(void **state)
{
    apr_pool_t *pool = *state;
    apr_thread_t *threads[THREADS];
    hammer hammers[THREADS];
    pki_throttle t;
    apr_uint32_t more = 0;
    apr_time_t since = 0;
    apr_status_t rv;
    int i, logged = 0;

    memset(&t, 0, sizeof(t));
    for (i = 0; i < THREADS; i++) {
        hammers[i].t = &t;
        hammers[i].logged = 0;
        assert_int_equal(apr_thread_create(&threads[i], NULL, hammer_run, &hammers[i], pool),
                         APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        logged += hammers[i].logged;
    }
    assert_int_equal(logged, 1);
    assert_true(pki_throttle_hit(&t, START + INTERVAL, INTERVAL, &more, &since));
    assert_int_equal(more, THREADS * HITS_PER_THREAD - 1);
    assert_int_equal(since, INTERVAL);
}

static void test_redact_params(void **state)
{
    apr_pool_t *pool = *state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        /* SQLite: nothing secret */
        {"file:/var/lib/pkgindex/pkgindex.sqlite3?mode=rw",
         "file:/var/lib/pkgindex/pkgindex.sqlite3?mode=rw"},
        {"/var/lib/pkgindex/db.sqlite3", "/var/lib/pkgindex/db.sqlite3"},
        /* libpq conninfo: spaces around '=', quoted values with escapes, any key case */
        {"host=db dbname=pkgindex user=www password=s3cret",
         "host=db dbname=pkgindex user=www password=***"},
        {"password='a b\\' c' host=db", "password=*** host=db"},
        {"host=db PASSWORD = s3cret port=5432", "host=db PASSWORD = *** port=5432"},
        {"user=passive dbname=password_store", "user=passive dbname=password_store"},
        /* apr_dbd_mysql, ODBC */
        {"host=localhost,user=www,pass=s3cret,dbname=pkgindex",
         "host=localhost,user=www,pass=***,dbname=pkgindex"},
        {"DATASOURCE=pkg;USER=www;PWD=s3cret", "DATASOURCE=pkg;USER=www;PWD=***"},
        /* URIs: the user info's password, and a password in the query */
        {"postgresql://www:s3cret@db.example:5432/pkgindex?sslmode=require",
         "postgresql://www:***@db.example:5432/pkgindex?sslmode=require"},
        {"postgresql://www:p@ss@db/pkgindex", "postgresql://www:***@db/pkgindex"},
        {"postgresql://www@db/pkgindex?password=s3cret&sslmode=require",
         "postgresql://www@db/pkgindex?password=***&sslmode=require"},
        {"postgresql://db:5432/pkgindex", "postgresql://db:5432/pkgindex"},
        {"", ""},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(pki_redact_params(pool, cases[i].in), cases[i].out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttle_sequence),
        cmocka_unit_test_setup_teardown(test_throttle_threads, pool_setup, pool_teardown),
        cmocka_unit_test_setup_teardown(test_redact_params, pool_setup, pool_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
