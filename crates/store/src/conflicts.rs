//! Identity conflicts on the office PC (schema in `migrations/011_identity_conflicts.sql`):
//! written from the city's feed, listed for a supervisor, closed by a review made here or on
//! another PC of the office. Finding conflicts is the city's (it sees every PC's edits); this
//! keeps what the office was told.

use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

/// One conflict as the office keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct ConflictRow {
    pub id: Uuid,
    pub table: String,
    pub row_id: Uuid,
    pub field_group: String,
    /// JSON array of the identity fields that differ.
    pub fields: String,
    /// The field group's columns as JSON, with the HLC and device id of who wrote them.
    pub kept: (String, u64, String),
    pub lost: (String, u64, String),
    pub found_at_ms: u64,
    pub reviewed_at_ms: Option<u64>,
    pub review_note: String,
}

impl std::fmt::Debug for ConflictRow {
    // The values hold NIKs and names: never in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConflictRow")
            .field("id", &self.id)
            .field("table", &self.table)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

/// A conflict the city found (a repeat changes nothing).
pub fn insert(tx: &Transaction, c: &ConflictRow) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO identity_conflicts (id, tbl, row_id, field_group, fields, kept_value,
             kept_device, kept_hlc, lost_value, lost_device, lost_hlc, found_at_ms,
             reviewed_at_ms, review_note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![
        c.id,
        c.table,
        c.row_id,
        c.field_group,
        c.fields,
        c.kept.0,
        c.kept.2,
        c.kept.1 as i64,
        c.lost.0,
        c.lost.2,
        c.lost.1 as i64,
        c.found_at_ms as i64,
        c.reviewed_at_ms.map(|v| v as i64),
        c.review_note,
    ])?;
    Ok(())
}

/// Closes conflict `id` (the first review stands); answers whether it was open.
pub fn review(tx: &Transaction, id: Uuid, note: &str, at_ms: u64) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE identity_conflicts SET reviewed_at_ms = ?2, review_note = ?3
             WHERE id = ?1 AND reviewed_at_ms IS NULL",
        )?
        .execute(params![id, at_ms as i64, note])?;
    Ok(n == 1)
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<ConflictRow> {
    Ok(ConflictRow {
        id: r.get(0)?,
        table: r.get(1)?,
        row_id: r.get(2)?,
        field_group: r.get(3)?,
        fields: r.get(4)?,
        kept: (r.get(5)?, r.get::<_, i64>(7)? as u64, r.get(6)?),
        lost: (r.get(8)?, r.get::<_, i64>(10)? as u64, r.get(9)?),
        found_at_ms: r.get::<_, i64>(11)? as u64,
        reviewed_at_ms: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
        review_note: r.get(13)?,
    })
}

const COLUMNS: &str = "id, tbl, row_id, field_group, fields, kept_value, kept_device, kept_hlc,
    lost_value, lost_device, lost_hlc, found_at_ms, reviewed_at_ms, review_note";

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<ConflictRow>> {
    let sql = format!("SELECT {COLUMNS} FROM identity_conflicts WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], row).optional()?)
}

/// Every conflict, the open ones first, each part oldest first.
pub fn list(conn: &Connection) -> Result<Vec<ConflictRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM identity_conflicts
         ORDER BY reviewed_at_ms IS NOT NULL, found_at_ms, id"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many wait for review.
pub fn open_count(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM identity_conflicts WHERE reviewed_at_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// The record a conflict is about, as the register holds it now: a resident's name or a
/// family's No. KK (`None` when the row is not on this PC).
pub fn subject(conn: &Connection, table: &str, row_id: Uuid) -> Result<Option<String>> {
    let sql = match table {
        "residents" => "SELECT full_name FROM residents WHERE id = ?1",
        "families" => "SELECT no_kk FROM families WHERE id = ?1",
        _ => return Ok(None),
    };
    Ok(conn.query_row(sql, [row_id], |r| r.get(0)).optional()?)
}
