-- Schema v2: the resident and family register, and sync capture.
-- Synced tables carry UUIDv7 ids; capture triggers (generated from balai_store::sync::SYNCED,
-- not written here) copy every change into _sync_outbox in the same transaction.
-- There is deliberately no UNIQUE index on nik or no_kk: two PCs may register the same newcomer
-- offline, and a unique index would make merging fail (sync-notes §3.6). Uniqueness within the
-- office is checked by balai-app on every write and import.

CREATE TABLE families (
    id         BLOB PRIMARY KEY,
    no_kk      TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    rt         INTEGER NOT NULL DEFAULT 0,
    rw         INTEGER NOT NULL DEFAULT 0,
    lingkungan TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX families_no_kk ON families (no_kk);

CREATE TABLE residents (
    id                  BLOB PRIMARY KEY,
    nik                 TEXT NOT NULL,
    nik_temporary       INTEGER NOT NULL DEFAULT 0,
    full_name           TEXT NOT NULL,
    -- Local-only, derived: lower-case accent-free words for search and duplicate detection.
    name_norm           TEXT NOT NULL,
    sex                 TEXT NOT NULL CHECK (sex IN ('L', 'P')),
    birth_place         TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    -- Comma-separated NIK warning codes the clerk overrode, and their written reason.
    nik_warnings        TEXT NOT NULL DEFAULT '',
    nik_override_reason TEXT NOT NULL DEFAULT '',
    family_id           BLOB,
    shdk                INTEGER NOT NULL,
    religion            INTEGER NOT NULL,
    marital_status      INTEGER NOT NULL,
    education           INTEGER,
    occupation          INTEGER,
    blood_type          INTEGER,
    citizenship         INTEGER NOT NULL DEFAULT 1,
    disability          INTEGER,
    mother_nik          TEXT,
    mother_name         TEXT NOT NULL DEFAULT '',
    father_nik          TEXT,
    father_name         TEXT NOT NULL DEFAULT '',
    address             TEXT NOT NULL DEFAULT '',
    rt                  INTEGER NOT NULL,
    rw                  INTEGER NOT NULL,
    lingkungan          TEXT NOT NULL DEFAULT '',
    birth_cert_no       TEXT NOT NULL DEFAULT '',
    marriage_cert_no    TEXT NOT NULL DEFAULT '',
    marriage_date       TEXT,
    divorce_cert_no     TEXT NOT NULL DEFAULT '',
    divorce_date        TEXT,
    status              TEXT NOT NULL DEFAULT 'hidup'
                        CHECK (status IN ('hidup', 'mati', 'pindah', 'hilang', 'pergi')),
    -- Set when a duplicate record was merged into another; the row stays for its history.
    merged_into         BLOB,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;
CREATE INDEX residents_nik ON residents (nik);
CREATE INDEX residents_family ON residents (family_id);
CREATE INDEX residents_region ON residents (rw, rt);
CREATE INDEX residents_name_birth ON residents (name_norm, birth_date);
CREATE INDEX residents_birth_place ON residents (birth_date, birth_place);

-- Life events (peristiwa). Each also set the resident's status when it was recorded.
CREATE TABLE resident_events (
    id          BLOB PRIMARY KEY,
    resident_id BLOB NOT NULL,
    kind        TEXT NOT NULL
                CHECK (kind IN ('lahir', 'mati', 'pindah_masuk', 'pindah_keluar', 'hilang', 'pergi')),
    event_date  TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX resident_events_date ON resident_events (event_date);
CREATE INDEX resident_events_resident ON resident_events (resident_id);

-- Full-text index of names (local, derived), kept by the triggers below. A bulk import turns
-- the insert trigger off (balai_fts_live() = 0) and rebuilds the index once at the end.
CREATE VIRTUAL TABLE residents_fts USING fts5 (
    name_norm,
    content = 'residents',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
CREATE TRIGGER residents_fts_insert AFTER INSERT ON residents WHEN balai_fts_live() BEGIN
    INSERT INTO residents_fts (rowid, name_norm) VALUES (new.rowid, new.name_norm);
END;
CREATE TRIGGER residents_fts_delete AFTER DELETE ON residents BEGIN
    INSERT INTO residents_fts (residents_fts, rowid, name_norm) VALUES ('delete', old.rowid, old.name_norm);
END;
CREATE TRIGGER residents_fts_update AFTER UPDATE OF name_norm ON residents BEGIN
    INSERT INTO residents_fts (residents_fts, rowid, name_norm) VALUES ('delete', old.rowid, old.name_norm);
    INSERT INTO residents_fts (rowid, name_norm) VALUES (new.rowid, new.name_norm);
END;

-- Sync capture: one row per changed field group, numbered contiguously per device.
CREATE TABLE _sync_outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id   BLOB NOT NULL UNIQUE,
    tbl         TEXT NOT NULL,
    row_id      BLOB NOT NULL,
    field_group TEXT NOT NULL,
    value       TEXT NOT NULL,
    hlc         INTEGER NOT NULL,
    device_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL
) STRICT;

-- The clock of each (row, field group): the (hlc, device) of its last write, for LWW merges.
CREATE TABLE _sync_clock (
    tbl         TEXT NOT NULL,
    row_id      BLOB NOT NULL,
    field_group TEXT NOT NULL,
    hlc         INTEGER NOT NULL,
    device_id   TEXT NOT NULL,
    PRIMARY KEY (tbl, row_id, field_group)
) STRICT, WITHOUT ROWID;

-- Device-local sync state (device id before enrolment, cursors later).
CREATE TABLE _sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
