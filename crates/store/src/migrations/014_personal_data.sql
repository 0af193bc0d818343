-- Schema 14: personal data under UU 27/2022 (issue 7; docs/privacy.md).
--
-- A legal hold on a resident: while `legal_hold` is not empty (the reason), the record is not
-- anonymised when its retention period ends. It is a field group of its own ("hold"), synced,
-- so a hold placed on one PC stops the retention run of every PC of the office.
ALTER TABLE residents ADD COLUMN legal_hold TEXT NOT NULL DEFAULT '';

-- Data subjects' requests (UU 27/2022 Pasal 5–13): a resident asks to see, correct, object to
-- the processing of, or erase their data. Recorded when received, answered within 3 × 24 hours
-- (`due_at`), with the outcome. Local to the office (it answers them); never deleted.
CREATE TABLE subject_requests (
    id           BLOB PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('akses', 'perbaikan', 'keberatan', 'penghapusan')),
    -- The resident the request is about, once found in the register.
    resident_id  BLOB,
    requester    TEXT NOT NULL,
    details      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('diterima', 'dikabulkan', 'ditolak')),
    outcome      TEXT NOT NULL DEFAULT '',
    decided_by   TEXT,
    decided_at   TEXT,
    recorded_by  TEXT NOT NULL
) STRICT;
CREATE INDEX subject_requests_by_status ON subject_requests (status, due_at);

-- Personal-data breaches (Pasal 46): from the moment one is known the office has 3 × 24 hours
-- to notify the data subjects and the authority. The notices are drafted from these fields.
CREATE TABLE breaches (
    id                    BLOB PRIMARY KEY,
    discovered_at         TEXT NOT NULL,
    what_happened         TEXT NOT NULL,
    data_disclosed        TEXT NOT NULL,
    subjects_estimate     INTEGER NOT NULL,
    measures              TEXT NOT NULL,
    subjects_notified_at  TEXT,
    authority_notified_at TEXT,
    closed_at             TEXT,
    recorded_by           TEXT NOT NULL,
    created_at            TEXT NOT NULL
) STRICT;
