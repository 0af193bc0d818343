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

/// The offset from UTC, in seconds, of the time zone an office keeps, by its region code
/// (Kemendagri, dotted or not: the province is the first two digits): WITA (UTC+8) for Bali,
/// Nusa Tenggara, South, East and North Kalimantan and Sulawesi; WIT (UTC+9) for Maluku and
/// Papua; WIB (UTC+7) elsewhere, and for a code that names no province. "Today" on a letter
/// and in the register is the office's date, not the UTC one: at 07:30 WIT it is still the day
/// before in UTC.
pub fn utc_offset_seconds(region_code: &str) -> i32 {
    let digits: String = region_code.chars().filter(char::is_ascii_digit).take(2).collect();
    const HOUR: i32 = 3600;
    match digits.as_str() {
        "51" | "52" | "53" | "63" | "64" | "65" | "71" | "72" | "73" | "74" | "75" | "76" => {
            8 * HOUR
        }
        "81" | "82" | "91" | "92" | "93" | "94" | "95" | "96" => 9 * HOUR,
        _ => 7 * HOUR,
    }
}

/// `WIB`, `WITA` or `WIT` for an offset [`utc_offset_seconds`] gives.
pub fn zone_name(offset_seconds: i32) -> &'static str {
    match offset_seconds / 3600 {
        8 => "WITA",
        9 => "WIT",
        _ => "WIB",
    }
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

    #[test]
    fn an_office_keeps_the_time_of_its_province() {
        use super::utc_offset_seconds as zone;
        let hours: Vec<i32> =
            ["18.72.04.1004", "3171", "5171011001", "6472", "7371", "8171", "9471", "61", "", "xx"]
                .into_iter()
                .map(|c| zone(c) / 3600)
                .collect();
        assert_eq!(hours, [7, 7, 8, 8, 8, 9, 9, 7, 7, 7]);
        let names: Vec<&str> =
            ["18", "73", "91"].into_iter().map(|c| super::zone_name(zone(c))).collect();
        assert_eq!(names, ["WIB", "WITA", "WIT"]);
    }
}
