//! balai-app: THE API boundary of Balai.
//!
//! What it does: holds the [`App`] context (store, clock, sessions), and one module per area of
//! plain functions `fn(&App, &Ctx, Args) -> Result<Out, ApiError>`. Every function is listed
//! once in [`commands::COMMANDS`] with the roles that may call it; [`dispatch`] resolves the
//! caller, checks the role, runs the function and audits refusals. The Tauri shell, the
//! loopback HTTP server (`balai serve`) and the CLI all call [`dispatch`] and nothing else.
//!
//! What it does not do: no SQL (balai-store), no rules of the domain itself (balai-domain), no
//! transport (HTTP, IPC and argument parsing live in the binaries).

pub mod areas;
pub mod clock;
pub mod commands;
pub mod error;
pub mod progress;
pub mod session;

pub use balai_keys::{DbKey, KeyStore};
pub use balai_store::migrations::LATEST as SCHEMA_VERSION;
pub use clock::{Clock, SystemClock};
pub use commands::{dispatch, Caller, COMMANDS};
pub use error::{ApiError, ErrorCode};
pub use session::Actor;

use balai_store::Store;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use std::path::Path;
use std::sync::Arc;

/// Everything a command needs. Cheap to share behind an `Arc`.
pub struct App {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sessions: session::Sessions,
    /// How far the running long commands have got (imports), for `progress.get`.
    pub(crate) progress: progress::Progress,
    /// How sync reaches the city: HTTP, or the simulation's in-process city.
    pub(crate) link: Arc<dyn balai_sync::Link>,
    /// Until when (app clock, ms) issuing a letter does not ask the city for its number: the
    /// city did not answer the last time, and an office offline should wait at most once.
    pub(crate) city_quiet_until_ms: std::sync::atomic::AtomicU64,
    /// The office's offset from UTC in seconds (WIB, WITA or WIT, by its kelurahan code), for
    /// "today": read at open and when the profile is saved.
    pub(crate) utc_offset_s: std::sync::atomic::AtomicI32,
    /// The database's key, for the recovery key shown once to the admin (security.recovery_key).
    pub(crate) key: DbKey,
    /// Where the key is kept (`os`, `file`, or `none` when the caller holds it), for app.info.
    pub(crate) key_store: &'static str,
    /// What [`App::open_checked`] found damaged and did about it, for app.info.
    pub(crate) recovery: std::sync::Mutex<Option<Recovery>>,
}

/// A damaged office database found at start, and what was done: set aside, never deleted; the
/// newest whole backup restored in its place, if there was one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Recovery {
    /// What was wrong (truncated, a page that fails its check, …).
    pub damage: String,
    /// Where the damaged file now is, with its WAL beside it.
    pub set_aside: String,
    /// The backup now in its place; `None`: there was no whole backup, the office starts empty
    /// (an enrolled office gets its register again from the city after enrolling anew).
    pub restored_from: Option<String>,
    /// When the backup restored was made.
    pub backup_made_at: Option<String>,
    /// What was taken over from the damaged file: the work the backup lacks, as far as it
    /// could be read (`balai_store::salvage`).
    pub taken_over: Option<balai_store::salvage::TakenOver>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("store", &self.store).finish_non_exhaustive()
    }
}

impl App {
    /// Opens (creating and migrating if needed) the office database at `db`, its key kept in
    /// `keys` ([`office_key`]): what the desktop and the CLI do.
    pub fn open_kept(db: &Path, keys: &KeyStore, clock: Arc<dyn Clock>) -> Result<App, ApiError> {
        let key = office_key(db, keys)?;
        let mut app = App::open(db, &key, clock)?;
        app.key_store = keys.kind();
        Ok(app)
    }

    /// As [`App::open_kept`], after checking the file whole (`balai_store::cipher::damage`:
    /// truncation, a page that fails its check, a first page the key no longer opens). A damaged
    /// file is moved aside with its WAL (renamed `….rusak-YYYYMMDD-HHMMSS`, never deleted) and the
    /// newest backup that proves whole is restored in its place (fenced, if enrolled, as after
    /// any restore); without one, the office starts from an empty database. What happened is in
    /// `app.info` (`recovery`) and the audit trail. Reads every page: for the desktop's start and
    /// `balai check`, not for every CLI call.
    pub fn open_checked(
        db: &Path,
        keys: &KeyStore,
        clock: Arc<dyn Clock>,
    ) -> Result<App, ApiError> {
        let key = office_key(db, keys)?;
        let has_content = std::fs::metadata(db).map(|m| m.len() > 0).unwrap_or(false);
        let mut recovery = None;
        if has_content && !balai_store::cipher::is_plain(db)? {
            if let Some(damage) = balai_store::cipher::damage(db, key.bytes())? {
                let set_aside = set_aside(db, clock.now())?;
                recovery = Some(Recovery {
                    damage,
                    set_aside: set_aside.display().to_string(),
                    restored_from: None,
                    backup_made_at: None,
                    taken_over: None,
                });
            }
        }
        let mut app = App::open(db, &key, clock)?;
        app.key_store = keys.kind();
        if let Some(mut r) = recovery {
            let (backup, taken) = areas::backup::restore_newest_whole(&app, &r.set_aside)?;
            if let Some(b) = backup {
                r.restored_from = Some(b.path);
                r.backup_made_at = Some(b.made_at);
            }
            r.taken_over = Some(taken);
            *app.recovery.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
        }
        Ok(app)
    }

    /// Opens (creating and migrating if needed) the office database at `db`, encrypted with
    /// `key`.
    pub fn open(db: &Path, key: &DbKey, clock: Arc<dyn Clock>) -> Result<App, ApiError> {
        App::open_with_link(db, key, clock, Arc::new(balai_sync::Http::default()))
    }

    /// As [`App::open`], reaching the city through `link` (the deterministic simulation's).
    pub fn open_with_link(
        db: &Path,
        key: &DbKey,
        clock: Arc<dyn Clock>,
        link: Arc<dyn balai_sync::Link>,
    ) -> Result<App, ApiError> {
        let store = Store::open(db, key.bytes())?;
        let profile = store.read(|c| balai_store::profile::get(c))?;
        let utc_offset_s = office_utc_offset(profile.as_ref());
        let app = App {
            store,
            clock,
            sessions: session::Sessions::default(),
            progress: Default::default(),
            link,
            city_quiet_until_ms: Default::default(),
            utc_offset_s: utc_offset_s.into(),
            key: key.clone(),
            key_store: "none",
            recovery: Default::default(),
        };
        // A restore whose process stopped before its take-over: finished before any work.
        areas::backup::finish_take_over(&app)?;
        Ok(app)
    }

    /// The office's date now: its own time zone's, not UTC's.
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        let offset = self.utc_offset_s.load(std::sync::atomic::Ordering::Relaxed);
        (self.now() + chrono::Duration::seconds(offset.into())).date_naive()
    }

    pub fn db_path(&self) -> &Path {
        self.store.path()
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The current time as stored: RFC 3339, UTC, milliseconds.
    pub(crate) fn now_text(&self) -> String {
        self.now().to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Runs `f` in one write transaction as `actor`: capture triggers and the audit trail see the
    /// same time and user.
    pub(crate) fn write<T>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&balai_store::WriteTx) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.store.write(&self.write_ctx(actor), f)
    }

    pub(crate) fn write_ctx(&self, actor: &Actor) -> balai_store::WriteCtx {
        balai_store::WriteCtx {
            now_ms: self.now().timestamp_millis().max(0) as u64,
            user_id: actor.audit_id(),
        }
    }

    /// A new UUIDv7 from the app's clock.
    pub(crate) fn new_id(&self) -> uuid::Uuid {
        let mut random = [0u8; 10];
        rand::thread_rng().fill_bytes(&mut random);
        balai_store::uuid_v7(self.now().timestamp_millis().max(0) as u64, random)
    }
}

/// The key of the office database at `db`, as `keys` keeps it. A database that does not exist
/// yet (or is empty, or is a plain file of an earlier build, which opening encrypts) gets a new
/// key, kept before the database is written with it, so no encrypted file ever exists without
/// its key kept. An encrypted database with no key kept here is [`ErrorCode::KeyMissing`]: the
/// office enters its recovery key ([`recover_key`]).
pub fn office_key(db: &Path, keys: &KeyStore) -> Result<DbKey, ApiError> {
    if let Some(key) = keys.load(db)? {
        return Ok(key);
    }
    let has_content = std::fs::metadata(db).map(|m| m.len() > 0).unwrap_or(false);
    if has_content && !balai_store::cipher::is_plain(db)? {
        return Err(ApiError::new(
            ErrorCode::KeyMissing,
            "Basis data kantor terenkripsi dan kuncinya tidak tersimpan di komputer ini. Masukkan kunci pemulihan yang dicatat admin saat penyiapan.",
        ));
    }
    let key = DbKey::generate();
    keys.save(db, &key)?;
    Ok(key)
}

/// Moves the damaged database at `db` and its WAL aside: `….rusak-YYYYMMDD-HHMMSS`.
fn set_aside(db: &Path, now: DateTime<Utc>) -> Result<std::path::PathBuf, ApiError> {
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = db.with_file_name(format!("{name}.rusak-{}", now.format("%Y%m%d-%H%M%S")));
    let move_it =
        |from: std::path::PathBuf, to: std::path::PathBuf| match std::fs::rename(&from, &to) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ApiError::new(
                ErrorCode::Internal,
                format!("Basis data rusak tidak dapat disisihkan ({}): {e}", from.display()),
            )),
        };
    for suffix in ["-wal", "-shm"] {
        let from = db.with_file_name(format!("{name}{suffix}"));
        let to = aside.with_file_name(format!(
            "{}{suffix}",
            aside.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        move_it(from, to)?;
    }
    move_it(db.to_path_buf(), aside.clone())?;
    Ok(aside)
}

/// Takes the recovery key `text` for the database at `db` (a new PC, a new user profile, a
/// database moved to another folder): proves it opens the file, then keeps it in `keys`.
/// A wrong key keeps nothing ([`ErrorCode::WrongKey`]).
pub fn recover_key(db: &Path, keys: &KeyStore, text: &str) -> Result<(), ApiError> {
    let key = DbKey::from_recovery_text(text)?;
    if !db.exists() {
        return Err(ApiError::not_found("Berkas basis data"));
    }
    balai_store::cipher::check_key(db, key.bytes())?;
    keys.save(db, &key)?;
    Ok(())
}

/// For a shell whose database did not open for want of its key (`key_missing`): takes the
/// recovery key `text` ([`recover_key`]: proved on the file, then kept) and opens the database as
/// [`App::open_checked`] does.
pub fn recover_and_open(
    db: &Path,
    keys: &KeyStore,
    text: &str,
    clock: Arc<dyn Clock>,
) -> Result<App, ApiError> {
    recover_key(db, keys, text)?;
    App::open_checked(db, keys, clock)
}

/// Where the office database lives unless `--db` or `BALAI_DB` says otherwise:
/// `$XDG_DATA_HOME/balai/balai.sqlite`, else `~/.local/share/balai/balai.sqlite`; on Windows
/// `%LOCALAPPDATA%\Balai\balai.sqlite` (the user's own, which an uninstall leaves in place).
/// The CLI and the desktop app use the same default so they open the same office.
pub fn default_db_path() -> Option<std::path::PathBuf> {
    if cfg!(windows) {
        if let Some(local) = std::env::var_os("LOCALAPPDATA").filter(|d| !d.is_empty()) {
            return Some(std::path::PathBuf::from(local).join("Balai").join("balai.sqlite"));
        }
    }
    let base = match std::env::var_os("XDG_DATA_HOME") {
        Some(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
    };
    Some(base.join("balai").join("balai.sqlite"))
}

/// The context a command runs in: who is calling, and with which session.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub actor: Option<Actor>,
    pub token: Option<String>,
}

impl Ctx {
    /// The signed-in actor; commands open to the public call this only when they need one.
    pub fn actor(&self) -> Result<&Actor, ApiError> {
        self.actor.as_ref().ok_or_else(ApiError::unauthenticated)
    }

    /// A file on this computer named by its path (`field`), for the command-line operator only:
    /// the OS user who runs `balai` can read and write the machine's files anyway. A user signed
    /// in to the window sends and receives a file's contents instead — a clerk's session must
    /// not read `~/.ssh/id_ed25519` into an import report, nor overwrite a file by name.
    pub(crate) fn local_path(
        &self,
        field: &str,
        path: Option<String>,
    ) -> Result<Option<String>, ApiError> {
        let operator = self.actor.as_ref().is_some_and(|a| a.user_id.is_none());
        match path {
            Some(_) if !operator => Err(ApiError::field(
                field,
                "path_not_allowed",
                "Berkas di komputer hanya dapat ditunjuk dari baris perintah; dari aplikasi, unggah atau unduh isinya.",
            )),
            p => Ok(p),
        }
    }
}

/// The offset from UTC of the office with `profile` (WIB until it has one).
pub(crate) fn office_utc_offset(profile: Option<&balai_domain::office::OfficeProfile>) -> i32 {
    balai_domain::dates::utc_offset_seconds(profile.map_or("", |p| p.kelurahan_code.as_str()))
}
