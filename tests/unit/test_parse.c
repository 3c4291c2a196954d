/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* parse.c: records into model structs, with DRF's complaints. Found by fuzzing: a datetime
 * whose offset carries it past the years 1..9999 in UTC was accepted, then stored as text no
 * reader understands ("9999-12-31T23:59:59-01:00" became "0000-01-01 00:59:59") and served
 * as null. */

#include "unit.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "parse.h"
#include "tz.h"

/* A valid category with CREATED as its creation time. */
static struct json_object *category(const char *created)
{
    struct json_object *obj = json_object_new_object();

    json_object_object_add(obj, "id", json_object_new_int(1));
    json_object_object_add(obj, "title", json_object_new_string("App"));
    json_object_object_add(obj, "slug", json_object_new_string("apps"));
    json_object_object_add(obj, "description", json_object_new_string(""));
    json_object_object_add(obj, "title_plural", json_object_new_string("Apps"));
    json_object_object_add(obj, "show_pypi", json_object_new_boolean(1));
    json_object_object_add(obj, "created", json_object_new_string(created));
    json_object_object_add(obj, "modified", json_object_new_string("2022-03-04T21:48:41-05:00"));
    return obj;
}

/* Parses a category created at CREATED: NULL when accepted, else the complaint about
 * "created" (the only one). *USEC gets the instant. */
static const char *created(apr_pool_t *pool, const char *text, apr_int64_t *usec)
{
    apr_array_header_t *errs = apr_array_make(pool, 2, sizeof(pki_field_error));
    struct json_object *obj = category(text);
    pki_category c;
    int n = pki_parse_category(pool, obj, &c, errs);
    const pki_field_error *e = (const pki_field_error *)errs->elts;

    json_object_put(obj);
    *usec = c.created;
    if (!n) {
        return NULL;
    }
    assert_int_equal(n, 1);
    assert_string_equal(e->field, "created");
    return e->message;
}

static void test_datetime_range(void **state)
{
    apr_pool_t *pool = *state;
    char text[PKI_TIME_MAX];
    apr_int64_t usec;

    /* the extremes that stay within years 1..9999 in UTC, and read back when stored */
    assert_null(created(pool, "0001-01-01T00:00:00Z", &usec));
    assert_true(usec == PKI_TIME_FIRST);
    pki_time_format_sql(usec, text);
    assert_string_equal(text, "0001-01-01 00:00:00");
    assert_null(created(pool, "0001-01-01T01:00:00+01:00", &usec));
    assert_true(usec == PKI_TIME_FIRST);
    assert_null(created(pool, "9999-12-31T23:59:59.999999Z", &usec));
    assert_true(usec == PKI_TIME_LAST);
    pki_time_format_sql(usec, text);
    assert_string_equal(text, "9999-12-31 23:59:59.999999");
    assert_null(created(pool, "9999-12-31T22:59:59-01:00", &usec));

    /* past them: DRF's 'overflow' message, nothing stored */
    assert_string_equal(created(pool, "9999-12-31T23:59:59-01:00", &usec),
                        "Datetime value out of range.");
    assert_true(usec == PKI_TIME_NULL);
    assert_string_equal(created(pool, "0001-01-01T00:30:00+01:00", &usec),
                        "Datetime value out of range.");
    assert_string_equal(created(pool, "0001-01-01T00:00:00.5+00:00:01", &usec),
                        "Datetime value out of range.");
    /* a bad format is still that */
    assert_string_equal(created(pool, "10000-01-01T00:00:00Z", &usec),
                        "Datetime has wrong format. Use one of these formats instead: "
                        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_datetime_range, pool_setup, pool_teardown),
    };

    RUN_UNIT_TESTS(tests);
}
