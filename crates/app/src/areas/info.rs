//! What the login screen may show before anyone signs in: no personal data.

use crate::error::ApiError;
use crate::{App, Ctx};
use balai_store::{migrations, profile, users};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Info {
    pub version: String,
    pub schema_version: i64,
    /// Whether the office profile has been set up.
    pub initialized: bool,
    /// Whether any user account exists (if not, an admin must be added with `balai users add`).
    pub has_users: bool,
    pub kelurahan_name: Option<String>,
    pub city_name: Option<String>,
    /// Where this PC keeps the database key: `os` (the operating system's key store), `file`
    /// (a key file in the user's folder: weaker, shown as a warning) or `none` (held by the
    /// caller).
    pub key_store: String,
    /// The recovery key has not been shown to an admin yet.
    pub recovery_key_pending: bool,
    /// A damaged database found at this start and what was done about it.
    pub recovery: Option<crate::Recovery>,
}

use crate::areas::NoArgs;

pub fn info(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<Info, ApiError> {
    let recovery_key_pending = crate::areas::security::recovery_key_pending(app)?;
    app.store.read(|c| {
        let p = profile::get(c)?;
        Ok(Info {
            version: env!("CARGO_PKG_VERSION").into(),
            schema_version: migrations::user_version(c).map_err(balai_store::StoreError::from)?,
            initialized: p.is_some(),
            has_users: !users::list(c)?.is_empty(),
            kelurahan_name: p.as_ref().map(|p| p.kelurahan_name.clone()),
            city_name: p.as_ref().map(|p| p.city_name.clone()),
            key_store: app.key_store.into(),
            recovery_key_pending,
            recovery: app.recovery.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        })
    })
}
