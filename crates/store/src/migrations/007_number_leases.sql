-- Letter-number leases the city granted this PC (sync-notes §3.5): serials first..=last of a
-- series, handed out from `next` upward inside the issuing transaction, so a serial leaves a
-- lease once. `epoch` is the enrolment the lease was granted to: a lease of another epoch is
-- never drawn from (the city voids it too).
CREATE TABLE number_leases (
    lease_id      BLOB PRIMARY KEY,
    series        TEXT NOT NULL,
    epoch         INTEGER NOT NULL,
    first         INTEGER NOT NULL,
    last          INTEGER NOT NULL,
    next          INTEGER NOT NULL,
    granted_at_ms INTEGER NOT NULL,
    CHECK (first <= next AND next <= last + 1)
) STRICT, WITHOUT ROWID;
CREATE INDEX number_leases_by_series ON number_leases (series, epoch, first);
