-- Schema v3: an inserted row's change no longer copies the row into the outbox.
-- A `*` change (an insert) has value NULL: what is pushed is the row as it is when pushed, every
-- field group, with the insert's clock. Under field-group LWW that is safe: a later local edit
-- has its own, later change, and a value newer than its label cannot win against anything newer
-- on the server. It halves the size of a freshly imported register (the copy was larger than
-- the register itself) and its write time.
CREATE TABLE _sync_outbox_v3 (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id   BLOB NOT NULL UNIQUE,
    tbl         TEXT NOT NULL,
    row_id      BLOB NOT NULL,
    field_group TEXT NOT NULL,
    -- JSON object of the group's columns; NULL for field_group '*' (see above).
    value       TEXT CHECK ((field_group = '*') = (value IS NULL)),
    hlc         INTEGER NOT NULL,
    device_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL
) STRICT;
INSERT INTO _sync_outbox_v3 (seq, change_id, tbl, row_id, field_group, value, hlc, device_id, user_id)
    SELECT seq, change_id, tbl, row_id, field_group,
           CASE WHEN field_group = '*' THEN NULL ELSE value END, hlc, device_id, user_id
    FROM _sync_outbox ORDER BY seq;
DROP TABLE _sync_outbox;
ALTER TABLE _sync_outbox_v3 RENAME TO _sync_outbox;
