-- mod_pkgindex schema for PostgreSQL: a fresh database in exactly the original Django
-- Packages shape, plus the module's own objects. Create one with
--     psql -v ON_ERROR_STOP=1 -d DBNAME -f sql/schema-pgsql.sql
-- (psql: both parts are included with \ir, relative to this file).
--
-- Part 1 is the original's DDL, sql/original-pgsql.sql, unchanged: a database made here is the
-- same as one Django's migrations made, so whatever works on one works on the other. Part 2,
-- the module's bookkeeping, is a file of its own because `pkgindex-import --init` runs it
-- alone on an existing original database.

-- ===== Part 1: the original's DDL =====
\ir original-pgsql.sql

-- ===== Part 2: mod_pkgindex's own objects (pkgindex_*) =====
\ir pkgindex-pgsql.sql
