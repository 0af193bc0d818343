-- Identity conflicts the city found (sync-notes §3.6): two PCs of the office wrote different
-- values into a resident's NIK or name, or a family's No. KK, neither having seen the other's.
-- The row holds the merge's winner (`kept_*`); `lost_*` is the value the other clerk typed.
-- Local only: written from the city's feed (`identity_conflict`), closed by a supervisor's
-- review here or on another PC (`review_conflict`). `fields` is a JSON array of the identity
-- fields that differ; the values are the field group's columns as JSON.
CREATE TABLE identity_conflicts (
    id             BLOB PRIMARY KEY,
    tbl            TEXT NOT NULL,
    row_id         BLOB NOT NULL,
    field_group    TEXT NOT NULL,
    fields         TEXT NOT NULL,
    kept_value     TEXT NOT NULL,
    kept_device    TEXT NOT NULL,
    kept_hlc       INTEGER NOT NULL,
    lost_value     TEXT NOT NULL,
    lost_device    TEXT NOT NULL,
    lost_hlc       INTEGER NOT NULL,
    found_at_ms    INTEGER NOT NULL,
    reviewed_at_ms INTEGER,
    review_note    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX identity_conflicts_open ON identity_conflicts (reviewed_at_ms, found_at_ms);
