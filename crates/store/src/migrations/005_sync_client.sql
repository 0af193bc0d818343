-- The office side of sync with Balai Kota. Enrolment, cursors and the device key live in
-- _sync_state (keys: server_url, server_device_id, epoch, key_seed, kelurahan_code,
-- pushed_through, last_push_ms, clock_offset_ms); this table lists what the server refused.

-- An outbox entry (by its seq, which is the device_seq on the wire) the server rejected for
-- good, with its stable code and message: shown on the sync page; the queue went on.
CREATE TABLE _sync_rejected (
    seq     INTEGER PRIMARY KEY,
    code    TEXT NOT NULL,
    message TEXT NOT NULL,
    at_ms   INTEGER NOT NULL
) STRICT;
