//! balai-desktop: the Tauri 2 window of Balai.
//!
//! What it does: opens the office database (`--db PATH`, else `$BALAI_DB`, else the same default
//! as the `balai` CLI), shows the UI built with the Tauri transport, and exposes one command,
//! `api`, which forwards a command name and JSON arguments to `balai_app::dispatch` on a worker
//! thread (never the main thread).
//!
//! It also runs the background sync: every `BALAI_SYNC_INTERVAL_S` seconds (default 300) a
//! worker thread dispatches `sync.now`, as the CLI would; before enrolment or offline that
//! answers an error and the next round tries again. The UI is never blocked by it.
//!
//! A third thread asks for the daily backup every hour (`backup.daily`: one a day, kept 7 days).
//!
//! Before the database is open for want of its key (`key_missing`: another OS account, a
//! reinstalled PC), `api` answers one more call, `key.recover`, which takes the recovery key.
//!
//! What it does not do: no logic of its own; anything a person can do here goes through the
//! same command table as `balai serve` and the CLI.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use balai_app::{ApiError, App, Caller, ErrorCode, SystemClock};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// The opened app, or why it could not be opened (shown by the UI through every call).
struct Office(std::sync::RwLock<Result<Arc<App>, ApiError>>);

impl Office {
    fn app(&self) -> Result<Arc<App>, ApiError> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `key.recover {recovery_key}`, the one call the window answers before the database is
    /// open: when this account keeps no key for it, the recovery key opens it (see
    /// balai_app::recover_and_open) and the office starts as it would have.
    fn recover(&self, args: &Value) -> Result<Value, ApiError> {
        if !matches!(self.app(), Err(ApiError { code: ErrorCode::KeyMissing, .. })) {
            return Err(ApiError::new(ErrorCode::Conflict, "Basis data sudah terbuka."));
        }
        let text = args.get("recovery_key").and_then(Value::as_str).unwrap_or_default();
        let path = db_path().ok_or_else(|| {
            ApiError::new(ErrorCode::Internal, "Lokasi basis data tidak diketahui.")
        })?;
        let keys = balai_app::KeyStore::from_env()?;
        let app = Arc::new(balai_app::recover_and_open(&path, &keys, text, Arc::new(SystemClock))?);
        start_background(app.clone());
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Ok(app);
        Ok(serde_json::json!({"recovered": true}))
    }
}

#[tauri::command]
async fn api(
    office: tauri::State<'_, Office>,
    command: String,
    args: Value,
    token: Option<String>,
) -> Result<Value, ApiError> {
    if command == "key.recover" {
        return office.recover(&args);
    }
    let app = office.app()?;
    tauri::async_runtime::spawn_blocking(move || {
        balai_app::dispatch(&app, &Caller::Session(token), &command, args)
    })
    .await
    .map_err(|_| ApiError::new(ErrorCode::Internal, "Perintah berhenti tak terduga."))?
}

fn db_path() -> Option<PathBuf> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--db" {
            return args.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--db=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("BALAI_DB").map(PathBuf::from).or_else(balai_app::default_db_path)
}

fn open_office() -> Result<Arc<App>, ApiError> {
    let path = db_path().ok_or_else(|| {
        ApiError::new(ErrorCode::Internal, "Lokasi basis data tidak diketahui (HOME kosong).")
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            ApiError::new(ErrorCode::Internal, format!("Folder data tidak dapat dibuat: {e}"))
        })?;
    }
    let keys = balai_app::KeyStore::from_env()?;
    // Checked whole at every start: a damaged file is set aside and the newest backup restored.
    App::open_checked(&path, &keys, Arc::new(SystemClock)).map(Arc::new)
}

/// Pushes waiting changes every few minutes on a thread of its own.
fn background_sync(app: Arc<App>) {
    let every = std::env::var("BALAI_SYNC_INTERVAL_S")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(300);
    let caller = Caller::Operator("sinkronisasi".into());
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(every));
        // Errors (not enrolled, offline) are shown on the sync page via sync.status; retry later.
        let _ = balai_app::dispatch(&app, &caller, "sync.now", serde_json::json!({}));
    });
}

/// Asks every hour for the daily backup (made when the newest is a day old; those older than
/// 7 days removed), on a thread of its own.
fn daily_backup(app: Arc<App>) {
    let caller = Caller::Operator("cadangan".into());
    std::thread::spawn(move || loop {
        // A failure (disk full, a read-only folder) is tried again in an hour; the backup
        // page lists what exists, with when it was made.
        let _ = balai_app::dispatch(&app, &caller, "backup.daily", serde_json::json!({}));
        std::thread::sleep(std::time::Duration::from_secs(3600));
    });
}

fn start_background(app: Arc<App>) {
    background_sync(app.clone());
    daily_backup(app);
}

fn main() {
    let office = open_office();
    if let Ok(app) = &office {
        start_background(app.clone());
    }
    tauri::Builder::default()
        .manage(Office(std::sync::RwLock::new(office)))
        .invoke_handler(tauri::generate_handler![api])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("balai-desktop: {e}");
            std::process::exit(1);
        });
}
