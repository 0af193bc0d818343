//! User accounts: admins add, reset and disable them.

use crate::areas::{audit, auth};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::{FieldErrors, Role};
use balai_store::users::{self as store_users, UserRow};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub role_label: String,
    pub active: bool,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> UserView {
        UserView {
            id: u.id.to_string(),
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            role: u.role,
            role_label: u.role.label().into(),
            active: u.active,
        }
    }
}

use crate::areas::NoArgs;

pub fn list(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<Vec<UserView>, ApiError> {
    let rows = app.store.read(|c| Ok::<_, ApiError>(store_users::list(c)?))?;
    Ok(rows.iter().map(UserView::from).collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddArgs {
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub password: String,
}

pub(crate) fn check_username(e: &mut FieldErrors, username: &str) {
    let ok_chars = username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !(3..=32).contains(&username.len()) || !ok_chars {
        e.push(
            "username",
            "username_format",
            "Nama pengguna 3–32 karakter: huruf, angka, titik, garis bawah atau tanda hubung.",
        );
    }
}

pub fn add(app: &App, ctx: &Ctx, args: AddArgs) -> Result<UserView, ApiError> {
    let actor = ctx.actor()?;
    let username = args.username.trim().to_string();
    let mut e = FieldErrors::default();
    check_username(&mut e, &username);
    balai_domain::field::required_text(&mut e, "full_name", &args.full_name, 100);
    let role = args.role.parse::<Role>();
    if role.is_err() {
        e.push("role", "unknown_role", "Peran harus admin, lurah, sekretaris atau petugas.");
    }
    auth::check_password_policy(&mut e, "password", &args.password);
    e.into_result()?;
    let role = role.map_err(|_| ApiError::field("role", "unknown_role", "Peran tidak dikenal."))?;
    let hash = auth::hash_password(&args.password)?;
    let now = app.now_text();
    let row = UserRow {
        id: app.new_id(),
        username: username.clone(),
        full_name: args.full_name.trim().into(),
        role,
        password_hash: hash,
        active: true,
        created_at: now.clone(),
        updated_at: now,
    };
    app.write(actor, |tx| {
        if store_users::by_username(tx, &username)?.is_some() {
            return Err(ApiError::field(
                "username",
                "username_taken",
                "Nama pengguna sudah dipakai.",
            ));
        }
        store_users::insert(tx, &row)?;
        audit::record_in(
            tx,
            app,
            actor,
            "users.add",
            "user",
            &row.id.to_string(),
            &format!("role={role}"),
        )
    })?;
    Ok(UserView::from(&row))
}

fn existing(app: &App, username: &str) -> Result<UserRow, ApiError> {
    app.store
        .read(|c| Ok::<_, ApiError>(store_users::by_username(c, username.trim())?))?
        .ok_or_else(|| ApiError::not_found(&format!("Pengguna `{}`", username.trim())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswdArgs {
    pub username: String,
    pub password: String,
}

/// An admin sets a new password; the user's open sessions end.
pub fn passwd(app: &App, ctx: &Ctx, args: PasswdArgs) -> Result<UserView, ApiError> {
    let actor = ctx.actor()?;
    let user = existing(app, &args.username)?;
    let mut e = FieldErrors::default();
    auth::check_password_policy(&mut e, "password", &args.password);
    e.into_result()?;
    let hash = auth::hash_password(&args.password)?;
    app.write(actor, |tx| {
        store_users::set_password(tx, user.id, &hash, &app.now_text())?;
        audit::record_in(tx, app, actor, "users.passwd", "user", &user.id.to_string(), "")
    })?;
    app.sessions.end_all_of(user.id);
    Ok(UserView::from(&user))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsernameArgs {
    pub username: String,
}

pub fn disable(app: &App, ctx: &Ctx, args: UsernameArgs) -> Result<UserView, ApiError> {
    set_active(app, ctx, &args.username, false)
}

pub fn enable(app: &App, ctx: &Ctx, args: UsernameArgs) -> Result<UserView, ApiError> {
    set_active(app, ctx, &args.username, true)
}

fn set_active(app: &App, ctx: &Ctx, username: &str, active: bool) -> Result<UserView, ApiError> {
    let actor = ctx.actor()?;
    let mut user = existing(app, username)?;
    app.write(actor, |tx| {
        // The office must never lock itself out of its own settings.
        if !active && user.role == Role::Admin && store_users::count_active_with_role(tx, Role::Admin)? <= 1 {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "Admin aktif terakhir tidak dapat dinonaktifkan. Tambahkan admin lain terlebih dahulu.",
            ));
        }
        store_users::set_active(tx, user.id, active, &app.now_text())?;
        let action = if active { "users.enable" } else { "users.disable" };
        audit::record_in(tx, app, actor, action, "user", &user.id.to_string(), "")
    })?;
    if !active {
        app.sessions.end_all_of(user.id);
    }
    user.active = active;
    Ok(UserView::from(&user))
}
