//! NIK (Nomor Induk Kependudukan) and No. KK: 16-digit numbers with meaning inside.
//!
//! NIK = `PP KK CC DDMMYY SSSS`: province, city/regency and kecamatan of first registration;
//! birth day (plus 40 for women), month and two-digit year; a serial from 0001. There is no
//! checksum. A wrong length or a non-digit is an error; a day or date that cannot be, or a sex
//! or birth date that disagrees with the record, is a *warning* the clerk may override with a
//! written reason, because real registry data has exceptions.
//!
//! `Debug` of these types masks the middle digits: personal data stays out of logs.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// Laki-laki
    L,
    /// Perempuan
    P,
}

impl Sex {
    /// Accepts L/P, the words, or Dukcapil's 1/2.
    pub fn parse(s: &str) -> Option<Sex> {
        match crate::codes::normalize_label(s).as_str() {
            "L" | "LAKILAKI" | "LK" | "PRIA" | "1" | "M" => Some(Sex::L),
            "P" | "PEREMPUAN" | "PR" | "WANITA" | "2" | "F" => Some(Sex::P),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::L => "L",
            Sex::P => "P",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("harus 16 angka")]
    Length,
}

/// A problem the clerk may override with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NikWarning {
    /// Day part outside 01–31 and 41–71.
    DayOutOfRange,
    /// Day, month and year do not make a date.
    ImpossibleDate,
    /// The day part says one sex, the record another.
    SexMismatch,
    /// The date part differs from the recorded birth date.
    BirthDateMismatch,
}

impl NikWarning {
    pub fn code(self) -> &'static str {
        match self {
            NikWarning::DayOutOfRange => "nik_day_out_of_range",
            NikWarning::ImpossibleDate => "nik_impossible_date",
            NikWarning::SexMismatch => "nik_sex_mismatch",
            NikWarning::BirthDateMismatch => "nik_birth_date_mismatch",
        }
    }
    pub fn message(self) -> &'static str {
        match self {
            NikWarning::DayOutOfRange => "Angka tanggal di NIK (digit 7–8) harus 01–31 atau 41–71.",
            NikWarning::ImpossibleDate => {
                "Tanggal lahir yang tersimpan di NIK tidak ada di kalender."
            }
            NikWarning::SexMismatch => {
                "Jenis kelamin tidak cocok dengan NIK (perempuan: tanggal + 40)."
            }
            NikWarning::BirthDateMismatch => "Tanggal lahir tidak cocok dengan NIK.",
        }
    }
}

fn digits16(raw: &str) -> Result<String, NumberError> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '.' && *c != '-').collect();
    // Spreadsheets turn long numbers into text with a leading apostrophe.
    let s = s.trim_start_matches('\'').to_string();
    if s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(NumberError::Length)
    }
}

fn mask(s: &str) -> String {
    format!("{}********{}", &s[..4], &s[12..])
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nik(String);

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", mask(&self.0))
    }
}

/// What a NIK says about its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NikDecoded {
    pub sex: Option<Sex>,
    /// Day (without the +40), month and two-digit year, when they make a date in either century.
    pub day: u32,
    pub month: u32,
    pub yy: u32,
    pub serial: u32,
}

impl Nik {
    pub fn parse(raw: &str) -> Result<Nik, NumberError> {
        digits16(raw).map(Nik)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `1872********0003`: for lists, exports and QR payloads where the full number is not needed.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
    /// Temporary NIKs, given by Balai to residents who have none yet, start with `00` (no
    /// province has that code).
    pub fn is_temporary(&self) -> bool {
        self.0.starts_with("00")
    }
    pub fn decode(&self) -> NikDecoded {
        let n = |a: usize, b: usize| self.0[a..b].parse::<u32>().unwrap_or(0);
        let raw_day = n(6, 8);
        let (sex, day) = match raw_day {
            1..=31 => (Some(Sex::L), raw_day),
            41..=71 => (Some(Sex::P), raw_day - 40),
            _ => (None, raw_day),
        };
        NikDecoded { sex, day, month: n(8, 10), yy: n(10, 12), serial: n(12, 16) }
    }

    /// Warnings against a record's sex and birth date (either may be unknown).
    pub fn check(&self, sex: Option<Sex>, birth_date: Option<NaiveDate>) -> Vec<NikWarning> {
        if self.is_temporary() {
            return Vec::new();
        }
        let d = self.decode();
        let mut w = Vec::new();
        if d.sex.is_none() {
            w.push(NikWarning::DayOutOfRange);
        } else {
            let possible = [1900, 2000]
                .iter()
                .any(|c| NaiveDate::from_ymd_opt(*c + d.yy as i32, d.month, d.day).is_some());
            if !possible {
                w.push(NikWarning::ImpossibleDate);
            }
            if let (Some(a), Some(b)) = (d.sex, sex) {
                if a != b {
                    w.push(NikWarning::SexMismatch);
                }
            }
        }
        if let Some(bd) = birth_date {
            if d.sex.is_some()
                && (bd.day() != d.day
                    || bd.month() != d.month
                    || bd.year().rem_euclid(100) as u32 != d.yy)
            {
                w.push(NikWarning::BirthDateMismatch);
            }
        }
        w
    }

    /// The NIK a person with these facts would get (used by synthetic data and tests).
    pub fn compose(area6: &str, birth: NaiveDate, sex: Sex, serial: u32) -> Option<Nik> {
        let day = birth.day() + if sex == Sex::P { 40 } else { 0 };
        Nik::parse(&format!(
            "{area6}{day:02}{:02}{:02}{:04}",
            birth.month(),
            birth.year().rem_euclid(100),
            serial % 10_000
        ))
        .ok()
    }
}

impl fmt::Display for Nik {
    /// Display is the full number: use it only where the full number is meant to be shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// No. KK: 6-digit area, DDMMYY of recording, 4-digit serial.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoKk(String);

impl fmt::Debug for NoKk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoKk({})", mask(&self.0))
    }
}

impl fmt::Display for NoKk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl NoKk {
    pub fn parse(raw: &str) -> Result<NoKk, NumberError> {
        digits16(raw).map(NoKk)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
    /// Whether the recording date part (DDMMYY) is a real date.
    pub fn date_is_possible(&self) -> bool {
        let n = |a: usize, b: usize| self.0[a..b].parse::<u32>().unwrap_or(0);
        [1900, 2000]
            .iter()
            .any(|c| NaiveDate::from_ymd_opt(*c + n(10, 12) as i32, n(8, 10), n(6, 8)).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn wrong_length_or_letters_is_an_error() {
        assert!(Nik::parse("187204550890000").is_err());
        assert!(Nik::parse("18720455089000011").is_err());
        assert!(Nik::parse("1872045508900A01").is_err());
        assert!(Nik::parse("").is_err());
        assert!(Nik::parse("1872 0455 0890 0001").is_ok());
        assert!(Nik::parse("'1872045508900001").is_ok(), "Excel's text apostrophe");
    }

    #[test]
    fn women_have_forty_added_to_the_day() {
        let nik = Nik::parse("1872045508900001").unwrap();
        let dec = nik.decode();
        assert_eq!((dec.sex, dec.day, dec.month, dec.yy, dec.serial), (Some(Sex::P), 15, 8, 90, 1));
        assert!(nik.check(Some(Sex::P), Some(d(1990, 8, 15))).is_empty());
        assert_eq!(nik.check(Some(Sex::L), Some(d(1990, 8, 15))), [NikWarning::SexMismatch]);
        assert_eq!(nik.check(Some(Sex::P), Some(d(1991, 8, 15))), [NikWarning::BirthDateMismatch]);
    }

    #[test]
    fn impossible_days_and_dates_are_warnings() {
        assert_eq!(
            Nik::parse("1872043508900001").unwrap().check(None, None),
            [NikWarning::DayOutOfRange]
        );
        assert_eq!(
            Nik::parse("1872043102900001").unwrap().check(None, None),
            [NikWarning::ImpossibleDate]
        );
        assert_eq!(
            Nik::parse("1872047102900001").unwrap().check(None, None),
            [NikWarning::ImpossibleDate]
        );
        // 29 February exists in 2000, so 290200 is possible.
        assert!(Nik::parse("1872042902000001").unwrap().check(None, None).is_empty());
    }

    #[test]
    fn debug_masks_and_temporary_niks_are_recognised() {
        let nik = Nik::parse("1872045508900003").unwrap();
        assert_eq!(format!("{nik:?}"), "Nik(1872********0003)");
        assert_eq!(nik.masked(), "1872********0003");
        assert!(Nik::parse("0000000000000042").unwrap().is_temporary());
        assert!(Nik::parse("0000000000000042")
            .unwrap()
            .check(Some(Sex::L), Some(d(2000, 1, 1)))
            .is_empty());
        let kk = NoKk::parse("1872041203150007").unwrap();
        assert_eq!(format!("{kk:?}"), "NoKk(1872********0007)");
        assert!(kk.date_is_possible());
        assert!(!NoKk::parse("1872043202150007").unwrap().date_is_possible());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Invariant: a NIK composed from an area, a birth date, a sex and a serial decodes back
        /// to them, and checking it against those facts warns of nothing; against the other sex
        /// it warns of exactly the sex.
        #[test]
        fn compose_then_decode_round_trips(
            area in 100_000u32..999_999,
            days in 0i64..(365 * 99),
            female: bool,
            serial in 1u32..9999,
        ) {
            let birth = d(1927, 1, 1) + chrono::Duration::days(days);
            let sex = if female { Sex::P } else { Sex::L };
            let nik = Nik::compose(&area.to_string(), birth, sex, serial).unwrap();
            let dec = nik.decode();
            prop_assert_eq!(dec.sex, Some(sex));
            prop_assert_eq!((dec.day, dec.month, dec.yy), (birth.day(), birth.month(), birth.year().rem_euclid(100) as u32));
            prop_assert_eq!(dec.serial, serial);
            prop_assert!(nik.check(Some(sex), Some(birth)).is_empty());
            let other = if female { Sex::L } else { Sex::P };
            prop_assert_eq!(nik.check(Some(other), Some(birth)), vec![NikWarning::SexMismatch]);
        }

        /// Invariant: parsing never panics, and accepts exactly the strings that are 16 digits
        /// once spaces, dots, hyphens and a leading apostrophe are removed.
        #[test]
        fn parse_accepts_exactly_sixteen_digits(s in "[0-9 .A-Za-z'-]{0,24}") {
            let cleaned: String = s.chars().filter(|c| !c.is_whitespace() && *c != '.' && *c != '-').collect();
            let cleaned = cleaned.trim_start_matches('\'');
            let ok = cleaned.len() == 16 && cleaned.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(Nik::parse(&s).is_ok(), ok);
        }
    }
}
