/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The mirror importer: streams of API v4 JSON (single objects, arrays, list pages, JSON Lines)
 * into the database, one transaction per file, through the same parser and store as the
 * module. */

#ifndef PKI_IMPORT_H
#define PKI_IMPORT_H

#include <apr_file_io.h>

#include "route.h"
#include "store.h"

/* The ids of the objects a file holds, by kind (sorted): what later files of a run will bring,
 * so that links to them are not dangling. */
typedef struct pki_import_ids {
    apr_array_header_t *ids[PKI_RES_COUNT_]; /* apr_int64_t */
    apr_int64_t records[PKI_RES_COUNT_];     /* of those, records of the input (seen, below) */
    int complete;                            /* read from the whole file */
} pki_import_ids;

/* Reads FILE for the ids of its packages, grids and categories (records that do not parse
 * are ignored here: importing the file reports them). */
apr_status_t pki_import_collect_ids(apr_pool_t *pool, apr_file_t *file, pki_import_ids *out);

typedef struct pki_import_options {
    pki_resource type;  /* PKI_RES_ROOT: recognise each record by its keys */
    int create_missing; /* make placeholder rows for objects only seen as links */
    int skip_invalid;   /* import the valid records, list the others */
    /* The database is new and its triggers are off (pkgindex-import made it in this run):
     * counts are recounted after each file, and the caller rebuilds the search index once
     * after the last. */
    int bulk;
    /* Objects the files after this one hold: links to them are satisfied later. */
    const pki_import_ids *later;
    int nlater;
    /* Objects this file holds, when it could be read ahead (complete): with skip_invalid,
     * links are then checked record by record, so an invalid record is not written. */
    const pki_import_ids *here;
    int read_ahead; /* every file of the run could be read ahead (here and later complete) */
    /* When set, the ids of the objects written, of what they link to and of placeholders are
     * appended here; records[] counts the objects written. */
    pki_import_ids *seen;
    /* Messages (errors, warnings) and progress, for the caller to show. */
    void (*say)(void *ctx, const char *message);
    void (*progress)(void *ctx, apr_int64_t records);
    void *ctx;
} pki_import_options;

typedef struct pki_import_counts {
    apr_int64_t packages, grids, categories, placeholders, skipped;
    int committed; /* the file's transaction was committed (all of it, or the valid records) */
} pki_import_counts;

/* What a person can do about a database fault, in a few words. */
const char *pki_import_fault_advice(pki_db_fault fault);

/* Imports everything FILE (named NAME in messages) holds. Returns APR_SUCCESS when every
 * record was imported; otherwise nothing is changed, unless skip_invalid, which keeps the
 * valid records and still returns an error when any was skipped. */
apr_status_t pki_import_file(pki_db *db, apr_pool_t *pool, apr_file_t *file, const char *name,
                             const pki_import_options *opts, pki_import_counts *counts);

/* A mirror's deletions: in one transaction, the packages, grids and categories of the
 * database that OPTS->seen (what a complete import of the source wrote and linked to) does
 * not hold are deleted, with their memberships and versions. A kind of which it has no record
 * is left alone; a category that packages still name is kept (said). *PRUNED counts what
 * went. */
apr_status_t pki_import_prune(pki_db *db, apr_pool_t *pool, const pki_import_options *opts,
                              pki_import_counts *pruned);

#endif
