//! balai-kota: the city server every kelurahan office syncs with (design.md "Sync").
//!
//! What it does (so far): the kelurahan registry (Kemendagri codes), one-time enrolment codes
//! (valid 24 h, single use, stored only as hashes), device enrolment with the device's Ed25519
//! public key and epoch, device revocation, and request authentication by signature: every
//! device request is signed with the device key over its method, path, time and body hash, and
//! the kelurahan of the request is the device's — never read from a body.
//!
//! Push and pull of mergeable state (`feed`): per-device contiguous sequence, idempotent,
//! per-op results; the shared merge function; rows owned by one kelurahan; clocks from the
//! future clamped; a per-kelurahan feed numbered inside the writing transaction.
//!
//! Letter numbers (`leases`): blocks of serials per series granted to a device and its epoch,
//! and the `issue_letter` command accepted only inside such a lease and only once.
//!
//! Verification (`verify`): the offices' public letter keys and voided letters arrive as
//! commands; `GET /verify` is the public page (no account, no JavaScript) that says whether a
//! QR's text is a valid, voided or unknown letter, with only the masked details the QR carries.
//!
//! The city's view (`dashboard`): city admins log in (Argon2id, an HttpOnly session cookie)
//! and see every kelurahan side by side; it only reads.
//!
//! Online requests (`requests`): the public form and status page; requests go down the
//! kelurahan's feed, one PC claims each, its status comes back to the resident.
//!
//! What it does not do yet: PostgreSQL
//! (issue 5 lists them; `db` is the one module holding SQL so a second backend replaces it).
//!
//! Layout: `db` (SQLite schema and queries; takes `now_ms`, never reads a clock), `auth` (the
//! signed-request check), `http` (axum routes, one line each into `db`), `codes` (one-time
//! codes).

pub mod auth;
pub mod backup;
pub mod codes;
pub mod conflicts;
pub mod contest;
pub mod dashboard;
pub mod db;
pub mod feed;
pub mod html;
pub mod http;
pub mod leases;
pub mod pg_schema;
pub mod requests;
pub mod sql;
pub mod tls;
pub mod verify;

/// Errors of the server, each with the stable code of `balai_protocol::ErrorBody`.
#[derive(Debug, thiserror::Error)]
pub enum KotaError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Kode pendaftaran tidak berlaku (salah, kedaluwarsa atau sudah dipakai).")]
    CodeInvalid,
    #[error("{0}")]
    Unauthenticated(String),
    #[error("Perangkat ini sudah dicabut oleh admin kota.")]
    Revoked,
    /// A signed request from a device id the server does not know: the city was restored from
    /// a backup older than its enrolment.
    #[error("Server kota tidak mengenal komputer ini (mungkin dipulihkan dari cadangan): daftarkan ulang; semua perubahan dikirim lagi.")]
    UnknownDevice,
    #[error("Kode pendaftaran ini untuk kelurahan {code_for}, sedangkan profil kantor ini kelurahan {office}: minta kode untuk kelurahan yang benar, atau perbaiki profil kantor.")]
    KelurahanMismatch { code_for: String, office: String },
    #[error("{0}")]
    NotFound(String),
    #[error("Urutan perubahan terputus: server menunggu nomor {expected}.")]
    Gap { expected: u64 },
    #[error("Salinan basis data ini sudah tidak berlaku (dipulihkan atau disalin): daftarkan ulang perangkat.")]
    EpochFenced,
    #[error("Versi Balai di komputer ini terlalu lama: perbarui aplikasi; perubahan tetap tersimpan dan dikirim setelahnya.")]
    UpdateRequired,
    #[error("Terlalu banyak percobaan dari alamat ini; coba lagi dalam satu jam.")]
    TooManyAttempts,
    #[error("Isi permintaan harus JSON (Content-Type: application/json).")]
    UnsupportedMediaType,
    #[error("basis data: {0}")]
    Database(#[from] crate::sql::SqlError),
}

impl From<rusqlite::Error> for KotaError {
    fn from(e: rusqlite::Error) -> Self {
        KotaError::Database(e.into())
    }
}

impl KotaError {
    pub fn code(&self) -> &'static str {
        match self {
            KotaError::BadRequest(_) => "bad_request",
            KotaError::CodeInvalid => "code_invalid",
            KotaError::Unauthenticated(_) => "unauthenticated",
            KotaError::Revoked => "revoked",
            KotaError::UnknownDevice => "unknown_device",
            KotaError::KelurahanMismatch { .. } => "kelurahan_mismatch",
            KotaError::NotFound(_) => "not_found",
            KotaError::Gap { .. } => "gap",
            KotaError::EpochFenced => "epoch_fenced",
            KotaError::UpdateRequired => "update_required",
            KotaError::TooManyAttempts => "too_many_attempts",
            KotaError::UnsupportedMediaType => "unsupported_media_type",
            KotaError::Database(_) => "internal",
        }
    }
}
