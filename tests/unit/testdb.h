/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* A temporary SQLite database from sql/schema-sqlite.sql with a few rows, opened through
 * apr_dbd and attached to the store, as the module does with mod_dbd's connections.
 * Shared by test_store.c and test_api.c; run the tests from the repository root. */

#ifndef PKI_TESTDB_H
#define PKI_TESTDB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "store_sqlite.h"

#define SCHEMA_FILE "sql/schema-sqlite.sql"

/* Datetimes are UTC text as Django stores them. Ids have gaps (no 6, 8, 9) and titles are
 * chosen so that code-point order differs from case-insensitive order: "123" < "Beta" <
 * "Zeta" (2) = "Zeta" (3) < "alpha" < "émile". */
static const char test_rows[] =
    "INSERT INTO package_category VALUES"
    " (1, '2010-08-15 02:47:52', '2022-03-05 02:48:41.249944', 'App', 'apps',"
    "  'Small components.', 'Apps', 1),"
    " (2, '2010-08-15 02:48:52', '2010-09-13 02:43:04', 'Framework', 'frameworks', '',"
    "  'Frameworks', 0);"
    "INSERT INTO package_version (id, created, modified, package_id, number) VALUES"
    " (1, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 1, '2.11.2'),"
    " (2, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 3, ''),"
    " (3, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 5, '0.9b1'),"
    " (4, '2020-01-01 00:00:00', '2020-01-01 00:00:00', 1, '1.0');"
    "INSERT INTO package_package (id, created, modified, title, slug, category_id,"
    " repo_description, repo_url, repo_watchers, repo_forks, pypi_url, participants,"
    " last_fetched, documentation_url, commits_over_52w, last_commit_date, latest_version_id)"
    " VALUES"
    " (1, '2010-08-16 13:00:00', '2026-01-29 17:58:48.638776', 'alpha', 'alpha', 1,"
    "  'A \"quoted\"' || char(13, 10) || ' description', 'https://github.com/x/alpha', 420,"
    "  134, 'https://pypi.org/project/alpha/', 'a, b', '2026-02-15 05:38:31.612719', NULL,"
    "  '[0, 1, 2]', '2011-07-14 13:30:24', 1),"
    " (2, '2010-08-30 08:43:08.231223', '2026-01-28 19:42:08.176549', 'Zeta', 'zeta', 2,"
    "  '', '', 0, 0, '', '', NULL, '', '[]', NULL, NULL),"
    " (3, '2011-01-01 00:00:00', '2011-01-01 00:00:00', 'Zeta', 'zeta-2', 1, 'z', '', 1, 2,"
    "  '', 'x', NULL, 'https://zeta.example/', '[]', NULL, 2),"
    " (4, '2011-01-01 00:00:00', '2011-01-01 00:00:00', 'solo', 'solo', 1, '', '', 0, 0, '',"
    "  '', NULL, NULL, '[]', NULL, NULL),"
    " (5, '2011-01-01 00:00:00', '2011-07-01 00:00:00', '\303\251mile', 'emile', 2,"
    "  'caf\303\251', '', 0, 0, '', '', NULL, NULL, '[]', NULL, 3),"
    " (7, '2011-01-01 00:00:00', '2011-01-01 00:00:00', 'Beta', 'beta', 1, '', '', 0, 0, '',"
    "  '', NULL, NULL, '[]', NULL, NULL),"
    " (10, '2011-01-01 00:00:00', '2011-01-01 00:00:00', '123', '123', 1, '', '', 0, 0, '',"
    "  '', NULL, NULL, '[]', NULL, NULL);"
    "INSERT INTO grid_grid VALUES"
    " (1, '2010-08-21 03:28:53.696485', '2026-01-28 19:14:03.651143', 'Grid One', 'one',"
    "  'The first grid.', 1, 0),"
    " (4, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 'Four', 'four', '', 0, 1),"
    " (6, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 'Six', 'six', '', 0, 0);"
    "INSERT INTO grid_gridpackage VALUES"
    " (1, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 4, 1),"
    " (2, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 1, 1),"
    " (3, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 1, 2),"
    " (4, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 1, 7),"
    " (5, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 1, 5),"
    " (6, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 1, 3),"
    " (7, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 6, 7),"
    " (8, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 1, 10),"
    " (9, '2012-01-01 00:00:00', '2012-01-01 00:00:00', 6, 5);";

typedef struct testdb {
    apr_pool_t *pool; /* the test's pool */
    char dir[64];
    const char *path;
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    pki_db db;
} testdb;

/* Runs SQL on the database file through a separate connection. */
static void testdb_exec(const testdb *t, const char *sql)
{
    sqlite3 *conn = NULL;
    char *err = NULL;

    assert_int_equal(sqlite3_open(t->path, &conn), SQLITE_OK);
    if (sqlite3_exec(conn, sql, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg("%s: %s", sql, err);
    }
    sqlite3_close(conn);
}

static char *slurp_file(apr_pool_t *pool, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;

    if (!f) {
        fail_msg("cannot open %s (run the tests from the repository root)", path);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = apr_palloc(pool, n + 1);
    assert_int_equal(fread(s, 1, n, f), n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int testdb_setup(void **state)
{
    apr_pool_t *pool;
    testdb *t;
    const char *err = NULL;

    apr_pool_create(&pool, NULL);
    t = apr_pcalloc(pool, sizeof(*t));
    t->pool = pool;
    strcpy(t->dir, "/tmp/test_pki_db.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    t->path = apr_pstrcat(pool, t->dir, "/db.sqlite3", NULL);
    testdb_exec(t, slurp_file(pool, SCHEMA_FILE));
    testdb_exec(t, test_rows);

    assert_int_equal(apr_dbd_init(pool), APR_SUCCESS);
    assert_int_equal(apr_dbd_get_driver(pool, "sqlite3", &t->driver), APR_SUCCESS);
    if (apr_dbd_open_ex(t->driver, pool, t->path, &t->handle, &err) != APR_SUCCESS) {
        fail_msg("apr_dbd_open %s: %s", t->path, err ? err : "?");
    }
    assert_int_equal(pki_store_attach(&t->db, pool, apr_dbd_name(t->driver),
                                      apr_dbd_native_handle(t->driver, t->handle)),
                     APR_SUCCESS);
    *state = t;
    return 0;
}

static int testdb_teardown(void **state)
{
    testdb *t = *state;

    pki_store_detach(&t->db);
    apr_dbd_close(t->driver, t->handle);
    unlink(t->path);
    unlink(apr_pstrcat(t->pool, t->path, "-wal", NULL));
    unlink(apr_pstrcat(t->pool, t->path, "-shm", NULL));
    rmdir(t->dir);
    apr_pool_destroy(t->pool);
    return 0;
}

#endif
