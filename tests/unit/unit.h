/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Shared includes for the cmocka unit tests of the core. */

#ifndef PKI_UNIT_H
#define PKI_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_pools.h>

/* One pool per test: created in setup, destroyed in teardown. */
static int pool_setup(void **state)
{
    apr_pool_t *p;
    apr_pool_create(&p, NULL);
    *state = p;
    return 0;
}

static int pool_teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

#define RUN_UNIT_TESTS(tests)                                                                      \
    do {                                                                                           \
        int rc_;                                                                                   \
        apr_initialize();                                                                          \
        rc_ = cmocka_run_group_tests(tests, NULL, NULL);                                           \
        apr_terminate();                                                                           \
        return rc_;                                                                                \
    } while (0)

#endif
