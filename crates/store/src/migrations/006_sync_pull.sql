-- Pulled changes that could not be applied yet, kept (never dropped) until they can be:
-- a field group this version does not know (a newer Balai wrote it; kept so nothing of it is
-- lost), a group of a row whose other groups have not arrived, a table this version does not
-- have, or a change the schema refused. One row per (table, row, group), the newest by
-- (hlc, device). `reason` is a stable code: unknown_table, unknown_group, row_incomplete,
-- delete, invalid.
CREATE TABLE _sync_held (
    tbl         TEXT NOT NULL,
    row_id      BLOB NOT NULL,
    field_group TEXT NOT NULL,
    value       TEXT NOT NULL,
    hlc         INTEGER NOT NULL,
    device_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (tbl, row_id, field_group)
) STRICT, WITHOUT ROWID;
