/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* Time zones from the tz database, and datetimes as Python's isoformat() prints them.
 * Zones are loaded once at configuration time; lookups are pure functions of the loaded
 * data, so they are thread-safe and never touch the process TZ. */

#ifndef PKI_TZ_H
#define PKI_TZ_H

#include <apr_pools.h>

typedef struct pki_tz pki_tz;

/* Longest text pki_time_format writes, plus the NUL. */
#define PKI_TIME_MAX 40

/* The instants a stored datetime can be, in microseconds since the epoch: years 1..9999 in
 * UTC, as Python's datetime (and so Django's storage) allows. */
#define PKI_TIME_FIRST APR_INT64_C(-62135596800000000) /* 0001-01-01 00:00:00 */
#define PKI_TIME_LAST  APR_INT64_C(253402300799999999) /* 9999-12-31 23:59:59.999999 */

/* Loads zone NAME ("America/New_York", "UTC", ...) from the TZif file under DIR
 * (NULL: /usr/share/zoneinfo). On failure returns non-APR_SUCCESS and sets *err. */
apr_status_t pki_tz_load(pki_tz **tz, apr_pool_t *pool, const char *name, const char *dir,
                         const char **err);

/* Offset from UTC in seconds that applies at instant T (seconds since the epoch). */
int pki_tz_offset(const pki_tz *tz, apr_int64_t t);

/* Parses a stored datetime, as SQLite ('YYYY-MM-DD HH:MM:SS[.f{1,6}]', UTC) and PostgreSQL
 * ('... [+-]HH[:MM[:SS]]') and ISO 8601 ('T' separator, 'Z', offsets) write them, into
 * microseconds since the epoch. Returns 0, or -1 when S is not such a datetime. */
int pki_time_parse(const char *s, apr_int64_t *usec);

/* Writes USEC as Python's datetime.isoformat() in zone TZ: 'YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM'
 * (fraction only when non-zero, 'Z' when the offset is zero). Returns the length. */
apr_size_t pki_time_format(const pki_tz *tz, apr_int64_t usec, char out[PKI_TIME_MAX]);

/* Writes USEC (PKI_TIME_FIRST..PKI_TIME_LAST) as Django stores datetimes in SQLite: UTC
 * 'YYYY-MM-DD HH:MM:SS[.ffffff]'. */
apr_size_t pki_time_format_sql(apr_int64_t usec, char out[PKI_TIME_MAX]);

#endif
