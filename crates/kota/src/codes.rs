//! One-time enrolment codes: ten characters a city admin reads out over the phone, from an
//! alphabet without look-alikes (no 0/O, 1/I/L), written `XXXXX-XXXXX`. Only their SHA-256
//! is stored, so a copy of the server database enrols nothing.

use rand::Rng;
use sha2::{Digest, Sha256};

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: String =
        (0..10).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// The stored form of a code as a person may type it: case, spaces and dashes do not matter.
pub fn code_hash(typed: &str) -> String {
    let canonical: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_hash_as_typed_loosely() {
        let c = new_code();
        assert_eq!(c.len(), 11);
        assert!(c.chars().filter(|&ch| ch != '-').all(|ch| ALPHABET.contains(&(ch as u8))), "{c}");
        assert_eq!(code_hash(&c), code_hash(&c.to_lowercase().replace('-', " ")));
        assert_ne!(code_hash(&c), code_hash(&new_code()));
    }
}
