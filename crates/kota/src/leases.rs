//! Letter numbers without a duplicate (sync-notes §3.5, option B): the server hands each device
//! blocks of serials per series ("leases"), bound to the device and its epoch; the device issues
//! from them offline, and each issued number comes back as an `issue_letter` command that is
//! accepted only inside a lease of the device's current epoch and only once.
//!
//! Schema v3:
//! - `number_series(kelurahan_code, series, next_unallocated)`: the next serial no lease holds.
//! - `number_leases(lease_id, kelurahan_code, series, device_id, epoch, first, last,
//!   granted_at_ms, state)`: `active`, or `void` (the device was revoked or re-enrolled);
//!   `granted_at_ms` 0 marks a lease recorded again after a restore (`crate::backup`).
//! - v8 adds `number_series.recovery_from/recovery_to`: the window of numbers a restore may
//!   have lost the leases of.
//! - `issued_numbers(kelurahan_code, series, serial, letter_id, lease_id, device_id, number,
//!   issued_on, at_ms)`: PRIMARY KEY (kelurahan_code, series, serial) is the last guard: no
//!   serial of a series is issued twice, whatever a restored or cloned database sends.
//!
//! - v9 `unused_numbers(kelurahan_code, series, serial, lease_id, device_id, why, at_ms)`: the
//!   serials the register shows as "nomor tidak terpakai": given back by the PC that held them
//!   (`returned`: their year ended) or left in a lease that became void (`void`). A serial is
//!   never both issued and unused: each path checks the other table in its transaction.
//!
//! The online fast path is a lease of one whose id the PC chose ([`LeaseWant::lease_id`]):
//! asked again, it is answered with the same lease, so a lost answer costs no number.
//!
//! What it does not do: hand a returned number out again (a city that wants gapless numbering
//! over chronological order would need it: sync-notes §3.5, not decided); expire a lease
//! before its year ends.

use crate::db::{Db, Device};
use crate::feed::{ok, rejected};
use crate::sql::{params, Optional, Query, Tx};
use crate::KotaError;
use balai_protocol::{IssueLetter, Lease, LeaseRequest, Outcome, ReturnNumbers, MAX_LEASE};
use uuid::Uuid;

pub(crate) const SCHEMA_V3: &str = "
CREATE TABLE number_series (
    kelurahan_code TEXT NOT NULL,
    series TEXT NOT NULL,
    next_unallocated INTEGER NOT NULL,
    PRIMARY KEY (kelurahan_code, series)
) STRICT;
CREATE TABLE number_leases (
    lease_id TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL,
    series TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES devices(id),
    epoch INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    granted_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'void'))
) STRICT;
CREATE INDEX number_leases_by_device ON number_leases (device_id, state);
CREATE TABLE issued_numbers (
    kelurahan_code TEXT NOT NULL,
    series TEXT NOT NULL,
    serial INTEGER NOT NULL,
    letter_id TEXT NOT NULL,
    lease_id TEXT NOT NULL REFERENCES number_leases(lease_id),
    device_id TEXT NOT NULL,
    number TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (kelurahan_code, series, serial)
) STRICT;
";

pub(crate) const SCHEMA_V9: &str = "
CREATE TABLE unused_numbers (
    kelurahan_code TEXT NOT NULL,
    series TEXT NOT NULL,
    serial INTEGER NOT NULL,
    lease_id TEXT NOT NULL REFERENCES number_leases(lease_id),
    device_id TEXT NOT NULL,
    why TEXT NOT NULL CHECK (why IN ('returned', 'void')),
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (kelurahan_code, series, serial)
) STRICT;
";

/// A series name as the office makes it: `YYYY/type` or `YYYY/*`.
fn series_ok(s: &str) -> bool {
    let Some((year, kind)) = s.split_once('/') else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && !kind.is_empty()
        && kind.len() <= 40
        && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'*')
}

/// Grants one lease per series asked for, in one transaction (the request signed at
/// `signed_ms` by the device's clock). A new ask under a running number the device already
/// used for another lease comes from a restored copy of its database: the device is fenced.
pub fn grant(
    db: &Db,
    device: &Device,
    req: &LeaseRequest,
    (now_ms, signed_ms): (u64, u64),
) -> Result<Vec<Lease>, KotaError> {
    if req.device_id != device.id || req.epoch != device.epoch {
        db.security_event(Some(device.id), "epoch_or_device_mismatch", "lease", now_ms)?;
        return Err(KotaError::EpochFenced);
    }
    if req.wants.len() > 200 {
        return Err(KotaError::BadRequest(
            "Terlalu banyak seri nomor dalam satu permintaan.".into(),
        ));
    }
    // Inside: `Err(detail)` when the asks show a restored copy (fenced after the lock is
    // released).
    let granted = db.with(|c| {
        let tx = c.transaction()?;
        let gap = recovery_gap(&tx)?;
        let mut out = Vec::with_capacity(req.wants.len());
        for want in &req.wants {
            if !series_ok(&want.series) {
                return Err(KotaError::BadRequest(format!(
                    "Seri nomor «{}» tidak sesuai (TAHUN/jenis).",
                    want.series
                )));
            }
            let size = want.size.clamp(1, MAX_LEASE);
            if let Some(id) = want.lease_id {
                if let Some(lease) = asked_before(&tx, device, &want.series, id)? {
                    out.push(lease);
                    continue;
                }
            }
            if let Some(seq) = want.ask_seq {
                let other: Option<String> = tx
                    .query_row(
                        "SELECT lease_id FROM number_leases
                         WHERE device_id = ?1 AND epoch = ?2 AND ask_seq = ?3",
                        params![device.id.to_string(), device.epoch, seq as i64],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(other) = other {
                    drop(tx);
                    return Ok(Err(format!("ask {seq} reused (was lease {other})")));
                }
            }
            // The counter row is taken inside this transaction: grants of one kelurahan are
            // serialised, so two devices never get overlapping ranges.
            // A series first seen after a restore starts above the gap: the leases the city
            // lost may have been of it (see `crate::backup`).
            let next: i64 = tx.query_row(
                tx.dialect().pick(
                    "INSERT INTO number_series (kelurahan_code, series, next_unallocated,
                         recovery_from, recovery_to)
                     VALUES (?1, ?2, max(?3, ?5) + ?4 + 1,
                         CASE WHEN ?5 > 0 THEN 1 END, CASE WHEN ?5 > 0 THEN ?5 END)
                     ON CONFLICT (kelurahan_code, series) DO UPDATE
                        SET next_unallocated = max(next_unallocated, ?3 + 1) + ?4
                     RETURNING next_unallocated",
                    "INSERT INTO number_series (kelurahan_code, series, next_unallocated,
                         recovery_from, recovery_to)
                     VALUES (?1, ?2, greatest(CAST(?3 AS BIGINT), CAST(?5 AS BIGINT)) + ?4 + 1,
                         CASE WHEN ?5 > 0 THEN 1 END, CASE WHEN ?5 > 0 THEN ?5 END)
                     ON CONFLICT (kelurahan_code, series) DO UPDATE
                        SET next_unallocated =
                            greatest(number_series.next_unallocated, ?3 + 1) + ?4
                     RETURNING next_unallocated",
                ),
                params![device.kelurahan_code, want.series, want.floor, size, gap],
                |r| r.get(0),
            )?;
            let (first, last) = (next - size as i64, next - 1);
            let lease_id = want.lease_id.unwrap_or_else(Uuid::now_v7);
            tx.execute(
                "INSERT INTO number_leases (lease_id, kelurahan_code, series, device_id, epoch,
                     first, last, granted_at_ms, state, ask_seq, asked_signed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', ?9, ?10)",
                params![
                    lease_id.to_string(),
                    device.kelurahan_code,
                    want.series,
                    device.id.to_string(),
                    device.epoch,
                    first,
                    last,
                    now_ms as i64,
                    want.ask_seq.map(|s| s as i64),
                    signed_ms as i64
                ],
            )?;
            out.push(Lease {
                lease_id,
                series: want.series.clone(),
                first: first as u32,
                last: last as u32,
            });
        }
        tx.commit()?;
        Ok(Ok(out))
    })?;
    match granted {
        Ok(out) => Ok(out),
        Err(detail) => Err(db.fence(device.id, &detail, now_ms)?),
    }
}

/// The lease a PC asked for under id `id` before (its answer was lost), or `None` when that id
/// is new. An id that is another device's, epoch's or series' lease is refused.
fn asked_before(
    tx: &Tx,
    device: &Device,
    series: &str,
    id: Uuid,
) -> Result<Option<Lease>, KotaError> {
    let row: Option<(String, String, u32, i64, i64)> = tx
        .query_row(
            "SELECT series, device_id, epoch, first, last FROM number_leases WHERE lease_id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((s, d, e, first, last))
            if s == series && d == device.id.to_string() && e == device.epoch =>
        {
            Ok(Some(Lease { lease_id: id, series: s, first: first as u32, last: last as u32 }))
        }
        Some(_) => Err(KotaError::BadRequest(format!(
            "Sewa nomor {id} sudah dipakai untuk seri atau perangkat lain."
        ))),
    }
}

/// The `issue_letter` command inside a push transaction.
pub(crate) fn issue_letter(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<IssueLetter>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah issue_letter tidak lengkap."));
    };
    let lookup = || -> Result<Option<LeaseRow>, KotaError> {
        Ok(tx
            .query_row(
                "SELECT kelurahan_code, series, device_id, epoch, first, last, state, granted_at_ms
                 FROM number_leases WHERE lease_id = ?1",
                [a.lease_id.to_string()],
                |r| {
                    Ok(LeaseRow {
                        kelurahan: r.get(0)?,
                        series: r.get(1)?,
                        device: r.get(2)?,
                        epoch: r.get(3)?,
                        first: r.get(4)?,
                        last: r.get(5)?,
                        state: r.get(6)?,
                        recorded_again: r.get::<i64>(7)? == 0,
                    })
                },
            )
            .optional()?)
    };
    let mut lease = lookup()?;
    // A lease the city lost in a restore (unknown, or recorded again from an earlier number).
    if lease.as_ref().is_none_or(|l| l.recorded_again) && recover_lease(tx, device, &a)? {
        lease = lookup()?;
    }
    let conflict = |winner: Option<&str>, message: String| Outcome::Conflict {
        winner: serde_json::json!({ "letter_id": winner }),
        message,
    };
    let serial = a.serial as i64;
    let valid = match &lease {
        None => Err("bukan dari sewa nomor server ini"),
        Some(l) if l.kelurahan != device.kelurahan_code => Err("sewa nomor milik kelurahan lain"),
        Some(l) if l.series != a.series => Err("seri nomor tidak sama dengan sewanya"),
        Some(l) if l.device != device.id.to_string() || l.epoch != device.epoch => {
            Err("sewa nomor milik perangkat atau salinan basis data lain")
        }
        Some(l) if serial < l.first || serial > l.last => Err("nomor di luar rentang sewanya"),
        Some(l) if l.state != "active" => Err("sewa nomor sudah tidak berlaku"),
        Some(_) => Ok(()),
    };
    if let Err(why) = valid {
        return Ok(conflict(None, format!("Nomor {} ditolak: {why}; beri nomor ulang.", a.number)));
    }
    if unused(tx, &device.kelurahan_code, &a.series, a.serial)?.is_some() {
        return Ok(conflict(
            None,
            format!("Nomor {} sudah tercatat tidak terpakai; beri nomor ulang.", a.number),
        ));
    }
    let earlier: Option<String> = tx
        .query_row(
            "SELECT letter_id FROM issued_numbers
             WHERE kelurahan_code = ?1 AND series = ?2 AND serial = ?3",
            params![device.kelurahan_code, a.series, a.serial],
            |r| r.get(0),
        )
        .optional()?;
    match earlier {
        // The same letter again (its push answer was lost): answered ok again.
        Some(id) if id == a.letter_id.to_string() => {}
        Some(other) => {
            return Ok(conflict(
                Some(&other),
                format!("Nomor {} sudah dipakai surat lain; beri nomor ulang.", a.number),
            ))
        }
        None => {
            tx.execute(
                "INSERT INTO issued_numbers (kelurahan_code, series, serial, letter_id, lease_id,
                     device_id, number, issued_on, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    device.kelurahan_code,
                    a.series,
                    a.serial,
                    a.letter_id.to_string(),
                    a.lease_id.to_string(),
                    device.id.to_string(),
                    a.number,
                    a.issued_on,
                    now_ms as i64
                ],
            )?;
        }
    }
    Ok(ok())
}

/// Why `serial` of `series` is recorded unused (`returned`, `void`), if it is.
fn unused(
    tx: &Tx,
    kelurahan: &str,
    series: &str,
    serial: u32,
) -> Result<Option<String>, KotaError> {
    Ok(tx
        .query_row(
            "SELECT why FROM unused_numbers
             WHERE kelurahan_code = ?1 AND series = ?2 AND serial = ?3",
            params![kelurahan, series, serial],
            |r| r.get(0),
        )
        .optional()?)
}

/// The `return_numbers` command inside a push transaction: the serials are recorded unused
/// and the lease no longer holds them. Repeated (a lost answer), it is answered ok again.
pub(crate) fn return_numbers(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<ReturnNumbers>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah return_numbers tidak lengkap."));
    };
    let lease: Option<(String, String, String, u32, i64, i64)> = tx
        .query_row(
            "SELECT kelurahan_code, series, device_id, epoch, first, last FROM number_leases
             WHERE lease_id = ?1",
            [a.lease_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let refuse = |why: &str| {
        Ok(rejected(
            "invalid",
            &format!(
                "Nomor {}–{} seri {} tidak dapat dikembalikan: {why}.",
                a.first, a.last, a.series
            ),
        ))
    };
    let Some((kelurahan, series, owner, epoch, first, last)) = lease else {
        return refuse("sewanya tidak dikenal server");
    };
    if kelurahan != device.kelurahan_code || owner != device.id.to_string() || epoch != device.epoch
    {
        return refuse("sewanya milik perangkat atau salinan basis data lain");
    }
    if series != a.series
        || a.first > a.last
        || i64::from(a.first) < first
        || i64::from(a.last) > last
    {
        return refuse("di luar rentang sewanya");
    }
    let issued: i64 = tx.query_row(
        "SELECT count(*) FROM issued_numbers
         WHERE kelurahan_code = ?1 AND series = ?2 AND serial BETWEEN ?3 AND ?4",
        params![kelurahan, series, a.first, a.last],
        |r| r.get(0),
    )?;
    if issued > 0 {
        return refuse(&format!("{issued} di antaranya sudah terbit"));
    }
    for serial in a.first..=a.last {
        tx.execute(
            "INSERT INTO unused_numbers (kelurahan_code, series, serial, lease_id, device_id, why, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, 'returned', ?6)
             ON CONFLICT (kelurahan_code, series, serial) DO NOTHING",
            params![kelurahan, series, serial, a.lease_id.to_string(), owner, now_ms as i64],
        )?;
    }
    Ok(ok())
}

/// The gap a restore left (0 if the database was never restored).
fn recovery_gap(tx: &Tx) -> Result<i64, KotaError> {
    let gap: Option<String> = tx
        .query_row("SELECT value FROM meta WHERE key = 'recovery_gap'", [], |r| r.get(0))
        .optional()?;
    Ok(gap.and_then(|g| g.parse().ok()).unwrap_or(0))
}

/// One row of `number_leases`.
struct LeaseRow {
    kelurahan: String,
    series: String,
    device: String,
    epoch: u32,
    first: i64,
    last: i64,
    state: String,
    /// Recorded again after a restore from the numbers it issued (`granted_at_ms` 0).
    recorded_again: bool,
}

/// A lease the city lost in a restore, as far as this number shows it: when the number lies in
/// its series' recovery window, the lease is recorded again for this device and epoch (widened
/// to each number seen; `granted_at_ms` 0) and the number is then checked like any other.
/// Answers whether it did.
fn recover_lease(tx: &Tx, device: &Device, a: &IssueLetter) -> Result<bool, KotaError> {
    let gap = recovery_gap(tx)?;
    if gap == 0 {
        return Ok(false);
    }
    // A series the restored city never saw: its window is the gap from 1.
    tx.execute(
        "INSERT INTO number_series (kelurahan_code, series, next_unallocated, recovery_from, recovery_to)
         VALUES (?1, ?2, ?3 + 1, 1, ?3) ON CONFLICT (kelurahan_code, series) DO NOTHING",
        params![device.kelurahan_code, a.series, gap],
    )?;
    let window: Option<(Option<i64>, Option<i64>)> = tx
        .query_row(
            "SELECT recovery_from, recovery_to FROM number_series
             WHERE kelurahan_code = ?1 AND series = ?2",
            params![device.kelurahan_code, a.series],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let serial = a.serial as i64;
    if !matches!(window, Some((Some(from), Some(to))) if from <= serial && serial <= to) {
        return Ok(false);
    }
    // Only this device's own lost lease is widened; another's stays as it is (and the number
    // is then refused as that device's).
    tx.execute(
        tx.dialect().pick(
            "INSERT INTO number_leases (lease_id, kelurahan_code, series, device_id, epoch, first,
                 last, granted_at_ms, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0, 'active')
             ON CONFLICT (lease_id) DO UPDATE
                SET first = min(first, excluded.first), last = max(last, excluded.last)
                WHERE device_id = excluded.device_id AND epoch = excluded.epoch
                  AND series = excluded.series AND granted_at_ms = 0",
            "INSERT INTO number_leases AS l (lease_id, kelurahan_code, series, device_id, epoch,
                 first, last, granted_at_ms, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0, 'active')
             ON CONFLICT (lease_id) DO UPDATE
                SET first = least(l.first, excluded.first), last = greatest(l.last, excluded.last)
                WHERE l.device_id = excluded.device_id AND l.epoch = excluded.epoch
                  AND l.series = excluded.series AND l.granted_at_ms = 0",
        ),
        params![
            a.lease_id.to_string(),
            device.kelurahan_code,
            a.series,
            device.id.to_string(),
            device.epoch,
            serial
        ],
    )?;
    Ok(true)
}

/// Every lease of `device` becomes void (it was revoked): numbers it issues from them later are
/// conflicts.
/// Their serials not issued are recorded unused (`void`): no PC may issue them any more.
pub(crate) fn void_device(tx: &Tx, device: Uuid, now_ms: u64) -> Result<(), KotaError> {
    let leases: Vec<(String, String, String, i64, i64)> = {
        let mut st = tx.prepare(
            "SELECT lease_id, kelurahan_code, series, first, last FROM number_leases
             WHERE device_id = ?1 AND state = 'active'",
        )?;
        let rows = st.query_map([device.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    tx.execute(
        "UPDATE number_leases SET state = 'void' WHERE device_id = ?1",
        [device.to_string()],
    )?;
    for (lease_id, kelurahan, series, first, last) in leases {
        let issued: std::collections::BTreeSet<i64> = {
            let mut st = tx.prepare(
                "SELECT serial FROM issued_numbers
                 WHERE kelurahan_code = ?1 AND series = ?2 AND serial BETWEEN ?3 AND ?4",
            )?;
            let rows = st.query_map(params![kelurahan, series, first, last], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for serial in (first..=last).filter(|s| !issued.contains(s)) {
            tx.execute(
                "INSERT INTO unused_numbers (kelurahan_code, series, serial, lease_id, device_id,
                     why, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'void', ?6)
                 ON CONFLICT (kelurahan_code, series, serial) DO NOTHING",
                params![kelurahan, series, serial, lease_id, device.to_string(), now_ms as i64],
            )?;
        }
    }
    Ok(())
}

/// One lease as the city's books show it: what it granted, and which of its serials were
/// issued and which recorded unused (the rest are still the holder's to issue or give back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseLedger {
    pub lease_id: Uuid,
    pub kelurahan_code: String,
    pub series: String,
    pub device_id: Uuid,
    pub epoch: u32,
    pub first: u32,
    pub last: u32,
    pub void: bool,
    /// Recorded again after a restore, from the numbers seen (not as granted).
    pub recorded_again: bool,
    pub issued: std::collections::BTreeSet<u32>,
    pub unused: std::collections::BTreeSet<u32>,
}

/// Every lease the city granted, with its issued and unused serials, by lease id.
pub fn ledger(db: &Db) -> Result<Vec<LeaseLedger>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT lease_id, kelurahan_code, series, device_id, epoch, first, last, state,
                 granted_at_ms
             FROM number_leases ORDER BY lease_id",
        )?;
        let rows = st.query_map([], |r| {
            let id = |i: usize| -> Result<Uuid, crate::sql::SqlError> {
                Ok(Uuid::parse_str(&r.get::<String>(i)?).unwrap_or_default())
            };
            Ok(LeaseLedger {
                lease_id: id(0)?,
                kelurahan_code: r.get(1)?,
                series: r.get(2)?,
                device_id: id(3)?,
                epoch: r.get(4)?,
                first: r.get(5)?,
                last: r.get(6)?,
                void: r.get::<String>(7)? == "void",
                recorded_again: r.get::<i64>(8)? == 0,
                issued: Default::default(),
                unused: Default::default(),
            })
        })?;
        let mut leases: Vec<LeaseLedger> = rows.collect::<Result<_, _>>()?;
        let by_id: std::collections::BTreeMap<String, usize> =
            leases.iter().enumerate().map(|(i, l)| (l.lease_id.to_string(), i)).collect();
        for (table, issued) in [("issued_numbers", true), ("unused_numbers", false)] {
            let mut st = c.prepare(&format!("SELECT lease_id, serial FROM {table}"))?;
            let rows = st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<u32>(1)?)))?;
            for row in rows {
                let (lease, serial) = row?;
                if let Some(&i) = by_id.get(&lease) {
                    let l = &mut leases[i];
                    if issued {
                        l.issued.insert(serial)
                    } else {
                        l.unused.insert(serial)
                    };
                }
            }
        }
        Ok(leases)
    })
}
