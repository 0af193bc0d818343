//! What the server's own pages share: escaping what a person typed, and the local time the
//! pages show and count days in (the kelurahan's zone: WIB, WITA or WIT by its province).

use chrono::{DateTime, Utc};

/// `s` safe inside HTML text and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The wall-clock time of `ms` since the Unix epoch in the zone `offset_s` seconds ahead of
/// UTC (a `DateTime` whose fields read as local time; for display and for "today", not for
/// arithmetic across zones).
pub fn local_time(ms: u64, offset_s: i32) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms as i64 + i64::from(offset_s) * 1000).unwrap_or_default()
}

/// The offset from UTC of kelurahan `code`'s time zone, in seconds.
pub fn offset_of(code: &str) -> i32 {
    balai_domain::dates::utc_offset_seconds(code)
}
