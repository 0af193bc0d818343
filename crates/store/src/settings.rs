//! Office settings, each a typed key with its default.

use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A setting the app knows, with its default.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub default: i64,
}

/// Minutes without activity after which a session locks (UU PDP: unattended counters).
pub const IDLE_LOCK_MINUTES: Key = Key { name: "idle_lock_minutes", default: 10 };

pub fn get_int(conn: &Connection, key: Key) -> Result<i64> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key.name], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|s| s.parse().ok()).unwrap_or(key.default))
}

pub fn set_int(tx: &Transaction, key: Key, value: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key.name, value.to_string()],
    )?;
    Ok(())
}

/// A text setting the app knows, with its default.
#[derive(Debug, Clone, Copy)]
pub struct TextKey {
    pub name: &'static str,
    pub default: &'static str,
}

/// The letter-number pattern (balai_domain::letter_number).
pub const NUMBER_PATTERN: TextKey = TextKey {
    name: "letter_number_pattern",
    default: "[kode]/[nomor:3]/[unit]/[bulan_romawi]/[tahun]",
};
/// `per_type` or `single`.
pub const NUMBER_SERIES: TextKey = TextKey { name: "letter_number_series", default: "per_type" };
/// The office's unit code in letter numbers, e.g. `KEL-YSR`.
pub const UNIT_CODE: TextKey = TextKey { name: "letter_unit_code", default: "KEL" };
/// `f4` or `a4`.
pub const PAPER: TextKey = TextKey { name: "letter_paper", default: "f4" };

pub fn get_text(conn: &Connection, key: TextKey) -> Result<String> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key.name], |r| r.get(0))
        .optional()?;
    Ok(v.unwrap_or_else(|| key.default.to_string()))
}

pub fn set_text(tx: &Transaction, key: TextKey, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key.name, value],
    )?;
    Ok(())
}
