//! The one merge function of mergeable state (design.md "Sync"; sync-notes §3.6–3.7), shared
//! by every office PC and by Balai Kota so that every copy of a row converges whatever order
//! changes arrive in, however often they repeat.
//!
//! A row is a set of **field groups** (columns that change together share one clock: the
//! address, the name with birth data, …) and an optional delete. Each group holds the version
//! with the greatest [`Stamp`] — (hybrid logical clock, device id), a total order — so the
//! merge is last-writer-wins by when an edit was *made*, never by when it reached the server.
//!
//! A delete is a stamp too: the row is gone while its delete is newer than every group's
//! version, and an edit made after the delete brings it back ("update beats an older delete").
//! A delete that arrives before the row's creation is kept, so the late creation cannot
//! resurrect it.
//!
//! Groups this version does not know are merged and kept like any other: an old client never
//! drops a newer client's field.
//!
//! What this does not do: decide who may write (tenancy, roles), run commands (letters,
//! requests: those are re-checked by the server, never merged), or store anything.

use std::collections::BTreeMap;

/// Who made a version and when: ordered by the hybrid logical clock, then the device id, so
/// that two different edits are never tied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Stamp {
    pub hlc: u64,
    /// The device's UUIDv7, as its 16 bytes.
    pub device: [u8; 16],
}

/// One version of a field group: its value (the group's columns, as the wire carries them)
/// and its stamp.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version<V> {
    pub stamp: Stamp,
    pub value: V,
}

/// A change to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<V> {
    /// A new version of one field group.
    Set { group: String, version: Version<V> },
    /// The row was deleted at this stamp.
    Delete(Stamp),
}

/// What applying a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<V> {
    /// The change is the row's state now; `replaced` is the version it won against, if any
    /// (for identity groups the caller logs a replaced *different* value for review).
    Won { replaced: Option<Version<V>> },
    /// The row already held this very change (a repeat): nothing changed.
    Repeat,
    /// The row holds a newer version: the change lost and nothing changed.
    Lost,
}

/// The merged state of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowState<V> {
    groups: BTreeMap<String, Version<V>>,
    deleted: Option<Stamp>,
}

impl<V> Default for RowState<V> {
    fn default() -> Self {
        RowState { groups: BTreeMap::new(), deleted: None }
    }
}

/// The winner of two versions. Equal stamps mean the same change seen twice; should two
/// *different* values ever carry one stamp (a bug elsewhere), the greater value wins on every
/// copy alike, so the copies still converge.
fn newer<V: Ord + Clone>(a: &Version<V>, b: &Version<V>) -> bool {
    (a.stamp, &a.value) > (b.stamp, &b.value)
}

impl<V: Ord + Clone> RowState<V> {
    /// Applies one change; idempotent, and in any order the same set of changes gives the same
    /// state.
    pub fn apply(&mut self, change: Change<V>) -> Outcome<V> {
        match change {
            Change::Set { group, version } => match self.groups.get(&group) {
                Some(held) if *held == version => Outcome::Repeat,
                Some(held) if !newer(&version, held) => Outcome::Lost,
                _ => {
                    let replaced = self.groups.insert(group, version);
                    Outcome::Won { replaced }
                }
            },
            Change::Delete(stamp) => match self.deleted {
                Some(held) if held == stamp => Outcome::Repeat,
                Some(held) if held > stamp => Outcome::Lost,
                _ => {
                    self.deleted = Some(stamp);
                    Outcome::Won { replaced: None }
                }
            },
        }
    }

    /// The state holding every change of `self` and of `other` (the least upper bound: the
    /// merge is commutative, associative and idempotent).
    pub fn merge(&self, other: &RowState<V>) -> RowState<V> {
        let mut out = self.clone();
        for (group, version) in &other.groups {
            out.apply(Change::Set { group: group.clone(), version: version.clone() });
        }
        if let Some(stamp) = other.deleted {
            out.apply(Change::Delete(stamp));
        }
        out
    }

    /// Whether the row exists: never deleted, or edited after its latest delete.
    pub fn is_live(&self) -> bool {
        match self.deleted {
            None => !self.groups.is_empty(),
            Some(deleted) => self.groups.values().any(|v| v.stamp > deleted),
        }
    }

    /// The winning version of a field group, known to this version of Balai or not.
    pub fn group(&self, name: &str) -> Option<&Version<V>> {
        self.groups.get(name)
    }

    pub fn groups(&self) -> impl Iterator<Item = (&str, &Version<V>)> {
        self.groups.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn deleted(&self) -> Option<Stamp> {
        self.deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stamp(hlc: u64, device: u8) -> Stamp {
        Stamp { hlc, device: [device; 16] }
    }

    fn set(group: &str, hlc: u64, device: u8, value: &str) -> Change<String> {
        Change::Set {
            group: group.into(),
            version: Version { stamp: stamp(hlc, device), value: value.into() },
        }
    }

    #[test]
    fn the_later_edit_wins_whichever_arrives_first_and_the_loser_is_reported() {
        let mut a = RowState::default();
        assert_eq!(a.apply(set("address", 10, 1, "RT 1")), Outcome::Won { replaced: None });
        let out = a.apply(set("address", 20, 2, "RT 2"));
        assert_eq!(
            out,
            Outcome::Won { replaced: Some(Version { stamp: stamp(10, 1), value: "RT 1".into() }) }
        );
        let mut b = RowState::default();
        b.apply(set("address", 20, 2, "RT 2"));
        assert_eq!(b.apply(set("address", 10, 1, "RT 1")), Outcome::Lost);
        assert_eq!(b.apply(set("address", 20, 2, "RT 2")), Outcome::Repeat);
        assert_eq!(a, b);
        assert_eq!(a.group("address").map(|v| v.value.as_str()), Some("RT 2"));
    }

    #[test]
    fn the_same_clock_on_two_devices_is_ordered_by_device() {
        let mut a = RowState::default();
        a.apply(set("name", 10, 2, "Siti"));
        assert_eq!(a.apply(set("name", 10, 1, "Sity")), Outcome::Lost);
    }

    #[test]
    fn a_delete_hides_the_row_until_a_later_edit_and_survives_arriving_first() {
        let mut row = RowState::default();
        // The delete arrives before the creation it deletes: the creation stays deleted.
        row.apply(Change::Delete(stamp(50, 3)));
        row.apply(set("name", 10, 1, "Budi"));
        assert!(!row.is_live());
        // An edit made after the delete brings the row back.
        row.apply(set("address", 60, 2, "RT 4"));
        assert!(row.is_live());
        // An older delete arriving late changes nothing.
        assert_eq!(row.apply(Change::Delete(stamp(40, 1))), Outcome::Lost);
        assert!(row.is_live());
    }

    #[test]
    fn groups_this_version_does_not_know_are_kept() {
        let mut row = RowState::default();
        row.apply(set("disability_v9", 10, 1, "{\"kind\":\"rungu\"}"));
        row.apply(set("address", 20, 2, "RT 1"));
        assert_eq!(row.groups().map(|(g, _)| g).collect::<Vec<_>>(), ["address", "disability_v9"]);
    }

    fn change() -> impl Strategy<Value = Change<String>> {
        // Few groups, few clocks and devices: collisions (the interesting cases) are frequent.
        let set = (0..3usize, 0u64..6, 0u8..3, 0..3usize).prop_map(|(g, hlc, d, v)| {
            let groups = ["name", "address", "status"];
            set_of(groups[g], hlc, d, v)
        });
        let delete = (0u64..6, 0u8..3).prop_map(|(hlc, d)| Change::Delete(stamp(hlc, d)));
        prop_oneof![4 => set, 1 => delete]
    }

    fn set_of(group: &str, hlc: u64, d: u8, v: usize) -> Change<String> {
        set(group, hlc, d, &format!("v{v}"))
    }

    fn state(changes: &[Change<String>]) -> RowState<String> {
        let mut s = RowState::default();
        for c in changes {
            s.apply(c.clone());
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Invariant: the merge is commutative, associative and idempotent.
        #[test]
        fn merge_is_a_semilattice(
            a in proptest::collection::vec(change(), 0..8),
            b in proptest::collection::vec(change(), 0..8),
            c in proptest::collection::vec(change(), 0..8),
        ) {
            let (a, b, c) = (state(&a), state(&b), state(&c));
            prop_assert_eq!(a.merge(&b), b.merge(&a));
            prop_assert_eq!(a.merge(&b).merge(&c), a.merge(&b.merge(&c)));
            prop_assert_eq!(a.merge(&a), a.clone());
        }

        /// Invariant: applying the same changes in any order, with any repeats, gives the same
        /// state (what every office PC and the city server end with).
        #[test]
        fn any_order_and_any_repeats_converge(
            changes in proptest::collection::vec(change(), 0..16),
            order in any::<proptest::sample::Index>(),
            repeats in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
        ) {
            let mut shuffled = changes.clone();
            if !shuffled.is_empty() {
                let k = order.index(shuffled.len());
                shuffled.rotate_left(k);
                shuffled.reverse();
                for r in &repeats {
                    let extra = shuffled[r.index(shuffled.len())].clone();
                    shuffled.push(extra);
                }
            }
            prop_assert_eq!(state(&changes), state(&shuffled));
        }

        /// Invariant: a change that "won" is what the row holds afterwards, and a change that
        /// "lost" or repeated leaves the row as it was.
        #[test]
        fn outcomes_tell_the_truth(
            before in proptest::collection::vec(change(), 0..8),
            next in change(),
        ) {
            let mut s = state(&before);
            let old = s.clone();
            match s.apply(next.clone()) {
                Outcome::Won { .. } => match &next {
                    Change::Set { group, version } => prop_assert_eq!(s.group(group), Some(version)),
                    Change::Delete(stamp) => prop_assert_eq!(s.deleted(), Some(*stamp)),
                },
                Outcome::Lost | Outcome::Repeat => prop_assert_eq!(s, old),
            }
        }
    }
}
