/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The importer's stream splitter: an input (a file, a pipe, a buffer) cut into records - the
 * top-level JSON values, or the elements of a top-level array - one at a time, so a gigabyte
 * of JSON Lines never sits in memory. Each call consumes at least one byte or ends the scan:
 * a byte that cannot be there (a stray ',' or '}', a NUL, binary data) stops it with its exact
 * position, so no input can make the importer loop. Records are only delimited here; json-c
 * parses them. */

#ifndef PKI_IMPORT_SCAN_H
#define PKI_IMPORT_SCAN_H

#include <apr_file_io.h>

#include "buf.h"

/* A single record (an object, or one element of a top-level array) may not be larger. */
#define PKI_IMPORT_MAX_RECORD (64 * 1024 * 1024)

/* Reads up to *LEN bytes into BUF; *LEN = 0 (or APR_EOF) at the end of the input. */
typedef apr_status_t (*pki_scan_read_fn)(void *ctx, char *buf, apr_size_t *len);

typedef struct pki_scanner pki_scanner;

typedef enum pki_scan_result {
    PKI_SCAN_RECORD, /* REC holds one value's text */
    PKI_SCAN_DONE,   /* the end of the input */
    PKI_SCAN_BAD,    /* one value is unusable (too large; *WHY): the scan goes on after it */
    PKI_SCAN_FATAL,  /* the input is not JSON text from here on (*WHY): the scan is over */
} pki_scan_result;

/* Where something is: a line (from 1) and a byte offset (from 0) in the input. */
typedef struct pki_scan_pos {
    long line;
    apr_off_t byte;
} pki_scan_pos;

pki_scanner *pki_scanner_make(apr_pool_t *pool, pki_scan_read_fn read, void *ctx);
pki_scanner *pki_scanner_file(apr_pool_t *pool, apr_file_t *file);

/* The next record into REC. *AT is where it starts, or for PKI_SCAN_FATAL where the input
 * stops making sense; *WHY (allocated in REC's pool) says what is wrong. After DONE or FATAL
 * every call answers the same again. */
pki_scan_result pki_scan_next(pki_scanner *sc, pki_buf *rec, pki_scan_pos *at, const char **why);

/* Why reading failed (APR_SUCCESS: it did not); a failed read also ends the scan as DONE. */
apr_status_t pki_scan_read_error(const pki_scanner *sc);

/* Whether the input held no JSON value at all (empty, blanks, a byte order mark). */
int pki_scan_empty(const pki_scanner *sc);

#endif
