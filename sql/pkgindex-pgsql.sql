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

-- What this transaction's writes still owe the rows above, applied once, by
-- pkgindex_apply(): at COMMIT (a deferred constraint trigger on this table), or earlier
-- when a caller asks (the importer, before it rebuilds the checkpoints). The first write of a
-- transaction inserts one row here, which queues that trigger; pkgindex_apply() deletes it.
-- A row never outlives its transaction: UNLOGGED, as there is nothing to recover or
-- replicate.
CREATE UNLOGGED TABLE IF NOT EXISTS pkgindex_pending (
    xact  xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX IF NOT EXISTS pkgindex_pending_xact ON pkgindex_pending (xact);

-- Bookkeeping in two steps, so that a transaction of any number of statements updates each
-- pkgindex_count row and the pkgindex_state row at most once:
--   1. each statement's trigger (pkgindex_changed, below) adds what it did to
--      transaction-local settings (set_config(..., true)), which cost no row version:
--        pkgindex.n_TABLE      rows added (negative: removed) since the last TRUNCATE;
--        pkgindex.reset_TABLE  'on' after a TRUNCATE: the count starts again from 0;
--        pkgindex.moved_TABLE  'on' when ids appeared, vanished or changed (version moves);
--        pkgindex.changed      'on' when some row changed (the generation moves);
--        pkgindex.pending      'on' once the commit is armed (a pkgindex_pending row);
--   2. pkgindex_apply() folds them into the rows and clears them.
-- Updating the same row once per statement would instead pile up one row version per
-- statement in a single HOT chain that every later update walks: a Django save() loop or a
-- non-bulk import of 100,000 rows in one transaction took minutes instead of seconds.
-- Settings and the pending row are transactional, subtransactions included: a rolled-back
-- savepoint takes its part of the bookkeeping with it, a rolled-back transaction all of it.
-- The rows are locked only here, at the end, so writers no longer queue behind each other's
-- counter row for their whole transactions; all of them at once, in one order
-- (package_package first, as the importer's scripts that follow an early call do, then
-- pkgindex_state last), so two writers cannot deadlock on them.
-- Returns true when something was pending.
CREATE OR REPLACE FUNCTION pkgindex_apply() RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    r record;
    dn bigint;
    reset boolean;
    moved boolean;
BEGIN
    IF COALESCE(current_setting('pkgindex.pending', true), '') = '' THEN
        RETURN false;
    END IF;
    PERFORM FROM pkgindex_count ORDER BY name <> 'package_package', name FOR UPDATE;
    -- tables without a count row (versions, memberships) only ever move the generation
    FOR r IN SELECT name FROM pkgindex_count ORDER BY name <> 'package_package', name LOOP
        dn := COALESCE(NULLIF(current_setting('pkgindex.n_' || r.name, true), ''), '0');
        reset := COALESCE(current_setting('pkgindex.reset_' || r.name, true) = 'on', false);
        moved := COALESCE(current_setting('pkgindex.moved_' || r.name, true) = 'on', false);
        IF dn <> 0 OR reset OR moved THEN
            UPDATE pkgindex_count
                SET n = CASE WHEN reset THEN 0 ELSE n END + dn,
                    version = version + CASE WHEN moved THEN 1 ELSE 0 END
                WHERE name = r.name;
            PERFORM set_config('pkgindex.n_' || r.name, '', true),
                    set_config('pkgindex.reset_' || r.name, '', true),
                    set_config('pkgindex.moved_' || r.name, '', true);
        END IF;
    END LOOP;
    IF current_setting('pkgindex.changed', true) = 'on' THEN
        UPDATE pkgindex_state SET generation = pkgindex_random64() WHERE id = 1;
    END IF;
    DELETE FROM pkgindex_pending WHERE xact = pg_current_xact_id();
    PERFORM set_config('pkgindex.changed', '', true), set_config('pkgindex.pending', '', true);
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION pkgindex_apply_at_commit() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pkgindex_apply();
    RETURN NULL;
END
$$;

-- DEFERRABLE INITIALLY DEFERRED: fires at COMMIT (PREPARE TRANSACTION too), inside the
-- transaction, so a reader in another session sees the new data and the new generation
-- together, never one without the other. (A writer's SET CONSTRAINTS ALL IMMEDIATE fires it at
-- the end of each statement instead: still right, one update per statement again.)
-- Constraint triggers have no CREATE OR REPLACE: made once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'pkgindex_pending'::regclass
                   AND tgname = 'pkgindex_apply') THEN
        CREATE CONSTRAINT TRIGGER pkgindex_apply AFTER INSERT ON pkgindex_pending
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
            EXECUTE FUNCTION pkgindex_apply_at_commit();
    END IF;
END
$$;

-- Step 1 for one statement: adds its part and arms the commit once per transaction.
-- 'pending' is set before the INSERT: under SET CONSTRAINTS ALL IMMEDIATE the trigger fires
-- (and clears it) at the end of that INSERT already.
CREATE OR REPLACE FUNCTION pkgindex_note(tbl text, reset boolean, dn bigint, moved boolean)
RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF reset THEN
        PERFORM set_config('pkgindex.reset_' || tbl, 'on', true),
                set_config('pkgindex.n_' || tbl, '0', true);
    END IF;
    IF dn <> 0 THEN
        PERFORM set_config('pkgindex.n_' || tbl,
            (COALESCE(NULLIF(current_setting('pkgindex.n_' || tbl, true), ''), '0')::bigint
             + dn)::text, true);
    END IF;
    IF moved THEN
        PERFORM set_config('pkgindex.moved_' || tbl, 'on', true);
    END IF;
    PERFORM set_config('pkgindex.changed', 'on', true);
    IF COALESCE(current_setting('pkgindex.pending', true), '') = '' THEN
        PERFORM set_config('pkgindex.pending', 'on', true);
        INSERT INTO pkgindex_pending DEFAULT VALUES;
    END IF;
END
$$;

-- One statement-level trigger per table and event, not row-level ones: a bulk statement
-- (INSERT ... SELECT, COPY, a Django bulk_create of a million rows) then costs one call,
-- where row-level triggers would queue a million events.
-- The transition tables give the number of rows the statement touched, so:
--   - counts move by that number (TRUNCATE: to 0);
--   - a statement that changed no row (an upsert whose row was already up to date, an
--     UPDATE/DELETE matching nothing, an UPDATE that sets what was there, as Django's save()
--     of an unchanged object does) moves nothing: the cache stays valid across a re-import of
--     unchanged data;
--   - TRUNCATE has no transition table: it always moves the generation, even on an empty
--     table.
--   - a bulk load (pkgindex-import into a database without packages sets
--     pkgindex.bulk = 'on' for its transactions) moves nothing: it recounts, moves the
--     generation and builds the search index itself once per file.
-- SET search_path FROM CURRENT: a writer with another search_path still finds our tables.
CREATE OR REPLACE FUNCTION pkgindex_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    k bigint := 0;
    renumbered boolean := false;
BEGIN
    IF current_setting('pkgindex.bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pkgindex_note(TG_TABLE_NAME, true, 0, true);
    ELSIF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO k FROM pkgindex_new;
        IF k > 0 THEN
            PERFORM pkgindex_note(TG_TABLE_NAME, false, k, true);
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO k FROM pkgindex_old;
        IF k > 0 THEN
            PERFORM pkgindex_note(TG_TABLE_NAME, false, -k, true);
        END IF;
    ELSE
        -- Whole rows compared as text: every type has an output function, not every one an
        -- equality (a column the original adds later must not make its UPDATEs fail). Equal
        -- text, equal value; the rare value with two spellings only moves the generation.
        IF NOT EXISTS (SELECT 1 FROM pkgindex_new n LEFT JOIN pkgindex_old o ON o.id = n.id
                       WHERE o.id IS NULL OR n::text <> o::text) THEN
            RETURN NULL;
        END IF;
        -- An id that changes moves the checkpoints as much as an insert does.
        IF TG_ARGV[0] = 'ids' THEN
            SELECT EXISTS (SELECT id FROM pkgindex_new EXCEPT SELECT id FROM pkgindex_old)
                INTO renumbered;
        END IF;
        PERFORM pkgindex_note(TG_TABLE_NAME, false, 0, renumbered);
    END IF;
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
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON package_version
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON package_version
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON grid_grid
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON grid_grid
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON grid_grid
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON grid_grid
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON grid_gridpackage
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON grid_gridpackage
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_del AFTER DELETE ON grid_gridpackage
    REFERENCING OLD TABLE AS pkgindex_old FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_trunc AFTER TRUNCATE ON grid_gridpackage
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();

CREATE OR REPLACE TRIGGER pkgindex_ins AFTER INSERT ON package_category
    REFERENCING NEW TABLE AS pkgindex_new FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
CREATE OR REPLACE TRIGGER pkgindex_upd AFTER UPDATE ON package_category
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_changed();
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

-- ===== Search: searchv3_searchv3, the original's own index, kept current =====
--
-- The rows are the original's (searchv3/builders.py) with the values the SQLite driver
-- stores (sql/schema-sqlite.sql, mod_pkgindex/store_search.c), so both drivers serve the
-- same fields; the search itself is the original's query (pkgindex_search below).

-- pki_search_weight() of mod_pkgindex/search.c, step for step (docs/search.md has the
-- table): 0-100 for a package, at most 60 for a grid. NOW is an argument so that the
-- function is IMMUTABLE: recency counts from the time of indexing. Ages are whole days of
-- 86,400 s, truncated, as the C code divides microseconds (epoch arithmetic, not interval
-- arithmetic in the session's time zone, where a day can be 23 or 25 hours); a time at or
-- after NOW is 0 days old. Blank = NULL or only ' ', \t, \n, \r, \f, \v (C's is_space).
-- Arguments in the order of the SQLite driver's pkgindex_weight().
CREATE OR REPLACE FUNCTION pkgindex_search_weight(
    now timestamptz, grid boolean, description text, stars bigint, forks bigint, usage bigint,
    packages bigint, last_commit timestamptz, released timestamptz, has_release boolean,
    has_documentation boolean, modified timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN grid THEN
        (CASE WHEN blank THEN 0 ELSE 10 END)
        + (CASE WHEN packages >= 20 THEN 40 ELSE COALESCE(packages, 0)::integer * 2 END)
        + (CASE WHEN modified_days <= 365 THEN 10 ELSE 0 END)
    ELSE least(100,
        (CASE WHEN blank THEN 0 ELSE 15 END)
        + (CASE WHEN stars >= 10000 THEN 20 WHEN stars >= 5000 THEN 18 WHEN stars >= 1000 THEN 15
                WHEN stars >= 500 THEN 13 WHEN stars >= 100 THEN 10 WHEN stars >= 50 THEN 8
                WHEN stars >= 10 THEN 5 WHEN stars >= 1 THEN 2 ELSE 0 END)
        + (CASE WHEN forks >= 1000 THEN 10 WHEN forks >= 200 THEN 8 WHEN forks >= 50 THEN 6
                WHEN forks >= 10 THEN 4 WHEN forks >= 1 THEN 2 ELSE 0 END)
        + (CASE WHEN usage >= 50 THEN 15 WHEN usage >= 10 THEN 10 WHEN usage >= 1 THEN 5
                ELSE 0 END)
        + (CASE WHEN commit_days <= 90 THEN 20 WHEN commit_days <= 182 THEN 15
                WHEN commit_days <= 365 THEN 10 WHEN commit_days <= 730 THEN 5 ELSE 0 END)
        + (CASE WHEN has_release THEN 10 + (CASE WHEN released_days <= 365 THEN 5 ELSE 0 END)
                ELSE 0 END)
        + (CASE WHEN has_documentation THEN 5 ELSE 0 END))
    END
    FROM (SELECT description IS NULL OR btrim(description, E' \t\n\r\f\x0b') = '' AS blank,
                 CASE WHEN modified >= now THEN 0
                      ELSE floor(extract(epoch FROM now - modified) / 86400) END
                     AS modified_days,
                 CASE WHEN last_commit >= now THEN 0
                      ELSE floor(extract(epoch FROM now - last_commit) / 86400) END
                     AS commit_days,
                 CASE WHEN released >= now THEN 0
                      ELSE floor(extract(epoch FROM now - released) / 86400) END
                     AS released_days) AS facts
$$;

-- The search rows of packages and of grids as the original's builder makes them, with the
-- object's id (item_id) beside them. Plain SQL that the planner inlines: a sync's
-- "WHERE item_id IN (marked)" becomes index lookups, a rebuild reads every object once.
--   packages: description = repo_description, category = the category's title, usage = the
--   number of users (package_package_usage; SQLite's usage_count), last_committed =
--   last_commit_date, last_released = the latest version's upload_time;
--   grids: the description, '' for category and participants, 0 and NULL for the rest.
CREATE OR REPLACE FUNCTION pkgindex_search_package_rows(now timestamptz)
RETURNS TABLE (item_id bigint, created timestamptz, modified timestamptz, weight integer,
               item_type varchar, title varchar, slug varchar, description text,
               category varchar, repo_watchers integer, repo_forks integer,
               pypi_downloads integer, score integer, usage integer, participants text,
               last_committed timestamptz, last_released timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT r.id, r.created, r.modified,
           pkgindex_search_weight(now, false, r.repo_description, r.repo_watchers,
               r.repo_forks, r.usage, 0, r.last_commit_date, r.upload_time,
               r.latest_version_id IS NOT NULL, COALESCE(r.documentation_url, '') <> '',
               r.modified),
           'package', r.title, r.slug, r.repo_description, r.category, r.repo_watchers,
           r.repo_forks, r.pypi_downloads, r.score, r.usage::integer, r.participants,
           r.last_commit_date, r.upload_time
    FROM (SELECT p.*, COALESCE(c.title, '') AS category, v.upload_time,
                 (SELECT count(*) FROM package_package_usage u WHERE u.package_id = p.id)
                     AS usage
          FROM package_package p
          LEFT JOIN package_category c ON c.id = p.category_id
          LEFT JOIN package_version v ON v.id = p.latest_version_id) AS r
$$;

CREATE OR REPLACE FUNCTION pkgindex_search_grid_rows(now timestamptz)
RETURNS TABLE (item_id bigint, created timestamptz, modified timestamptz, weight integer,
               item_type varchar, title varchar, slug varchar, description text,
               category varchar, repo_watchers integer, repo_forks integer,
               pypi_downloads integer, score integer, usage integer, participants text,
               last_committed timestamptz, last_released timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT r.id, r.created, r.modified,
           pkgindex_search_weight(now, true, r.description, 0, 0, 0, r.packages, NULL, NULL,
               false, false, r.modified),
           'grid', r.title, r.slug, r.description, '', 0, 0, 0, 0, 0, '', NULL::timestamptz,
           NULL::timestamptz
    FROM (SELECT g.*, (SELECT count(*) FROM grid_gridpackage m WHERE m.grid_id = g.id)
                          AS packages
          FROM grid_grid g) AS r
$$;

-- Objects whose search row is out of date, marked by any writer's triggers (below), caught
-- up by pkgindex_search_sync(). searchv3_searchv3 has no object id, its rows are found by
-- (item_type, slug): SLUG is the slug the object's row has in the index (its slug before
-- the first change since the last sync; NULL when it has no row: inserted since). Item type
-- '*' (id 0): a TRUNCATE emptied a table, every row is to be rebuilt.
-- While searchv3_searchv3 is empty nothing is marked: the next sync builds it whole.
CREATE TABLE IF NOT EXISTS pkgindex_search_dirty (
    item_type  text NOT NULL,
    item_id    bigint NOT NULL,
    slug       text NULL,
    PRIMARY KEY (item_type, item_id)
);

-- One statement-level trigger per table and event, like pkgindex_changed(): a bulk write
-- marks its objects in one INSERT ... SELECT from the transition tables. The first mark of
-- an object wins (ON CONFLICT DO NOTHING): it holds the slug its row was indexed under.
-- An UPDATE marks only the rows whose searched columns changed.
CREATE OR REPLACE FUNCTION pkgindex_search_mark() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF current_setting('pkgindex.bulk', true) = 'on' OR NOT EXISTS (SELECT 1 FROM searchv3_searchv3) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO pkgindex_search_dirty VALUES ('*', 0, NULL) ON CONFLICT DO NOTHING;
    ELSIF TG_TABLE_NAME IN ('package_package', 'grid_grid') THEN
        -- the row's type: the two tables differ only in what they call the description
        IF TG_OP = 'INSERT' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT TG_ARGV[0], n.id, NULL FROM pkgindex_new n ON CONFLICT DO NOTHING;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT TG_ARGV[0], o.id, o.slug FROM pkgindex_old o ON CONFLICT DO NOTHING;
        ELSIF TG_TABLE_NAME = 'package_package' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', o.id, o.slug FROM pkgindex_old o
                    LEFT JOIN pkgindex_new n ON n.id = o.id
                    WHERE n.id IS NULL
                       OR (o.created, o.modified, o.title, o.slug, o.repo_description,
                           o.category_id, o.repo_watchers, o.repo_forks, o.pypi_downloads,
                           o.score, o.participants, o.last_commit_date, o.latest_version_id,
                           o.documentation_url)
                          IS DISTINCT FROM
                          (n.created, n.modified, n.title, n.slug, n.repo_description,
                           n.category_id, n.repo_watchers, n.repo_forks, n.pypi_downloads,
                           n.score, n.participants, n.last_commit_date, n.latest_version_id,
                           n.documentation_url)
                UNION ALL
                SELECT 'package', n.id, NULL FROM pkgindex_new n
                    WHERE NOT EXISTS (SELECT 1 FROM pkgindex_old o WHERE o.id = n.id)
                ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO pkgindex_search_dirty
                SELECT 'grid', o.id, o.slug FROM pkgindex_old o
                    LEFT JOIN pkgindex_new n ON n.id = o.id
                    WHERE n.id IS NULL
                       OR (o.created, o.modified, o.title, o.slug, o.description)
                          IS DISTINCT FROM (n.created, n.modified, n.title, n.slug, n.description)
                UNION ALL
                SELECT 'grid', n.id, NULL FROM pkgindex_new n
                    WHERE NOT EXISTS (SELECT 1 FROM pkgindex_old o WHERE o.id = n.id)
                ON CONFLICT DO NOTHING;
        END IF;
    ELSIF TG_TABLE_NAME = 'package_version' THEN
        -- a package's row holds its latest version's upload time
        IF TG_OP = 'INSERT' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', p.id, p.slug FROM package_package p
                    WHERE p.latest_version_id IN (SELECT id FROM pkgindex_new)
                ON CONFLICT DO NOTHING;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', p.id, p.slug FROM package_package p
                    WHERE p.latest_version_id IN (SELECT id FROM pkgindex_old)
                ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', p.id, p.slug FROM package_package p
                    WHERE p.latest_version_id IN (
                        SELECT id FROM (SELECT id, upload_time FROM pkgindex_old
                                        EXCEPT SELECT id, upload_time FROM pkgindex_new) AS o
                        UNION ALL
                        SELECT id FROM (SELECT id, upload_time FROM pkgindex_new
                                        EXCEPT SELECT id, upload_time FROM pkgindex_old) AS n)
                ON CONFLICT DO NOTHING;
        END IF;
    ELSIF TG_TABLE_NAME = 'grid_gridpackage' THEN
        -- a grid's weight counts its packages: the grids whose count moved
        IF TG_OP = 'INSERT' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'grid', g.id, g.slug FROM grid_grid g
                    WHERE g.id IN (SELECT grid_id FROM pkgindex_new)
                ON CONFLICT DO NOTHING;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'grid', g.id, g.slug FROM grid_grid g
                    WHERE g.id IN (SELECT grid_id FROM pkgindex_old)
                ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO pkgindex_search_dirty
                SELECT 'grid', g.id, g.slug FROM grid_grid g
                    WHERE g.id IN (
                        SELECT grid_id FROM (SELECT grid_id FROM pkgindex_old EXCEPT ALL
                                             SELECT grid_id FROM pkgindex_new) AS gone
                        UNION ALL
                        SELECT grid_id FROM (SELECT grid_id FROM pkgindex_new EXCEPT ALL
                                             SELECT grid_id FROM pkgindex_old) AS came)
                ON CONFLICT DO NOTHING;
        END IF;
    ELSIF TG_TABLE_NAME = 'package_category' THEN
        -- a package's row holds its category's title
        IF TG_OP = 'INSERT' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', p.id, p.slug FROM package_package p
                    WHERE p.category_id IN (SELECT id FROM pkgindex_new)
                ON CONFLICT DO NOTHING;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', p.id, p.slug FROM package_package p
                    WHERE p.category_id IN (SELECT id FROM pkgindex_old)
                ON CONFLICT DO NOTHING;
        ELSE
            INSERT INTO pkgindex_search_dirty
                SELECT 'package', p.id, p.slug FROM package_package p
                    WHERE p.category_id IN (
                        SELECT id FROM (SELECT id, title FROM pkgindex_old EXCEPT
                                        SELECT id, title FROM pkgindex_new) AS gone
                        UNION ALL
                        SELECT id FROM (SELECT id, title FROM pkgindex_new EXCEPT
                                        SELECT id, title FROM pkgindex_old) AS came)
                ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER pkgindex_search_ins AFTER INSERT ON package_package
    REFERENCING NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark('package');
CREATE OR REPLACE TRIGGER pkgindex_search_upd AFTER UPDATE ON package_package
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark('package');
CREATE OR REPLACE TRIGGER pkgindex_search_del AFTER DELETE ON package_package
    REFERENCING OLD TABLE AS pkgindex_old
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark('package');
CREATE OR REPLACE TRIGGER pkgindex_search_trunc AFTER TRUNCATE ON package_package
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();

CREATE OR REPLACE TRIGGER pkgindex_search_ins AFTER INSERT ON grid_grid
    REFERENCING NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark('grid');
CREATE OR REPLACE TRIGGER pkgindex_search_upd AFTER UPDATE ON grid_grid
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark('grid');
CREATE OR REPLACE TRIGGER pkgindex_search_del AFTER DELETE ON grid_grid
    REFERENCING OLD TABLE AS pkgindex_old
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark('grid');
CREATE OR REPLACE TRIGGER pkgindex_search_trunc AFTER TRUNCATE ON grid_grid
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();

CREATE OR REPLACE TRIGGER pkgindex_search_ins AFTER INSERT ON package_version
    REFERENCING NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_upd AFTER UPDATE ON package_version
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_del AFTER DELETE ON package_version
    REFERENCING OLD TABLE AS pkgindex_old
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_trunc AFTER TRUNCATE ON package_version
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();

CREATE OR REPLACE TRIGGER pkgindex_search_ins AFTER INSERT ON grid_gridpackage
    REFERENCING NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_upd AFTER UPDATE ON grid_gridpackage
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_del AFTER DELETE ON grid_gridpackage
    REFERENCING OLD TABLE AS pkgindex_old
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_trunc AFTER TRUNCATE ON grid_gridpackage
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();

CREATE OR REPLACE TRIGGER pkgindex_search_ins AFTER INSERT ON package_category
    REFERENCING NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_upd AFTER UPDATE ON package_category
    REFERENCING OLD TABLE AS pkgindex_old NEW TABLE AS pkgindex_new
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_del AFTER DELETE ON package_category
    REFERENCING OLD TABLE AS pkgindex_old
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();
CREATE OR REPLACE TRIGGER pkgindex_search_trunc AFTER TRUNCATE ON package_category
    FOR EACH STATEMENT EXECUTE FUNCTION pkgindex_search_mark();

-- Every object's row, anew: the marks go, the rows go, the rows come back. DELETE, not
-- TRUNCATE: searches in other sessions keep reading the old rows until this commits (a
-- TRUNCATE would make them wait for the whole import). Moves the data generation: weights
-- count from NOW, so cached answers may be stale even when no object changed.
CREATE OR REPLACE FUNCTION pkgindex_search_rebuild(now timestamptz) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    -- one sync or rebuild at a time; the statements below see what the other committed
    PERFORM pg_advisory_xact_lock(hashtext('pkgindex-search-sync'));
    DELETE FROM pkgindex_search_dirty;
    DELETE FROM searchv3_searchv3;
    INSERT INTO searchv3_searchv3 (created, modified, weight, item_type, title, slug,
            description, category, repo_watchers, repo_forks, pypi_downloads, score, usage,
            participants, last_committed, last_released)
        SELECT created, modified, weight, item_type, title, slug, description, category,
               repo_watchers, repo_forks, pypi_downloads, score, usage, participants,
               last_committed, last_released
        FROM pkgindex_search_package_rows(now)
        UNION ALL
        SELECT created, modified, weight, item_type, title, slug, description, category,
               repo_watchers, repo_forks, pypi_downloads, score, usage, participants,
               last_committed, last_released
        FROM pkgindex_search_grid_rows(now);
    UPDATE pkgindex_state SET generation = pkgindex_random64() WHERE id = 1;
END
$$;

-- Brings searchv3_searchv3 up to date with the marked objects; true when it rebuilt it
-- (the index empty while objects exist, a TRUNCATE, or more than a quarter of the objects
-- marked: then one pass over everything is cheaper than many lookups). Otherwise, in one
-- statement: the marks are taken (DELETE ... RETURNING: a writer marking the same object
-- meanwhile waits for this transaction, and its mark stays for the next sync); the rows
-- under the marked objects' indexed slugs and current slugs go (slugs are unique per type,
-- so no other object's row has one); the objects that still exist get their rows. All parts
-- see the same snapshot: the DELETE does not see the rows the INSERT adds.
CREATE OR REPLACE FUNCTION pkgindex_search_sync(now timestamptz) RETURNS boolean
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    marked bigint;
    objects bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pkgindex-search-sync'));
    IF NOT EXISTS (SELECT 1 FROM searchv3_searchv3) THEN
        IF EXISTS (SELECT 1 FROM package_package) OR EXISTS (SELECT 1 FROM grid_grid) THEN
            PERFORM pkgindex_search_rebuild(now);
            RETURN true;
        END IF;
        DELETE FROM pkgindex_search_dirty;
        RETURN false;
    END IF;
    SELECT count(*) INTO marked FROM pkgindex_search_dirty;
    IF marked = 0 THEN
        RETURN false;
    END IF;
    SELECT COALESCE(sum(n), 0) INTO objects FROM pkgindex_count
        WHERE name IN ('package_package', 'grid_grid');
    IF marked * 4 > objects OR EXISTS (SELECT 1 FROM pkgindex_search_dirty WHERE item_type = '*')
    THEN
        PERFORM pkgindex_search_rebuild(now);
        RETURN true;
    END IF;
    WITH marks AS (
        DELETE FROM pkgindex_search_dirty RETURNING item_type, item_id, slug
    ), stale AS (
        SELECT item_type, slug FROM marks WHERE slug IS NOT NULL
        UNION
        SELECT 'package', p.slug FROM package_package p
            WHERE p.id IN (SELECT item_id FROM marks WHERE item_type = 'package')
        UNION
        SELECT 'grid', g.slug FROM grid_grid g
            WHERE g.id IN (SELECT item_id FROM marks WHERE item_type = 'grid')
    ), gone AS (
        DELETE FROM searchv3_searchv3 s USING stale
            WHERE s.item_type = stale.item_type AND s.slug = stale.slug
    )
    INSERT INTO searchv3_searchv3 (created, modified, weight, item_type, title, slug,
            description, category, repo_watchers, repo_forks, pypi_downloads, score, usage,
            participants, last_committed, last_released)
        SELECT created, modified, weight, item_type, title, slug, description, category,
               repo_watchers, repo_forks, pypi_downloads, score, usage, participants,
               last_committed, last_released
        FROM pkgindex_search_package_rows(now)
        WHERE item_id IN (SELECT item_id FROM marks WHERE item_type = 'package')
        UNION ALL
        SELECT created, modified, weight, item_type, title, slug, description, category,
               repo_watchers, repo_forks, pypi_downloads, score, usage, participants,
               last_committed, last_released
        FROM pkgindex_search_grid_rows(now)
        WHERE item_id IN (SELECT item_id FROM marks WHERE item_type = 'grid');
    UPDATE pkgindex_state SET generation = pkgindex_random64() WHERE id = 1;
    RETURN false;
END
$$;

-- The search, exactly the original's query (docs/api-v4.md §2 "Search item"):
--   matches: websearch_to_tsquery('english', q); or, when q is one token of 3+ characters
--   of [A-Za-z0-9_-], to_tsquery('english', q || ':*') (the pattern keeps every tsquery
--   operator out of it: no q is an error); or a trigram match of title or slug with a
--   similarity of at least 0.2;
--   relevance = ts_rank of the text (the better of the two when the prefix query applies)
--   + weight * 0.02; order relevance, similarity (title's or slug's, the better), title;
--   20 rows.
-- The driver runs it as `SELECT * FROM pkgindex_search($1)`: plain SQL that the planner
-- inlines (no SET, not STRICT, STABLE), so the statement is planned as if written out, with
-- the GIN indexes of searchv3_searchv3 (search_vector, title and slug trigrams) in one
-- BitmapOr. An empty query (a stop word alone) draws a NOTICE from the text-search parser:
-- set client_min_messages = warning on the connection.
CREATE OR REPLACE FUNCTION pkgindex_search(q text)
RETURNS TABLE (description text, title varchar, slug varchar, created timestamptz,
               modified timestamptz, weight integer, item_type varchar, category varchar,
               repo_watchers integer, repo_forks integer, pypi_downloads integer,
               score integer, usage integer, participants text,
               last_committed timestamptz, last_released timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.description, s.title, s.slug, s.created, s.modified, s.weight, s.item_type,
           s.category, s.repo_watchers, s.repo_forks, s.pypi_downloads, s.score, s.usage,
           s.participants, s.last_committed, s.last_released
    FROM searchv3_searchv3 s,
         LATERAL (SELECT websearch_to_tsquery('english', q) AS words,
                         CASE WHEN q ~ '^[A-Za-z0-9_-]{3,}$'
                              THEN to_tsquery('english', q || ':*') END AS prefix) AS tq
    WHERE s.search_vector @@ tq.words
       OR s.search_vector @@ tq.prefix
       OR ((s.title % q OR s.slug % lower(q))
           AND greatest(similarity(s.title, q), similarity(s.slug, lower(q))) >= 0.2)
    ORDER BY greatest(ts_rank(s.search_vector, tq.words), ts_rank(s.search_vector, tq.prefix))
             + s.weight * 0.02 DESC,
             greatest(similarity(s.title, q), similarity(s.slug, lower(q))) DESC,
             s.title
    LIMIT 20
$$;

COMMIT;
