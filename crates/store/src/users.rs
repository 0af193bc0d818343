//! Local user accounts.

use crate::{Result, StoreError};
use balai_domain::Role;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use uuid::Uuid;

#[derive(Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for UserRow {
    // The password hash stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "id, username, full_name, role, password_hash, active, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(UserRow, String)> {
    let role: String = r.get(3)?;
    Ok((
        UserRow {
            id: r.get(0)?,
            username: r.get(1)?,
            full_name: r.get(2)?,
            role: Role::Petugas,
            password_hash: r.get(4)?,
            active: r.get::<_, i64>(5)? == 1,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
        role,
    ))
}

fn with_role((mut u, role): (UserRow, String)) -> Result<UserRow> {
    u.role = role.parse().map_err(|e| StoreError::Corrupt(format!("users.role: {e}")))?;
    Ok(u)
}

pub fn insert(tx: &Transaction, u: &UserRow) -> Result<()> {
    tx.execute(
        &format!("INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            u.id,
            u.username,
            u.full_name,
            u.role.as_str(),
            u.password_hash,
            u.active as i64,
            u.created_at,
            u.updated_at
        ],
    )?;
    Ok(())
}

/// Case-insensitive: `Admin` and `admin` are one account.
pub fn by_username(conn: &Connection, username: &str) -> Result<Option<UserRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE username = ?1"),
        [username],
        from_row,
    )
    .optional()?
    .map(with_role)
    .transpose()
}

pub fn by_id(conn: &Connection, id: Uuid) -> Result<Option<UserRow>> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"), [id], from_row)
        .optional()?
        .map(with_role)
        .transpose()
}

pub fn list(conn: &Connection) -> Result<Vec<UserRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))?;
    let rows = stmt.query_map([], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(with_role).collect()
}

pub fn set_password(tx: &Transaction, id: Uuid, password_hash: &str, at: &str) -> Result<()> {
    tx.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, password_hash, at],
    )?;
    Ok(())
}

pub fn set_active(tx: &Transaction, id: Uuid, active: bool, at: &str) -> Result<()> {
    tx.execute(
        "UPDATE users SET active = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, active as i64, at],
    )?;
    Ok(())
}

pub fn count_active_with_role(conn: &Connection, role: Role) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = ?1 AND active = 1",
        [role.as_str()],
        |r| r.get(0),
    )?)
}
