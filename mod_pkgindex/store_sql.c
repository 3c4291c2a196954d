/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

#include "store_sql.h"

/* A page is a contiguous run of ids, so its memberships are one range query (no N+1). */
const pki_sql_stmt pki_sql_common[PKI_SQL_COUNT_] = {
    [PKI_SQL_PACKAGE_BY_ID] = {"pkgindex_package_by_id", PACKAGE_COLUMNS "WHERE p.id = %lld"},
    [PKI_SQL_PACKAGE_BY_SLUG] = {"pkgindex_package_by_slug", PACKAGE_COLUMNS "WHERE p.slug = %s"},
    [PKI_SQL_PACKAGE_GRIDS] = {"pkgindex_package_grids",
                               "SELECT package_id, grid_id FROM grid_gridpackage"
                               " WHERE package_id = %lld ORDER BY id"},
    [PKI_SQL_PACKAGE_COUNT] = {"pkgindex_package_count",
                               "SELECT n FROM pkgindex_count WHERE name = 'package_package'"},
    [PKI_SQL_PACKAGE_PAGE] = {"pkgindex_package_page",
                              PACKAGE_COLUMNS "ORDER BY p.id DESC LIMIT %lld OFFSET %lld"},
    /* A page far down the list: its first id from the nearest checkpoint (at most 255 steps),
     * or, when the checkpoints are stale, from plain OFFSET. Same rows as PACKAGE_PAGE. */
    [PKI_SQL_PACKAGE_PAGE_DEEP] =
        {"pkgindex_package_page_deep", PACKAGE_COLUMNS
         "WHERE p.id <= COALESCE((SELECT (SELECT id FROM package_package WHERE id >= c.id"
         " ORDER BY id LIMIT 1 OFFSET %lld) FROM pkgindex_checkpoint c JOIN pkgindex_count k"
         " ON k.name = c.name WHERE c.name = 'package_package' AND c.seq = %lld"
         " AND k.checkpoint_version = k.version), (SELECT id FROM package_package"
         " ORDER BY id DESC LIMIT 1 OFFSET %lld)) ORDER BY p.id DESC LIMIT %lld"},
    [PKI_SQL_PACKAGE_PAGE_GRIDS] = {"pkgindex_package_page_grids",
                                    "SELECT package_id, grid_id FROM grid_gridpackage"
                                    " WHERE package_id BETWEEN %lld AND %lld"
                                    " ORDER BY package_id, id"},
    [PKI_SQL_GRID_BY_ID] = {"pkgindex_grid_by_id", GRID_COLUMNS "WHERE id = %lld"},
    [PKI_SQL_GRID_BY_SLUG] = {"pkgindex_grid_by_slug", GRID_COLUMNS "WHERE slug = %s"},
    [PKI_SQL_GRID_COUNT] = {"pkgindex_grid_count",
                            "SELECT n FROM pkgindex_count WHERE name = 'grid_grid'"},
    [PKI_SQL_GRID_PAGE] = {"pkgindex_grid_page",
                           GRID_COLUMNS "ORDER BY id DESC LIMIT %lld OFFSET %lld"},
    [PKI_SQL_CATEGORY_BY_ID] = {"pkgindex_category_by_id", CATEGORY_COLUMNS "WHERE id = %lld"},
    [PKI_SQL_CATEGORY_COUNT] = {"pkgindex_category_count",
                                "SELECT n FROM pkgindex_count WHERE name = 'package_category'"},
    [PKI_SQL_CATEGORY_PAGE] = {"pkgindex_category_page",
                               CATEGORY_COLUMNS "ORDER BY id DESC LIMIT %lld OFFSET %lld"},

    [PKI_SQL_PACKAGE_GRIDS_CLEAR] = {"pkgindex_package_grids_clear",
                                     "DELETE FROM grid_gridpackage WHERE package_id = %lld"},
    [PKI_SQL_MEMBER_ADD] = {"pkgindex_member_add",
                            "INSERT INTO grid_gridpackage (created, modified, grid_id, package_id)"
                            " VALUES (%s, %s, %lld, %lld)"},
    [PKI_SQL_MEMBER_REMOVE] = {"pkgindex_member_remove",
                               "DELETE FROM grid_gridpackage WHERE grid_id = %lld"
                               " AND package_id = %lld"},
    [PKI_SQL_GRID_MEMBERS] = {"pkgindex_grid_members",
                              "SELECT grid_id, package_id FROM grid_gridpackage"
                              " WHERE grid_id = %lld ORDER BY id"},
    [PKI_SQL_PACKAGE_SLUG_OWNER] = {"pkgindex_package_slug_owner",
                                    "SELECT id FROM package_package WHERE slug = %s"},
    [PKI_SQL_GRID_SLUG_OWNER] = {"pkgindex_grid_slug_owner",
                                 "SELECT id FROM grid_grid WHERE slug = %s"},
    [PKI_SQL_PACKAGE_EXISTS] = {"pkgindex_package_exists",
                                "SELECT id FROM package_package WHERE id = %lld"},
    [PKI_SQL_GRID_EXISTS] = {"pkgindex_grid_exists", "SELECT id FROM grid_grid WHERE id = %lld"},
    [PKI_SQL_CATEGORY_EXISTS] = {"pkgindex_category_exists",
                                 "SELECT id FROM package_category WHERE id = %lld"},
    [PKI_SQL_FIRST_CATEGORY] = {"pkgindex_first_category", "SELECT MIN(id) FROM package_category"},
    [PKI_SQL_DANGLING_CATEGORIES] = {"pkgindex_dangling_categories",
                                     "SELECT p.category_id, MIN(p.id) FROM package_package p"
                                     " LEFT JOIN package_category c ON c.id = p.category_id"
                                     " WHERE c.id IS NULL GROUP BY p.category_id"
                                     " ORDER BY p.category_id"},
    [PKI_SQL_DANGLING_GRIDS] = {"pkgindex_dangling_grids",
                                "SELECT gp.grid_id, MIN(gp.package_id) FROM grid_gridpackage gp"
                                " LEFT JOIN grid_grid g ON g.id = gp.grid_id WHERE g.id IS NULL"
                                " GROUP BY gp.grid_id ORDER BY gp.grid_id"},
    [PKI_SQL_GENERATION] = {"pkgindex_generation",
                            "SELECT generation FROM pkgindex_state WHERE id = 1"},
    /* deletes: an object and what belongs to it (the triggers keep counts, the data generation
     * and the search marks) */
    [PKI_SQL_PACKAGE_IDS] = {"pkgindex_package_ids", "SELECT id FROM package_package ORDER BY id"},
    [PKI_SQL_GRID_IDS] = {"pkgindex_grid_ids", "SELECT id FROM grid_grid ORDER BY id"},
    [PKI_SQL_CATEGORY_IDS] = {"pkgindex_category_ids",
                              "SELECT id FROM package_category ORDER BY id"},
    [PKI_SQL_PACKAGE_MEMBERS_DELETE] = {"pkgindex_package_members_delete",
                                        "DELETE FROM grid_gridpackage WHERE package_id = %lld"},
    [PKI_SQL_PACKAGE_VERSION_UNLINK] = {"pkgindex_package_version_unlink",
                                        "UPDATE package_package SET latest_version_id = NULL"
                                        " WHERE id = %lld"},
    [PKI_SQL_PACKAGE_VERSIONS_DELETE] = {"pkgindex_package_versions_delete",
                                         "DELETE FROM package_version WHERE package_id = %lld"},
    [PKI_SQL_PACKAGE_DELETE] = {"pkgindex_package_delete",
                                "DELETE FROM package_package WHERE id = %lld"},
    [PKI_SQL_GRID_MEMBERS_DELETE] = {"pkgindex_grid_members_delete",
                                     "DELETE FROM grid_gridpackage WHERE grid_id = %lld"},
    [PKI_SQL_GRID_DELETE] = {"pkgindex_grid_delete", "DELETE FROM grid_grid WHERE id = %lld"},
    [PKI_SQL_CATEGORY_USERS] = {"pkgindex_category_users",
                                "SELECT COUNT(*) FROM package_package WHERE category_id = %lld"},
    [PKI_SQL_CATEGORY_DELETE] = {"pkgindex_category_delete",
                                 "DELETE FROM package_category WHERE id = %lld"},
    [PKI_SQL_CATEGORY_PACKAGE_IDS] = {"pkgindex_category_package_ids",
                                      "SELECT category_id, id FROM package_package"
                                      " WHERE category_id = %lld ORDER BY id"},
};
