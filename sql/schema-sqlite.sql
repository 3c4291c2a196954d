-- mod_pkgindex schema for SQLite (the embedded default).
--
-- Table and column names are the original Django Packages ones, so the same
-- SQL serves an existing database; only the columns the API and search need
-- are kept. Datetimes are stored as Django stores them in SQLite: UTC text
-- 'YYYY-MM-DD HH:MM:SS[.ffffff]'. Booleans are 0/1.

PRAGMA journal_mode = WAL;
-- One transaction: the counts below must not miss a concurrent writer's rows.
BEGIN IMMEDIATE;

CREATE TABLE IF NOT EXISTS package_category (
    id            INTEGER PRIMARY KEY,
    created       TEXT NOT NULL,
    modified      TEXT NOT NULL,
    title         VARCHAR(50) NOT NULL,
    slug          VARCHAR(50) NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    title_plural  VARCHAR(50) NOT NULL DEFAULT '',
    show_pypi     BOOL NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS package_category_slug ON package_category (slug);

CREATE TABLE IF NOT EXISTS package_package (
    id                 INTEGER PRIMARY KEY,
    created            TEXT NOT NULL,
    modified           TEXT NOT NULL,
    title              VARCHAR(100) NOT NULL,
    slug               VARCHAR(50) NOT NULL UNIQUE,
    category_id        INTEGER NOT NULL REFERENCES package_category (id),
    repo_description   TEXT NOT NULL DEFAULT '',
    repo_url           VARCHAR(255) NOT NULL DEFAULT '',
    repo_watchers      INTEGER NOT NULL DEFAULT 0,
    repo_forks         INTEGER NOT NULL DEFAULT 0,
    pypi_url           VARCHAR(255) NOT NULL DEFAULT '',
    pypi_downloads     INTEGER NOT NULL DEFAULT 0,
    participants       TEXT NOT NULL DEFAULT '',
    usage_count        INTEGER NOT NULL DEFAULT 0,
    score              INTEGER NOT NULL DEFAULT 0,
    last_fetched       TEXT NULL,
    documentation_url  VARCHAR(200) NULL DEFAULT '',
    commits_over_52w   TEXT NOT NULL DEFAULT '[]',
    last_commit_date   TEXT NULL,
    latest_version_id  INTEGER NULL REFERENCES package_version (id)
);
CREATE INDEX IF NOT EXISTS package_package_category_id ON package_package (category_id);

CREATE TABLE IF NOT EXISTS package_version (
    id           INTEGER PRIMARY KEY,
    created      TEXT NOT NULL,
    modified     TEXT NOT NULL,
    package_id   INTEGER NOT NULL REFERENCES package_package (id),
    number       VARCHAR(100) NOT NULL DEFAULT '',
    upload_time  TEXT NULL
);
CREATE INDEX IF NOT EXISTS package_version_package_id ON package_version (package_id);

CREATE TABLE IF NOT EXISTS grid_grid (
    id           INTEGER PRIMARY KEY,
    created      TEXT NOT NULL,
    modified     TEXT NOT NULL,
    title        VARCHAR(100) NOT NULL,
    slug         VARCHAR(50) NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    is_locked    BOOL NOT NULL DEFAULT 0,
    header       BOOL NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS grid_gridpackage (
    id          INTEGER PRIMARY KEY,
    created     TEXT NOT NULL,
    modified    TEXT NOT NULL,
    grid_id     INTEGER NOT NULL REFERENCES grid_grid (id),
    package_id  INTEGER NOT NULL REFERENCES package_package (id),
    UNIQUE (grid_id, package_id)
);
-- A package's grids in membership order, and a page's memberships by id range.
CREATE INDEX IF NOT EXISTS grid_gridpackage_package_id ON grid_gridpackage (package_id, id);

-- mod_pkgindex's own bookkeeping, kept by triggers so that lists cost the same at any size.
-- Row counts: COUNT(*) walks a whole index, a page must not. VERSION moves on every insert
-- and delete (ids appear or vanish), so the checkpoints below know when they are stale.
CREATE TABLE IF NOT EXISTS pkgindex_count (
    name                TEXT PRIMARY KEY,
    n                   INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 0,
    checkpoint_version  INTEGER NOT NULL DEFAULT -1
);

CREATE TRIGGER IF NOT EXISTS pkgindex_package_added AFTER INSERT ON package_package
BEGIN UPDATE pkgindex_count SET n = n + 1, version = version + 1 WHERE name = 'package_package'; END;
CREATE TRIGGER IF NOT EXISTS pkgindex_package_removed AFTER DELETE ON package_package
BEGIN UPDATE pkgindex_count SET n = n - 1, version = version + 1 WHERE name = 'package_package'; END;
CREATE TRIGGER IF NOT EXISTS pkgindex_grid_added AFTER INSERT ON grid_grid
BEGIN UPDATE pkgindex_count SET n = n + 1, version = version + 1 WHERE name = 'grid_grid'; END;
CREATE TRIGGER IF NOT EXISTS pkgindex_grid_removed AFTER DELETE ON grid_grid
BEGIN UPDATE pkgindex_count SET n = n - 1, version = version + 1 WHERE name = 'grid_grid'; END;
CREATE TRIGGER IF NOT EXISTS pkgindex_category_added AFTER INSERT ON package_category
BEGIN UPDATE pkgindex_count SET n = n + 1, version = version + 1 WHERE name = 'package_category'; END;
CREATE TRIGGER IF NOT EXISTS pkgindex_category_removed AFTER DELETE ON package_category
BEGIN UPDATE pkgindex_count SET n = n - 1, version = version + 1 WHERE name = 'package_category'; END;
-- An id that changes moves the checkpoints as much as an insert does.
CREATE TRIGGER IF NOT EXISTS pkgindex_package_renumbered AFTER UPDATE OF id ON package_package
BEGIN UPDATE pkgindex_count SET version = version + 1 WHERE name = 'package_package'; END;
INSERT OR IGNORE INTO pkgindex_count (name, n) SELECT 'package_package', COUNT(*) FROM package_package;
INSERT OR IGNORE INTO pkgindex_count (name, n) SELECT 'grid_grid', COUNT(*) FROM grid_grid;
INSERT OR IGNORE INTO pkgindex_count (name, n) SELECT 'package_category', COUNT(*) FROM package_category;

-- Deep pages: OFFSET steps over every row it skips (offset 900,000 of a million packages is
-- 900,000 steps). Every 256th package id in ascending order lets a page start be found with at
-- most 255 steps. Valid while pkgindex_count.checkpoint_version = version; the importer
-- rebuilds it, and a stale one only means the plain OFFSET plan.
CREATE TABLE IF NOT EXISTS pkgindex_checkpoint (
    name  TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    id    INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
) WITHOUT ROWID;

-- The data generation: a new random value on every write to the API's tables, by any writer,
-- so that rendered responses cached in httpd's processes are used only while nothing changed.
-- Random, not a counter: a restored backup or another copy of the database never comes back
-- to a value that named other content.
CREATE TABLE IF NOT EXISTS pkgindex_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT OR IGNORE INTO pkgindex_state (id, generation) VALUES (1, random());
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_package_i AFTER INSERT ON package_package
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_package_u AFTER UPDATE ON package_package
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_package_d AFTER DELETE ON package_package
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_version_i AFTER INSERT ON package_version
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_version_u AFTER UPDATE ON package_version
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_version_d AFTER DELETE ON package_version
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_grid_i AFTER INSERT ON grid_grid
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_grid_u AFTER UPDATE ON grid_grid
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_grid_d AFTER DELETE ON grid_grid
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_member_i AFTER INSERT ON grid_gridpackage
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_member_u AFTER UPDATE ON grid_gridpackage
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_member_d AFTER DELETE ON grid_gridpackage
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_category_i AFTER INSERT ON package_category
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_category_u AFTER UPDATE ON package_category
BEGIN UPDATE pkgindex_state SET generation = random(); END;
CREATE TRIGGER IF NOT EXISTS pkgindex_gen_category_d AFTER DELETE ON package_category
BEGIN UPDATE pkgindex_state SET generation = random(); END;

-- Search (/api/v4/search/): the original's searchv3_searchv3, one row per package and per grid,
-- and an FTS5 index over it. Kept by the C code (store_search.c), not by triggers: the importer
-- and edits bring it up to date in the transaction that changed the data, from the list of
-- changed objects the triggers below keep (any writer's changes land there, so
-- `pkgindex-import --reindex` or the next import catches up with writes made by other tools).
--
-- id is ours to choose (nothing outside refers to it): (100 - weight) << 48 | n. FTS5 returns
-- matches in rowid order, so a search reads candidates from the heaviest down and stops as
-- soon as no later row can enter the top 20.
CREATE TABLE IF NOT EXISTS searchv3_searchv3 (
    id               INTEGER PRIMARY KEY,
    created          TEXT NOT NULL,
    modified         TEXT NOT NULL,
    item_type        VARCHAR(40) NOT NULL,
    item_id          INTEGER NOT NULL,
    title            VARCHAR(100) NOT NULL,
    title_no_prefix  VARCHAR(100) NOT NULL,
    slug             VARCHAR(50) NOT NULL,
    slug_no_prefix   VARCHAR(50) NOT NULL,
    clean_title      VARCHAR(100) NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    category         VARCHAR(50) NOT NULL DEFAULT '',
    absolute_url     VARCHAR(255) NOT NULL,
    repo_watchers    INTEGER NOT NULL DEFAULT 0,
    repo_forks       INTEGER NOT NULL DEFAULT 0,
    pypi_downloads   INTEGER NOT NULL DEFAULT 0,
    score            INTEGER NOT NULL DEFAULT 0,
    usage            INTEGER NOT NULL DEFAULT 0,
    participants     TEXT NOT NULL DEFAULT '',
    last_committed   TEXT NULL,
    last_released    TEXT NULL,
    weight           INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS searchv3_item ON searchv3_searchv3 (item_type, item_id);

-- Title A, slug B, description C, category and participants D. Porter stems English words
-- ("caching" finds "cache"), as the original's 'english' configuration does.
CREATE VIRTUAL TABLE IF NOT EXISTS searchv3_fts USING fts5 (
    title, slug, description, category, participants,
    content = 'searchv3_searchv3', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- The same over titles and slugs alone: which matches have a word in the title or slug (the
-- text rank's strongest columns), without reading every occurrence in descriptions. Which rows,
-- not where: no positions (a phrase is asked as its words).
CREATE VIRTUAL TABLE IF NOT EXISTS searchv3_title_fts USING fts5 (
    title, slug,
    content = 'searchv3_searchv3', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2', detail = none
);
-- FTS5 indexes in memory up to this many bytes before it writes a segment (default 1 MiB):
-- fewer segments to merge, a million rows indexed in 8 s instead of 12.
INSERT INTO searchv3_fts (searchv3_fts, rank) VALUES ('hashsize', 67108864);
INSERT INTO searchv3_title_fts (searchv3_title_fts, rank) VALUES ('hashsize', 67108864);

-- An exact title or slug ("django debug toolbar" is both "Django Debug Toolbar" and
-- "django-debug-toolbar"): the words of each, lower-cased, joined by one space.
CREATE TABLE IF NOT EXISTS searchv3_exact (
    key  TEXT NOT NULL,
    id   INTEGER NOT NULL
);
-- (a rebuild drops it and makes it again: one sort instead of a million inserts)
CREATE INDEX IF NOT EXISTS searchv3_exact_key ON searchv3_exact (key, id);

-- Typo tolerance: the words of titles and slugs, and their trigrams (pg_trgm's: "  w", " wo",
-- "wor", "ord", "rd "). A query word that is none of these words is looked up by trigram and
-- the words within one edit (two for long words) are searched too.
CREATE TABLE IF NOT EXISTS searchv3_word (
    id    INTEGER PRIMARY KEY,
    word  TEXT NOT NULL UNIQUE,
    n     INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS searchv3_trigram (
    trigram  INTEGER NOT NULL, -- three 21-bit code points
    word_id  INTEGER NOT NULL,
    PRIMARY KEY (trigram, word_id)
) WITHOUT ROWID;

-- Objects whose search row is out of date, marked by any writer's triggers. (NOT EXISTS, not
-- INSERT OR IGNORE: inside an upsert, the outer statement's conflict handling applies.) While
-- the index is empty nothing is marked: the next sync builds it whole.
CREATE TABLE IF NOT EXISTS searchv3_dirty (
    item_type  TEXT NOT NULL,
    item_id    INTEGER NOT NULL,
    PRIMARY KEY (item_type, item_id)
) WITHOUT ROWID;
-- The next n of searchv3_searchv3.id.
CREATE TABLE IF NOT EXISTS searchv3_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL
);
INSERT OR IGNORE INTO searchv3_state (id, seq) VALUES (1, 1);
CREATE TRIGGER IF NOT EXISTS searchv3_package_i AFTER INSERT ON package_package
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', NEW.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'package'
      AND item_id = NEW.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_package_u AFTER UPDATE ON package_package
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', OLD.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'package'
      AND item_id = OLD.id); INSERT INTO searchv3_dirty SELECT 'package', NEW.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'package'
      AND item_id = NEW.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_package_d AFTER DELETE ON package_package
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', OLD.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'package'
      AND item_id = OLD.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_version_u AFTER UPDATE ON package_version
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', NEW.package_id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'package'
      AND item_id = NEW.package_id); END;
-- a package's search row holds its latest version's upload time (the package's own update
-- marks it when it points at another version; these, when the version row itself changes)
CREATE TRIGGER IF NOT EXISTS searchv3_version_d AFTER DELETE ON package_version
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', p.id FROM package_package p
      WHERE p.latest_version_id = OLD.id AND NOT EXISTS (SELECT 1 FROM searchv3_dirty d
      WHERE d.item_type = 'package' AND d.item_id = p.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_grid_i AFTER INSERT ON grid_grid
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'grid', NEW.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = NEW.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_grid_u AFTER UPDATE ON grid_grid
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'grid', OLD.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = OLD.id); INSERT INTO searchv3_dirty SELECT 'grid', NEW.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = NEW.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_grid_d AFTER DELETE ON grid_grid
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'grid', OLD.id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = OLD.id); END;
-- a grid's weight counts its packages
CREATE TRIGGER IF NOT EXISTS searchv3_member_i AFTER INSERT ON grid_gridpackage
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'grid', NEW.grid_id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = NEW.grid_id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_member_u AFTER UPDATE ON grid_gridpackage
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'grid', OLD.grid_id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = OLD.grid_id); INSERT INTO searchv3_dirty SELECT 'grid', NEW.grid_id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = NEW.grid_id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_member_d AFTER DELETE ON grid_gridpackage
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'grid', OLD.grid_id
      WHERE NOT EXISTS (SELECT 1 FROM searchv3_dirty WHERE item_type = 'grid'
      AND item_id = OLD.grid_id); END;
-- a package's search row holds its category's title
CREATE TRIGGER IF NOT EXISTS searchv3_category_d AFTER DELETE ON package_category
WHEN EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', p.id FROM package_package p
      WHERE p.category_id = OLD.id AND NOT EXISTS (SELECT 1 FROM searchv3_dirty d
      WHERE d.item_type = 'package' AND d.item_id = p.id); END;
CREATE TRIGGER IF NOT EXISTS searchv3_category_u AFTER UPDATE OF title ON package_category
WHEN NEW.title IS NOT OLD.title AND EXISTS (SELECT 1 FROM searchv3_searchv3)
BEGIN INSERT INTO searchv3_dirty SELECT 'package', p.id FROM package_package p
      WHERE p.category_id = NEW.id AND NOT EXISTS (SELECT 1 FROM searchv3_dirty d
      WHERE d.item_type = 'package' AND d.item_id = p.id); END;

COMMIT;
