//! Identity conflicts to review (sync-notes §3.6): the city found that two PCs of this office
//! wrote different values into a resident's NIK or name, or a family's No. KK, neither having
//! seen the other's. The register already holds the merge's winner; a supervisor looks at both
//! values, corrects the record if the winner is wrong (an ordinary edit), and marks the conflict
//! reviewed, which closes it on every PC of the office through the city.

use crate::areas::requests::this_device;
use crate::areas::{audit, NoArgs};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_protocol::{ReviewConflict, REVIEW_CONFLICT};
use balai_store::conflicts::{self as store_conflicts, ConflictRow};
use balai_store::sync::append_command;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One side of a conflict: the identity values that version holds and who wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictSide {
    /// `nik` and `full_name` (residents) or `no_kk` (families), as that version holds them.
    pub values: serde_json::Map<String, Value>,
    /// When the edit was made (ms since the epoch, by the writing PC's clock).
    pub made_at_ms: u64,
    pub device: String,
    /// Whether this PC wrote it.
    pub this_pc: bool,
}

/// A conflict as the sync page shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConflictView {
    pub id: String,
    /// `residents` or `families`.
    pub table: String,
    pub row_id: String,
    /// The record as the register holds it now: the resident's name or the family's No. KK
    /// (empty when it is not on this PC yet).
    pub subject: String,
    /// The identity fields that differ, e.g. `["nik"]`.
    pub fields: Vec<String>,
    /// The value the register holds (the merge's winner) and the one that lost.
    pub kept: ConflictSide,
    pub lost: ConflictSide,
    pub found_at_ms: u64,
    pub reviewed_at_ms: Option<u64>,
    pub review_note: String,
}

fn side(
    (value, hlc, device): &(String, u64, String),
    shown: &[&str],
    me: Option<&str>,
) -> ConflictSide {
    let value: Value = serde_json::from_str(value).unwrap_or_default();
    let values =
        shown.iter().filter_map(|f| value.get(*f).map(|v| (f.to_string(), v.clone()))).collect();
    let device = Uuid::parse_str(device).map_or_else(|_| device.clone(), |d| d.to_string());
    ConflictSide { values, made_at_ms: hlc >> 16, this_pc: me == Some(device.as_str()), device }
}

fn view(app: &App, r: ConflictRow, me: Option<&str>) -> Result<ConflictView, ApiError> {
    let shown: &[&str] = balai_protocol::IDENTITY_FIELDS
        .iter()
        .find(|(t, g, _)| *t == r.table && *g == r.field_group)
        .map_or(&[], |(_, _, fields)| fields);
    let subject =
        app.store.read(|c| Ok::<_, ApiError>(store_conflicts::subject(c, &r.table, r.row_id)?))?;
    Ok(ConflictView {
        id: r.id.to_string(),
        row_id: r.row_id.to_string(),
        subject: subject.unwrap_or_default(),
        fields: serde_json::from_str(&r.fields).unwrap_or_default(),
        kept: side(&r.kept, shown, me),
        lost: side(&r.lost, shown, me),
        found_at_ms: r.found_at_ms,
        reviewed_at_ms: r.reviewed_at_ms,
        review_note: r.review_note,
        table: r.table,
    })
}

/// Every conflict the city reported, the open ones first.
pub fn list(app: &App, ctx: &Ctx, _a: NoArgs) -> Result<Vec<ConflictView>, ApiError> {
    ctx.actor()?;
    let me = this_device(app)?;
    let rows = app.store.read(|c| Ok::<_, ApiError>(store_conflicts::list(c)?))?;
    rows.into_iter().map(|r| view(app, r, me.as_deref())).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    pub id: String,
    /// What was decided (e.g. "NIK dicek di KK: yang tersimpan benar"), for the other
    /// supervisors.
    #[serde(default)]
    pub note: String,
}

/// A supervisor closes a conflict after looking at both values.
pub fn review(app: &App, ctx: &Ctx, a: ReviewArgs) -> Result<ConflictView, ApiError> {
    let actor = ctx.actor()?;
    let id = Uuid::parse_str(a.id.trim())
        .map_err(|_| ApiError::field("id", "id", "Nomor konflik tidak sah."))?;
    let note = a.note.trim();
    if note.chars().count() > 500 {
        return Err(ApiError::field("note", "too_long", "Catatan paling banyak 500 huruf."));
    }
    let now = app.now().timestamp_millis().max(0) as u64;
    app.write(actor, |tx| {
        let row = store_conflicts::get(tx, id)?.ok_or_else(|| ApiError::not_found("Konflik"))?;
        if row.reviewed_at_ms.is_some() {
            return Err(ApiError::new(ErrorCode::Conflict, "Konflik ini sudah ditinjau."));
        }
        store_conflicts::review(tx, id, note, now)?;
        let command = ReviewConflict { conflict_id: id, note: note.into(), reviewed_at_ms: None };
        append_command(tx, REVIEW_CONFLICT, id, &command)?;
        audit::record_in(
            tx,
            app,
            actor,
            "sync.review_conflict",
            &row.table,
            &row.row_id.to_string(),
            "",
        )
    })?;
    let row = app
        .store
        .read(|c| Ok::<_, ApiError>(store_conflicts::get(c, id)?))?
        .ok_or_else(|| ApiError::not_found("Konflik"))?;
    view(app, row, this_device(app)?.as_deref())
}
