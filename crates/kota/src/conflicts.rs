//! Identity conflicts for review (sync-notes §3.6): two PCs of an office wrote different values
//! into a resident's NIK or name, or a family's No. KK, neither having seen the other's. The
//! merge settles the row as for any field (last writer wins, the same on every copy); this
//! module makes the overwrite visible instead of silent. Found while a push merges
//! (`feed::apply_row`), recorded here, and sent down the kelurahan's feed to every PC as an
//! `identity_conflict` entry; a supervisor's `review_conflict` closes it for every PC.
//!
//! When is an overwrite concurrent? A pushed identity version that **loses** to another
//! device's different value was made without sight of it (the PC's clock runs ahead of every
//! version it pulled). One that **wins** over another device's different value is concurrent
//! when the replaced version entered the feed after the position the PC had pulled through
//! when its unpushed edits began (`PushRequest.seen_through`); versions written before this
//! schema have no position and count as seen.
//!
//! Schema v10:
//! - `row_groups.server_seq`: the feed entry that brought the group's winning version.
//! - `identity_conflicts(conflict_id, kelurahan_code, body, at_ms, reviewed_at_ms,
//!   reviewed_by, note)`: `body` is the [`IdentityConflict`] as sent down the feed.
//!
//! What this does not do: decide which value is right (the supervisor does, and corrects the
//! row with an ordinary edit), or find the same NIK on two rows (a duplicate, not a conflict).

use crate::db::Device;
use crate::feed::{ok, rejected};
use crate::sql::{params, Optional, Query, Tx};
use crate::KotaError;
use balai_protocol::{
    FeedChange, IdentityConflict, OpBody, Outcome, ReviewConflict, IDENTITY_CONFLICT,
    REVIEW_CONFLICT,
};
use uuid::Uuid;

pub(crate) const SCHEMA_V10: &str = "
ALTER TABLE row_groups ADD COLUMN server_seq INTEGER;
CREATE TABLE identity_conflicts (
    conflict_id TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    body TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    reviewed_at_ms INTEGER,
    reviewed_by TEXT,
    note TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX identity_conflicts_by_kelurahan ON identity_conflicts (kelurahan_code, at_ms);
";

fn as_value(v: &impl serde::Serialize) -> Result<serde_json::Value, KotaError> {
    serde_json::to_value(v).map_err(|e| KotaError::BadRequest(e.to_string()))
}

/// Records a conflict inside the push transaction and sends it to every PC of the kelurahan
/// (the pushing one too: its clerk's value may be the one that lost).
pub(crate) fn record(tx: &Tx, kelurahan: &str, c: &IdentityConflict) -> Result<(), KotaError> {
    let body = serde_json::to_string(c).map_err(|e| KotaError::BadRequest(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO identity_conflicts (conflict_id, kelurahan_code, body, at_ms)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![c.conflict_id.to_string(), kelurahan, body, c.at_ms as i64])?;
    let entry = OpBody::Command { name: IDENTITY_CONFLICT.into(), args: as_value(c)? };
    crate::feed::append_feed(tx, kelurahan, Uuid::nil(), c.conflict_id, &entry)
}

/// The feed position of the stored winning version of one group (`None`: written before
/// positions were kept).
pub(crate) fn position_of(
    tx: &Tx,
    kelurahan: &str,
    table: &str,
    row_id: Uuid,
    group: &str,
) -> Result<Option<u64>, KotaError> {
    let seq: Option<Option<i64>> = tx
        .prepare_cached(
            "SELECT server_seq FROM row_groups
             WHERE kelurahan_code = ?1 AND tbl = ?2 AND row_id = ?3 AND field_group = ?4",
        )?
        .query_row(params![kelurahan, table, row_id.to_string(), group], |r| r.get(0))
        .optional()?;
    Ok(seq.flatten().map(|s| s as u64))
}

/// The `review_conflict` command inside a push transaction: closes an open conflict of the
/// device's kelurahan and tells the other PCs; a conflict already reviewed is answered ok
/// (the first review stands).
pub(crate) fn review(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<ReviewConflict>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah review_conflict tidak lengkap."));
    };
    let found: Option<(String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT kelurahan_code, reviewed_at_ms FROM identity_conflicts WHERE conflict_id = ?1",
        )?
        .query_row([a.conflict_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match found {
        None => Ok(rejected("not_found", "Konflik data identitas ini tidak dikenal server.")),
        Some((k, _)) if k != device.kelurahan_code => {
            Ok(rejected("cross_tenant", "Konflik ini milik kelurahan lain."))
        }
        Some((_, Some(_))) => Ok(ok()),
        Some((_, None)) => {
            let note: String = a.note.chars().take(500).collect();
            tx.prepare_cached(
                "UPDATE identity_conflicts SET reviewed_at_ms = ?1, reviewed_by = ?2, note = ?3
                 WHERE conflict_id = ?4",
            )?
            .execute(params![
                now_ms as i64,
                device.id.to_string(),
                note,
                a.conflict_id.to_string()
            ])?;
            let done =
                ReviewConflict { conflict_id: a.conflict_id, note, reviewed_at_ms: Some(now_ms) };
            let entry = OpBody::Command { name: REVIEW_CONFLICT.into(), args: as_value(&done)? };
            crate::feed::append_feed(
                tx,
                &device.kelurahan_code,
                device.id,
                Uuid::now_v7(),
                &entry,
            )?;
            Ok(ok())
        }
    }
}

/// One conflict as the city holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldConflict {
    #[serde(flatten)]
    pub conflict: IdentityConflict,
    pub reviewed_at_ms: Option<u64>,
    pub note: String,
}

/// The kelurahan's conflicts, oldest first.
pub fn list(c: &impl Query, kelurahan: &str) -> Result<Vec<HeldConflict>, KotaError> {
    let mut st = c.prepare_cached(
        "SELECT body, reviewed_at_ms, note FROM identity_conflicts
         WHERE kelurahan_code = ?1 ORDER BY at_ms, conflict_id",
    )?;
    let rows = st.query_map([kelurahan], |r| {
        Ok((r.get::<String>(0)?, r.get::<Option<i64>>(1)?, r.get::<String>(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (body, reviewed, note) = row?;
        let conflict =
            serde_json::from_str(&body).map_err(|e| KotaError::BadRequest(e.to_string()))?;
        out.push(HeldConflict { conflict, reviewed_at_ms: reviewed.map(|v| v as u64), note });
    }
    Ok(out)
}

/// The kelurahan's conflicts, oldest first (the simulation and tests compare them with the
/// offices').
pub fn of_kelurahan(db: &crate::db::Db, kelurahan: &str) -> Result<Vec<HeldConflict>, KotaError> {
    db.with(|c| list(c, kelurahan))
}

/// The open conflicts as feed commands, for a PC's first sync (a snapshot has no feed).
pub(crate) fn as_commands(c: &impl Query, kelurahan: &str) -> Result<Vec<FeedChange>, KotaError> {
    list(c, kelurahan)?
        .into_iter()
        .filter(|h| h.reviewed_at_ms.is_none())
        .map(|h| {
            Ok(FeedChange {
                server_seq: 0,
                origin_device: Uuid::nil(),
                body: OpBody::Command {
                    name: IDENTITY_CONFLICT.into(),
                    args: as_value(&h.conflict)?,
                },
            })
        })
        .collect()
}
