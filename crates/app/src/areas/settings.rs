//! Office settings.

use crate::areas::audit;
use crate::error::ApiError;
use crate::{App, Ctx};
use balai_store::settings::{self as store_settings, IDLE_LOCK_MINUTES};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Minutes without activity before a session locks (1–240).
    pub idle_lock_minutes: i64,
}

use crate::areas::NoArgs;

pub fn get(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<Settings, ApiError> {
    app.store.read(|c| {
        Ok(Settings { idle_lock_minutes: store_settings::get_int(c, IDLE_LOCK_MINUTES)? })
    })
}

pub fn set(app: &App, ctx: &Ctx, args: Settings) -> Result<Settings, ApiError> {
    let actor = ctx.actor()?;
    if !(1..=240).contains(&args.idle_lock_minutes) {
        return Err(ApiError::field(
            "idle_lock_minutes",
            "out_of_range",
            "Kunci otomatis harus antara 1 dan 240 menit.",
        ));
    }
    app.write(actor, |tx| {
        store_settings::set_int(tx, IDLE_LOCK_MINUTES, args.idle_lock_minutes)?;
        audit::record_in(
            tx,
            app,
            actor,
            "settings.set",
            "setting",
            IDLE_LOCK_MINUTES.name,
            &args.idle_lock_minutes.to_string(),
        )
    })?;
    Ok(args)
}
