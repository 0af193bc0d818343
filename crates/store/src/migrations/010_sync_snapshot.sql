-- A first sync's snapshot as it downloads (local only): the pages received so far, as the
-- city sent them (zstd-compressed JSON), in order. A download cut off resumes after the last
-- page kept here (its position is in _sync_state: snapshot_after, snapshot_as_of,
-- snapshot_epoch); the pages are applied together, in one transaction, once the last arrives,
-- and then deleted.
CREATE TABLE _sync_snapshot (
    page INTEGER PRIMARY KEY,
    body BLOB NOT NULL
) STRICT;
