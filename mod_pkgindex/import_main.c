/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* bin/pkgindex-import: load API v4 JSON into the database the module serves.
 *
 *   pkgindex-import --db sqlite3:PATH [--init] [--type T] [--create-missing] [--skip-invalid]
 *                   [--quiet] [--wait SECONDS] [--prune] FILE...
 *   pkgindex-import --db sqlite3:PATH [--wait SECONDS] --reindex
 *
 * Each file is one transaction. Exit status 0 only when every record of every file was
 * imported; 1 when a file was refused (or records were skipped); 2 for usage errors.
 * Importers take turns: one waits for another's run (up to --wait seconds). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "import.h"

#ifndef PKI_VERSION
#define PKI_VERSION "0.10"
#endif

/* How long an import waits for another writer (an import, a --reindex) to finish, by default
 * (--wait), and at most. */
#define IMPORT_LOCK_WAIT_SEC     600
#define IMPORT_LOCK_WAIT_MAX_SEC 86400

/* apr_getopt refuses a bare "-": it is swapped for this pointer, compared by address. */
static const char stdin_arg[] = "<stdin>";

typedef struct cli {
    int quiet;
    int wait; /* seconds */
    int tty;
    apr_time_t started;
    const char *file;
} cli;

static void say(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "%s\n", message);
}

static void waiting(void *ctx)
{
    cli *c = ctx;

    fprintf(stderr,
            "pkgindex-import: waiting for the database's write lock (another import "
            "running?); will give up after %d s\n",
            c->wait);
}

/* "1 package", "2 packages". */
static const char *count_of(apr_pool_t *pool, apr_int64_t n, const char *one, const char *many)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT " %s", n, n == 1 ? one : many);
}

static void progress(void *ctx, apr_int64_t records)
{
    cli *c = ctx;
    double secs = (double)(apr_time_now() - c->started) / APR_USEC_PER_SEC;

    if (c->tty && !c->quiet) {
        fprintf(stderr, "\r%s: %" APR_INT64_T_FMT " records, %.0f/s   ", c->file, records,
                secs > 0 ? records / secs : 0.0);
    }
}

static void help(FILE *out)
{
    fprintf(out,
            "usage: pkgindex-import --db sqlite3:PATH [--init] [--type package|grid|category]\n"
            "                       [--create-missing] [--skip-invalid] [--prune] [--quiet]\n"
            "                       [--wait SECONDS] FILE...\n"
            "       pkgindex-import --db sqlite3:PATH [--init] [--wait SECONDS] --reindex\n"
            "  FILE is JSON as API v4 serves it (objects, arrays, list pages, JSON Lines);\n"
            "  '-' reads standard input. Each file is one transaction.\n"
            "  --init            create the database, or the schema when it has none\n"
            "  --type T          read every record as T instead of recognising it by its keys\n"
            "  --create-missing  make placeholder rows for objects only seen as links\n"
            "  --skip-invalid    import the valid records, list the others (exit status 1)\n"
            "  --prune           after every file was imported whole, delete the packages, grids\n"
            "                    and categories the files do not hold (a kind they hold none of\n"
            "                    is kept): a mirror's deletions\n"
            "  --quiet           no summary per file (errors are still shown)\n"
            "  --reindex         rebuild the search index (after writes by other tools; weights\n"
            "                    count recency, so a daily run keeps them current)\n"
            "  --wait SECONDS    how long to wait for another import to finish (default %d)\n"
            "  --help, --version\n"
            "Exit status: 0 when everything was imported, 1 when anything was not, 2 for usage\n"
            "errors.\n",
            IMPORT_LOCK_WAIT_SEC);
}

static int usage(const char *msg)
{
    if (msg) {
        fprintf(stderr, "pkgindex-import: %s\n", msg);
    }
    help(stderr);
    return 2;
}

/* Opens the database for this run (see pki_store_open_writer); says why it cannot. */
static int open_db(apr_pool_t *pool, const char *spec, int init, cli *c, pki_db *db, int *fresh,
                   int *bulk)
{
    pki_store_open_opts o;
    const char *error = NULL;

    memset(&o, 0, sizeof(o));
    o.init = init;
    o.wait = apr_time_from_sec(c->wait);
    o.waiting = waiting;
    o.ctx = c;
    if (pki_store_open_writer(pool, spec, &o, db, fresh, bulk, &error) != APR_SUCCESS) {
        fprintf(stderr, "pkgindex-import: %s\n", error ? error : spec);
        return 0;
    }
    return 1;
}

/* Closes DB (see pki_store_close_writer). */
static int close_db(apr_pool_t *pool, pki_db *db, int fresh)
{
    const char *error = NULL;

    if (pki_store_close_writer(db, pool, fresh, &error) != APR_SUCCESS) {
        fprintf(stderr, "pkgindex-import: %s\n", error ? error : "closing failed");
        return 0;
    }
    return 1;
}

/* Rebuilds the search index in a transaction of its own; says how it went. */
static int rebuild_index(apr_pool_t *pool, pki_db *db, cli *c)
{
    apr_time_t started = apr_time_now();
    apr_status_t rv;

    if ((rv = pki_store_begin(db, pool)) == APR_SUCCESS) {
        rv = pki_store_search_rebuild(db, pool);
        if (pki_store_end(db, pool, rv == APR_SUCCESS) != APR_SUCCESS) {
            rv = APR_EGENERAL;
        }
    }
    if (rv == APR_ENOTIMPL) {
        fprintf(stderr, "pkgindex-import: no search index in this database (made before "
                        "search): --init adds it\n");
    } else if (rv != APR_SUCCESS) {
        fprintf(stderr, "pkgindex-import: search index not rebuilt: %s (%s)\n",
                pki_import_fault_advice(db->fault), db->error ? db->error : "failed");
    } else if (!c->quiet) {
        fprintf(stderr, "search index rebuilt (%.1f s)\n",
                (double)(apr_time_now() - started) / APR_USEC_PER_SEC);
    }
    return rv == APR_SUCCESS;
}

/* --init alone, on a database with data (a Django Packages database): the search index is
 * brought up to date (built, when it is empty), so the database is ready to serve. */
static int sync_index(apr_pool_t *pool, pki_db *db, cli *c)
{
    apr_time_t started = apr_time_now();
    apr_status_t rv;
    int rebuilt = 0;

    if ((rv = pki_store_begin(db, pool)) == APR_SUCCESS) {
        rv = pki_store_search_sync(db, pool, &rebuilt);
        if (pki_store_end(db, pool, rv == APR_SUCCESS) != APR_SUCCESS) {
            rv = APR_EGENERAL;
        }
    }
    if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
        fprintf(stderr, "pkgindex-import: search index not brought up to date: %s (%s)\n",
                pki_import_fault_advice(db->fault), db->error ? db->error : "failed");
    } else if (rebuilt && !c->quiet) {
        fprintf(stderr, "search index built (%.1f s)\n",
                (double)(apr_time_now() - started) / APR_USEC_PER_SEC);
    }
    return rv == APR_SUCCESS || rv == APR_ENOTIMPL;
}

static int do_reindex(apr_pool_t *pool, pki_db *db, cli *c, int fresh)
{
    int ok = rebuild_index(pool, db, c);

    return close_db(pool, db, fresh) && ok ? 0 : 1;
}

/* The ids of the objects file NAME holds into OUT; 0 when it cannot be read twice (standard
 * input, a pipe, a FIFO: reading it here would leave nothing for the import). */
static int collect_ids(apr_pool_t *pool, const char *name, pki_import_ids *out)
{
    apr_finfo_t fi;
    apr_file_t *f;
    int ok;

    if (name == stdin_arg || apr_stat(&fi, name, APR_FINFO_TYPE, pool) != APR_SUCCESS ||
        fi.filetype != APR_REG ||
        apr_file_open(&f, name, APR_FOPEN_READ | APR_FOPEN_BUFFERED, 0, pool) != APR_SUCCESS) {
        return 0;
    }
    ok = pki_import_collect_ids(pool, f, out) == APR_SUCCESS;
    apr_file_close(f);
    return ok;
}

/* --prune after a complete import: what the source no longer holds goes. Not after a file was
 * refused or records skipped: their objects would go too. */
static int do_prune(apr_pool_t *pool, pki_db *db, pki_import_options *io, int incomplete, int quiet)
{
    pki_import_counts n;

    if (incomplete) {
        fprintf(stderr, "pkgindex-import: --prune: nothing deleted, as not every record was "
                        "imported\n");
        return 0;
    }
    if (pki_import_prune(db, pool, io, &n) != APR_SUCCESS) {
        fprintf(stderr, "pkgindex-import: --prune: refused, nothing deleted\n");
        return 0;
    }
    if (quiet) {
        return 1;
    }
    fprintf(stderr, "pruned %s, %s, %s\n", count_of(pool, n.packages, "package", "packages"),
            count_of(pool, n.grids, "grid", "grids"),
            count_of(pool, n.categories, "category", "categories"));
    return 1;
}

int main(int argc, const char *const *argv)
{
    static const apr_getopt_option_t options[] = {
        {"db", 'd', 1, "database"},
        {"init", 'i', 0, "create the schema"},
        {"type", 't', 1, "record type"},
        {"create-missing", 'c', 0, "placeholders"},
        {"skip-invalid", 's', 0, "skip invalid records"},
        {"quiet", 'q', 0, "no summary"},
        {"reindex", 'r', 0, "rebuild the search index"},
        {"wait", 'w', 1, "seconds to wait for another writer"},
        {"prune", 'p', 0, "delete what the input does not hold"},
        {"help", 'h', 0, "help"},
        {"version", 'V', 0, "version"},
        {NULL, 0, 0, NULL},
    };
    apr_pool_t *pool;
    apr_getopt_t *opt;
    const char *arg, *spec = NULL;
    pki_import_options io;
    pki_import_ids *ids;
    pki_db db;
    cli c;
    int ch, init = 0, reindex = 0, prune = 0, fresh = 0, failed = 0, imported_any = 0, i;
    apr_status_t rv;

    /* One connection, used by one thread (the writer), as in the module's children. */
    pki_store_process_init();
    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);

    memset(&io, 0, sizeof(io));
    memset(&c, 0, sizeof(c));
    io.type = PKI_RES_ROOT;
    io.say = say;
    io.progress = progress;
    io.ctx = &c;
    c.tty = isatty(2);
    c.wait = IMPORT_LOCK_WAIT_SEC;

    {
        const char **args = apr_pmemdup(pool, argv, sizeof(*argv) * (argc + 1));
        for (i = 1; i < argc; i++) {
            if (strcmp(args[i], "-") == 0) {
                args[i] = stdin_arg;
            }
        }
        argv = args;
    }
    apr_getopt_init(&opt, pool, argc, argv);
    opt->errfn = NULL;
    while ((rv = apr_getopt_long(opt, options, &ch, &arg)) == APR_SUCCESS) {
        switch (ch) {
        case 'd':
            spec = arg;
            break;
        case 'i':
            init = 1;
            break;
        case 't':
            if (strcmp(arg, "package") == 0) {
                io.type = PKI_RES_PACKAGES;
            } else if (strcmp(arg, "grid") == 0) {
                io.type = PKI_RES_GRIDS;
            } else if (strcmp(arg, "category") == 0) {
                io.type = PKI_RES_CATEGORIES;
            } else {
                return usage("--type: package, grid or category");
            }
            break;
        case 'c':
            io.create_missing = 1;
            break;
        case 's':
            io.skip_invalid = 1;
            break;
        case 'q':
            c.quiet = 1;
            break;
        case 'r':
            reindex = 1;
            break;
        case 'p':
            prune = 1;
            break;
        case 'w': {
            char *end;
            apr_int64_t n = apr_strtoi64(arg, &end, 10);
            if (!*arg || *end || n < 0 || n > IMPORT_LOCK_WAIT_MAX_SEC) {
                return usage(apr_psprintf(pool, "--wait: seconds from 0 to %d, got '%s'",
                                          IMPORT_LOCK_WAIT_MAX_SEC, arg));
            }
            c.wait = (int)n;
            break;
        }
        case 'h':
            help(stdout);
            return 0;
        case 'V':
            printf("pkgindex-import %s\n", PKI_VERSION);
            return 0;
        default:
            return usage(NULL);
        }
    }
    if (rv != APR_EOF) {
        return usage(apr_psprintf(pool, "unknown option, or one missing its value: %s",
                                  opt->ind < argc ? argv[opt->ind] : argv[argc - 1]));
    }
    if (!spec) {
        return usage("--db is required");
    }
    if (!pki_store_spec_valid(spec)) {
        return usage(apr_psprintf(pool, "--db: expected sqlite3:PATH, got '%s'", spec));
    }
    if (reindex && opt->ind < argc) {
        return usage("--reindex takes no input files");
    }
    if (prune && (reindex || opt->ind >= argc)) {
        return usage("--prune needs the input files of a complete mirror");
    }
    if (opt->ind >= argc && !init && !reindex) {
        return usage("no input files");
    }
    if (!open_db(pool, spec, init, &c, &db, &fresh, &io.bulk)) {
        return 1;
    }
    if (reindex) {
        return do_reindex(pool, &db, &c, fresh);
    }
    if (opt->ind >= argc) { /* --init alone */
        int ok = sync_index(pool, &db, &c);
        return close_db(pool, &db, fresh) && ok ? 0 : 1;
    }

    if (prune) {
        io.seen = apr_pcalloc(pool, sizeof(*io.seen));
        for (i = 0; i < PKI_RES_COUNT_; i++) {
            io.seen->ids[i] = apr_array_make(pool, 1024, sizeof(apr_int64_t));
        }
    }

    /* Every file is there before any is imported: a typo in the last name does not leave the
     * first files imported and the rest not. */
    for (i = opt->ind; i < argc; i++) {
        apr_finfo_t fi;
        char buf[120];
        if (argv[i] != stdin_arg &&
            (rv = apr_stat(&fi, argv[i], APR_FINFO_TYPE, pool)) != APR_SUCCESS) {
            fprintf(stderr, "pkgindex-import: %s: %s (nothing imported)\n", argv[i],
                    apr_strerror(rv, buf, sizeof(buf)));
            close_db(pool, &db, fresh);
            return 1;
        }
    }
    /* Links may point at objects a later file brings: learn those files' ids first (and the
     * first file's own when links are checked record by record, see pki_import_options). */
    ids = apr_pcalloc(pool, sizeof(*ids) * (argc - opt->ind));
    for (i = opt->ind; i < argc; i++) {
        int k, first = i == opt->ind;
        for (k = 0; k < PKI_RES_COUNT_; k++) {
            ids[i - opt->ind].ids[k] = apr_array_make(pool, 1, sizeof(apr_int64_t));
        }
        if ((!first || io.skip_invalid || prune) &&
            collect_ids(pool, argv[i], &ids[i - opt->ind])) {
            ids[i - opt->ind].complete = 1;
        }
        io.read_ahead = (first || io.read_ahead) && ids[i - opt->ind].complete;
    }

    for (i = opt->ind; i < argc; i++) {
        apr_pool_t *fpool;
        apr_file_t *f;
        pki_import_counts n;
        const char *name = argv[i];

        apr_pool_create(&fpool, pool);
        if (name == stdin_arg) {
            rv = apr_file_open_stdin(&f, fpool);
        } else {
            rv = apr_file_open(&f, name, APR_FOPEN_READ | APR_FOPEN_BUFFERED, 0, fpool);
        }
        if (rv != APR_SUCCESS) {
            char buf[120];
            fprintf(stderr, "pkgindex-import: %s: %s\n", name, apr_strerror(rv, buf, sizeof(buf)));
            failed = 1;
            apr_pool_destroy(fpool);
            continue;
        }
        c.file = name;
        c.started = apr_time_now();
        io.here = &ids[i - opt->ind];
        io.later = io.here + 1;
        io.nlater = argc - i - 1;
        rv = pki_import_file(&db, fpool, f, name, &io, &n);
        if (c.tty && !c.quiet) {
            fprintf(stderr, "\r\033[K");
        }
        if (rv != APR_SUCCESS) {
            failed = 1;
        }
        imported_any |= n.committed;
        if (!c.quiet || rv != APR_SUCCESS) {
            double secs = (double)(apr_time_now() - c.started) / APR_USEC_PER_SEC;
            if (n.committed) {
                fprintf(stderr, "%s: imported %s, %s, %s", name,
                        count_of(fpool, n.packages, "package", "packages"),
                        count_of(fpool, n.grids, "grid", "grids"),
                        count_of(fpool, n.categories, "category", "categories"));
                if (n.placeholders) {
                    fprintf(stderr, ", %s",
                            count_of(fpool, n.placeholders, "placeholder", "placeholders"));
                }
                if (n.skipped) {
                    fprintf(stderr, "; %s skipped",
                            count_of(fpool, n.skipped, "invalid record", "invalid records"));
                }
            } else {
                fprintf(stderr, "%s: refused, nothing imported", name);
                if (n.skipped) {
                    fprintf(stderr, " (%s)",
                            count_of(fpool, n.skipped, "invalid record", "invalid records"));
                }
            }
            fprintf(stderr, " (%.1f s)\n", secs);
        }
        apr_pool_destroy(fpool);
    }
    if (prune) {
        failed |= !do_prune(pool, &db, &io, failed, c.quiet);
    }
    /* a new database: its search index, once, after the last file (a rebuild per file would
     * make a load of many files quadratic); nothing to index when every file was refused */
    if (io.bulk && imported_any && !rebuild_index(pool, &db, &c)) {
        failed = 1;
    }
    if (!close_db(pool, &db, fresh)) {
        failed = 1;
    }
    return failed ? 1 : 0;
}
