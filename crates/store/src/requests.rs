//! Residents' online requests on the office PC (schema in `migrations/009_online_requests.sql`):
//! written from the city's feed (new requests, and where another PC of the office took one)
//! and by this PC's clerks (taking one, finishing or refusing it). The rule that one PC holds a
//! request is the city's; this only keeps what the office knows.

use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

#[derive(Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: Uuid,
    pub tracking_code: String,
    pub nik: String,
    pub no_kk: String,
    pub letter_type: String,
    pub purpose: String,
    pub contact: String,
    pub submitted_at_ms: u64,
    pub status: String,
    pub claimed_by: Option<String>,
    pub note: String,
}

impl std::fmt::Debug for RequestRow {
    // No NIK, No. KK or contact in any debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A new request from the city (a repeat of one already here changes nothing).
pub fn insert(tx: &Transaction, r: &RequestRow, now_ms: u64) -> Result<()> {
    tx.execute(
        "INSERT INTO online_requests (id, tracking_code, nik, no_kk, letter_type, purpose, contact,
             submitted_at_ms, status, claimed_by, note, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO NOTHING",
        params![
            r.id,
            r.tracking_code,
            r.nik,
            r.no_kk,
            r.letter_type,
            r.purpose,
            r.contact,
            r.submitted_at_ms as i64,
            r.status,
            r.claimed_by,
            r.note,
            now_ms as i64
        ],
    )?;
    Ok(())
}

/// Where request `id` stands now; answers whether the office knows it.
pub fn set_status(
    tx: &Transaction,
    id: Uuid,
    status: &str,
    claimed_by: Option<&str>,
    note: &str,
    now_ms: u64,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE online_requests SET status = ?1, claimed_by = ?2, note = ?3, updated_at_ms = ?4
         WHERE id = ?5",
        params![status, claimed_by, note, now_ms as i64, id],
    )?;
    Ok(n > 0)
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: r.get(0)?,
        tracking_code: r.get(1)?,
        nik: r.get(2)?,
        no_kk: r.get(3)?,
        letter_type: r.get(4)?,
        purpose: r.get(5)?,
        contact: r.get(6)?,
        submitted_at_ms: r.get::<_, i64>(7)? as u64,
        status: r.get(8)?,
        claimed_by: r.get(9)?,
        note: r.get(10)?,
    })
}

const COLUMNS: &str = "id, tracking_code, nik, no_kk, letter_type, purpose, contact,
    submitted_at_ms, status, claimed_by, note";

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<RequestRow>> {
    Ok(conn
        .query_row(&format!("SELECT {COLUMNS} FROM online_requests WHERE id = ?1"), [id], row)
        .optional()?)
}

/// Every request, waiting ones first, then by when they were sent (newest first).
pub fn list(conn: &Connection) -> Result<Vec<RequestRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM online_requests
         ORDER BY status = 'selesai' OR status = 'ditolak', submitted_at_ms DESC"
    ))?;
    let rows = st.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
