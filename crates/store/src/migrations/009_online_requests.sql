-- Residents' online requests, as the city passes them down the kelurahan's feed (local only:
-- the city holds the original). `status`: diajukan (waiting), diproses (a PC of the office took
-- it: `claimed_by` is that PC's device id), selesai, ditolak. A request is never deleted.
CREATE TABLE online_requests (
    id              BLOB PRIMARY KEY,
    tracking_code   TEXT NOT NULL,
    nik             TEXT NOT NULL,
    no_kk           TEXT NOT NULL,
    letter_type     TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    contact         TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('diajukan', 'diproses', 'selesai', 'ditolak')),
    claimed_by      TEXT,
    note            TEXT NOT NULL DEFAULT '',
    updated_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX online_requests_by_status ON online_requests (status, submitted_at_ms);
