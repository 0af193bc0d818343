//! Logging in and out, locking after idle time, passwords (Argon2id).

use crate::areas::{audit, users::UserView};
use crate::error::{ApiError, ErrorCode};
use crate::session::Actor;
use crate::{App, Ctx};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use balai_domain::FieldErrors;
use balai_store::{settings, users as store_users};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

pub(crate) const MIN_PASSWORD_CHARS: usize = 8;

pub(crate) fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("hash kata sandi gagal: {e}")))
}

fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

pub(crate) fn check_password_policy(errors: &mut FieldErrors, field: &str, password: &str) {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        errors.push(
            field,
            "password_too_short",
            format!("Kata sandi minimal {MIN_PASSWORD_CHARS} karakter."),
        );
    } else if password.len() > 256 {
        errors.push(field, "too_long", "Kata sandi paling banyak 256 karakter.");
    }
}

pub(crate) fn idle_limit(app: &App) -> Result<chrono::Duration, ApiError> {
    let minutes = app
        .store
        .read(|c| Ok::<_, ApiError>(settings::get_int(c, settings::IDLE_LOCK_MINUTES)?))?;
    Ok(chrono::Duration::minutes(minutes))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "Nama pengguna atau kata sandi salah.")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginArgs {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginArgs").field("username", &self.username).finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LoginOut {
    pub token: String,
    pub user: UserView,
    pub idle_lock_minutes: i64,
}

/// Failed logins in a row (within [`LOCKOUT`]) after which a user name is refused.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a user name stays refused after its last failed login; an admin's password reset
/// lifts it at once.
pub const LOCKOUT: chrono::Duration = chrono::Duration::minutes(15);

pub fn login(app: &App, _ctx: &Ctx, args: LoginArgs) -> Result<LoginOut, ApiError> {
    let username = args.username.trim();
    let user = app.store.read(|c| Ok::<_, ApiError>(store_users::by_username(c, username)?))?;
    // Guessing passwords at the counter or over `balai serve`: after five failures the name is
    // refused for 15 minutes, the right password too (the same for names that do not exist, so
    // the refusal reveals nothing).
    let since = (app.now() - LOCKOUT).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let user_id = user.as_ref().map(|u| u.id.to_string());
    let (failures, last) = app
        .store
        .read(|c| balai_store::audit::failed_logins(c, username, user_id.as_deref(), &since))?;
    if failures >= MAX_FAILED_LOGINS {
        let until = last
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc) + LOCKOUT)
            .unwrap_or_else(|| app.now() + LOCKOUT);
        let anon = Actor {
            user_id: None,
            name: "(tidak dikenal)".into(),
            role: balai_domain::Role::Petugas,
        };
        audit::record(app, &anon, "auth.login_locked", "user", username, "")?;
        let minutes = (until - app.now()).num_minutes().max(1);
        return Err(ApiError::new(
            ErrorCode::TooManyAttempts,
            format!(
                "Terlalu banyak percobaan masuk yang gagal untuk pengguna ini. Coba lagi {minutes} menit lagi, atau minta admin mengganti kata sandinya."
            ),
        ));
    }
    let ok = match &user {
        Some(u) => verify_password(&u.password_hash, &args.password) && u.active,
        None => {
            // Spend the same time as for a real account, so timing does not reveal which
            // user names exist.
            let _ = verify_password(DUMMY_HASH, &args.password);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        let anon = Actor {
            user_id: None,
            name: "(tidak dikenal)".into(),
            role: balai_domain::Role::Petugas,
        };
        audit::record(app, &anon, "auth.login_failed", "user", username, "")?;
        return Err(invalid_credentials());
    };
    let actor = Actor { user_id: Some(user.id), name: user.username.clone(), role: user.role };
    audit::record(app, &actor, "auth.login", "user", &user.id.to_string(), "")?;
    sign_in(app, actor, &user)
}

/// A new session for `user` (its password proved, or its account just made at setup).
pub(crate) fn sign_in(
    app: &App,
    actor: Actor,
    user: &store_users::UserRow,
) -> Result<LoginOut, ApiError> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    app.sessions.start(token.clone(), actor, app.now());
    let idle_lock_minutes = idle_limit(app)?.num_minutes();
    Ok(LoginOut { token, user: UserView::from(user), idle_lock_minutes })
}

/// A valid Argon2id hash of a random string, for constant-time refusals.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8rY8pFNsbb0u2yD4hdn5k7BZsRmEFIQZ1BvF0E6mSa4";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockArgs {
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Done {
    pub ok: bool,
}

pub fn unlock(app: &App, ctx: &Ctx, args: UnlockArgs) -> Result<Done, ApiError> {
    let token = ctx.token.as_deref().ok_or_else(ApiError::unauthenticated)?;
    let actor = app.sessions.actor_of(token).ok_or_else(ApiError::unauthenticated)?;
    let user_id = actor.user_id.ok_or_else(ApiError::unauthenticated)?;
    let user = app.store.read(|c| Ok::<_, ApiError>(store_users::by_id(c, user_id)?));
    let ok = matches!(&user, Ok(Some(u)) if u.active && verify_password(&u.password_hash, &args.password));
    if !ok {
        audit::record(app, &actor, "auth.unlock_failed", "user", &user_id.to_string(), "")?;
        return Err(invalid_credentials());
    }
    app.sessions.unlock(token, app.now());
    audit::record(app, &actor, "auth.unlock", "user", &user_id.to_string(), "")?;
    Ok(Done { ok: true })
}

use crate::areas::NoArgs;

pub fn logout(app: &App, ctx: &Ctx, _args: NoArgs) -> Result<Done, ApiError> {
    if let Some(token) = &ctx.token {
        if let Some(actor) = app.sessions.actor_of(token) {
            audit::record(app, &actor, "auth.logout", "user", &actor.audit_id(), "")?;
        }
        app.sessions.end(token);
    }
    Ok(Done { ok: true })
}

pub fn me(app: &App, ctx: &Ctx, _args: NoArgs) -> Result<UserView, ApiError> {
    let actor = ctx.actor()?;
    let id = actor.user_id.ok_or_else(ApiError::unauthenticated)?;
    let user = app
        .store
        .read(|c| Ok::<_, ApiError>(store_users::by_id(c, id)?))?
        .ok_or_else(|| ApiError::not_found("Pengguna"))?;
    Ok(UserView::from(&user))
}

/// Called by the UI while a person is active, so that typing a long form does not lock them
/// out; the session's activity time was already refreshed by dispatch.
pub fn keepalive(_app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<Done, ApiError> {
    Ok(Done { ok: true })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordArgs {
    pub old_password: String,
    pub new_password: String,
}

pub fn change_password(app: &App, ctx: &Ctx, args: ChangePasswordArgs) -> Result<Done, ApiError> {
    let actor = ctx.actor()?;
    let id = actor.user_id.ok_or_else(ApiError::unauthenticated)?;
    let user = app
        .store
        .read(|c| Ok::<_, ApiError>(store_users::by_id(c, id)?))?
        .ok_or_else(|| ApiError::not_found("Pengguna"))?;
    let mut e = FieldErrors::default();
    if !verify_password(&user.password_hash, &args.old_password) {
        e.push("old_password", "wrong_password", "Kata sandi lama salah.");
    }
    check_password_policy(&mut e, "new_password", &args.new_password);
    e.into_result()?;
    let hash = hash_password(&args.new_password)?;
    app.write(actor, |tx| {
        store_users::set_password(tx, id, &hash, &app.now_text())?;
        audit::record_in(tx, app, actor, "auth.change_password", "user", &id.to_string(), "")
    })?;
    Ok(Done { ok: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_valid_argon2id_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password(DUMMY_HASH, "anything"));
    }
}
