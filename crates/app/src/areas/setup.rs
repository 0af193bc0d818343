//! The office's first start: while the database holds no user account, whoever sits at the PC
//! sets up the office profile and the first admin account from the window (the setup screen),
//! once, and is signed in as that admin. The rest of the setup (the lurah's account, the
//! signatories, paper and numbering, the first register import) is done by that admin with the
//! ordinary commands.
//!
//! What it does not do: open again once an account exists (`conflict`): from then on accounts
//! are added by an admin, or by the machine's operator with `balai users add`.

use crate::areas::{audit, auth, users};
use crate::error::{ApiError, ErrorCode};
use crate::session::Actor;
use crate::{App, Ctx};
use balai_domain::office::OfficeProfile;
use balai_domain::{FieldErrors, Role};
use balai_store::users::{self as store_users, UserRow};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    pub profile: OfficeProfile,
    pub admin: FirstAdmin,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstAdmin {
    pub username: String,
    pub full_name: String,
    pub password: String,
}

/// Sets up the office profile and the first admin in one transaction, and signs the admin in.
/// Every problem of both forms is answered at once, by field (the profile's and the admin's
/// field names do not overlap).
pub fn start(app: &App, _ctx: &Ctx, a: StartArgs) -> Result<auth::LoginOut, ApiError> {
    let mut e = FieldErrors::default();
    let profile = match a.profile.validated() {
        Ok(p) => Some(p),
        Err(errors) => {
            e.0.extend(errors.0);
            None
        }
    };
    let username = a.admin.username.trim().to_string();
    users::check_username(&mut e, &username);
    balai_domain::field::required_text(&mut e, "full_name", &a.admin.full_name, 100);
    auth::check_password_policy(&mut e, "password", &a.admin.password);
    e.into_result()?;
    let profile = profile.ok_or_else(|| ApiError::new(ErrorCode::Internal, "profil"))?;
    let now = app.now_text();
    let row = UserRow {
        id: app.new_id(),
        username: username.clone(),
        full_name: a.admin.full_name.trim().into(),
        role: Role::Admin,
        password_hash: auth::hash_password(&a.admin.password)?,
        active: true,
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    let admin = Actor { user_id: Some(row.id), name: username, role: Role::Admin };
    app.write(&admin, |tx| {
        // In the transaction: two windows set up at once cannot both succeed.
        if !store_users::list(tx)?.is_empty() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "Kantor ini sudah diatur: masuk dengan akun yang ada, atau minta admin membuatkan akun.",
            ));
        }
        balai_store::profile::put(tx, &profile, &now)?;
        crate::areas::letters::signing_key(app, tx)?;
        store_users::insert(tx, &row)?;
        audit::record_in(tx, app, &admin, "setup.start", "user", &row.id.to_string(), "")
    })?;
    app.utc_offset_s
        .store(crate::office_utc_offset(Some(&profile)), std::sync::atomic::Ordering::Relaxed);
    Ok(auth::sign_in(app, admin, &row)?)
}
