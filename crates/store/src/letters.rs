//! Letters: requests, their status history, numbering series, issued PDFs, the signing keys.

use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use uuid::Uuid;

#[derive(Clone, PartialEq)]
pub struct LetterRow {
    pub id: Uuid,
    pub letter_type: String,
    pub template_version: String,
    pub status: String,
    pub subject_id: Uuid,
    pub subject_nik_masked: String,
    /// JSON {role: [resident id]}.
    pub people: String,
    /// JSON {key: value}.
    pub fields: String,
    pub number: Option<String>,
    pub issued_on: Option<String>,
    pub valid_until: Option<String>,
    /// JSON of the signer as of signing.
    pub signer: Option<String>,
    pub content: Option<String>,
    pub content_hash: Option<String>,
    pub payload: Option<String>,
    pub paper: Option<String>,
    pub reason: String,
    pub replaces: Option<Uuid>,
    pub requested_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for LetterRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "id, letter_type, template_version, status, subject_id, subject_nik_masked, people, \
    fields, number, issued_on, valid_until, signer, content, content_hash, payload, paper, reason, \
    replaces, requested_by, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<LetterRow> {
    Ok(LetterRow {
        id: r.get(0)?,
        letter_type: r.get(1)?,
        template_version: r.get(2)?,
        status: r.get(3)?,
        subject_id: r.get(4)?,
        subject_nik_masked: r.get(5)?,
        people: r.get(6)?,
        fields: r.get(7)?,
        number: r.get(8)?,
        issued_on: r.get(9)?,
        valid_until: r.get(10)?,
        signer: r.get(11)?,
        content: r.get(12)?,
        content_hash: r.get(13)?,
        payload: r.get(14)?,
        paper: r.get(15)?,
        reason: r.get(16)?,
        replaces: r.get(17)?,
        requested_by: r.get(18)?,
        created_at: r.get(19)?,
        updated_at: r.get(20)?,
    })
}

/// A new request (status `diminta`).
pub fn insert_request(tx: &Transaction, l: &LetterRow) -> Result<()> {
    tx.execute(
        "INSERT INTO letters (id, letter_type, template_version, status, subject_id, subject_nik_masked,
             people, fields, replaces, requested_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'diminta', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            l.id,
            l.letter_type,
            l.template_version,
            l.subject_id,
            l.subject_nik_masked,
            l.people,
            l.fields,
            l.replaces,
            l.requested_by,
            l.created_at
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<LetterRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM letters WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

pub fn by_number(conn: &Connection, number: &str) -> Result<Option<LetterRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM letters WHERE number = ?1"))?
        .query_row([number], from_row)
        .optional()?)
}

/// Letters in `status` (all when `None`), newest first.
pub fn list(conn: &Connection, status: Option<&str>, limit: u32) -> Result<Vec<LetterRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM letters WHERE (?1 IS NULL OR status = ?1)
         ORDER BY created_at DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![status, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Letters that were given a number with an issue date in `[from, to]`, by number order.
pub fn register(conn: &Connection, from: &str, to: &str) -> Result<Vec<LetterRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM letters WHERE number IS NOT NULL AND issued_on BETWEEN ?1 AND ?2
         ORDER BY issued_on, series, serial"
    ))?;
    let rows = stmt.query_map(params![from, to], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Moves a letter to `to` if it is in one of `from` (returns false otherwise), with its event.
#[allow(clippy::too_many_arguments)]
pub fn transition(
    tx: &Transaction,
    id: Uuid,
    from: &[&str],
    to: &str,
    event_id: Uuid,
    actor: &str,
    note: &str,
    at: &str,
) -> Result<bool> {
    let current: Option<String> =
        tx.query_row("SELECT status FROM letters WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    let Some(current) = current else { return Ok(false) };
    if !from.contains(&current.as_str()) {
        return Ok(false);
    }
    tx.execute(
        "UPDATE letters SET status = ?2, reason = CASE WHEN ?3 = '' THEN reason ELSE ?3 END, updated_at = ?4 WHERE id = ?1",
        params![id, to, note, at],
    )?;
    insert_event(tx, event_id, id, Some(&current), to, actor, note, at)?;
    Ok(true)
}

#[allow(clippy::too_many_arguments)]
pub fn insert_event(
    tx: &Transaction,
    id: Uuid,
    letter_id: Uuid,
    from: Option<&str>,
    to: &str,
    actor: &str,
    note: &str,
    at: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO letter_events (id, letter_id, from_status, to_status, actor, note, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, letter_id, from, to, actor, note, at],
    )?;
    Ok(())
}

/// (from, to, actor, note, at) of every status change of a letter, oldest first.
pub fn events(
    conn: &Connection,
    letter_id: Uuid,
) -> Result<Vec<(Option<String>, String, String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_status, to_status, actor, note, at FROM letter_events WHERE letter_id = ?1 ORDER BY at, rowid",
    )?;
    let rows = stmt
        .query_map([letter_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The next serial of `series`, taken in the caller's transaction (so it is never handed out
/// twice: the writer holds the database, and `letters` has UNIQUE (series, serial) and
/// UNIQUE number as a second guard).
pub fn next_serial(tx: &Transaction, series: &str) -> Result<u32> {
    let n: i64 = tx.query_row(
        "INSERT INTO letter_series (series, last_serial) VALUES (?1, 1)
         ON CONFLICT (series) DO UPDATE SET last_serial = last_serial + 1
         RETURNING last_serial",
        [series],
        |r| r.get(0),
    )?;
    Ok(n as u32)
}

/// What issuing writes onto a letter.
#[derive(Clone)]
pub struct Issued<'a> {
    pub number: &'a str,
    pub series: &'a str,
    pub serial: u32,
    pub issued_on: &'a str,
    pub valid_until: Option<&'a str>,
    pub signer: &'a str,
    pub content: &'a str,
    pub content_hash: &'a str,
    pub payload: &'a str,
    pub paper: &'a str,
    pub pdf: &'a [u8],
}

pub fn set_issued(tx: &Transaction, id: Uuid, i: &Issued<'_>, at: &str) -> Result<()> {
    tx.execute(
        "UPDATE letters SET number = ?2, series = ?3, serial = ?4, issued_on = ?5, valid_until = ?6,
             signer = ?7, content = ?8, content_hash = ?9, payload = ?10, paper = ?11, pdf = ?12,
             updated_at = ?13
         WHERE id = ?1",
        params![
            id,
            i.number,
            i.series,
            i.serial,
            i.issued_on,
            i.valid_until,
            i.signer,
            i.content,
            i.content_hash,
            i.payload,
            i.paper,
            i.pdf,
            at
        ],
    )?;
    Ok(())
}

pub fn pdf(conn: &Connection, id: Uuid) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row("SELECT pdf FROM letters WHERE id = ?1", [id], |r| {
            r.get::<_, Option<Vec<u8>>>(0)
        })
        .optional()?
        .flatten())
}

/// An office signing key.
#[derive(Clone)]
pub struct KeyRow {
    pub key_id: String,
    pub public_hex: String,
    pub seed: Vec<u8>,
    pub created_at: String,
    pub retired_at: Option<String>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

pub fn keys(conn: &Connection) -> Result<Vec<KeyRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key_id, public_hex, seed, created_at, retired_at FROM office_keys ORDER BY created_at DESC, key_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(KeyRow {
            key_id: r.get(0)?,
            public_hex: r.get(1)?,
            seed: r.get(2)?,
            created_at: r.get(3)?,
            retired_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn insert_key(tx: &Transaction, k: &KeyRow) -> Result<()> {
    tx.execute(
        "INSERT INTO office_keys (key_id, public_hex, seed, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![k.key_id, k.public_hex, k.seed, k.created_at],
    )?;
    Ok(())
}
