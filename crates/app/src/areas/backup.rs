//! Backups of the office database: made on request and daily (kept 7 days), listed, and
//! restored after being proven whole.
//!
//! A backup is a `VACUUM INTO` copy, encrypted with the database's own key (so it opens only
//! where the database does, or with the recovery key). They go to a `backups` folder beside the
//! database unless a folder is named (a USB stick). A restore first writes a backup of the
//! database as it is, so the restore itself can be undone; then it replaces the content in one
//! transaction; an enrolled PC is fenced until an admin enrols it again (its letter-number
//! leases void), as the city would fence a copy. What the restored copy lacks and must not lose
//! is then taken over from the database it replaced (`balai_store::salvage`): the letters
//! numbered since the backup, and after damage at start everything readable.

use crate::areas::audit;
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_store::salvage::{self, Scope, TakenOver};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How long daily backups are kept.
const KEEP_DAYS: i64 = 7;
/// A daily backup is made when the newest is at least this old.
const DAILY_MS: i64 = 24 * 3600 * 1000;
const STAMP: &str = "%Y%m%d-%H%M%S";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupFile {
    /// `balai-YYYYMMDD-HHMMSS[-harian|-sebelum-pulih].sqlite`
    pub name: String,
    pub path: String,
    pub bytes: u64,
    /// When it was made (UTC, from its name).
    pub made_at: String,
    /// `manual`, `daily` (pruned after 7 days) or `before_restore`.
    pub kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderArgs {
    /// Another folder (e.g. a USB stick); default: `backups` beside the database.
    #[serde(default)]
    pub dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreArgs {
    /// A name from `backup.list`, or a path to a backup file.
    pub backup: String,
    #[serde(default)]
    pub dir: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Restored {
    pub restored_from: String,
    /// The database as it was just before, kept as a backup of its own.
    pub before_restore: BackupFile,
    /// The backup's schema version (an older one was migrated).
    pub schema_version: i64,
    /// An enrolled PC is fenced until enrolled again: its leases were void.
    pub fenced: bool,
    /// What was taken over from the database as it was (`balai_store::salvage`): letters
    /// numbered after the backup, the series marks, their commands for the city.
    pub taken_over: TakenOver,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Daily {
    /// The backup made now, if the newest was a day old or more.
    pub made: Option<BackupFile>,
    /// Daily backups older than 7 days, removed.
    pub removed: Vec<String>,
}

/// The folder of backups: `backups` beside the database, or one the admin names (a USB stick).
/// A named folder must be a whole path: a relative one would land wherever the app happened to
/// start.
fn folder(app: &App, dir: Option<&str>) -> Result<PathBuf, ApiError> {
    match dir.map(str::trim) {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_relative() {
                return Err(ApiError::field(
                    "dir",
                    "dir_not_absolute",
                    "Tulis folder lengkap, mis. /media/flashdisk/cadangan atau E:\\cadangan.",
                ));
            }
            Ok(d)
        }
        _ => Ok(app.db_path().parent().unwrap_or(Path::new(".")).join("backups")),
    }
}

fn kind_suffix(kind: &str) -> &'static str {
    match kind {
        "daily" => "-harian",
        "before_restore" => "-sebelum-pulih",
        _ => "",
    }
}

/// The backup a file name describes, if it is one of ours.
fn parse_name(path: &Path) -> Option<BackupFile> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_prefix("balai-")?.strip_suffix(".sqlite")?;
    let (kind, stamp) = if let Some(s) = stem.strip_suffix("-harian") {
        ("daily", s)
    } else if let Some(s) = stem.strip_suffix("-sebelum-pulih") {
        ("before_restore", s)
    } else {
        ("manual", stem)
    };
    let made = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
    Some(BackupFile {
        name: name.to_string(),
        path: path.display().to_string(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        made_at: made.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        kind: kind.into(),
    })
}

fn made_at(b: &BackupFile) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&b.made_at).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("{what} {} gagal: {e}", path.display()))
}

/// Backups in `dir`, newest first (other files are left alone and not listed).
fn scan(dir: &Path) -> Result<Vec<BackupFile>, ApiError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("Membaca folder cadangan", dir, e)),
    };
    let mut found: Vec<BackupFile> =
        entries.filter_map(|e| e.ok()).filter_map(|e| parse_name(&e.path())).collect();
    found.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(found)
}

/// Writes a backup of `kind` into `dir` now.
fn make(app: &App, dir: &Path, kind: &str) -> Result<BackupFile, ApiError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("Membuat folder cadangan", dir, e))?;
    let mut at = app.now();
    loop {
        let name = format!("balai-{}{}.sqlite", at.format(STAMP), kind_suffix(kind));
        let path = dir.join(&name);
        if !path.exists() {
            // Written beside its name and renamed: a backup that is listed is whole.
            let partial = dir.join(format!("{name}.partial"));
            let _ = std::fs::remove_file(&partial);
            app.store.backup_to(&partial)?;
            std::fs::rename(&partial, &path)
                .map_err(|e| io_error("Menyimpan cadangan", &path, e))?;
            return parse_name(&path)
                .ok_or_else(|| ApiError::new(ErrorCode::Internal, "nama cadangan"));
        }
        at += chrono::Duration::seconds(1);
    }
}

pub fn create(app: &App, ctx: &Ctx, args: FolderArgs) -> Result<BackupFile, ApiError> {
    let actor = ctx.actor()?;
    let made = make(app, &folder(app, args.dir.as_deref())?, "manual")?;
    audit::record(app, actor, "backup.create", "backup", &made.name, "")?;
    Ok(made)
}

pub fn list(app: &App, _ctx: &Ctx, args: FolderArgs) -> Result<Vec<BackupFile>, ApiError> {
    scan(&folder(app, args.dir.as_deref())?)
}

/// Once a day (the desktop asks every hour; a server's cron may call `balai backup daily`):
/// a backup when the newest one is a day old, then daily backups older than 7 days removed.
pub fn daily(app: &App, ctx: &Ctx, args: FolderArgs) -> Result<Daily, ApiError> {
    let actor = ctx.actor()?;
    let dir = folder(app, args.dir.as_deref())?;
    let existing = scan(&dir)?;
    let now = app.now();
    let newest = existing.iter().map(made_at).max();
    let made = match newest {
        Some(t) if (now - t).num_milliseconds() < DAILY_MS && t <= now => None,
        _ => Some(make(app, &dir, "daily")?),
    };
    let mut removed = Vec::new();
    for b in existing.iter().filter(|b| b.kind == "daily") {
        if (now - made_at(b)).num_days() >= KEEP_DAYS {
            std::fs::remove_file(&b.path)
                .map_err(|e| io_error("Menghapus cadangan", Path::new(&b.path), e))?;
            removed.push(b.name.clone());
        }
    }
    if let Some(m) = &made {
        audit::record(app, actor, "backup.daily", "backup", &m.name, "")?;
    }
    Ok(Daily { made, removed })
}

pub fn restore(app: &App, ctx: &Ctx, args: RestoreArgs) -> Result<Restored, ApiError> {
    let actor = ctx.actor()?.clone();
    let dir = folder(app, args.dir.as_deref())?;
    let given = args.backup.trim();
    let src = if given.contains('/') || given.contains('\\') {
        PathBuf::from(given)
    } else {
        dir.join(given)
    };
    if !src.is_file() {
        return Err(ApiError::field("backup", "not_found", "Berkas cadangan tidak ditemukan."));
    }
    if src == app.db_path() {
        return Err(ApiError::field(
            "backup",
            "invalid",
            "Itu berkas basis data yang sedang dipakai, bukan cadangan.",
        ));
    }
    let verified = balai_store::verify_backup(&src, app.key.bytes()).map_err(|e| match e {
        balai_store::StoreError::WrongKey { .. } => ApiError::field(
            "backup",
            "wrong_key",
            "Cadangan ini dari basis data lain (kuncinya berbeda); tidak dipulihkan.",
        ),
        balai_store::StoreError::Corrupt(why) => ApiError::field(
            "backup",
            "damaged",
            format!("Cadangan rusak atau bukan cadangan Balai ({why}); tidak dipulihkan."),
        ),
        other => other.into(),
    })?;
    let version = verified.schema_version;
    // The database as it is, kept first: a restore can itself be undone.
    let before = make(app, &dir, "before_restore")?;
    // Fenced inside the copy before it replaces anything: there is no moment in which the
    // restored PC could draw a number from a lease another copy may have used. The take-over
    // of the letters numbered since is marked in the same copy: a crash before it is done
    // finishes it at the next start.
    let before_path = PathBuf::from(&before.path);
    let fenced = app.store.restore_from(verified, |tx| {
        let fenced = balai_store::sync::fence_restored(tx)?;
        salvage::mark_pending(tx, &before_path, Scope::Letters)?;
        Ok(fenced)
    })?;
    app.sessions.end_every();
    let taken_over = take_over(app, &before_path, Scope::Letters)?;
    app.write(&actor, |tx| {
        let name = src.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        audit::record_in(
            tx,
            app,
            &actor,
            "backup.restore",
            "backup",
            &name,
            &format!("sebelumnya={}", before.name),
        )
    })?;
    Ok(Restored {
        restored_from: src.display().to_string(),
        before_restore: before,
        schema_version: version,
        fenced,
        taken_over,
    })
}

/// Takes over from the database file at `old` what the restore just made must not lose
/// (`balai_store::salvage`), and records it in the audit trail (counts only).
pub(crate) fn take_over(app: &App, old: &Path, scope: Scope) -> Result<TakenOver, ApiError> {
    let actor = crate::Actor::operator("pemulihan");
    let taken = app.store.take_over(&app.write_ctx(&actor), old, scope)?;
    let name = old.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    audit::record(
        app,
        &actor,
        "database.taken_over",
        "backup",
        &name,
        &format!(
            "cakupan={}; surat={}; seri_maju={}; baris={}; perubahan={}; antre={}; tak_terbaca={}",
            scope.as_str(),
            taken.letters,
            taken.series_forward,
            taken.rows,
            taken.changes,
            taken.queued,
            taken.unreadable.len()
        ),
    )?;
    Ok(taken)
}

/// At open: a take-over a restore marked and did not finish (the process stopped between the
/// two), finished now. The file it reads from may be gone (removed by hand): then nothing is
/// taken and the mark is cleared, the audit trail saying so.
pub(crate) fn finish_take_over(app: &App) -> Result<(), ApiError> {
    let Some((old, scope)) =
        app.store.read(|c| salvage::pending(c).map_err(balai_store::StoreError::from))?
    else {
        return Ok(());
    };
    take_over(app, &old, scope).map(drop)
}

/// At start, after a damaged database was set aside (`set_aside`): the newest backup beside it
/// that proves whole, restored into the new empty database (`None` when there is none); then
/// everything of the office's work readable in the damaged file that the backup lacks is taken
/// over (into the empty database when there was no backup).
pub(crate) fn restore_newest_whole(
    app: &App,
    set_aside: &str,
) -> Result<(Option<BackupFile>, TakenOver), ApiError> {
    let actor = crate::Actor::operator("pemulihan");
    let damaged = Path::new(set_aside);
    let mut restored = None;
    for b in scan(&folder(app, None)?)? {
        let Ok(verified) = balai_store::verify_backup(Path::new(&b.path), app.key.bytes()) else {
            continue; // damaged too, or another database's: the next older one
        };
        app.store.restore_from(verified, |tx| {
            let fenced = balai_store::sync::fence_restored(tx)?;
            salvage::mark_pending(tx, damaged, Scope::Everything)?;
            Ok(fenced)
        })?;
        restored = Some(b);
        break;
    }
    if restored.is_none() {
        app.write(&actor, |tx| {
            salvage::mark_pending(tx, damaged, Scope::Everything)
                .map_err(|e| ApiError::from(balai_store::StoreError::from(e)))
        })?;
    }
    let detail = match &restored {
        Some(_) => format!("rusak={set_aside}"),
        None => format!("rusak={set_aside}; tanpa cadangan"),
    };
    let name = restored.as_ref().map(|b| b.name.clone()).unwrap_or_default();
    audit::record(app, &actor, "database.recovered", "backup", &name, &detail)?;
    let taken = take_over(app, damaged, Scope::Everything)?;
    Ok((restored, taken))
}
