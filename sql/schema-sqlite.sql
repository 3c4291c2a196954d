-- mod_pkgindex schema for SQLite (the embedded default).
--
-- Table and column names are the original Django Packages ones, so the same
-- SQL serves an existing database; only the columns the API and search need
-- are kept. Datetimes are stored as Django stores them in SQLite: UTC text
-- 'YYYY-MM-DD HH:MM:SS[.ffffff]'. Booleans are 0/1.

PRAGMA journal_mode = WAL;

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
