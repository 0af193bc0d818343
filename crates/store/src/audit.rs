//! The append-only, hash-chained audit log (rule in balai_domain::audit).

use crate::{Result, StoreError};
use balai_domain::audit::{verify_chain, AuditRecord, ChainBreak, GENESIS};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// What a caller supplies; the store adds the sequence number and the hashes.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub at: &'a str,
    pub actor_id: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub detail: &'a str,
}

/// Appends an entry inside the caller's transaction, so the audit entry commits or rolls back
/// together with the change it describes.
pub fn append(tx: &Transaction, e: &NewEntry<'_>) -> Result<i64> {
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, to_hash(&hash)?),
        None => (1, GENESIS),
    };
    let record = AuditRecord {
        seq,
        at: e.at.into(),
        actor_id: e.actor_id.into(),
        actor: e.actor.into(),
        action: e.action.into(),
        entity: e.entity.into(),
        entity_id: e.entity_id.into(),
        detail: e.detail.into(),
    };
    let hash = record.chain_hash(&prev);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, entity, entity_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            seq,
            record.at,
            record.actor_id,
            record.actor,
            record.action,
            record.entity,
            record.entity_id,
            record.detail,
            &prev[..],
            &hash[..]
        ],
    )?;
    Ok(seq)
}

fn to_hash(v: &[u8]) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| StoreError::Corrupt("audit_log hash is not 32 bytes".into()))
}

const COLUMNS: &str = "seq, at, actor_id, actor, action, entity, entity_id, detail";

fn record(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor_id: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        entity: r.get(5)?,
        entity_id: r.get(6)?,
        detail: r.get(7)?,
    })
}

/// Newest first; `before` pages backwards by sequence.
pub fn list(conn: &Connection, limit: i64, before: Option<i64>) -> Result<Vec<AuditRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), limit], record)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Walks the whole chain. `Ok(Ok(n))`: n entries verified; `Ok(Err(b))`: the first break.
pub fn verify(conn: &Connection) -> Result<Result<i64, ChainBreak>> {
    let mut stmt =
        conn.prepare(&format!("SELECT {COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut entries = Vec::new();
    while let Some(r) = rows.next()? {
        let prev: Vec<u8> = r.get(8)?;
        let hash: Vec<u8> = r.get(9)?;
        // A hash column of the wrong size is tampering too: report it as a broken entry.
        let seq: i64 = r.get(0)?;
        let (Ok(prev), Ok(hash)) = (to_hash(&prev), to_hash(&hash)) else {
            return Ok(Err(ChainBreak::HashMismatch { seq }));
        };
        entries.push((record(r)?, prev, hash));
    }
    Ok(verify_chain(entries))
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?)
}

/// Failed logins for `username` since the account's last successful login, password reset or
/// re-enabling (`user_id`, when the account exists), and at or after `since` (RFC 3339): how
/// many, and when the last one was.
pub fn failed_logins(
    conn: &Connection,
    username: &str,
    user_id: Option<&str>,
    since: &str,
) -> Result<(i64, Option<String>)> {
    let reset: i64 = match user_id {
        Some(id) => conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM audit_log
             WHERE action IN ('auth.login', 'users.passwd', 'users.enable') AND entity_id = ?1",
            [id],
            |r| r.get(0),
        )?,
        None => 0,
    };
    Ok(conn.query_row(
        "SELECT count(*), max(at) FROM audit_log
         WHERE action = 'auth.login_failed' AND entity_id = ?1 AND seq > ?2 AND at >= ?3",
        rusqlite::params![username, reset, since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
