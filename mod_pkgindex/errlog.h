/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What goes to the error log: a recurring error at most once an interval, with the count of
 * those left out, and database parameters without their secrets. */

#ifndef PKI_ERRLOG_H
#define PKI_ERRLOG_H

#include <apr_pools.h>
#include <apr_time.h>

/* One recurring event of a process that may go through once an interval: an error line to
 * log, a failed connection to try again. Zeroed (static storage) is the initial state. */
typedef struct pki_throttle {
    volatile apr_uint64_t last;       /* apr_time_t of the last line logged; 0: none yet */
    volatile apr_uint32_t suppressed; /* occurrences since then that were not logged */
} pki_throttle;

/* Records one occurrence at NOW. Returns 1 when the caller logs this one: the first, or the
 * first INTERVAL after the last line, with *MORE the occurrences left out since that line and
 * *SINCE the time since it (0 for the first). Returns 0 when the occurrence is only counted.
 * Lock-free, no allocation: for many threads on the request path. A clock stepped back by
 * more than INTERVAL starts over. */
int pki_throttle_hit(pki_throttle *t, apr_time_t now, apr_time_t interval, apr_uint32_t *more,
                     apr_time_t *since);

/* PARAMS (mod_dbd's DBDParams) with every password replaced by "***": the value of a
 * password, pass, passwd or pwd key in a key=value list (separated by spaces, ',', ';' or
 * '&'; a quoted value as PostgreSQL writes one), and the password of a URI's user info. */
const char *pki_redact_params(apr_pool_t *pool, const char *params);

#endif
