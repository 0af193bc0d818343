//! The officials who sign letters.

use crate::areas::audit;
use crate::error::ApiError;
use crate::{App, Ctx};
use balai_domain::office::Signatory;
use balai_store::signatories as store_signatories;
use uuid::Uuid;

use crate::areas::NoArgs;

pub fn list(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<Vec<Signatory>, ApiError> {
    app.store.read(|c| Ok(store_signatories::list(c)?))
}

/// Creates (no `id`) or updates (with `id`) a signatory.
pub fn save(app: &App, ctx: &Ctx, args: Signatory) -> Result<Signatory, ApiError> {
    let actor = ctx.actor()?;
    let mut s = args.validated()?;
    let id = match s.id.as_deref() {
        Some(raw) => Uuid::parse_str(raw)
            .map_err(|_| ApiError::field("id", "id_format", "Id penanda tangan tidak valid."))?,
        None => app.new_id(),
    };
    app.write(actor, |tx| {
        let exists = store_signatories::exists(tx, id)?;
        if s.id.is_some() && !exists {
            return Err(ApiError::not_found("Penanda tangan"));
        }
        store_signatories::upsert(tx, id, &s, &app.now_text())?;
        let action = if exists { "signatories.update" } else { "signatories.add" };
        audit::record_in(tx, app, actor, action, "signatory", &id.to_string(), "")
    })?;
    s.id = Some(id.to_string());
    Ok(s)
}
