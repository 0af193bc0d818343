//! Letter numbers (domain.md, Numbering): a pattern configured per office, e.g.
//! `[kode]/[nomor:3]/[unit]/[bulan_romawi]/[tahun]` → `400.8.1/015/KEL-YSR/VII/2026`.
//!
//! Tokens: `[kode]` the letter type's classification code, `[nomor]` or `[nomor:N]` the serial
//! (zero-padded to N digits), `[unit]` the office's unit code, `[bulan_romawi]` the month in
//! Roman numerals, `[bulan]` the month as two digits, `[tahun]` the year. Anything else is
//! printed as written. The serial is required exactly once.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Code,
    Serial { width: usize },
    Unit,
    RomanMonth,
    Month,
    Year,
}

/// A validated numbering pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPattern {
    source: String,
    pieces: Vec<Piece>,
}

/// Whether serials run per letter type or one for all letters; either restarts each year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SeriesMode {
    #[default]
    PerType,
    Single,
}

impl SeriesMode {
    /// The series key under which a letter of `letter_type` takes its serial in `year`.
    pub fn series(self, letter_type: &str, year: i32) -> String {
        match self {
            SeriesMode::PerType => format!("{year}/{letter_type}"),
            SeriesMode::Single => format!("{year}/*"),
        }
    }
}

/// The default of a new office (domain.md's example).
pub const DEFAULT_PATTERN: &str = "[kode]/[nomor:3]/[unit]/[bulan_romawi]/[tahun]";

const ROMAN: [&str; 12] =
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];

pub fn roman_month(month: u32) -> &'static str {
    ROMAN.get((month.clamp(1, 12) - 1) as usize).copied().unwrap_or("I")
}

impl NumberPattern {
    /// Parses a pattern; the error is an Indonesian sentence naming the problem.
    pub fn parse(source: &str) -> Result<NumberPattern, String> {
        let mut pieces = Vec::new();
        let mut rest = source.trim();
        if rest.is_empty() {
            return Err("Pola nomor surat kosong.".into());
        }
        if rest.contains('|') {
            return Err("Pola nomor surat tidak boleh memuat tanda |.".into());
        }
        while !rest.is_empty() {
            match rest.find('[') {
                Some(0) => {
                    let end = rest
                        .find(']')
                        .ok_or_else(|| "Tanda [ tanpa pasangan ] dalam pola nomor.".to_string())?;
                    let token = &rest[1..end];
                    pieces.push(match token {
                        "kode" => Piece::Code,
                        "unit" => Piece::Unit,
                        "bulan_romawi" => Piece::RomanMonth,
                        "bulan" => Piece::Month,
                        "tahun" => Piece::Year,
                        "nomor" => Piece::Serial { width: 1 },
                        t if t.starts_with("nomor:") => {
                            let width: usize =
                                t[6..].parse().ok().filter(|w| (1..=6).contains(w)).ok_or_else(
                                    || format!("Lebar nomor tidak sah: [{t}] (1–6)."),
                                )?;
                            Piece::Serial { width }
                        }
                        t => return Err(format!("Bagian pola tidak dikenal: [{t}].")),
                    });
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    pieces.push(Piece::Text(rest[..i].to_string()));
                    rest = &rest[i..];
                }
                None => {
                    pieces.push(Piece::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        let serials = pieces.iter().filter(|p| matches!(p, Piece::Serial { .. })).count();
        if serials != 1 {
            return Err("Pola nomor surat harus memuat [nomor] tepat satu kali.".into());
        }
        Ok(NumberPattern { source: source.trim().to_string(), pieces })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The number of the `serial`th letter of a series, issued on `date`.
    pub fn format(&self, code: &str, serial: u32, unit: &str, date: NaiveDate) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Code => out.push_str(code),
                Piece::Serial { width } => out.push_str(&format!("{serial:0width$}")),
                Piece::Unit => out.push_str(unit),
                Piece::RomanMonth => out.push_str(roman_month(date.month())),
                Piece::Month => out.push_str(&format!("{:02}", date.month())),
                Piece::Year => out.push_str(&date.year().to_string()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn formats_the_example_of_domain_md() {
        let p = NumberPattern::parse(DEFAULT_PATTERN).unwrap();
        assert_eq!(
            p.format("400.8.1", 15, "KEL-YSR", d(2026, 7, 3)),
            "400.8.1/015/KEL-YSR/VII/2026"
        );
        assert_eq!(p.format("470", 1234, "KEL", d(2026, 12, 1)), "470/1234/KEL/XII/2026");
        let q = NumberPattern::parse("[nomor]/[bulan]/[tahun]").unwrap();
        assert_eq!(q.format("x", 7, "u", d(2027, 1, 9)), "7/01/2027");
    }

    #[test]
    fn refuses_bad_patterns() {
        for bad in [
            "",
            "[kode]/[tahun]",
            "[nomor]/[nomor]",
            "[nomor:9]",
            "[nomor/[tahun]",
            "[nomer]",
            "[nomor]|x",
        ] {
            assert!(NumberPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn series_restart_each_year() {
        assert_eq!(SeriesMode::PerType.series("domisili", 2026), "2026/domisili");
        assert_ne!(
            SeriesMode::PerType.series("domisili", 2026),
            SeriesMode::PerType.series("domisili", 2027)
        );
        assert_eq!(
            SeriesMode::Single.series("sktm", 2026),
            SeriesMode::Single.series("domisili", 2026)
        );
    }
}
