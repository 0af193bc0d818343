-- Schema v1: the office, its users and the audit trail.
-- Ids are UUIDv7 stored as 16-byte BLOBs; times are RFC 3339 UTC text.

-- Local user accounts. Passwords are Argon2id PHC strings; nothing else about a password is kept.
CREATE TABLE users (
    id            BLOB PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    full_name     TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'lurah', 'sekretaris', 'petugas')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

-- The office profile: exactly one row once the office is initialised.
CREATE TABLE office_profile (
    singleton      INTEGER PRIMARY KEY CHECK (singleton = 1),
    province_code  TEXT NOT NULL,
    province_name  TEXT NOT NULL,
    city_code      TEXT NOT NULL,
    city_name      TEXT NOT NULL,
    kecamatan_code TEXT NOT NULL,
    kecamatan_name TEXT NOT NULL,
    kelurahan_code TEXT NOT NULL,
    kelurahan_name TEXT NOT NULL,
    address        TEXT NOT NULL,
    postal_code    TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    website        TEXT NOT NULL DEFAULT '',
    updated_at     TEXT NOT NULL
) STRICT;

-- The emblem printed in the letterhead, recognised by content (PNG or SVG).
CREATE TABLE office_emblem (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    mime       TEXT NOT NULL CHECK (mime IN ('image/png', 'image/svg+xml')),
    bytes      BLOB NOT NULL,
    sha256     TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Officials who sign letters, each for a period. Letters copy these fields when signed, so an
-- edit here never changes a letter already issued.
CREATE TABLE signatories (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    post       TEXT NOT NULL CHECK (post IN ('lurah', 'sekretaris')),
    capacity   TEXT NOT NULL CHECK (capacity IN ('definitif', 'plt', 'plh')),
    position   TEXT NOT NULL,
    nip        TEXT NOT NULL,
    rank       TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT,
    updated_at TEXT NOT NULL
) STRICT;

-- Office settings as typed keys (see balai_store::settings).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- The append-only audit trail, hash-chained (balai_domain::audit). Triggers refuse every
-- UPDATE and DELETE, so no code path of the app can rewrite history; someone editing the file
-- by other means breaks the chain, which `balai audit verify` reports.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
