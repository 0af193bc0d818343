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
//! What it does not do yet: the online fast path (a lease of one at issue time), returning
//! unused numbers as "nomor tidak terpakai", lease expiry.

use crate::db::{Db, Device};
use crate::feed::{ok, rejected};
use crate::KotaError;
use balai_protocol::{IssueLetter, Lease, LeaseRequest, Outcome, MAX_LEASE};
use crate::sql::{params, Optional, Query, Tx};
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

/// A series name as the office makes it: `YYYY/type` or `YYYY/*`.
fn series_ok(s: &str) -> bool {
    let Some((year, kind)) = s.split_once('/') else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && !kind.is_empty()
        && kind.len() <= 40
        && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'*')
}

/// Grants one lease per series asked for, in one transaction.
pub fn grant(
    db: &Db,
    device: &Device,
    req: &LeaseRequest,
    now_ms: u64,
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
    db.with(|c| {
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
            let lease_id = Uuid::now_v7();
            tx.execute(
                "INSERT INTO number_leases (lease_id, kelurahan_code, series, device_id, epoch,
                     first, last, granted_at_ms, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active')",
                params![
                    lease_id.to_string(),
                    device.kelurahan_code,
                    want.series,
                    device.id.to_string(),
                    device.epoch,
                    first,
                    last,
                    now_ms as i64
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
        Ok(out)
    })
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
pub(crate) fn void_device(tx: &Tx, device: Uuid) -> Result<(), KotaError> {
    tx.execute(
        "UPDATE number_leases SET state = 'void' WHERE device_id = ?1",
        [device.to_string()],
    )?;
    Ok(())
}

/// The numbers issued in a kelurahan, `(series, serial, number, device)` in series order: the
/// city's copy of the outgoing-letter register.
pub fn issued(db: &Db, kelurahan: &str) -> Result<Vec<(String, u32, String, Uuid)>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT series, serial, number, device_id FROM issued_numbers
             WHERE kelurahan_code = ?1 ORDER BY series, serial",
        )?;
        let rows = st.query_map([kelurahan], |r| {
            let d: String = r.get(3)?;
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, Uuid::parse_str(&d).unwrap_or_default()))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}
