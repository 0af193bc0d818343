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

/// Takes the next serial of `series` from the oldest lease of `epoch` that has one left:
/// `(lease, serial)`, or `None` when the reserve of that series is empty.
pub fn take(tx: &Transaction, series: &str, epoch: u32) -> Result<Option<(Uuid, u32)>> {
    Ok(tx
        .query_row(
            "UPDATE number_leases SET next = next + 1
             WHERE lease_id = (SELECT lease_id FROM number_leases
                               WHERE series = ?1 AND epoch = ?2 AND next <= last
                               ORDER BY first LIMIT 1)
             RETURNING lease_id, next - 1",
            params![series, epoch],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
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
