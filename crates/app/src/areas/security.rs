//! The database key as the office sees it: its recovery key, shown once to the admin.
//!
//! The key itself never leaves balai-keys and balai-store except here, as the recovery key, and
//! only the first time it is asked for; every showing (and every refused second asking) is in
//! the audit trail.

use crate::areas::{audit, NoArgs};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_store::settings;
use serde::{Deserialize, Serialize};

/// Set once the recovery key has been shown (per PC: every PC's database has its own key).
const RECOVERY_KEY_SHOWN: settings::Key = settings::Key { name: "recovery_key_shown", default: 0 };

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryKey {
    /// 56 characters in groups of four: write it on paper and keep it apart from the PC.
    pub recovery_key: String,
}

/// The recovery key, the first time only. Later askings are refused (`conflict`): a key shown
/// again could be shown to someone else.
pub fn recovery_key(app: &App, ctx: &Ctx, _args: NoArgs) -> Result<RecoveryKey, ApiError> {
    let actor = ctx.actor()?;
    let shown = app.write(actor, |tx| {
        let shown = settings::get_int(tx, RECOVERY_KEY_SHOWN)? != 0;
        if shown {
            return Ok(true);
        }
        settings::set_int(tx, RECOVERY_KEY_SHOWN, 1)?;
        audit::record_in(tx, app, actor, "security.recovery_key_shown", "database", "", "")?;
        Ok(false)
    })?;
    if shown {
        audit::record(app, actor, "security.recovery_key_refused", "database", "", "")?;
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Kunci pemulihan sudah pernah ditampilkan dan tidak ditampilkan lagi.",
        ));
    }
    Ok(RecoveryKey { recovery_key: app.key.recovery_text() })
}

/// Whether the recovery key is still waiting to be shown (the UI reminds the admin).
pub(crate) fn recovery_key_pending(app: &App) -> Result<bool, ApiError> {
    Ok(app.store.read(|c| settings::get_int(c, RECOVERY_KEY_SHOWN))? == 0)
}
