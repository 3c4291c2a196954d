/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* The statements every backend runs as they are (portable SQL on the original's tables), and
 * the column lists the backends' own statements share. Backends' tables (store_sqlite.c,
 * store_pgsql.c) hold only the statements of their dialect; pki_sql_statement() finds either. */

#ifndef PKI_STORE_SQL_H
#define PKI_STORE_SQL_H

#include "store_backend.h"

#define PACKAGE_COLUMNS                                                                            \
    "SELECT p.id, p.category_id, p.title, p.slug, p.last_commit_date, p.last_fetched,"             \
    " p.repo_url, v.number, p.created, p.modified, p.repo_forks, p.repo_description,"              \
    " p.pypi_url, p.documentation_url, p.repo_watchers, p.commits_over_52w, p.participants"        \
    " FROM package_package p LEFT JOIN package_version v ON v.id = p.latest_version_id "
#define GRID_COLUMNS                                                                               \
    "SELECT id, title, slug, description, is_locked, header, created, modified FROM grid_grid "
#define CATEGORY_COLUMNS                                                                           \
    "SELECT id, title, slug, description, title_plural, show_pypi, created, modified"              \
    " FROM package_category "
/* A grid's packages, ordered by title in code-point order by each backend. */
#define GRID_MEMBERS                                                                               \
    "SELECT gp.grid_id, gp.package_id FROM grid_gridpackage gp"                                    \
    " JOIN package_package p ON p.id = gp.package_id "

/* What an upsert of a package changes on an existing row (both dialects say it so; each
 * adds when: only when something differs, so an unchanged row fires no trigger). */
#define PKI_SQL_PACKAGE_UPDATE                                                                     \
    " ON CONFLICT (id) DO UPDATE SET created = excluded.created,"                                  \
    " modified = excluded.modified, title = excluded.title,"                                       \
    " slug = excluded.slug, category_id = excluded.category_id,"                                   \
    " repo_description = excluded.repo_description,"                                               \
    " repo_url = excluded.repo_url, repo_watchers = excluded.repo_watchers,"                       \
    " repo_forks = excluded.repo_forks, pypi_url = excluded.pypi_url,"                             \
    " participants = excluded.participants, last_fetched = excluded.last_fetched,"                 \
    " documentation_url = excluded.documentation_url,"                                             \
    " commits_over_52w = excluded.commits_over_52w,"                                               \
    " last_commit_date = excluded.last_commit_date,"                                               \
    " latest_version_id = excluded.latest_version_id"

/* After a bulk load: the counts recounted, the checkpoints marked stale (each backend then
 * makes a new data generation its way). */
#define PKI_SQL_RECOUNT                                                                            \
    "UPDATE pkgindex_count SET n = (SELECT count(*) FROM package_package),"                        \
    " version = version + 1 WHERE name = 'package_package';\n"                                     \
    "UPDATE pkgindex_count SET n = (SELECT count(*) FROM grid_grid),"                              \
    " version = version + 1 WHERE name = 'grid_grid';\n"                                           \
    "UPDATE pkgindex_count SET n = (SELECT count(*) FROM package_category),"                       \
    " version = version + 1 WHERE name = 'package_category';\n"

/* The deep-page checkpoints rebuilt when stale, and the counts made exact again whatever other
 * writers did. */
#define PKI_SQL_CHECKPOINTS                                                                        \
    "DELETE FROM pkgindex_checkpoint WHERE name = 'package_package'"                               \
    " AND (SELECT checkpoint_version <> version FROM pkgindex_count"                               \
    " WHERE name = 'package_package');\n"                                                          \
    "INSERT INTO pkgindex_checkpoint (name, seq, id) SELECT 'package_package', rn / 256, id"       \
    " FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS rn FROM package_package) AS t"       \
    " WHERE rn % 256 = 0 AND (SELECT checkpoint_version <> version FROM pkgindex_count"            \
    " WHERE name = 'package_package');\n"                                                          \
    "UPDATE pkgindex_count SET checkpoint_version = version"                                       \
    " WHERE name = 'package_package';\n"                                                           \
    "UPDATE pkgindex_count SET n = (SELECT count(*) FROM package_package)"                         \
    " WHERE name = 'package_package' AND n <> (SELECT count(*) FROM package_package);\n"           \
    "UPDATE pkgindex_count SET n = (SELECT count(*) FROM grid_grid)"                               \
    " WHERE name = 'grid_grid' AND n <> (SELECT count(*) FROM grid_grid);\n"                       \
    "UPDATE pkgindex_count SET n = (SELECT count(*) FROM package_category)"                        \
    " WHERE name = 'package_category' AND n <> (SELECT count(*) FROM "                             \
    "package_category);\n"

extern const pki_sql_stmt pki_sql_common[PKI_SQL_COUNT_];

/* Statement ID of backend B: its own, or the common one. */
static inline const pki_sql_stmt *pki_sql_statement(const pki_store_backend *b, pki_sql_id id)
{
    return b->sql[id].sql ? &b->sql[id] : &pki_sql_common[id];
}

#endif
