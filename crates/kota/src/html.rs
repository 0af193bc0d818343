//! What the server's own pages share: escaping what a person typed, and the city's local time
//! (WIB, UTC+7) the pages show and count days in.

use chrono::{DateTime, Utc};

/// `s` safe inside HTML text and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The wall-clock time in WIB of `ms` since the Unix epoch (a `DateTime` whose fields read as
/// WIB; for display and for "today", not for arithmetic across zones).
pub fn wib(ms: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms as i64 + 7 * 3_600_000).unwrap_or_default()
}
