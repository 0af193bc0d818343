-- What of the letters this PC has told the city, so each is told once (local only): `key` (an
-- office signing key's public half, by key id) and `void` (a voided letter, by letter id). The
-- city's verification page needs both: the keys to check a QR's signature, the voids to say a
-- letter no longer stands.
CREATE TABLE _sync_published (
    kind TEXT NOT NULL CHECK (kind IN ('key', 'void')),
    id   TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT, WITHOUT ROWID;
