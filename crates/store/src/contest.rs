//! Scorecard periods on the office PC (schema in `migrations/012_contest.sql`): indicator
//! values (synced), evidence files by content hash, planner efforts, accepted plans as tasks,
//! submitted periods; and the register's measures the computed indicators need. The rules
//! (what a value may be, what a score is) are balai-contest's, applied by balai-app.

use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

/// The row id of an indicator's value in a period of kelurahan `kelurahan` (its Kemendagri
/// code): the same on every PC of the office, so values entered offline on two PCs meet in one
/// row and the merge keeps the newest; different for every kelurahan, whose rows the city
/// keeps apart.
pub fn value_id(kelurahan: &str, ruleset: &str, period: i32, indicator: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest =
        Sha256::digest(format!("contest_values\n{kelurahan}\n{ruleset}\n{period}\n{indicator}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Version 8 (custom), RFC 4122 variant: never equal to a v7 id made on a device.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRow {
    pub ruleset: String,
    pub edition: String,
    pub period: i32,
    pub indicator: String,
    /// `None`: cleared.
    pub value: Option<i64>,
    pub note: String,
    pub entered_by: String,
    pub entered_at_ms: u64,
}

/// Sets (or clears) an indicator's value under row id `id` ([`value_id`]); captured for sync
/// like any edit.
pub fn set_value(tx: &Transaction, id: Uuid, v: &ValueRow) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO contest_values (id, ruleset, edition, period, indicator, value, note,
             entered_by, entered_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET edition = excluded.edition, value = excluded.value,
             note = excluded.note, entered_by = excluded.entered_by,
             entered_at_ms = excluded.entered_at_ms",
    )?
    .execute(params![
        id,
        v.ruleset,
        v.edition,
        v.period,
        v.indicator,
        v.value,
        v.note,
        v.entered_by,
        v.entered_at_ms as i64
    ])?;
    Ok(())
}

fn value_row(r: &rusqlite::Row) -> rusqlite::Result<ValueRow> {
    Ok(ValueRow {
        ruleset: r.get(0)?,
        edition: r.get(1)?,
        period: r.get(2)?,
        indicator: r.get(3)?,
        value: r.get(4)?,
        note: r.get(5)?,
        entered_by: r.get(6)?,
        entered_at_ms: r.get::<_, i64>(7)?.max(0) as u64,
    })
}

const VALUE_COLUMNS: &str =
    "ruleset, edition, period, indicator, value, note, entered_by, entered_at_ms";

/// Every value row of a period (cleared ones included), by indicator.
pub fn values(conn: &Connection, ruleset: &str, period: i32) -> Result<Vec<ValueRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {VALUE_COLUMNS} FROM contest_values WHERE ruleset = ?1 AND period = ?2
         ORDER BY indicator"
    ))?;
    let rows = st.query_map(params![ruleset, period], value_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The periods of a rule set that hold a value or are submitted, oldest first.
pub fn periods(conn: &Connection, ruleset: &str) -> Result<Vec<i32>> {
    let mut st = conn.prepare_cached(
        "SELECT period FROM contest_values WHERE ruleset = ?1 AND value IS NOT NULL
         UNION SELECT period FROM contest_periods WHERE ruleset = ?1 ORDER BY 1",
    )?;
    let rows = st.query_map([ruleset], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A file's bytes by content hash: stored once however often it is attached.
pub fn put_file(
    tx: &Transaction,
    sha256: &str,
    media_type: &str,
    bytes: &[u8],
    thumbnail: Option<&[u8]>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO contest_files (sha256, media_type, bytes, thumbnail) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sha256) DO NOTHING",
    )?
    .execute(params![sha256, media_type, bytes, thumbnail])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    pub id: Uuid,
    pub ruleset: String,
    pub period: i32,
    pub indicator: String,
    pub sha256: String,
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    /// Whether a thumbnail was made (photos, and PDFs whose first page could be drawn).
    pub thumbnail: bool,
    pub added_by: String,
    pub added_at_ms: u64,
}

/// Attaches a stored file to an indicator; `false` when it was attached already.
pub fn attach(tx: &Transaction, e: &EvidenceRow) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT INTO contest_evidence (id, ruleset, period, indicator, sha256, file_name,
                 added_by, added_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (ruleset, period, indicator, sha256) DO NOTHING",
        )?
        .execute(params![
            e.id,
            e.ruleset,
            e.period,
            e.indicator,
            e.sha256,
            e.file_name,
            e.added_by,
            e.added_at_ms as i64
        ])?;
    Ok(n == 1)
}

/// The evidence of a period, by indicator then time.
pub fn evidence(conn: &Connection, ruleset: &str, period: i32) -> Result<Vec<EvidenceRow>> {
    let mut st = conn.prepare_cached(
        "SELECT e.id, e.ruleset, e.period, e.indicator, e.sha256, e.file_name, f.media_type,
             length(f.bytes), e.added_by, e.added_at_ms, f.thumbnail IS NOT NULL
         FROM contest_evidence e JOIN contest_files f ON f.sha256 = e.sha256
         WHERE e.ruleset = ?1 AND e.period = ?2 ORDER BY e.indicator, e.added_at_ms, e.rowid",
    )?;
    let rows = st.query_map(params![ruleset, period], |r| {
        Ok(EvidenceRow {
            id: r.get(0)?,
            ruleset: r.get(1)?,
            period: r.get(2)?,
            indicator: r.get(3)?,
            sha256: r.get(4)?,
            file_name: r.get(5)?,
            media_type: r.get(6)?,
            size: r.get::<_, i64>(7)?.max(0) as u64,
            added_by: r.get(8)?,
            added_at_ms: r.get::<_, i64>(9)?.max(0) as u64,
            thumbnail: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn evidence_by_id(conn: &Connection, id: Uuid) -> Result<Option<(String, i32, String)>> {
    Ok(conn
        .prepare_cached("SELECT ruleset, period, sha256 FROM contest_evidence WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Detaches evidence; its file goes when nothing refers to it any more.
pub fn detach(tx: &Transaction, id: Uuid) -> Result<bool> {
    let sha: Option<String> = tx
        .prepare_cached("DELETE FROM contest_evidence WHERE id = ?1 RETURNING sha256")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(sha) = &sha {
        tx.prepare_cached(
            "DELETE FROM contest_files WHERE sha256 = ?1
             AND NOT EXISTS (SELECT 1 FROM contest_evidence WHERE sha256 = ?1)",
        )?
        .execute([sha])?;
    }
    Ok(sha.is_some())
}

/// A stored evidence file: (media type, bytes, thumbnail).
pub type StoredFile = (String, Vec<u8>, Option<Vec<u8>>);

pub fn file(conn: &Connection, sha256: &str) -> Result<Option<StoredFile>> {
    Ok(conn
        .prepare_cached("SELECT media_type, bytes, thumbnail FROM contest_files WHERE sha256 = ?1")?
        .query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The planner's efforts per step set for a rule set, by indicator.
pub fn efforts(conn: &Connection, ruleset: &str) -> Result<Vec<(String, u32)>> {
    let mut st = conn.prepare_cached(
        "SELECT indicator, effort FROM contest_efforts WHERE ruleset = ?1 ORDER BY indicator",
    )?;
    let rows = st.query_map([ruleset], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u32)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_effort(tx: &Transaction, ruleset: &str, indicator: &str, effort: u32) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO contest_efforts (ruleset, indicator, effort) VALUES (?1, ?2, ?3)
         ON CONFLICT (ruleset, indicator) DO UPDATE SET effort = excluded.effort",
    )?
    .execute(params![ruleset, indicator, effort])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub edition: String,
    pub total: f64,
    pub band: String,
    pub submitted_by: String,
    pub submitted_at_ms: u64,
}

pub fn submitted(conn: &Connection, ruleset: &str, period: i32) -> Result<Option<Submitted>> {
    Ok(conn
        .prepare_cached(
            "SELECT edition, total, band, submitted_by, submitted_at_ms FROM contest_periods
             WHERE ruleset = ?1 AND period = ?2",
        )?
        .query_row(params![ruleset, period], |r| {
            Ok(Submitted {
                edition: r.get(0)?,
                total: r.get(1)?,
                band: r.get(2)?,
                submitted_by: r.get(3)?,
                submitted_at_ms: r.get::<_, i64>(4)?.max(0) as u64,
            })
        })
        .optional()?)
}

/// The submission the city accepted for a period, in place of any made here.
pub fn accept_submission(
    tx: &Transaction,
    ruleset: &str,
    period: i32,
    s: &Submitted,
) -> Result<()> {
    tx.prepare_cached("DELETE FROM contest_periods WHERE ruleset = ?1 AND period = ?2")?
        .execute(params![ruleset, period])?;
    submit(tx, ruleset, period, s)
}

pub fn submit(tx: &Transaction, ruleset: &str, period: i32, s: &Submitted) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO contest_periods (ruleset, period, edition, total, band, submitted_by,
             submitted_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        ruleset,
        period,
        s.edition,
        s.total,
        s.band,
        s.submitted_by,
        s.submitted_at_ms as i64
    ])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: Uuid,
    pub indicator: String,
    pub target: i64,
    pub effort: u64,
    pub created_by: String,
    pub created_at_ms: u64,
    pub done_at_ms: Option<u64>,
}

/// Replaces the open tasks of a period with an accepted plan's steps (done ones stay).
pub fn replace_tasks(
    tx: &Transaction,
    ruleset: &str,
    period: i32,
    tasks: &[TaskRow],
) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM contest_tasks WHERE ruleset = ?1 AND period = ?2 AND done_at_ms IS NULL",
    )?
    .execute(params![ruleset, period])?;
    for t in tasks {
        tx.prepare_cached(
            "INSERT INTO contest_tasks (id, ruleset, period, indicator, target, effort,
                 created_by, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (ruleset, period, indicator) DO UPDATE SET id = excluded.id,
                 target = excluded.target, effort = excluded.effort,
                 created_by = excluded.created_by, created_at_ms = excluded.created_at_ms,
                 done_at_ms = NULL",
        )?
        .execute(params![
            t.id,
            ruleset,
            period,
            t.indicator,
            t.target,
            t.effort as i64,
            t.created_by,
            t.created_at_ms as i64
        ])?;
    }
    Ok(())
}

pub fn tasks(conn: &Connection, ruleset: &str, period: i32) -> Result<Vec<TaskRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, indicator, target, effort, created_by, created_at_ms, done_at_ms
         FROM contest_tasks WHERE ruleset = ?1 AND period = ?2 ORDER BY created_at_ms, indicator",
    )?;
    let rows = st.query_map(params![ruleset, period], |r| {
        Ok(TaskRow {
            id: r.get(0)?,
            indicator: r.get(1)?,
            target: r.get(2)?,
            effort: r.get::<_, i64>(3)?.max(0) as u64,
            created_by: r.get(4)?,
            created_at_ms: r.get::<_, i64>(5)?.max(0) as u64,
            done_at_ms: r.get::<_, Option<i64>>(6)?.map(|v| v.max(0) as u64),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks tasks done whose indicator now holds at least its target; returns how many.
pub fn close_reached_tasks(
    tx: &Transaction,
    ruleset: &str,
    period: i32,
    now_ms: u64,
) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE contest_tasks SET done_at_ms = ?3
             WHERE ruleset = ?1 AND period = ?2 AND done_at_ms IS NULL AND EXISTS (
                 SELECT 1 FROM contest_values v WHERE v.ruleset = ?1 AND v.period = ?2
                 AND v.indicator = contest_tasks.indicator AND v.value >= contest_tasks.target)",
        )?
        .execute(params![ruleset, period, now_ms as i64])?)
}

/// Letters issued with `from <= issued_on <= to` (ISO dates).
pub fn letters_issued(conn: &Connection, from: &str, to: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM letters WHERE number IS NOT NULL AND issued_on >= ?1
             AND issued_on <= ?2",
        )?
        .query_row(params![from, to], |r| r.get(0))?)
}

/// Hours from each request to its letter being issued, for letters issued in `from..=to`.
pub fn request_to_issue_hours(conn: &Connection, from: &str, to: &str) -> Result<Vec<f64>> {
    let mut st = conn.prepare_cached(
        "SELECT (julianday(min(e.at)) - julianday(l.created_at)) * 24
         FROM letters l JOIN letter_events e ON e.letter_id = l.id AND e.to_status = 'terbit'
         WHERE l.number IS NOT NULL AND l.issued_on >= ?1 AND l.issued_on <= ?2
         GROUP BY l.id",
    )?;
    let rows = st.query_map(params![from, to], |r| r.get::<_, Option<f64>>(0))?;
    let mut out = Vec::new();
    for h in rows {
        if let Some(h) = h? {
            out.push(h.max(0.0));
        }
    }
    Ok(out)
}

/// (Online requests submitted, letter requests recorded at the counter) in `from_ms..to_ms`.
pub fn requests_by_channel(
    conn: &Connection,
    from_ms: i64,
    to_ms: i64,
    from: &str,
    to: &str,
) -> Result<(i64, i64)> {
    let online: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM online_requests WHERE submitted_at_ms >= ?1 AND submitted_at_ms < ?2",
        )?
        .query_row(params![from_ms, to_ms], |r| r.get(0))?;
    let letters: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM letters WHERE substr(created_at, 1, 10) >= ?1
             AND substr(created_at, 1, 10) <= ?2",
        )?
        .query_row(params![from, to], |r| r.get(0))?;
    Ok((online, letters))
}

/// Families with a living member now.
pub fn families_now(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(DISTINCT family_id) FROM residents
             WHERE status = 'hidup' AND merged_into IS NULL AND family_id IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Keeps an edition the city published (`key` is `ruleset/edition`); a repeat replaces it.
pub fn put_edition(tx: &Transaction, key: &str, body: &str, now_ms: u64) -> Result<()> {
    let (ruleset, edition) = key.split_once('/').unwrap_or((key, ""));
    tx.prepare_cached(
        "INSERT INTO contest_editions (ruleset, edition, body, received_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (ruleset, edition) DO UPDATE SET body = excluded.body,
             received_at_ms = excluded.received_at_ms",
    )?
    .execute(params![ruleset, edition, body, now_ms as i64])?;
    Ok(())
}

/// The editions the city published, as (`ruleset/edition`, TOML text), oldest first.
pub fn editions(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut st = conn.prepare_cached(
        "SELECT ruleset || '/' || edition, body FROM contest_editions ORDER BY received_at_ms, ruleset, edition",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
