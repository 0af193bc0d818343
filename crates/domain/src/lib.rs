//! balai-domain: the pure types and rules of kelurahan administration.
//!
//! What it does: value types with their checks (Kemendagri region codes, NIP, NIK, No. KK,
//! office profile, signatories, residents), the Dukcapil code lists, the roles of the office,
//! the hash rule of the audit chain, letter-number patterns and the signed letter payload
//! carried by the QR code (here, not in balai-letters, so the city server verifies with the
//! same code), the hybrid logical clock and the one merge function of synced state (`merge`),
//! shared by the office PCs and Balai Kota.
//!
//! What it does not do: no IO, no clock, no SQL, no randomness. Every time or id a rule needs
//! is passed in, so every function here is deterministic and testable on its own.

pub mod audit;
pub mod codes;
pub mod dates;
pub mod field;
pub mod hlc;
pub mod letter_number;
pub mod letter_payload;
pub mod merge;
pub mod nik;
pub mod office;
pub mod privacy;
pub mod resident;
pub mod role;

pub use field::{FieldError, FieldErrors};
pub use role::Role;

/// Lower-case hex SHA-256 of some content: how stored files are named and compared.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
