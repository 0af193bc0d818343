//! The letter-number leases this PC holds (schema in `migrations/007_number_leases.sql`):
//! what the city granted, drawn from in the issuing transaction, and what is left per series
//! so sync knows what to refill. The rules (who may hold which range) are the city's.

use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

/// A block of serials `first..=last` of `series`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub lease_id: Uuid,
    pub series: String,
    pub first: u32,
    pub last: u32,
}

/// Stores leases granted to enrolment `epoch` (a repeat of a lease already held is ignored).
pub fn add(tx: &Transaction, epoch: u32, leases: &[Granted], now_ms: u64) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO number_leases (lease_id, series, epoch, first, last, next, granted_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6) ON CONFLICT (lease_id) DO NOTHING",
    )?;
    for l in leases {
        st.execute(params![l.lease_id, l.series, epoch, l.first, l.last, now_ms as i64])?;
    }
    Ok(())
}

/// Takes the next serial of `series` for enrolment `epoch`: a single number the city leased
/// for this letter (the online fast path) if there is one, else the lowest of the reserve:
/// `(lease, serial)`, or `None` when there is no number left in that series.
pub fn take(tx: &Transaction, series: &str, epoch: u32) -> Result<Option<(Uuid, u32)>> {
    Ok(tx
        .query_row(
            "UPDATE number_leases SET next = next + 1
             WHERE lease_id = (SELECT lease_id FROM number_leases
                               WHERE series = ?1 AND epoch = ?2 AND next <= last
                               ORDER BY last > first, first LIMIT 1)
             RETURNING lease_id, next - 1",
            params![series, epoch],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Whether a single number leased for a letter (the online fast path) is still unissued in
/// `series`: the next letter takes it, no new one is asked for.
pub fn single_left(conn: &Connection, series: &str, epoch: u32) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM number_leases
             WHERE series = ?1 AND epoch = ?2 AND first = last AND next <= last LIMIT 1",
            params![series, epoch],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Numbers left in a lease that will never be issued: `first..=last` of `series`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unissued {
    pub lease_id: Uuid,
    pub series: String,
    pub first: u32,
    pub last: u32,
}

/// The numbers left in leases of enrolment `epoch` whose year is before `year` (series are
/// `YYYY/…`: no letter of an ended year is issued any more), by series.
pub fn left_before(conn: &Connection, epoch: u32, year: i32) -> Result<Vec<Unissued>> {
    let mut st = conn.prepare_cached(
        "SELECT lease_id, series, next, last FROM number_leases
         WHERE epoch = ?1 AND next <= last AND CAST(substr(series, 1, 4) AS INTEGER) < ?2
         ORDER BY series, first",
    )?;
    let rows = st.query_map(params![epoch, year], |r| {
        Ok(Unissued { lease_id: r.get(0)?, series: r.get(1)?, first: r.get(2)?, last: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Empties lease `lease_id`: what it had left was given back to the city.
pub fn give_back(tx: &Transaction, lease_id: Uuid) -> Result<()> {
    tx.execute("UPDATE number_leases SET next = last + 1 WHERE lease_id = ?1", [lease_id])?;
    Ok(())
}

/// A lease as this PC holds it: serials `next..=last` of `series` are still unissued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub lease_id: Uuid,
    pub series: String,
    pub next: u32,
    pub last: u32,
    pub epoch: u32,
}

/// Every lease this PC holds, by lease id.
pub fn held(conn: &Connection) -> Result<Vec<Held>> {
    let mut st = conn.prepare_cached(
        "SELECT lease_id, series, next, last, epoch FROM number_leases ORDER BY lease_id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Held {
            lease_id: r.get(0)?,
            series: r.get(1)?,
            next: r.get(2)?,
            last: r.get(3)?,
            epoch: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many letters of the kind of `series` (`YYYY/kind`: any year's) the office issued on or
/// after `since` (`YYYY-MM-DD`): what sizes that series' reserve.
pub fn issued_since(conn: &Connection, series: &str, since: &str) -> Result<u32> {
    let kind = series.get(5..).unwrap_or_default();
    Ok(conn.query_row(
        "SELECT count(*) FROM letters WHERE issued_on >= ?2 AND substr(series, 6) = ?1",
        params![kind, since],
        |r| r.get(0),
    )?)
}

/// Numbers left per series for enrolment `epoch`: `(series, left)`, by series.
pub fn left(conn: &Connection, epoch: u32) -> Result<Vec<(String, u32)>> {
    let mut st = conn.prepare_cached(
        "SELECT series, sum(last + 1 - next) FROM number_leases WHERE epoch = ?1
         GROUP BY series ORDER BY series",
    )?;
    let rows = st.query_map([epoch], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The highest serial this office numbered itself in `series` (before it was enrolled), or 0.
pub fn local_floor(conn: &Connection, series: &str) -> Result<u32> {
    Ok(conn
        .query_row("SELECT last_serial FROM letter_series WHERE series = ?1", [series], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0))
}
