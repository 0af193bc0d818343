//! The push batch policy of balai-sync (sync-notes §3.8) and the size of a letter-number
//! reserve (§3.5). Sync itself is tested against a real
//! Balai Kota at the app boundary (balai-app's tests) and through the CLI.

use balai_protocol::{BATCH_MAX_BYTES, BATCH_START_BYTES};
use balai_sync::{Batching, BATCH_MIN_BYTES};

#[test]
fn a_batch_starts_small_grows_on_each_answer_to_the_limit_and_halves_when_slow() {
    let mut b = Batching::default();
    assert_eq!(b.budget, BATCH_START_BYTES);
    let mut seen = vec![b.budget];
    for _ in 0..6 {
        b.answered(3 * b.budget, b.budget);
        seen.push(b.budget);
    }
    let kb: Vec<usize> = seen.iter().map(|s| s / 1024).collect();
    assert_eq!(kb, [64, 128, 256, 512, 512, 512, 512]);
    assert_eq!(*seen.last().unwrap(), BATCH_MAX_BYTES);
    for _ in 0..10 {
        b.too_slow();
    }
    assert_eq!(b.budget, BATCH_MIN_BYTES);
}

#[test]
fn a_batch_is_cut_by_the_ops_sizes_and_the_ratio_last_measured_and_never_empty() {
    let mut b = Batching::default();
    b.answered(4 * 64 * 1024, 64 * 1024); // JSON compressed 4:1; budget now 128 KB
    assert_eq!(b.ratio, 4.0);
    // 512 KB of JSON fits, not one byte more.
    let ops = vec![1024; 1000];
    assert_eq!(b.count(ops.iter().copied()), 512);
    // One op larger than the whole budget still goes (alone).
    assert_eq!(b.count([10 * 1024 * 1024, 10]), 1);
    assert_eq!(b.count(std::iter::empty()), 0);
    // A ratio under 1 (incompressible data) counts as 1.
    b.answered(100, 200);
    assert_eq!(b.ratio, 1.0);
}

#[test]
fn a_reserve_is_about_two_days_of_letters_of_its_kind_between_five_and_twenty_refilled_below_30_percent(
) {
    use balai_sync::reserve_size;
    // (letters of that kind in the last 30 days) → (reserve, refilled when fewer are left)
    let sizes: Vec<(u32, (u32, u32))> =
        [0, 1, 50, 51, 100, 200, 5_000].into_iter().map(|n| (n, reserve_size(n))).collect();
    assert_eq!(
        sizes,
        [
            (0, (5, 2)),
            (1, (5, 2)),
            (50, (5, 2)),
            (51, (6, 2)),
            (100, (10, 3)),
            (200, (20, 6)),
            (5_000, (20, 6))
        ]
    );
}
