//! Dates as Indonesian letters and pages write them (`1 Juli 2026`): shared by the letters the
//! office prints and the city's verification page, so both say a date the same way.

use chrono::{Datelike, NaiveDate};

const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `Juli` for 7 (months outside 1–12 are clamped).
pub fn month_name(month: u32) -> &'static str {
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// `1 Juli 2026`.
pub fn long_date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month_name(d.month()), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_in_a_letter() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(long_date(d), "3 Desember 2026");
        assert_eq!((month_name(0), month_name(13)), ("Januari", "Desember"));
    }
}
