//! Reading and verifying the audit trail; writing to it is done by every other area through
//! [`record`] and [`record_in`].

use crate::error::ApiError;
use crate::session::Actor;
use crate::{App, Ctx};
use balai_domain::audit::{AuditRecord, ChainBreak};
use balai_store::audit::{self as store_audit, NewEntry};
use balai_store::WriteTx;
use serde::{Deserialize, Serialize};

/// Appends an entry inside the caller's transaction.
pub(crate) fn record_in(
    tx: &WriteTx,
    app: &App,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &str,
) -> Result<(), ApiError> {
    let at = app.now_text();
    store_audit::append(
        tx,
        &NewEntry {
            at: &at,
            actor_id: &actor.audit_id(),
            actor: &actor.name,
            action,
            entity,
            entity_id,
            detail,
        },
    )?;
    Ok(())
}

/// Appends an entry in a transaction of its own (for events with no other write: refusals,
/// failed logins).
pub(crate) fn record(
    app: &App,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &str,
) -> Result<(), ApiError> {
    app.write(actor, |tx| record_in(tx, app, actor, action, entity, entity_id, detail))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// At most this many entries (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Only entries with a sequence number below this (for paging backwards).
    #[serde(default)]
    pub before: Option<i64>,
}

pub fn list(app: &App, _ctx: &Ctx, args: ListArgs) -> Result<Vec<AuditRecord>, ApiError> {
    let limit = args.limit.unwrap_or(100).clamp(1, 1000);
    app.store.read(|c| Ok(store_audit::list(c, limit, args.before)?))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyReport {
    pub ok: bool,
    /// Entries checked before the first problem (all of them when `ok`).
    pub entries: i64,
    pub problem: Option<ChainBreak>,
    pub message: String,
}

use crate::areas::NoArgs;

pub fn verify(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<VerifyReport, ApiError> {
    let total = app.store.read(|c| Ok::<_, ApiError>(store_audit::count(c)?))?;
    let result = app.store.read(|c| Ok::<_, ApiError>(store_audit::verify(c)?))?;
    Ok(match result {
        Ok(n) => VerifyReport {
            ok: true,
            entries: n,
            problem: None,
            message: format!("Jejak audit utuh: {n} catatan terverifikasi."),
        },
        Err(problem) => {
            let at = match &problem {
                ChainBreak::Gap { expected_seq, .. } => *expected_seq,
                ChainBreak::PrevMismatch { seq } | ChainBreak::HashMismatch { seq } => *seq,
            };
            VerifyReport {
                ok: false,
                entries: at - 1,
                message: format!(
                    "Jejak audit RUSAK pada catatan nomor {at} dari {total}: catatan diubah, dihapus atau disisipkan di luar aplikasi."
                ),
                problem: Some(problem),
            }
        }
    })
}
