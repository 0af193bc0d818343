-- Schema v4: letters, their numbering series, their history, and the office's signing key.
-- Letters travel to the city as sync commands (issue, void), not as captured row changes, so
-- they are not in the capture registry (sync-notes §3.3).

CREATE TABLE letters (
    id               BLOB PRIMARY KEY,
    letter_type      TEXT NOT NULL,
    template_version TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                     ('diminta', 'diverifikasi', 'terbit', 'diambil', 'ditolak', 'dibatalkan')),
    -- The letter's subject (the template's first person) and everyone it names, by role.
    subject_id       BLOB NOT NULL,
    subject_nik_masked TEXT NOT NULL,
    people           TEXT NOT NULL,   -- JSON {role: [resident id, …]}
    fields           TEXT NOT NULL,   -- JSON {key: value}, validated
    -- Set when issued; a number is never issued twice.
    number           TEXT UNIQUE,
    series           TEXT,
    serial           INTEGER,
    issued_on        TEXT,
    valid_until      TEXT,
    -- The signer as of the signing date, copied.
    signer           TEXT,            -- JSON {name, nip, rank, capacity, position_lines}
    content          TEXT,            -- JSON of the letter as printed (balai_letters::LetterContent)
    content_hash     TEXT,
    payload          TEXT,            -- the signed QR text
    paper            TEXT,
    pdf              BLOB,
    reason           TEXT NOT NULL DEFAULT '',   -- why rejected or voided
    replaces         BLOB,            -- the voided letter this one corrects
    requested_by     TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (series, serial),
    CHECK (status NOT IN ('terbit', 'diambil') OR number IS NOT NULL)
) STRICT;
CREATE INDEX letters_status ON letters (status, created_at);
CREATE INDEX letters_issued ON letters (issued_on);
CREATE INDEX letters_subject ON letters (subject_id);

-- Every change of a letter's status: who, when, why.
CREATE TABLE letter_events (
    id          BLOB PRIMARY KEY,
    letter_id   BLOB NOT NULL REFERENCES letters (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX letter_events_letter ON letter_events (letter_id, at);

-- The last serial handed out per series (e.g. "2026/domisili" or "2026/*").
CREATE TABLE letter_series (
    series      TEXT PRIMARY KEY,
    last_serial INTEGER NOT NULL
) STRICT;

-- The office's Ed25519 keys; the newest unretired one signs. (Issue 7 encrypts the database.)
CREATE TABLE office_keys (
    key_id      TEXT PRIMARY KEY,
    public_hex  TEXT NOT NULL,
    seed        BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT
) STRICT;
