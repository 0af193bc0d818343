//! The audit chain: each entry's hash covers its own fields and the previous entry's hash, so
//! editing, removing or reordering any stored entry breaks every hash after it.
//!
//! Entries name *which* record was touched (its id), never the personal data in it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that stands before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// One audit entry as it is hashed and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// RFC 3339 UTC time of the action.
    pub at: String,
    /// The acting user's id, or empty for the command-line operator.
    pub actor_id: String,
    /// The acting user's login name (staff, not residents), or `cli:<os user>`.
    pub actor: String,
    /// What was done, e.g. `profile.set`, `auth.login_failed`.
    pub action: String,
    /// The kind of record touched, e.g. `office_profile`, `user`.
    pub entity: String,
    /// The touched record's id, or empty.
    pub entity_id: String,
    /// Non-personal detail, e.g. which fields changed.
    pub detail: String,
}

impl AuditRecord {
    /// `sha256(prev || len-prefixed fields)`. Length prefixes make the encoding unambiguous:
    /// moving text from one field to the next changes the hash.
    pub fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"balai-audit-v1");
        h.update(prev);
        h.update(self.seq.to_be_bytes());
        for field in [
            &self.at,
            &self.actor_id,
            &self.actor,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.detail,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        h.finalize().into()
    }
}

/// Where and why a stored chain fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The sequence skips or repeats: an entry was removed or inserted.
    Gap { expected_seq: i64, found_seq: i64 },
    /// The stored previous-hash is not the hash of the entry before: entries were removed or
    /// reordered.
    PrevMismatch { seq: i64 },
    /// The entry's fields do not hash to its stored hash: the entry was edited.
    HashMismatch { seq: i64 },
}

/// Checks a chain given as `(record, stored prev_hash, stored hash)` in sequence order.
/// Returns the number of entries checked, or the first break.
pub fn verify_chain<I>(entries: I) -> Result<i64, ChainBreak>
where
    I: IntoIterator<Item = (AuditRecord, [u8; 32], [u8; 32])>,
{
    let mut prev = GENESIS;
    let mut expected = 1;
    for (record, stored_prev, stored_hash) in entries {
        if record.seq != expected {
            return Err(ChainBreak::Gap { expected_seq: expected, found_seq: record.seq });
        }
        if stored_prev != prev {
            return Err(ChainBreak::PrevMismatch { seq: record.seq });
        }
        if record.chain_hash(&prev) != stored_hash {
            return Err(ChainBreak::HashMismatch { seq: record.seq });
        }
        prev = stored_hash;
        expected += 1;
    }
    Ok(expected - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditRecord, [u8; 32], [u8; 32])> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let r = AuditRecord {
                    seq,
                    at: format!("2026-01-01T00:00:{seq:02}Z"),
                    actor_id: "u1".into(),
                    actor: "admin".into(),
                    action: "profile.set".into(),
                    entity: "office_profile".into(),
                    entity_id: String::new(),
                    detail: format!("change {seq}"),
                };
                let h = r.chain_hash(&prev);
                let out = (r, prev, h);
                prev = h;
                out
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(chain(5)), Ok(5));
        assert_eq!(verify_chain(Vec::new()), Ok(0));
    }

    #[test]
    fn editing_removing_or_reordering_is_detected() {
        let mut edited = chain(5);
        edited[2].0.detail = "something else".into();
        assert_eq!(verify_chain(edited), Err(ChainBreak::HashMismatch { seq: 3 }));

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify_chain(removed), Err(ChainBreak::Gap { expected_seq: 2, found_seq: 3 }));

        // Renumbering after a removal still fails: the next entry's prev-hash no longer matches.
        let mut renumbered = chain(5);
        renumbered.remove(1);
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.0.seq = i as i64 + 1;
        }
        assert_eq!(verify_chain(renumbered), Err(ChainBreak::PrevMismatch { seq: 2 }));
    }

    #[test]
    fn field_boundaries_are_part_of_the_hash() {
        let a = chain(1).remove(0).0;
        let mut b = a.clone();
        // "u1" + "admin" and "u" + "1admin" concatenate to the same text.
        b.actor_id = "u".into();
        b.actor = "1admin".into();
        assert_ne!(a.chain_hash(&GENESIS), b.chain_hash(&GENESIS));
    }
}
