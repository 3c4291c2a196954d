/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The SQLite backend's setup outside reading: the process's library settings, and the
 * importer's connection - one run at a time, the schema, and the fast load of a new
 * database. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "store_sqlite.h"

/* sql/schema-sqlite.sql, compiled in (build/schema_sqlite.c) */
extern const char pki_schema_sqlite[];

#define SQLITE_PREFIX "sqlite3:"

apr_status_t pki_sqlite_process_init(void)
{
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK &&
                   sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK
               ? APR_SUCCESS
               : APR_EGENERAL;
}

int pki_sqlite_spec_valid(const char *spec)
{
    return strncmp(spec, SQLITE_PREFIX, strlen(SQLITE_PREFIX)) == 0 &&
           spec[strlen(SQLITE_PREFIX)] != '\0';
}

/* One importer run at a time on the database at PATH (made empty when CREATE and missing),
 * waiting up to LIMIT; held until POOL goes. *FRESH: the file is empty, a database nobody
 * has used yet. */
typedef struct run_lock_t {
    int fd;
} run_lock_t;

static apr_status_t run_lock_release(void *data)
{
    run_lock_t *l = data;

    close(l->fd); /* which releases the flock */
    return APR_SUCCESS;
}

/* How often a writer waiting for another importer's run looks again. */
#define RUN_LOCK_POLL apr_time_from_msec(100)

static apr_status_t run_lock(apr_pool_t *pool, const char *path, int create,
                             apr_interval_time_t limit, void (*waiting)(void *ctx), void *ctx,
                             int *fresh, const char **error)
{
    apr_time_t until = apr_time_now() + limit;
    struct stat st;
    run_lock_t *l;
    int fd, told = 0;

    /* flock, not SQLite's fcntl locks, which it takes and drops by itself: the two do not
     * meet on Linux, so readers (httpd) never notice this lock */
    fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0 && errno == EACCES) {
        fd = open(path, O_RDONLY | O_CLOEXEC); /* the writable check says more */
        if (fd < 0 && errno == ENOENT) {
            *error = apr_psprintf(pool, "%s: cannot create it: directory not writable", path);
            return APR_EACCES;
        }
    }
    if (fd < 0) {
        *error = apr_psprintf(pool, "%s: %s", path, strerror(errno));
        return APR_FROM_OS_ERROR(errno);
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            *error = apr_psprintf(pool, "%s: lock: %s", path, strerror(errno));
            close(fd);
            return APR_FROM_OS_ERROR(errno);
        }
        if (apr_time_now() >= until) {
            *error = apr_psprintf(pool, "%s: another pkgindex-import is still running", path);
            close(fd);
            return APR_EBUSY;
        }
        if (!told && waiting) {
            told = 1;
            waiting(ctx);
        }
        apr_sleep(RUN_LOCK_POLL);
    }
    *fresh = fstat(fd, &st) == 0 && st.st_size == 0;
    l = apr_palloc(pool, sizeof(*l));
    l->fd = fd;
    apr_pool_cleanup_register(pool, l, run_lock_release, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t pki_sqlite_open_writer(apr_pool_t *pool, const char *spec,
                                    const pki_store_open_opts *o, pki_db *db, int *fresh, int *bulk,
                                    const char **error)
{
    const char *err = NULL, *path = spec + strlen(SQLITE_PREFIX);
    sqlite3 *conn = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    char buf[120];

    *fresh = *bulk = 0;
    if (!pki_sqlite_spec_valid(spec)) {
        *error = apr_psprintf(pool, "expected sqlite3:PATH, got '%s'", spec);
        return APR_EINVAL;
    }
    if (!o->init && (rv = apr_stat(&fi, path, APR_FINFO_TYPE, pool)) != APR_SUCCESS) {
        *error = APR_STATUS_IS_ENOENT(rv)
                     ? apr_psprintf(pool, "%s does not exist (--init creates it)", path)
                     : apr_psprintf(pool, "%s: %s", path, apr_strerror(rv, buf, sizeof(buf)));
        return rv;
    }
    /* Importers take turns for the whole run: a new database is loaded in a way only safe
     * while nobody else writes it (see below), and its schema is made once. */
    if ((rv = run_lock(pool, path, o->init, o->wait, o->waiting, o->ctx, fresh, &err)) !=
        APR_SUCCESS) {
        *error = APR_STATUS_IS_EBUSY(rv)
                     ? apr_pstrcat(pool, err,
                                   ": nothing imported; run again when it has finished, or "
                                   "wait longer (--wait)",
                                   NULL)
                     : err;
        return rv;
    }
    *fresh = *fresh && o->init;
    db->pool = pool;
    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        *error = apr_psprintf(pool, "cannot open %s: %s", path,
                              conn ? sqlite3_errmsg(conn) : "out of memory");
        sqlite3_close(conn);
        return APR_EGENERAL;
    }
    pki_sqlite_attach(db, conn, pool, 1);
    /* The server's readers hold locks briefly: wait for them rather than fail (a daily
     * --reindex from cron meets a busy server). */
    if (pki_store_lock_wait(db, o->wait, o->waiting, o->ctx) != APR_SUCCESS ||
        pki_store_writable(db, pool) != APR_SUCCESS) {
        *error = db->error ? db->error : path;
        goto failed;
    }
    /* A bulk load: a large page cache, and WAL's NORMAL durability (the commit is atomic). */
    if (pki_store_exec_script(db, pool,
                              "PRAGMA cache_size = -262144;\n"
                              "PRAGMA synchronous = NORMAL;\n"
                              "PRAGMA temp_store = MEMORY;\n") != APR_SUCCESS ||
        (o->init && pki_store_exec_script(db, pool, pki_schema_sqlite) != APR_SUCCESS) ||
        /* A database this run creates has no reader yet: a rollback journal, which writes
         * each page once (WAL writes it twice), until the end, when WAL is switched on for
         * the server's readers. A rollback still undoes a refused file. */
        (*fresh &&
         pki_store_exec_script(db, pool, "PRAGMA journal_mode = DELETE;\n") != APR_SUCCESS)) {
        *error = apr_psprintf(pool, "%s: %s", path, db->error);
        goto failed;
    }
    /* A database made by this run has no other user yet: its bookkeeping triggers (counts, data
     * generation, search marks: several per row) are off, and redone once per file instead
     * (before preparing: the switch expires prepared statements). */
    *bulk = *fresh && sqlite3_db_config(conn, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) == SQLITE_OK;
    if (pki_store_exec_script(db, pool, "SELECT id FROM pkgindex_state LIMIT 0;\n") !=
        APR_SUCCESS) {
        *error =
            apr_psprintf(pool, "%s: not a mod_pkgindex database (%s); --init creates the schema",
                         path, db->error);
        goto failed;
    }
    return APR_SUCCESS;

failed:
    pki_store_detach(db);
    return APR_EGENERAL;
}

apr_status_t pki_sqlite_close_writer(pki_db *db, apr_pool_t *pool, int fresh, const char **error)
{
    apr_status_t rv = APR_SUCCESS;

    /* back to WAL, for the server's readers (see pki_store_open_writer) */
    if (fresh && pki_store_exec_script(db, pool, "PRAGMA journal_mode = WAL;\n") != APR_SUCCESS) {
        *error = apr_psprintf(pool, "journal_mode WAL: %s", db->error);
        rv = APR_EGENERAL;
    }
    pki_store_detach(db);
    return rv;
}
