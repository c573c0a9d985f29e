-- ai4ict hub schema, version 1 (PostgreSQL). Keep in step with ../sqlite/0001_init.sql.
CREATE TABLE standards (
    id            BIGSERIAL PRIMARY KEY,
    body          TEXT NOT NULL,
    number        TEXT NOT NULL,
    title         TEXT NOT NULL,
    grp           TEXT NOT NULL DEFAULT '',
    year          BIGINT,
    status        TEXT NOT NULL DEFAULT '',
    domains       TEXT NOT NULL DEFAULT '',
    scope         TEXT NOT NULL DEFAULT '',
    editions      TEXT NOT NULL DEFAULT '[]',
    supersedes    TEXT NOT NULL DEFAULT '',
    superseded_by TEXT NOT NULL DEFAULT '',
    last_review   TEXT,
    source        TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    UNIQUE (body, number)
);
CREATE TABLE standard_intents (
    standard_id BIGINT NOT NULL REFERENCES standards (id) ON DELETE CASCADE,
    intent      TEXT NOT NULL,
    PRIMARY KEY (standard_id, intent)
);
CREATE TABLE review_cycles (
    body  TEXT PRIMARY KEY,
    years BIGINT NOT NULL
);
CREATE TABLE change_log (
    id     BIGSERIAL PRIMARY KEY,
    at     TEXT NOT NULL,
    entity TEXT NOT NULL,
    item   TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX change_log_item ON change_log (entity, item);
CREATE TABLE use_cases (
    name          TEXT PRIMARY KEY,
    intent        TEXT NOT NULL,
    sdgs          TEXT NOT NULL,
    domain        TEXT NOT NULL,
    description   TEXT NOT NULL,
    standards     TEXT NOT NULL,
    evidence      TEXT,
    registered_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE TABLE models (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    artifact     BYTEA NOT NULL,
    published_at TEXT NOT NULL,
    UNIQUE (name, version)
);
CREATE TABLE model_aliases (
    name    TEXT NOT NULL,
    alias   TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);
CREATE TABLE intelligence_levels (
    subject TEXT PRIMARY KEY,
    level   BIGINT NOT NULL,
    detail  TEXT NOT NULL,
    at      TEXT NOT NULL
);
