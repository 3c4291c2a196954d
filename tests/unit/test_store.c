/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* store.c through apr_dbd's sqlite3 driver on a temporary database (testdb.h): lookups by id
 * and slug, NULL columns, relation order, pages, re-preparing, and failures. */

#include "unit.h"

#include "route.h"
#include "store.h"
#include "tz.h"

#include "store_pgsql.h"
#include "store_sql.h"
#include "testdb.h"

static apr_int64_t utc(const char *text)
{
    apr_int64_t us;

    assert_int_equal(pki_time_parse(text, &us), 0);
    return us;
}

/* The route of PATH, which must match. */
static const pki_route *route(apr_pool_t *pool, const char *path)
{
    pki_route *r = apr_palloc(pool, sizeof(*r));

    assert_int_equal(pki_route_match(pool, path, r), PKI_ROUTE_OK);
    return r;
}

/* Asserts IDS holds exactly the N values given. */
static void ids_equal(const pki_ids *ids, int n, ...)
{
    va_list ap;
    int i;

    if (ids->count != n) {
        fail_msg("%d ids, want %d", ids->count, n);
    }
    va_start(ap, n);
    for (i = 0; i < n; i++) {
        apr_int64_t want = va_arg(ap, int);
        if (ids->ids[i] != want) {
            fail_msg("id %d is %" APR_INT64_T_FMT ", want %" APR_INT64_T_FMT, i, ids->ids[i], want);
        }
    }
    va_end(ap);
}

static pki_package *package(testdb *t, const char *path)
{
    pki_package *p = (void *)1;

    assert_int_equal(pki_store_package(&t->db, t->pool, route(t->pool, path), &p), APR_SUCCESS);
    return p;
}

static pki_grid *grid(testdb *t, const char *path)
{
    pki_grid *g = (void *)1;

    assert_int_equal(pki_store_grid(&t->db, t->pool, route(t->pool, path), &g), APR_SUCCESS);
    return g;
}

static pki_category *category(testdb *t, const char *path)
{
    pki_category *c = (void *)1;

    assert_int_equal(pki_store_category(&t->db, t->pool, route(t->pool, path), &c), APR_SUCCESS);
    return c;
}

/* --- details --- */

static void test_package_by_id(void **state)
{
    testdb *t = *state;
    pki_package *p = package(t, "packages/1/");

    assert_non_null(p);
    assert_int_equal(p->id, 1);
    assert_int_equal(p->category_id, 1);
    assert_string_equal(p->title, "alpha");
    assert_string_equal(p->slug, "alpha");
    assert_int_equal(p->last_updated, utc("2011-07-14 13:30:24"));
    assert_int_equal(p->last_fetched, utc("2026-02-15 05:38:31.612719"));
    assert_string_equal(p->repo_url, "https://github.com/x/alpha");
    assert_non_null(p->pypi_version);
    assert_string_equal(p->pypi_version, "2.11.2"); /* latest_version_id's, not the newest row */
    assert_int_equal(p->created, utc("2010-08-16 13:00:00"));
    assert_int_equal(p->modified, utc("2026-01-29 17:58:48.638776"));
    assert_int_equal(p->repo_forks, 134);
    assert_string_equal(p->repo_description, "A \"quoted\"\r\n description");
    assert_string_equal(p->pypi_url, "https://pypi.org/project/alpha/");
    assert_null(p->documentation_url);
    assert_int_equal(p->repo_watchers, 420);
    assert_string_equal(p->commits_over_52, "[0, 1, 2]");
    assert_string_equal(p->participants, "a, b");
    ids_equal(&p->grids, 2, 4, 1); /* membership order, not grid id order */

    /* Leading zeros, suffixes: the same object. */
    assert_int_equal(package(t, "packages/0001/")->id, 1);
    assert_int_equal(package(t, "packages/1.json")->id, 1);
}

static void test_package_by_slug(void **state)
{
    testdb *t = *state;
    pki_package *p;

    p = package(t, "packages/zeta-2/");
    assert_non_null(p);
    assert_int_equal(p->id, 3);
    assert_non_null(p->pypi_version);
    assert_string_equal(p->pypi_version, ""); /* a version row whose number is empty */
    assert_string_equal(p->documentation_url, "https://zeta.example/");
    ids_equal(&p->grids, 1, 1);

    p = package(t, "packages/emile.json");
    assert_non_null(p);
    assert_int_equal(p->id, 5);
    assert_string_equal(p->title, "\303\251mile");
    assert_string_equal(p->repo_description, "caf\303\251");
    assert_string_equal(p->pypi_version, "0.9b1");
    ids_equal(&p->grids, 2, 1, 6);

    p = package(t, "packages/solo/");
    assert_non_null(p);
    ids_equal(&p->grids, 0);
}

static void test_package_nulls(void **state)
{
    testdb *t = *state;
    pki_package *p = package(t, "packages/2/");

    assert_non_null(p);
    assert_string_equal(p->title, "Zeta");
    assert_int_equal(p->category_id, 2);
    assert_int_equal(p->last_updated, PKI_TIME_NULL);
    assert_int_equal(p->last_fetched, PKI_TIME_NULL);
    assert_null(p->pypi_version);
    assert_non_null(p->documentation_url); /* "" is not NULL */
    assert_string_equal(p->documentation_url, "");
    assert_string_equal(p->repo_description, "");
    assert_string_equal(p->participants, "");
    assert_string_equal(p->commits_over_52, "[]");
    assert_int_equal(p->created, utc("2010-08-30 08:43:08.231223"));
}

static void test_missing(void **state)
{
    testdb *t = *state;
    static const char *const packages[] = {
        "packages/424242/",
        "packages/nope/",
        "packages/ZETA/", /* slugs are case-sensitive */
        "packages/123/",  /* an all-digit slug is looked up as an id */
        "packages/0/",    /* no id 0 */
        "packages/12345678901234567890/",
        "packages/9223372036854775807/",
        "packages/\377\376/",     /* not UTF-8 */
        "packages/caf%C3/",       /* truncated UTF-8 */
        "packages/%C0%AF/",       /* overlong */
        "packages/%ED%A0%80/",    /* a UTF-16 surrogate: reaches SQL, matches nothing */
        "packages/x' OR '1'='1/", /* parameters, never SQL text */
        "packages/%25/",
    };
    size_t i;

    for (i = 0; i < sizeof(packages) / sizeof(packages[0]); i++) {
        if (package(t, packages[i]) != NULL) {
            fail_msg("'%s' found a package", packages[i]);
        }
    }
    assert_null(grid(t, "grids/2/"));
    assert_null(grid(t, "grids/One/"));
    assert_null(grid(t, "grids/99999999999999999999/"));
    assert_null(grid(t, "grids/\377/"));
    assert_null(category(t, "categories/3/"));
    assert_null(category(t, "categories/apps/")); /* categories: id only */
    assert_null(category(t, "categories/99999999999999999999/"));
}

static void test_grid(void **state)
{
    testdb *t = *state;
    pki_grid *g;

    g = grid(t, "grids/1/");
    assert_non_null(g);
    assert_int_equal(g->id, 1);
    assert_string_equal(g->title, "Grid One");
    assert_string_equal(g->slug, "one");
    assert_string_equal(g->description, "The first grid.");
    assert_true(g->is_locked);
    assert_false(g->header);
    assert_int_equal(g->created, utc("2010-08-21 03:28:53.696485"));
    assert_int_equal(g->modified, utc("2026-01-28 19:14:03.651143"));
    /* By title in code-point order, ties by id: 123, Beta, Zeta (2), Zeta (3), alpha, émile. */
    ids_equal(&g->packages, 6, 10, 7, 2, 3, 1, 5);

    g = grid(t, "grids/one/");
    assert_non_null(g);
    assert_int_equal(g->id, 1);
    ids_equal(&g->packages, 6, 10, 7, 2, 3, 1, 5);

    g = grid(t, "grids/four.json");
    assert_non_null(g);
    assert_false(g->is_locked);
    assert_true(g->header);
    assert_string_equal(g->description, "");
    ids_equal(&g->packages, 1, 1);

    g = grid(t, "grids/6/");
    assert_non_null(g);
    ids_equal(&g->packages, 2, 7, 5);
}

static void test_category(void **state)
{
    testdb *t = *state;
    pki_category *c;

    c = category(t, "categories/1/");
    assert_non_null(c);
    assert_int_equal(c->id, 1);
    assert_string_equal(c->title, "App");
    assert_string_equal(c->slug, "apps");
    assert_string_equal(c->description, "Small components.");
    assert_string_equal(c->title_plural, "Apps");
    assert_true(c->show_pypi);
    assert_int_equal(c->created, utc("2010-08-15 02:47:52"));
    assert_int_equal(c->modified, utc("2022-03-05 02:48:41.249944"));

    c = category(t, "categories/2.json");
    assert_non_null(c);
    assert_string_equal(c->description, "");
    assert_false(c->show_pypi);
}

/* --- pages --- */

static pki_page page(testdb *t, pki_resource res, apr_int64_t limit, apr_int64_t offset)
{
    pki_page pg;

    assert_int_equal(pki_store_page(&t->db, t->pool, res, limit, offset, &pg), APR_SUCCESS);
    return pg;
}

static const pki_package *pkg_at(const pki_page *pg, int i)
{
    assert_true(i < pg->n);
    return &((const pki_package *)pg->items)[i];
}

static const pki_grid *grid_at(const pki_page *pg, int i)
{
    assert_true(i < pg->n);
    return &((const pki_grid *)pg->items)[i];
}

static void test_package_pages(void **state)
{
    testdb *t = *state;
    static const apr_int64_t all[] = {10, 7, 5, 4, 3, 2, 1};
    pki_page pg;
    int i;

    pg = page(t, PKI_RES_PACKAGES, 2, 0);
    assert_int_equal(pg.count, 7);
    assert_int_equal(pg.n, 2);
    assert_int_equal(pkg_at(&pg, 0)->id, 10);
    ids_equal(&pkg_at(&pg, 0)->grids, 1, 1);
    assert_int_equal(pkg_at(&pg, 1)->id, 7);
    ids_equal(&pkg_at(&pg, 1)->grids, 2, 1, 6);

    /* Memberships land on the right items, including one with none in the middle. */
    pg = page(t, PKI_RES_PACKAGES, 3, 2);
    assert_int_equal(pg.n, 3);
    assert_int_equal(pkg_at(&pg, 0)->id, 5);
    ids_equal(&pkg_at(&pg, 0)->grids, 2, 1, 6);
    assert_int_equal(pkg_at(&pg, 1)->id, 4);
    ids_equal(&pkg_at(&pg, 1)->grids, 0);
    assert_int_equal(pkg_at(&pg, 2)->id, 3);
    ids_equal(&pkg_at(&pg, 2)->grids, 1, 1);

    pg = page(t, PKI_RES_PACKAGES, 1000, 0);
    assert_int_equal(pg.n, 7);
    for (i = 0; i < 7; i++) {
        assert_int_equal(pkg_at(&pg, i)->id, all[i]);
    }
    ids_equal(&pkg_at(&pg, 0)->grids, 1, 1);
    ids_equal(&pkg_at(&pg, 1)->grids, 2, 1, 6);
    ids_equal(&pkg_at(&pg, 2)->grids, 2, 1, 6);
    ids_equal(&pkg_at(&pg, 3)->grids, 0);
    ids_equal(&pkg_at(&pg, 4)->grids, 1, 1);
    ids_equal(&pkg_at(&pg, 5)->grids, 1, 1);
    ids_equal(&pkg_at(&pg, 6)->grids, 2, 4, 1);
    assert_null(pkg_at(&pg, 5)->pypi_version);
    assert_string_equal(pkg_at(&pg, 6)->pypi_version, "2.11.2");
    assert_int_equal(pkg_at(&pg, 6)->last_updated, utc("2011-07-14 13:30:24"));

    /* The last item alone. */
    pg = page(t, PKI_RES_PACKAGES, 20, 6);
    assert_int_equal(pg.count, 7);
    assert_int_equal(pg.n, 1);
    assert_int_equal(pkg_at(&pg, 0)->id, 1);
    ids_equal(&pkg_at(&pg, 0)->grids, 2, 4, 1);

    /* Past the end. */
    pg = page(t, PKI_RES_PACKAGES, 20, 7);
    assert_int_equal(pg.count, 7);
    assert_int_equal(pg.n, 0);
    pg = page(t, PKI_RES_PACKAGES, 20, APR_INT64_MAX);
    assert_int_equal(pg.count, 7);
    assert_int_equal(pg.n, 0);
}

static void test_grid_and_category_pages(void **state)
{
    testdb *t = *state;
    pki_page pg;

    pg = page(t, PKI_RES_GRIDS, 2, 0);
    assert_int_equal(pg.count, 3);
    assert_int_equal(pg.n, 2);
    assert_int_equal(grid_at(&pg, 0)->id, 6);
    ids_equal(&grid_at(&pg, 0)->packages, 2, 7, 5);
    assert_int_equal(grid_at(&pg, 1)->id, 4);
    ids_equal(&grid_at(&pg, 1)->packages, 1, 1);
    assert_true(grid_at(&pg, 1)->header);

    pg = page(t, PKI_RES_GRIDS, 5, 1);
    assert_int_equal(pg.n, 2);
    assert_int_equal(grid_at(&pg, 0)->id, 4);
    ids_equal(&grid_at(&pg, 0)->packages, 1, 1);
    assert_int_equal(grid_at(&pg, 1)->id, 1);
    ids_equal(&grid_at(&pg, 1)->packages, 6, 10, 7, 2, 3, 1, 5);
    assert_true(grid_at(&pg, 1)->is_locked);

    pg = page(t, PKI_RES_CATEGORIES, 20, 0);
    assert_int_equal(pg.count, 2);
    assert_int_equal(pg.n, 2);
    assert_int_equal(((const pki_category *)pg.items)[0].id, 2);
    assert_int_equal(((const pki_category *)pg.items)[1].id, 1);
    assert_string_equal(((const pki_category *)pg.items)[1].title_plural, "Apps");

    pg = page(t, PKI_RES_CATEGORIES, 1, 1);
    assert_int_equal(pg.n, 1);
    assert_int_equal(((const pki_category *)pg.items)[0].id, 1);
}

static void test_empty_tables(void **state)
{
    testdb *t = *state;
    pki_page pg;

    testdb_exec(t, "DELETE FROM grid_gridpackage; DELETE FROM grid_grid;");
    pg = page(t, PKI_RES_GRIDS, 20, 0);
    assert_int_equal(pg.count, 0);
    assert_int_equal(pg.n, 0);
    pg = page(t, PKI_RES_PACKAGES, 20, 0);
    assert_int_equal(pg.n, 7);
    ids_equal(&pkg_at(&pg, 6)->grids, 0);
    assert_null(grid(t, "grids/1/"));
}

/* --- statements and failures --- */

/* Placeholders of a statement, in order: "i" %lld, "d" %d, "s" %s. */
static const char *placeholders(apr_pool_t *pool, const char *sql)
{
    char *out = apr_palloc(pool, strlen(sql) + 1), *o = out;

    for (; *sql; sql++) {
        if (*sql == '%' && sql[1] == '%') {
            sql++;
        } else if (*sql == '%') {
            *o++ = sql[1] == 'l' ? 'i' : sql[1];
        }
    }
    *o = '\0';
    return out;
}

static void test_labels(void **state)
{
    testdb *t = *state;
    int i, j;

    /* Labels are distinct SQL identifiers (pgsql names statements with them), and every
     * statement takes the arguments store.c passes. */
    for (i = 0; i < PKI_SQL_COUNT_; i++) {
        const pki_sql_stmt *sql = pki_sql_statement(&pki_store_sqlite_backend, i);
        const pki_sql_stmt *pg = pki_sql_statement(&pki_store_pgsql_backend, i);
        const char *s;

        assert_non_null(sql->label);
        assert_non_null(sql->sql);
        for (s = sql->label; *s; s++) {
            assert_true((*s >= 'a' && *s <= 'z') || *s == '_' || (*s >= '0' && *s <= '9'));
        }
        for (j = 0; j < i; j++) {
            assert_string_not_equal(sql->label,
                                    pki_sql_statement(&pki_store_sqlite_backend, j)->label);
        }
        assert_true(strlen(placeholders(t->pool, sql->sql)) <= PKI_SQL_MAX_ARGS);
        /* the backends' statements are the same ones: same label, same arguments */
        assert_non_null(pg->sql);
        assert_string_equal(pg->label, sql->label);
        assert_string_equal(placeholders(t->pool, pg->sql), placeholders(t->pool, sql->sql));
    }
}

/* PostgreSQL's SQLSTATEs (Appendix A) as the faults callers act on. */
static void test_pgsql_faults(void **state)
{
    assert_int_equal(pki_pgsql_fault(NULL), PKI_DB_FAULT_UNAVAILABLE);
    assert_int_equal(pki_pgsql_fault("08006"), PKI_DB_FAULT_UNAVAILABLE); /* connection failure */
    assert_int_equal(pki_pgsql_fault("57P01"), PKI_DB_FAULT_UNAVAILABLE); /* admin shutdown */
    assert_int_equal(pki_pgsql_fault("3D000"), PKI_DB_FAULT_UNAVAILABLE); /* no database */
    assert_int_equal(pki_pgsql_fault("28P01"), PKI_DB_FAULT_UNAVAILABLE); /* wrong password */
    assert_int_equal(pki_pgsql_fault("23505"), PKI_DB_FAULT_CONFLICT);
    assert_int_equal(pki_pgsql_fault("23503"), PKI_DB_FAULT_OTHER); /* a foreign key */
    assert_int_equal(pki_pgsql_fault("40P01"), PKI_DB_FAULT_BUSY);  /* deadlock */
    assert_int_equal(pki_pgsql_fault("55P03"), PKI_DB_FAULT_BUSY);  /* lock_timeout */
    assert_int_equal(pki_pgsql_fault("57014"), PKI_DB_FAULT_BUSY);  /* statement_timeout */
    assert_int_equal(pki_pgsql_fault("53100"), PKI_DB_FAULT_FULL);
    assert_int_equal(pki_pgsql_fault("25006"), PKI_DB_FAULT_READONLY); /* a hot standby */
    assert_int_equal(pki_pgsql_fault("42P01"), PKI_DB_FAULT_OTHER);    /* no such table */
}

static void test_broken_database(void **state)
{
    testdb *t = *state;
    pki_package *p = (void *)1;
    pki_grid *g = (void *)1;
    pki_category *c = (void *)1;
    pki_page pg;

    /* Without the membership table whatever needs it fails, and says why, without crashing. */
    testdb_exec(t, "DROP TABLE grid_gridpackage;");
    t->db.error = NULL;
    assert_int_not_equal(pki_store_package(&t->db, t->pool, route(t->pool, "packages/1/"), &p),
                         APR_SUCCESS);
    assert_non_null(t->db.error);
    assert_int_not_equal(pki_store_grid(&t->db, t->pool, route(t->pool, "grids/one/"), &g),
                         APR_SUCCESS);
    assert_int_not_equal(pki_store_page(&t->db, t->pool, PKI_RES_PACKAGES, 20, 0, &pg),
                         APR_SUCCESS);
    assert_int_not_equal(pki_store_page(&t->db, t->pool, PKI_RES_GRIDS, 20, 0, &pg), APR_SUCCESS);

    /* A lookup whose query fails is an error, not "not found". */
    testdb_exec(t, "DROP TABLE package_category;");
    t->db.error = NULL;
    assert_int_not_equal(pki_store_category(&t->db, t->pool, route(t->pool, "categories/1/"), &c),
                         APR_SUCCESS);
    assert_non_null(t->db.error);
    assert_null(c);
    assert_int_not_equal(pki_store_page(&t->db, t->pool, PKI_RES_CATEGORIES, 20, 0, &pg),
                         APR_SUCCESS);

    /* Lookups that never reach SQL still answer "none". */
    assert_int_equal(
        pki_store_package(&t->db, t->pool, route(t->pool, "packages/99999999999999999999/"), &p),
        APR_SUCCESS);
    assert_null(p);
    assert_int_equal(pki_store_category(&t->db, t->pool, route(t->pool, "categories/apps/"), &c),
                     APR_SUCCESS);
    assert_null(c);
}

/* A schema change by another connection (CREATE INDEX, VACUUM, a migration), even one
 * unrelated to the API, expired the statements apr_dbd's sqlite3 driver prepares (the legacy
 * sqlite3_prepare): their next run failed ("database schema has changed"). The backend's own
 * statements (sqlite3_prepare_v3) are prepared again by SQLite. The statements must have been
 * prepared and run before the change, and the change made elsewhere, for them to be stale. */
static void schema_changed_elsewhere(testdb *t)
{
    testdb_exec(t, "CREATE INDEX unrelated_index ON package_package (title);");
    t->db.error = NULL;
}

static void test_schema_change_reads(void **state)
{
    testdb *t = *state;

    ids_equal(&package(t, "packages/1/")->grids, 2, 4, 1);
    assert_int_equal(page(t, PKI_RES_PACKAGES, 20, 0).n, 7);
    schema_changed_elsewhere(t);
    /* a detail (2 statements) and a list page (3): one re-preparation serves them all */
    ids_equal(&package(t, "packages/1/")->grids, 2, 4, 1);
    assert_int_equal(page(t, PKI_RES_PACKAGES, 20, 0).n, 7);
    assert_int_equal(grid(t, "grids/1/")->packages.count, 6);
}

static void test_schema_change_writes(void **state)
{
    testdb *t = *state;
    pki_category c = {.id = 1,
                      .title = "Renamed",
                      .slug = "apps",
                      .description = "",
                      .title_plural = "Apps",
                      .created = utc("2010-08-15T02:47:52Z"),
                      .modified = utc("2026-01-01T00:00:00Z")};

    assert_int_equal(pki_store_put_category(&t->db, t->pool, &c), APR_SUCCESS);
    schema_changed_elsewhere(t);
    c.title = "Renamed again";
    assert_int_equal(pki_store_put_category(&t->db, t->pool, &c), APR_SUCCESS);
    assert_string_equal(category(t, "categories/1/")->title, "Renamed again");
}

static void test_check(void **state)
{
    testdb *t = *state;
    pki_page pg;

    assert_int_equal(pki_store_check(&t->db, t->pool), APR_SUCCESS);
    assert_int_equal(pki_store_page(&t->db, t->pool, PKI_RES_CATEGORIES, 20, 0, &pg), APR_SUCCESS);
    /* A removed file still reads through a connection that has read it (its WAL index is
     * mapped), but the check notices. */
    assert_int_equal(unlink(t->path), 0);
    t->db.error = NULL;
    assert_int_not_equal(pki_store_check(&t->db, t->pool), APR_SUCCESS);
    assert_non_null(t->db.error);
    assert_int_equal(pki_store_page(&t->db, t->pool, PKI_RES_CATEGORIES, 20, 0, &pg), APR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_package_by_id, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_package_by_slug, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_package_nulls, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_missing, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_grid, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_category, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_package_pages, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_grid_and_category_pages, testdb_setup,
                                        testdb_teardown),
        cmocka_unit_test_setup_teardown(test_empty_tables, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_labels, testdb_setup, testdb_teardown),
        cmocka_unit_test(test_pgsql_faults),
        cmocka_unit_test_setup_teardown(test_broken_database, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_schema_change_reads, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_schema_change_writes, testdb_setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(test_check, testdb_setup, testdb_teardown),
    };
    RUN_UNIT_TESTS(tests);
}
