//! The one error type every command returns. The UI branches on `code` (stable, snake_case),
//! shows `message` (Bahasa Indonesia) and marks each entry of `fields` next to its input.

use balai_domain::{FieldError, FieldErrors};
use balai_store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields are wrong; see `fields`.
    InvalidInput,
    /// The request's arguments do not have the command's shape.
    BadArguments,
    UnknownCommand,
    /// No valid session: log in.
    Unauthenticated,
    /// The session is locked after idle time: enter the password again.
    SessionLocked,
    InvalidCredentials,
    /// Too many failed logins for this user name: refused for a while.
    TooManyAttempts,
    /// The caller's role may not run this command.
    Forbidden,
    NotFound,
    Conflict,
    /// The office profile has not been set up yet.
    NotInitialized,
    /// The capability exists in a later version of Balai.
    NotAvailable,
    /// The database was written by a newer Balai.
    DatabaseTooNew,
    /// The office database is encrypted and this computer keeps no key for it: enter the
    /// recovery key.
    KeyMissing,
    /// The key given (a recovery key, or the one kept) does not open this database.
    WrongKey,
    /// The disk is full: nothing was changed.
    DiskFull,
    /// The database file or its folder cannot be written: nothing was changed.
    ReadOnly,
    /// Another program holds the database locked: nothing was changed; try again.
    DatabaseBusy,
    /// A fault that is not the caller's (disk, corrupt data).
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), fields: Vec::new() }
    }
    pub fn unauthenticated() -> ApiError {
        ApiError::new(ErrorCode::Unauthenticated, "Silakan masuk terlebih dahulu.")
    }
    pub fn forbidden(command: &str) -> ApiError {
        ApiError::new(
            ErrorCode::Forbidden,
            format!("Peran Anda tidak berwenang menjalankan `{command}`."),
        )
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorCode::NotFound, format!("{what} tidak ditemukan."))
    }
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> ApiError {
        let mut e = FieldErrors::default();
        e.push(field, code, message);
        e.into()
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> ApiError {
        ApiError {
            code: ErrorCode::InvalidInput,
            message: "Periksa kembali isian yang ditandai.".into(),
            fields: e.0,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e.storage_problem() {
            Some(balai_store::StorageProblem::Full) => {
                return ApiError::new(
                    ErrorCode::DiskFull,
                    "Disk penuh: perubahan tidak disimpan dan data yang ada tetap utuh. Kosongkan ruang disk lalu ulangi.",
                )
            }
            Some(balai_store::StorageProblem::ReadOnly) => {
                return ApiError::new(
                    ErrorCode::ReadOnly,
                    "Basis data atau foldernya tidak dapat ditulis (izin akses, atau disk hanya-baca): tidak ada yang diubah. Periksa izin folder data.",
                )
            }
            Some(balai_store::StorageProblem::Busy) => {
                return ApiError::new(
                    ErrorCode::DatabaseBusy,
                    "Basis data sedang dikunci program lain: tidak ada yang diubah. Tutup program itu lalu ulangi.",
                )
            }
            None => {}
        }
        match e {
            StoreError::TooNew { found, supported, .. } => ApiError::new(
                ErrorCode::DatabaseTooNew,
                format!(
                    "Basis data dibuat oleh versi Balai yang lebih baru (skema {found}, versi ini {supported}). Perbarui Balai; data tidak diubah."
                ),
            ),
            StoreError::WrongKey { .. } => ApiError::new(
                ErrorCode::WrongKey,
                "Kunci tidak dapat membuka basis data ini: berkasnya milik kantor atau komputer lain, atau rusak. Data tidak diubah.",
            ),
            // Store errors carry SQL text and paths, never personal data; still, the UI shows a
            // plain sentence and the detail goes to the message for the operator.
            other => ApiError::new(ErrorCode::Internal, format!("Kesalahan basis data: {other}")),
        }
    }
}

impl From<balai_keys::KeyError> for ApiError {
    fn from(e: balai_keys::KeyError) -> ApiError {
        use balai_keys::KeyError;
        match e {
            KeyError::BadRecoveryKey(why) => ApiError::field(
                "recovery_key",
                "invalid",
                format!(
                    "Kunci pemulihan tidak sah: {}.",
                    match why {
                        w if w.starts_with("too short") => "terlalu pendek (56 karakter)",
                        w if w.starts_with("too long") => "terlalu panjang (56 karakter)",
                        w if w.starts_with("its check") => "ada karakter yang salah ketik",
                        _ => "ada karakter yang bukan bagian kunci pemulihan",
                    }
                ),
            ),
            // Key errors never carry a key; the detail is for the operator.
            other => ApiError::new(
                ErrorCode::Internal,
                format!("Penyimpanan kunci komputer ini tidak dapat dipakai: {other}"),
            ),
        }
    }
}
