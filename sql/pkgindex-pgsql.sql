-- mod_pkgindex's own objects on PostgreSQL, added to a database in the original Django
-- Packages shape (sql/original-pgsql.sql; sql/schema-pgsql.sql makes a fresh one).
--
-- Everything here is named pkgindex_*. It never alters the original's tables: it only adds
-- tables, functions and triggers, so the Django application can keep using the database.
-- Idempotent: running it again changes nothing (IF NOT EXISTS, OR REPLACE, ON CONFLICT DO
-- NOTHING); `pkgindex-import --db pgsql:... --init` runs this file alone.
--
-- The same bookkeeping as sql/schema-sqlite.sql keeps for SQLite:
--   pkgindex_count       row counts, so a list page never runs COUNT(*) over a table;
--   pkgindex_checkpoint  every 256th package id, so a deep page starts without a long OFFSET;
--   pkgindex_state       the data generation the response cache compares against.

BEGIN;

-- Two inits at once would race on CREATE TABLE IF NOT EXISTS (a unique violation in the
-- catalog); the second waits for the first and then finds everything in place.
SELECT pg_advisory_xact_lock(hashtext('pkgindex-init'));

-- Writers wait until the triggers below exist, so the counts taken at the end cannot miss
-- a row written in between. (SHARE ROW EXCLUSIVE is what CREATE TRIGGER takes anyway;
-- taking it on all five tables at once, in one order, avoids a deadlock with a writer.)
LOCK TABLE package_category, package_package, package_version, grid_grid, grid_gridpackage
    IN SHARE ROW EXCLUSIVE MODE;

-- Row counts of the listed tables. VERSION moves whenever ids appear, vanish or change, so
-- the checkpoints know when they are stale.
CREATE TABLE IF NOT EXISTS pkgindex_count (
    name                text PRIMARY KEY,
    n                   bigint NOT NULL,
    version             bigint NOT NULL DEFAULT 0,
    checkpoint_version  bigint NOT NULL DEFAULT -1
);

-- Deep pages: every 256th package id in ascending order, valid while
-- pkgindex_count.checkpoint_version = version (the importer rebuilds it; a stale one only
-- means the plain OFFSET plan).
CREATE TABLE IF NOT EXISTS pkgindex_checkpoint (
    name  text NOT NULL,
    seq   bigint NOT NULL,
    id    bigint NOT NULL,
    PRIMARY KEY (name, seq)
);

-- The data generation: a new random 64-bit value whenever the API's data changes, by any
-- writer, so that rendered responses cached in httpd's processes are used only while
-- nothing changed. Random, not a counter: a restored backup or another copy of the database
-- never comes back to a value that named other content.
CREATE TABLE IF NOT EXISTS pkgindex_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    generation  bigint NOT NULL
);

-- random() is a double with 52 random bits: two 32-bit draws make the 64 bits (the shift
-- wraps into the sign bit, which is what a bigint should carry here).
CREATE OR REPLACE FUNCTION pkgindex_random64() RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL RESTRICTED AS $$
    SELECT (floor(random() * 4294967296)::bigint << 32) | floor(random() * 4294967296)::bigint
$$;

-- One statement-level trigger per table and event, not row-level ones: a bulk statement
-- (INSERT ... SELECT, COPY, a Django bulk_create of a million rows) then costs one call and
-- one UPDATE of a pkgindex_* row, where row-level triggers would queue a million events and
-- rewrite the same counter row a million times (a million dead tuples in one transaction).
-- The transition tables give the number of rows the statement touched, so:
--   - counts move by that number (TRUNCATE: to 0);
--   - a statement that changed no row (an upsert whose row was already up to date, an
--     UPDATE/DELETE matching nothing) moves nothing: the cache stays valid across a
--     re-import of unchanged data;
--   - TRUNCATE has no transition table: it always moves the generation, even on an empty
--     table.
-- SET search_path FROM CURRENT: a writer with another search_path still finds our tables.
CREATE OR REPLACE FUNCTION pkgindex_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    k bigint := 0;
    renumbered boolean := false;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE pkgindex_count SET n = 0, version = version + 1 WHERE name = TG_TABLE_NAME;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO k FROM pkgindex_new;
        IF k = 0 THEN
            RETURN NULL;
        END IF;
        UPDATE pkgindex_count SET n = n + k, version = version + 1 WHERE name = TG_TABLE_NAME;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO k FROM pkgindex_old;
        IF k = 0 THEN
            RETURN NULL;
        END IF;
        UPDATE pkgindex_count SET n = n - k, version = version + 1 WHERE name = TG_TABLE_NAME;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM pkgindex_new) THEN
            RETURN NULL;
        END IF;
        -- An id that changes moves the checkpoints as much as an insert does.
        IF TG_ARGV[0] = 'ids' THEN
            SELECT EXISTS (SELECT id FROM pkgindex_new EXCEPT SELECT id FROM pkgindex_old)
                INTO renumbered;
            IF renumbered THEN
                UPDATE pkgindex_count SET version = version + 1 WHERE name = TG_TABLE_NAME;
            END IF;
        END IF;
    END IF;
    UPDATE pkgindex_state SET generation = pkgindex_random64() WHERE id = 1;
    RETURN NULL;
END
$$;

-- CREATE OR REPLACE TRIGGER (PostgreSQL 14+): a second run replaces each trigger by the same
-- definition, in place. (Transition tables cannot be combined with several events in one
-- trigger, hence one trigger per event.)
CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON package_package
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON package_package
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed('ids');
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON package_package
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON package_package
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON package_version
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON package_version
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON package_version
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON package_version
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON grid_grid
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON grid_grid
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON grid_grid
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON grid_grid
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON grid_gridpackage
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON grid_gridpackage
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON grid_gridpackage
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON grid_gridpackage
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON package_category
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON package_category
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON package_category
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON package_category
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

-- Counted only where a list shows a count (packages, grids, categories); UPDATEs of
-- package_version and grid_gridpackage find no row here and change only the generation.
-- Taken after the triggers exist and under the locks above: exact. A second run keeps them.
INSERT INTO pkgindex_count (name, n) SELECT 'package_package', count(*) FROM package_package
    ON CONFLICT (name) DO NOTHING;
INSERT INTO pkgindex_count (name, n) SELECT 'grid_grid', count(*) FROM grid_grid
    ON CONFLICT (name) DO NOTHING;
INSERT INTO pkgindex_count (name, n) SELECT 'package_category', count(*) FROM package_category
    ON CONFLICT (name) DO NOTHING;
INSERT INTO pkgindex_state (id, generation) VALUES (1, pkgindex_random64())
    ON CONFLICT (id) DO NOTHING;

COMMIT;
