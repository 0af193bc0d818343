//! balai-domain: the pure types and rules of kelurahan administration.
//!
//! What it does: value types with their checks (Kemendagri region codes, NIP, NIK, No. KK,
//! office profile, signatories, residents), the Dukcapil code lists, the roles of the office,
//! and the hash rule of the audit chain.
//!
//! What it does not do: no IO, no clock, no SQL, no randomness. Every time or id a rule needs
//! is passed in, so every function here is deterministic and testable on its own.

pub mod audit;
pub mod codes;
pub mod field;
pub mod hlc;
pub mod nik;
pub mod office;
pub mod resident;
pub mod role;

pub use field::{FieldError, FieldErrors};
pub use role::Role;

/// Lower-case hex SHA-256 of some content: how stored files are named and compared.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
