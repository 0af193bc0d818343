//! Hybrid logical clock: 48 bits of milliseconds and 16 bits of counter in one `u64`, ordered
//! like the pair. It never goes backwards, whatever the wall clock does (sync-notes §3.4).

/// The clock's state: the last timestamp it gave out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hlc(u64);

const COUNTER_BITS: u32 = 16;

impl Hlc {
    pub fn from_raw(raw: u64) -> Hlc {
        Hlc(raw)
    }
    pub fn raw(self) -> u64 {
        self.0
    }
    pub fn millis(self) -> u64 {
        self.0 >> COUNTER_BITS
    }
    fn counter(self) -> u64 {
        self.0 & ((1 << COUNTER_BITS) - 1)
    }

    /// The next timestamp for a local event at wall time `now_ms`.
    pub fn tick(&mut self, now_ms: u64) -> u64 {
        let next = if now_ms > self.millis() {
            now_ms << COUNTER_BITS
        } else if self.counter() < (1 << COUNTER_BITS) - 1 {
            self.0 + 1
        } else {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            (self.millis() + 1) << COUNTER_BITS
        };
        self.0 = next;
        next
    }

    /// Takes in a timestamp seen from elsewhere, so later local events order after it.
    pub fn observe(&mut self, seen: u64) {
        if seen > self.0 {
            self.0 = seen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ticks_follow_the_wall_clock_and_never_repeat() {
        let mut h = Hlc::default();
        let a = h.tick(1000);
        let b = h.tick(1000);
        let c = h.tick(999); // wall clock stepped back
        let d = h.tick(2000);
        assert!(a < b && b < c && c < d);
        assert_eq!(Hlc::from_raw(a).millis(), 1000);
        assert_eq!(Hlc::from_raw(d).millis(), 2000);
    }

    proptest! {
        /// Invariant: whatever sequence of wall times and observed timestamps, every tick is
        /// strictly greater than every earlier tick and every observed timestamp.
        #[test]
        fn monotonic_under_any_wall_clock(events in proptest::collection::vec((any::<bool>(), 0u64..1_000_000), 1..200)) {
            let mut h = Hlc::default();
            let mut high = 0u64;
            for (observe, t) in events {
                if observe {
                    let seen = t << 16;
                    h.observe(seen);
                    high = high.max(seen);
                } else {
                    let x = h.tick(t);
                    prop_assert!(x > high);
                    high = x;
                }
            }
        }
    }
}
