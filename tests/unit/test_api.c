/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* api.c end to end, without httpd: pki_api_handle on the temporary database of testdb.h,
 * with an acquire callback that counts its calls (metadata and errors must not touch the
 * database) and can report the database unavailable. Statuses and bodies follow spec §1-§5. */

#include <stdio.h>

#include "unit.h"

#include "api.h"
#include "query.h"
#include "tz.h"

#include "testdb.h"

#define BASE   "https://djangopackages.org"
#define PREFIX "/api/v4/"

#define NOT_FOUND      "{\"detail\":\"Not found.\"}"
#define NOT_ACCEPTABLE "{\"detail\":\"Could not satisfy the request Accept header.\"}"
#define UNAVAILABLE    "{\"detail\":\"Service temporarily unavailable, try again later.\"}"

typedef struct fixture {
    testdb *t;
    pki_settings settings;
    int acquired;    /* acquire calls */
    int unavailable; /* acquire answers NULL */
} fixture;

static pki_db *acquire(void *ctx)
{
    fixture *f = ctx;

    f->acquired++;
    return f->unavailable ? NULL : &f->t->db;
}

static int setup(void **state)
{
    fixture *f;
    pki_tz *tz = NULL;
    const char *err = NULL;

    testdb_setup(state);
    f = apr_pcalloc(((testdb *)*state)->pool, sizeof(*f));
    f->t = *state;
    if (pki_tz_load(&tz, f->t->pool, "America/New_York", NULL, &err) != APR_SUCCESS) {
        fail_msg("America/New_York: %s", err);
    }
    f->settings.tz = tz;
    f->settings.page_size = 20;
    f->settings.max_limit = 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    *state = f->t;
    return testdb_teardown(state);
}

typedef struct answer {
    int status;
    const char *content_type;
    const char *location;
    int retry_after;
    const char *body;
} answer;

/* One request in POOL: METHOD PREFIX PATH[?ARGS] with ACCEPT (NULL: no header). */
static answer call_in(fixture *f, apr_pool_t *pool, const char *method, const char *path,
                      const char *args, const char *accept)
{
    pki_request req;
    pki_response resp;
    answer a;

    memset(&req, 0, sizeof(req));
    req.pool = pool;
    req.method = method;
    req.prefix = PREFIX;
    req.path = path;
    req.args = args;
    req.accept = accept;
    req.base = BASE;
    req.settings = &f->settings;
    req.acquire = acquire;
    req.acquire_ctx = f;
    memset(&resp, 0x5a, sizeof(resp));
    pki_api_handle(&req, &resp);
    a.status = resp.status;
    a.content_type = resp.content_type;
    a.location = resp.location;
    a.retry_after = resp.retry_after;
    a.body = pki_buf_cstr(&resp.body);
    return a;
}

static answer call(fixture *f, const char *method, const char *path, const char *args,
                   const char *accept)
{
    return call_in(f, f->t->pool, method, path, args, accept);
}

static answer get(fixture *f, const char *path, const char *args)
{
    return call(f, "GET", path, args, NULL);
}

/* Compares documents, reporting where they first differ. */
static void same(const char *got, const char *want)
{
    size_t i = 0;

    while (got[i] && got[i] == want[i]) {
        i++;
    }
    if (got[i] != want[i]) {
        fail_msg("differ at byte %zu:\n got: ...%.70s\nwant: ...%.70s", i,
                 got + (i > 20 ? i - 20 : 0), want + (i > 20 ? i - 20 : 0));
    }
}

/* Asserts a 200 browsable page whose heading is NAME. */
static void html_answer(answer a, const char *name)
{
    char h1[128];

    assert_int_equal(a.status, 200);
    assert_string_equal(a.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(a.body, "<!DOCTYPE html>"));
    snprintf(h1, sizeof(h1), "<h1>%s</h1>", name);
    assert_non_null(strstr(a.body, h1));
}

/* Asserts a JSON answer with STATUS and BODY. */
static void json_answer(answer a, int status, const char *body)
{
    if (a.status != status) {
        fail_msg("status %d, want %d (body %s)", a.status, status, a.body);
    }
    assert_non_null(a.content_type);
    assert_string_equal(a.content_type, "application/json");
    assert_null(a.location);
    same(a.body, body);
}

/* --- expected bodies for the rows of testdb.h (generated with Python's json and zoneinfo) --- */

/* GET packages/1/ (and packages/alpha/) */
static const char pkg1_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/4/\","
    "\"https://djangopackages.org/api/v4/grids/1/\"],\"id\":1,\"title\":\"alpha\","
    "\"slug\":\"alpha\",\"last_updated\":\"2011-07-14T09:30:24-04:00\","
    "\"last_fetched\":\"2026-02-15T00:38:31.612719-05:00\","
    "\"repo_url\":\"https://github.com/x/alpha\",\"pypi_version\":\"2.11.2\","
    "\"created\":\"2010-08-16T09:00:00-04:00\",\"modified\":\"2026-01-29T12:58:48.638776-05:00"
    "\",\"repo_forks\":134,\"repo_description\":\"A \\\"quoted\\\"\\r\\n description\","
    "\"pypi_url\":\"https://pypi.org/project/alpha/\",\"documentation_url\":null,"
    "\"repo_watchers\":420,\"commits_over_52\":[0,1,2],\"participants\":[\"a\",\"b\"]}";

/* GET packages/1.json */
static const char pkg1_suffix_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1.json\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/4.json\","
    "\"https://djangopackages.org/api/v4/grids/1.json\"],\"id\":1,\"title\":\"alpha\","
    "\"slug\":\"alpha\",\"last_updated\":\"2011-07-14T09:30:24-04:00\","
    "\"last_fetched\":\"2026-02-15T00:38:31.612719-05:00\","
    "\"repo_url\":\"https://github.com/x/alpha\",\"pypi_version\":\"2.11.2\","
    "\"created\":\"2010-08-16T09:00:00-04:00\",\"modified\":\"2026-01-29T12:58:48.638776-05:00"
    "\",\"repo_forks\":134,\"repo_description\":\"A \\\"quoted\\\"\\r\\n description\","
    "\"pypi_url\":\"https://pypi.org/project/alpha/\",\"documentation_url\":null,"
    "\"repo_watchers\":420,\"commits_over_52\":[0,1,2],\"participants\":[\"a\",\"b\"]}";

/* GET packages/1/?format=json */
static const char pkg1_format_json[] =
    "{\"category\":\"https://djangopackages.org/api/v4/categories/1/?format=json\","
    "\"grids\":[\"https://djangopackages.org/api/v4/grids/4/?format=json\","
    "\"https://djangopackages.org/api/v4/grids/1/?format=json\"],\"id\":1,\"title\":\"alpha\","
    "\"slug\":\"alpha\",\"last_updated\":\"2011-07-14T09:30:24-04:00\","
    "\"last_fetched\":\"2026-02-15T00:38:31.612719-05:00\","
    "\"repo_url\":\"https://github.com/x/alpha\",\"pypi_version\":\"2.11.2\","
    "\"created\":\"2010-08-16T09:00:00-04:00\",\"modified\":\"2026-01-29T12:58:48.638776-05:00"
    "\",\"repo_forks\":134,\"repo_description\":\"A \\\"quoted\\\"\\r\\n description\","
    "\"pypi_url\":\"https://pypi.org/project/alpha/\",\"documentation_url\":null,"
    "\"repo_watchers\":420,\"commits_over_52\":[0,1,2],\"participants\":[\"a\",\"b\"]}";

/* GET packages/1/, Accept: application/json; indent=2 */
static const char pkg1_indent2_json[] =
    "{\n  \"category\": \"https://djangopackages.org/api/v4/categories/1/\",\n  \"grids\": [\n "
    "   \"https://djangopackages.org/api/v4/grids/4/\",\n    "
    "\"https://djangopackages.org/api/v4/grids/1/\"\n  ],\n  \"id\": 1,\n  \"title\": "
    "\"alpha\",\n  \"slug\": \"alpha\",\n  \"last_updated\": \"2011-07-14T09:30:24-04:00\",\n  "
    "\"last_fetched\": \"2026-02-15T00:38:31.612719-05:00\",\n  \"repo_url\": "
    "\"https://github.com/x/alpha\",\n  \"pypi_version\": \"2.11.2\",\n  \"created\": "
    "\"2010-08-16T09:00:00-04:00\",\n  \"modified\": \"2026-01-29T12:58:48.638776-05:00\",\n  "
    "\"repo_forks\": 134,\n  \"repo_description\": \"A \\\"quoted\\\"\\r\\n description\",\n  "
    "\"pypi_url\": \"https://pypi.org/project/alpha/\",\n  \"documentation_url\": null,\n  "
    "\"repo_watchers\": 420,\n  \"commits_over_52\": [\n    0,\n    1,\n    2\n  ],\n  "
    "\"participants\": [\n    \"a\",\n    \"b\"\n  ]\n}";

/* GET grids/1/ */
static const char grid1_json[] =
    "{\"id\":1,\"title\":\"Grid One\",\"slug\":\"one\",\"description\":\"The first grid.\","
    "\"is_locked\":true,\"packages\":[\"https://djangopackages.org/api/v4/packages/10/\","
    "\"https://djangopackages.org/api/v4/packages/7/\","
    "\"https://djangopackages.org/api/v4/packages/2/\","
    "\"https://djangopackages.org/api/v4/packages/3/\","
    "\"https://djangopackages.org/api/v4/packages/1/\","
    "\"https://djangopackages.org/api/v4/packages/5/\"],\"header\":false,"
    "\"created\":\"2010-08-20T23:28:53.696485-04:00\","
    "\"modified\":\"2026-01-28T14:14:03.651143-05:00\"}";

/* GET categories/2/ */
static const char cat2_json[] =
    "{\"id\":2,\"title\":\"Framework\",\"slug\":\"frameworks\",\"description\":\"\","
    "\"title_plural\":\"Frameworks\",\"show_pypi\":false,"
    "\"created\":\"2010-08-14T22:48:52-04:00\",\"modified\":\"2010-09-12T22:43:04-04:00\"}";

/* GET categories/1/, Accept: application/json; indent=4 */
static const char cat1_indent4_json[] =
    "{\n    \"id\": 1,\n    \"title\": \"App\",\n    \"slug\": \"apps\",\n    \"description\": "
    "\"Small components.\",\n    \"title_plural\": \"Apps\",\n    \"show_pypi\": true,\n    "
    "\"created\": \"2010-08-14T22:47:52-04:00\",\n    \"modified\": "
    "\"2022-03-04T21:48:41.249944-05:00\"\n}";

/* GET categories/?limit=1&offset=1 */
static const char cat_page_json[] =
    "{\"count\":2,\"next\":null,\"previous\":\"https://djangopackages.org/api/v4/categories/?li"
    "mit=1\",\"results\":[{\"id\":1,\"title\":\"App\",\"slug\":\"apps\","
    "\"description\":\"Small components.\",\"title_plural\":\"Apps\",\"show_pypi\":true,"
    "\"created\":\"2010-08-14T22:47:52-04:00\",\"modified\":\"2022-03-04T21:48:41.249944-05:00"
    "\"}]}";

/* The ids of the objects in a list body, in order ("10,7"): every "id": key is an item's. */
static const char *item_ids(apr_pool_t *pool, const char *body)
{
    const char *s = body, *out = "";

    while ((s = strstr(s, "\"id\":"))) {
        s += 5;
        out =
            apr_pstrcat(pool, out, *out ? "," : "", apr_pstrndup(pool, s, strcspn(s, ",}")), NULL);
    }
    return out;
}

/* The envelope of a list body: everything before ,"results": */
static const char *envelope(apr_pool_t *pool, const char *body)
{
    const char *r = strstr(body, ",\"results\":");

    assert_non_null(r);
    return apr_pstrndup(pool, body, r - body);
}

/* --- success --- */

static void test_root(void **state)
{
    fixture *f = *state;

    json_answer(get(f, "", NULL), 200,
                "{\"packages\":\"" BASE PREFIX "packages/\",\"search\":\"" BASE PREFIX
                "search/\",\"grids\":\"" BASE PREFIX "grids/\",\"categories\":\"" BASE PREFIX
                "categories/\"}");
    json_answer(get(f, ".json", NULL), 200,
                "{\"packages\":\"" BASE PREFIX "packages.json\",\"search\":\"" BASE PREFIX
                "search.json\",\"grids\":\"" BASE PREFIX
                "grids.json\",\"categories\":\"" BASE PREFIX "categories.json\"}");
    json_answer(get(f, "", "format=json"), 200,
                "{\"packages\":\"" BASE PREFIX "packages/?format=json\",\"search\":\"" BASE PREFIX
                "search/?format=json\",\"grids\":\"" BASE PREFIX
                "grids/?format=json\",\"categories\":\"" BASE PREFIX "categories/?format=json\"}");
    /* The root never needs the database. */
    f->unavailable = 1;
    assert_int_equal(get(f, "", NULL).status, 200);
    assert_int_equal(f->acquired, 0);
}

static void test_details(void **state)
{
    fixture *f = *state;
    answer a;

    json_answer(get(f, "packages/1/", NULL), 200, pkg1_json);
    assert_int_equal(f->acquired, 1);
    json_answer(get(f, "packages/alpha/", NULL), 200, pkg1_json);
    json_answer(get(f, "packages/%61lpha/", NULL), 200, pkg1_json);
    json_answer(get(f, "packages/1.json", NULL), 200, pkg1_suffix_json);
    json_answer(get(f, "packages/alpha.json/", NULL), 200, pkg1_suffix_json);
    json_answer(get(f, "packages/1/", "format=json"), 200, pkg1_format_json);
    json_answer(get(f, "packages/1/", "format=yaml&format=json"), 200, pkg1_format_json);
    json_answer(call(f, "GET", "packages/1/", NULL, "application/json; indent=2"), 200,
                pkg1_indent2_json);
    json_answer(get(f, "grids/1/", NULL), 200, grid1_json);
    json_answer(get(f, "grids/one/", "unknown=1"), 200, grid1_json);
    json_answer(get(f, "categories/2/", NULL), 200, cat2_json);
    json_answer(call(f, "GET", "categories/1/", "format=json", "application/json; indent=4"), 200,
                cat1_indent4_json);

    /* HEAD answers what GET does; the glue drops the body. */
    a = call(f, "HEAD", "packages/1/", NULL, NULL);
    json_answer(a, 200, pkg1_json);
    assert_null(a.location);
    assert_int_equal(a.retry_after, 0);
}

/* --- errors --- */

static void test_not_found(void **state)
{
    fixture *f = *state;
    static const char *const unrouted[] = {
        "nope/",      "nope",          "packages/1/x", "search/x/",       "packages/%00/",
        "packages//", "packages.JSON", "Packages/",    "packages/1.5.6/", "/packages/",
    };
    size_t i;

    json_answer(get(f, "packages/424242/", NULL), 404,
                "{\"detail\":\"No Package matches the given query.\"}");
    json_answer(get(f, "packages/nope/", NULL), 404,
                "{\"detail\":\"No Package matches the given query.\"}");
    json_answer(get(f, "packages/99999999999999999999/", NULL), 404,
                "{\"detail\":\"No Package matches the given query.\"}");
    json_answer(get(f, "packages/123/", NULL), 404,
                "{\"detail\":\"No Package matches the given query.\"}");
    json_answer(get(f, "packages/\377/", NULL), 404,
                "{\"detail\":\"No Package matches the given query.\"}");
    json_answer(get(f, "grids/99/", NULL), 404,
                "{\"detail\":\"No Grid matches the given query.\"}");
    json_answer(get(f, "categories/77/", NULL), 404,
                "{\"detail\":\"No Category matches the given query.\"}");
    json_answer(call(f, "GET", "packages/424242/", NULL, "application/json; indent=2"), 404,
                "{\n  \"detail\": \"No Package matches the given query.\"\n}");

    /* Errors before any lookup never touch the database. */
    f->acquired = 0;
    json_answer(get(f, "categories/apps/", NULL), 404, NOT_FOUND);
    for (i = 0; i < sizeof(unrouted) / sizeof(unrouted[0]); i++) {
        json_answer(get(f, unrouted[i], NULL), 404, NOT_FOUND);
    }
    /* Unknown formats, by suffix or parameter; compact whatever Accept asks. */
    json_answer(get(f, "packages/1.5/", NULL), 404, NOT_FOUND);
    json_answer(get(f, "packages/3.14/", NULL), 404, NOT_FOUND);
    json_answer(get(f, "packages/1.yaml", NULL), 404, NOT_FOUND);
    json_answer(get(f, "packages/1/", "format=yaml"), 404, NOT_FOUND);
    json_answer(get(f, "packages/1/", "format=json&format=yaml"), 404, NOT_FOUND);
    json_answer(get(f, ".xml", NULL), 404, NOT_FOUND);
    json_answer(call(f, "GET", "packages/", "format=JSON", "application/json; indent=2"), 404,
                NOT_FOUND);
    assert_int_equal(f->acquired, 0);
}

static void test_redirect(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *method, *path, *args, *location;
    } cases[] = {
        {"GET", "packages", NULL, "/api/v4/packages/"},
        {"GET", "packages", "limit=1&x=%20", "/api/v4/packages/?limit=1&x=%20"},
        {"GET", "packages/1", NULL, "/api/v4/packages/1/"},
        {"GET", "grids/one", "format=json", "/api/v4/grids/one/?format=json"},
        {"GET", "categories/apps", NULL, "/api/v4/categories/apps/"},
        {"GET", "search", NULL, "/api/v4/search/"},
        {"HEAD", "grids", NULL, "/api/v4/grids/"},
        {"POST", "packages", NULL, "/api/v4/packages/"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer a = call(f, cases[i].method, cases[i].path, cases[i].args, NULL);

        assert_int_equal(a.status, 301);
        assert_non_null(a.location);
        assert_string_equal(a.location, cases[i].location);
        assert_string_equal(a.content_type, "text/html; charset=utf-8");
        assert_string_equal(a.body, "");
    }
    /* Only when the path with '/' is a route. */
    json_answer(get(f, "nope", NULL), 404, NOT_FOUND);
    json_answer(get(f, "packages/1/x", NULL), 404, NOT_FOUND);
    assert_int_equal(f->acquired, 0);
}

/* BUG: api.c pki_api_handle builds the APPEND_SLASH Location with "?" whenever args is
 * non-NULL. httpd sets r->args to "" for "/api/v4/packages?" and the glue passes it on;
 * Django (HttpRequest.get_full_path) adds "?" only for a non-empty QUERY_STRING:
 * expected "/api/v4/packages/", actual "/api/v4/packages/?". */
static void test_bug_redirect_empty_query(void **state)
{
    answer a = get(*state, "packages", "");

    assert_int_equal(a.status, 301);
    assert_string_equal(a.location, "/api/v4/packages/");
}

/* BUG: api.c pki_api_handle copies the raw query into the APPEND_SLASH Location; Django
 * passes it through iri_to_uri (quote with safe "/#%[]=:;$&()+,!?*@'~"), so characters such
 * as { } | ^ ` \ " < > (which httpd accepts in a query) are percent-encoded:
 * "packages?q={x}|y" -> expected "/api/v4/packages/?q=%7Bx%7D%7Cy", actual ".../?q={x}|y". */
static void test_bug_redirect_query_quoting(void **state)
{
    answer a = get(*state, "packages", "q={x}|y");

    assert_int_equal(a.status, 301);
    assert_string_equal(a.location, "/api/v4/packages/?q=%7Bx%7D%7Cy");
}

static void test_methods(void **state)
{
    fixture *f = *state;
    static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"};
    static const char *const paths[] = {"",           "packages/",        "packages/1/",
                                        "grids/one/", "packages/424242/", "categories/apps/",
                                        "search/",    "packages.json"};
    size_t i, k;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
            json_answer(call(f, methods[i], paths[k], NULL, NULL), 405,
                        apr_pstrcat(f->t->pool, "{\"detail\":\"Method \\\"", methods[i],
                                    "\\\" not allowed.\"}", NULL));
        }
    }
    /* Negotiated like any response; an unroutable path is still a 404. */
    json_answer(call(f, "DELETE", "categories/1/", NULL, "application/json; indent=2"), 405,
                "{\n  \"detail\": \"Method \\\"DELETE\\\" not allowed.\"\n}");
    json_answer(call(f, "POST", "packages/", NULL, "application/xml"), 406, NOT_ACCEPTABLE);
    json_answer(call(f, "POST", "nope/", NULL, NULL), 404, NOT_FOUND);
    assert_int_equal(f->acquired, 0);
}

static void test_options(void **state)
{
    fixture *f = *state;
    static const char parses[] =
        "\"renders\":[\"application/json\",\"text/html\"],\"parses\":[\"application/json\","
        "\"application/x-www-form-urlencoded\",\"multipart/form-data\"]}";
    static const struct {
        const char *path, *name, *description;
    } cases[] = {
        {"", "Api Root", "The default basic root view for DefaultRouter"},
        {".json", "Api Root", "The default basic root view for DefaultRouter"},
        {"packages/", "Package List", "API endpoint that allows packages to be viewed or edited."},
        {"packages/424242/", "Package Instance",
         "API endpoint that allows packages to be viewed or edited."},
        {"packages/alpha.json", "Package Instance",
         "API endpoint that allows packages to be viewed or edited."},
        {"grids/", "Grid List", ""},
        {"grids/1/", "Grid Instance", ""},
        {"categories/", "Category List", ""},
        {"categories/apps/", "Category Instance", ""},
        {"search/", "Search V3 List",
         "Accepts a 'q' GET parameter.\\n\\nReturns SearchV3 (PostgreSQL FTS) results."},
    };
    size_t i;

    /* OPTIONS is metadata only: it works with the database down. */
    f->unavailable = 1;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_answer(call(f, "OPTIONS", cases[i].path, NULL, NULL), 200,
                    apr_pstrcat(f->t->pool, "{\"name\":\"", cases[i].name, "\",\"description\":\"",
                                cases[i].description, "\",", parses, NULL));
    }
    json_answer(call(f, "OPTIONS", "packages/", "format=yaml", NULL), 404, NOT_FOUND);
    json_answer(call(f, "OPTIONS", "nope/", NULL, NULL), 404, NOT_FOUND);
    assert_int_equal(f->acquired, 0);
}

static void test_negotiation(void **state)
{
    fixture *f = *state;

    json_answer(call(f, "GET", "packages/", NULL, "application/xml"), 406, NOT_ACCEPTABLE);
    json_answer(call(f, "GET", "packages/", NULL, ""), 406, NOT_ACCEPTABLE);
    json_answer(call(f, "GET", "packages/1/", "format=json", "text/html"), 406, NOT_ACCEPTABLE);
    assert_int_equal(f->acquired, 0);
    /* The browsable API: an HTML page around the JSON. */
    html_answer(call(f, "GET", "packages/", NULL, "text/html"), "Package List");
    html_answer(get(f, "packages.api", NULL), "Package List");
    html_answer(get(f, "packages/", "format=api"), "Package List");
    /* What DRF would answer with JSON. */
    json_answer(call(f, "GET", "packages/1/", NULL, "text/html;q=0.5, application/json"), 200,
                pkg1_json);
    json_answer(call(f, "GET", "packages/1/", NULL, "image/png, */*;q=0.1"), 200, pkg1_json);
    html_answer(call(f, "GET", "packages/1/", NULL,
                     "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                "Package Instance");
}

static void test_too_many_params(void **state)
{
    fixture *f = *state;
    apr_pool_t *p = f->t->pool;
    char *args = apr_palloc(p, 1001 * 4 + 1), *s = args;
    int i;

    for (i = 0; i < 1001; i++) {
        memcpy(s, "a=1&", 4);
        s += 4;
    }
    s[-1] = '\0';
    json_answer(get(f, "packages/", args), 400, "{\"detail\":\"Too many query parameters.\"}");
    json_answer(get(f, "nope/", args), 404, NOT_FOUND); /* routing comes first */
    assert_int_equal(f->acquired, 0);
    args[1000 * 4 - 1] = '\0'; /* 1000 parameters: fine */
    assert_int_equal(get(f, "packages/", args).status, 200);
}

/* The href of a browsable page's "json" link, its &amp; read back as & (quote_plus leaves no
 * other character HTML escapes). */
static const char *json_link(apr_pool_t *pool, const char *html)
{
    static const char start[] = "<a class=\"format\" href=\"";
    const char *s = strstr(html, start), *e;
    pki_buf b;

    assert_non_null(s);
    s += sizeof(start) - 1;
    e = strchr(s, '"');
    assert_non_null(e);
    pki_buf_init(&b, pool, e - s + 1);
    while (s < e) {
        if (strncmp(s, "&amp;", 5) == 0) {
            pki_buf_putc(&b, '&');
            s += 5;
        } else {
            pki_buf_putc(&b, *s++);
        }
    }
    return pki_buf_cstr(&b);
}

/* The page's json link: the query with every ?format= dropped and format=json at the end,
 * the other parameters in order, duplicates kept, each re-encoded by quote_plus. */
static void test_format_link(void **state)
{
    fixture *f = *state;
    apr_pool_t *p = f->t->pool;
    static const struct {
        const char *path, *args, *link;
    } cases[] = {
        {"", "format=api", PREFIX "?format=json"},
        {"", "&&format=api&", PREFIX "?format=json"},
        {"", "b=2&format=yaml&a=1&a=3&x+y=%C3%A9%26&flag&e=&format=api",
         PREFIX "?b=2&a=1&a=3&x+y=%C3%A9%26&flag=&e=&format=json"},
        {"", "=&a%20b=c~d.e*f/g&format=api", PREFIX "?=&a+b=c~d.e%2Af%2Fg&format=json"},
        {"packages/", "format=api&limit=2&format=api", PREFIX "packages/?limit=2&format=json"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer a = get(f, cases[i].path, cases[i].args);
        assert_int_equal(a.status, 200);
        assert_string_equal(json_link(p, a.body), cases[i].link);
    }
}

/* The process's private data mappings in bytes (Linux's VmData): a pool with its own
 * allocator takes every block it holds from the system (with mmap in Debian's APR, from the
 * heap otherwise), so its growth over a request is the request's memory. */
static size_t data_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmData: %zu kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    assert_true(kb > 0);
    return kb * 1024;
}

/* PKI_QUERY_MAX_FIELDS parameters: the link is exact, and the request's memory stays within a
 * small multiple of the query's size (rebuilding the link per parameter took the square). */
static void test_format_link_many_params(void **state)
{
    enum { MEMORY_PER_QUERY_BYTE = 32 };
    fixture *f = *state;
    apr_pool_t *p = f->t->pool, *pool;
    apr_allocator_t *allocator;
    pki_buf args, link;
    size_t before, used;
    answer a;
    int i;

    pki_buf_init(&args, p, 65536);
    pki_buf_init(&link, p, 65536);
    pki_buf_puts(&link, PREFIX "?");
    for (i = 0; i < PKI_QUERY_MAX_FIELDS; i++) {
        if (i % 100 == 37 || i == PKI_QUERY_MAX_FIELDS - 1) {
            /* dropped wherever it is; the last one is the browsable page's */
            pki_buf_puts(&args, i % 200 == 37 ? "format=yaml&" : "format=api&");
            continue;
        }
        /* keys repeat; values decode to a space and a slash, encoded back as + and %2F */
        pki_buf_printf(&args, "key-%d=value+%04d+of+a+long+query%%2f&", i % 7, i);
        pki_buf_printf(&link, "key-%d=value+%04d+of+a+long+query%%2F&", i % 7, i);
    }
    args.len--; /* the last '&' */
    pki_buf_puts(&link, "format=json");

    assert_int_equal(apr_allocator_create(&allocator), APR_SUCCESS);
    assert_int_equal(apr_pool_create_ex(&pool, NULL, NULL, allocator), APR_SUCCESS);
    apr_allocator_owner_set(allocator, pool);
    before = data_bytes();
    a = call_in(f, pool, "GET", "", pki_buf_cstr(&args), NULL);
    used = data_bytes() - before;
    assert_int_equal(a.status, 200);
    assert_string_equal(json_link(p, a.body), pki_buf_cstr(&link));
    if (used > MEMORY_PER_QUERY_BYTE * args.len) {
        fail_msg("%zu bytes for a query of %zu", used, (size_t)args.len);
    }
    apr_pool_destroy(pool);
}

/* --- lists --- */

static void test_lists(void **state)
{
    fixture *f = *state;
    apr_pool_t *p = f->t->pool;
    answer a;

    a = get(f, "packages/", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(envelope(p, a.body), "{\"count\":7,\"next\":null,\"previous\":null");
    assert_string_equal(item_ids(p, a.body), "10,7,5,4,3,2,1");
    /* The items are the detail renderings. */
    assert_non_null(strstr(a.body, pkg1_json));

    a = get(f, "grids/", NULL);
    assert_string_equal(envelope(p, a.body), "{\"count\":3,\"next\":null,\"previous\":null");
    assert_string_equal(item_ids(p, a.body), "6,4,1");
    assert_non_null(strstr(a.body, grid1_json));

    json_answer(get(f, "categories/", "limit=1&offset=1"), 200, cat_page_json);
    json_answer(get(f, "categories/", "offset=100"), 200,
                "{\"count\":2,\"next\":null,\"previous\":\"" BASE PREFIX
                "categories/?limit=20&offset=80\",\"results\":[]}");
}

static void test_pagination_links(void **state)
{
    fixture *f = *state;
    apr_pool_t *p = f->t->pool;
    static const struct {
        const char *path, *args;
        const char *next, *previous; /* after BASE PREFIX, or NULL */
        const char *ids;
    } cases[] = {
        {"packages/", "limit=2", "packages/?limit=2&offset=2", NULL, "10,7"},
        {"packages/", "limit=2&offset=3&zzz=1&aaa=2", "packages/?aaa=2&limit=2&offset=5&zzz=1",
         "packages/?aaa=2&limit=2&offset=1&zzz=1", "4,3"},
        {"packages/", "offset=2&limit=2", "packages/?limit=2&offset=4", "packages/?limit=2", "5,4"},
        {"packages/", "offset=5&limit=2", NULL, "packages/?limit=2&offset=3", "2,1"},
        {"packages/", "offset=6", NULL, "packages/?limit=20", "1"},
        {"packages/", "offset=7", NULL, "packages/?limit=20", ""},
        {"packages/", "page=3&limit=1", "packages/?limit=1&offset=1&page=3", NULL, "10"},
        {"packages/", "limit=0", NULL, NULL, "10,7,5,4,3,2,1"},
        {"packages/", "limit=-3&offset=-1", NULL, NULL, "10,7,5,4,3,2,1"},
        {"packages/", "limit=x&offset=y", NULL, NULL, "10,7,5,4,3,2,1"},
        {"packages.json", "limit=2", "packages.json?limit=2&offset=2", NULL, "10,7"},
        {"packages.json/", "limit=2&offset=2", "packages.json/?limit=2&offset=4",
         "packages.json/?limit=2", "5,4"},
        {"packages/", "format=json&limit=2&offset=2", "packages/?format=json&limit=2&offset=4",
         "packages/?format=json&limit=2", "5,4"},
        {"grids/", "limit=1", "grids/?limit=1&offset=1", NULL, "6"},
        {"grids/", "limit=1&offset=2", NULL, "grids/?limit=1&offset=1", "1"},
        {"categories.json", "limit=1", "categories.json?limit=1&offset=1", NULL, "2"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer a = get(f, cases[i].path, cases[i].args);
        const char *next =
            cases[i].next ? apr_pstrcat(p, "\"" BASE PREFIX, cases[i].next, "\"", NULL) : "null";
        const char *prev = cases[i].previous
                               ? apr_pstrcat(p, "\"" BASE PREFIX, cases[i].previous, "\"", NULL)
                               : "null";
        const char *count = cases[i].path[0] == 'p' ? "7" : cases[i].path[0] == 'g' ? "3" : "2";

        assert_int_equal(a.status, 200);
        assert_string_equal(envelope(p, a.body), apr_pstrcat(p, "{\"count\":", count, ",\"next\":",
                                                             next, ",\"previous\":", prev, NULL));
        assert_string_equal(item_ids(p, a.body), cases[i].ids);
    }

    /* With ?format=, item links carry it too. */
    assert_non_null(strstr(get(f, "packages/", "format=json&limit=1&offset=6").body,
                           "\"category\":\"" BASE PREFIX "categories/1/?format=json\""));
}

static void test_page_settings(void **state)
{
    fixture *f = *state;
    apr_pool_t *p = f->t->pool;
    answer a;

    f->settings.page_size = 3;
    a = get(f, "packages/", NULL);
    assert_string_equal(envelope(p, a.body), "{\"count\":7,\"next\":\"" BASE PREFIX
                                             "packages/?limit=3&offset=3\",\"previous\":null");
    f->settings.max_limit = 5;
    a = get(f, "packages/", "limit=100");
    assert_string_equal(envelope(p, a.body), "{\"count\":7,\"next\":\"" BASE PREFIX
                                             "packages/?limit=5&offset=5\",\"previous\":null");
    assert_string_equal(item_ids(p, a.body), "10,7,5,4,3");
    f->settings.max_limit = 0; /* no maximum */
    a = get(f, "packages/", "limit=100000");
    assert_string_equal(envelope(p, a.body), "{\"count\":7,\"next\":null,\"previous\":null");
    assert_string_equal(item_ids(p, a.body), "10,7,5,4,3,2,1");
}

/* --- the database --- */

static void test_unavailable(void **state)
{
    fixture *f = *state;
    static const char *const paths[] = {"packages/",  "packages/1/", "packages/nope/", "grids/",
                                        "grids/one/", "categories/", "categories/1/"};
    size_t i;

    f->unavailable = 1;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        answer a = get(f, paths[i], NULL);

        json_answer(a, 503, UNAVAILABLE);
        assert_int_equal(a.retry_after, 1);
    }
    json_answer(call(f, "GET", "packages/", NULL, "application/json; indent=2"), 503,
                "{\n  \"detail\": \"Service temporarily unavailable, try again later.\"\n}");
    assert_int_equal(f->acquired, 8);
    /* What needs no data still answers. */
    json_answer(get(f, "categories/apps/", NULL), 404, NOT_FOUND);
    assert_int_equal(get(f, "", NULL).status, 200);
    assert_int_equal(f->acquired, 8);
}

static void test_broken_database(void **state)
{
    fixture *f = *state;
    answer a;

    testdb_exec(f->t, "DROP TABLE grid_gridpackage;");
    a = get(f, "packages/1/", NULL);
    json_answer(a, 503, UNAVAILABLE);
    assert_int_equal(a.retry_after, 1);
    json_answer(get(f, "packages/", NULL), 503, UNAVAILABLE);
    json_answer(get(f, "grids/", "limit=1"), 503, UNAVAILABLE);
}

static void test_removed_database(void **state)
{
    fixture *f = *state;
    answer a;

    assert_int_equal(get(f, "categories/1/", NULL).status, 200);
    assert_int_equal(unlink(f->t->path), 0);
    a = get(f, "categories/1/", NULL);
    json_answer(a, 503, UNAVAILABLE);
    assert_int_equal(a.retry_after, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_details, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bug_redirect_empty_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bug_redirect_query_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_link_many_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_database, setup, teardown),
    };
    RUN_UNIT_TESTS(tests);
}
