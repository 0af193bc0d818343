//! Where time comes from. Everything asks the [`Clock`] it was given, so tests can fix time and
//! move it (idle locks, audit times) without sleeping.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The computer's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // The one place that reads the system clock.
        #[allow(clippy::disallowed_methods)]
        Utc::now()
    }
}
