//! The personal-data rules of `assets/privacy/rules.toml` (UU 27/2022): which of a resident's
//! data is specific (health, disability, children's), and how long each kind of record is kept
//! before it is anonymised.
//!
//! Rules are data because a city may set other periods; this module parses and checks them and
//! answers questions about one record. It does not read the clock (callers pass `today`) and
//! does not anonymise anything — balai-app does that, in one transaction with its audit record.

use crate::resident::Resident;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const RULES: &str = include_str!("../../../assets/privacy/rules.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyRules {
    pub version: String,
    pub specific: SpecificRules,
    pub retention: Vec<RetentionRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecificRules {
    /// A resident younger than this is a child: the whole record is children's data.
    pub child_under_years: u32,
    pub field: Vec<SpecificField>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecificField {
    /// A coded field of [`Resident`]: `blood_type` or `disability`.
    pub field: String,
    pub category: String,
    pub label: String,
    /// Codes that say nothing about the person (e.g. TIDAK TAHU).
    #[serde(default)]
    pub not_sensitive: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionKind {
    /// A resident who died; the period runs from the date of death.
    PendudukMeninggal,
    /// A resident who moved out, went missing or left; from the date of that event.
    PendudukPindah,
    /// An online letter request that was finished or refused; from the date it was made.
    PermohonanDaring,
}

impl RetentionKind {
    pub const ALL: [RetentionKind; 3] = [
        RetentionKind::PendudukMeninggal,
        RetentionKind::PendudukPindah,
        RetentionKind::PermohonanDaring,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RetentionKind::PendudukMeninggal => "penduduk_meninggal",
            RetentionKind::PendudukPindah => "penduduk_pindah",
            RetentionKind::PermohonanDaring => "permohonan_daring",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// Keep what statistics need (sex, year of birth, RT/RW, status); replace what identifies.
    Anonymise,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub kind: RetentionKind,
    pub label: String,
    /// The date the period runs from, in words (shown to the admin).
    pub from: String,
    pub years: u32,
    pub action: RetentionAction,
}

impl RetentionRule {
    /// The last day a record whose period started on `start` is kept as it is.
    pub fn kept_until(&self, start: NaiveDate) -> NaiveDate {
        let year = start.year() + self.years as i32;
        // 29 February plus whole years lands on 28 February in a common year.
        start
            .with_year(year)
            .or_else(|| NaiveDate::from_ymd_opt(year, start.month(), 28))
            .unwrap_or(start)
    }

    /// Whether a record whose period started on `start` is due for its action on `today`.
    pub fn is_due(&self, start: NaiveDate, today: NaiveDate) -> bool {
        today > self.kept_until(start)
    }
}

/// Parses and checks a rules file: every kind of record has exactly one rule, periods are
/// whole years between 1 and 100, and every specific field is a coded field of a resident.
pub fn parse(text: &str) -> Result<PrivacyRules, String> {
    let rules: PrivacyRules = toml::from_str(text).map_err(|e| e.to_string())?;
    if rules.version.trim().is_empty() {
        return Err("version: kosong".into());
    }
    if !(1..=25).contains(&rules.specific.child_under_years) {
        return Err("specific.child_under_years: harus 1–25".into());
    }
    for (i, f) in rules.specific.field.iter().enumerate() {
        if !matches!(f.field.as_str(), "blood_type" | "disability") {
            return Err(format!(
                "specific.field[{i}].field: '{}' bukan kolom kode penduduk",
                f.field
            ));
        }
        if f.category.trim().is_empty() || f.label.trim().is_empty() {
            return Err(format!("specific.field[{i}]: category dan label wajib diisi"));
        }
    }
    for kind in RetentionKind::ALL {
        let n = rules.retention.iter().filter(|r| r.kind == kind).count();
        if n != 1 {
            return Err(format!("retention: '{}' harus tepat satu aturan (ada {n})", kind.code()));
        }
    }
    for r in &rules.retention {
        if !(1..=100).contains(&r.years) {
            return Err(format!("retention '{}': years harus 1–100", r.kind.code()));
        }
    }
    Ok(rules)
}

/// The rules shipped with this build.
pub fn rules() -> &'static PrivacyRules {
    static PARSED: OnceLock<PrivacyRules> = OnceLock::new();
    // The shipped file is checked by this module's tests, so it cannot fail here.
    PARSED.get_or_init(|| parse(RULES).unwrap_or_else(|e| panic!("assets/privacy/rules.toml: {e}")))
}

impl PrivacyRules {
    pub fn retention_of(&self, kind: RetentionKind) -> &RetentionRule {
        // `parse` guarantees one rule per kind.
        self.retention.iter().find(|r| r.kind == kind).unwrap_or(&self.retention[0])
    }

    /// The categories of specific data `r` holds on `today`, in the order of the rules file,
    /// then `anak`. Empty when the record holds none.
    pub fn specific_categories(&self, r: &Resident, today: NaiveDate) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &self.specific.field {
            let value = match f.field.as_str() {
                "blood_type" => r.blood_type,
                "disability" => r.disability,
                _ => None,
            };
            if value.is_some_and(|v| !f.not_sensitive.contains(&v)) && !out.contains(&f.category) {
                out.push(f.category.clone());
            }
        }
        if self.is_child(r.birth_date, today) {
            out.push("anak".into());
        }
        out
    }

    /// Whether someone born on `birth` is a child on `today` (children's data, Pasal 4).
    pub fn is_child(&self, birth: NaiveDate, today: NaiveDate) -> bool {
        age_on(birth, today) < self.specific.child_under_years as i32
    }
}

/// NIKs of anonymised records start with 99, a province code no province has (temporary NIKs,
/// for residents who have none yet, start with 00).
pub const ANONYMOUS_NIK_PREFIX: &str = "99";

/// The NIK an anonymised record carries: 99 and 14 digits drawn from the record's id, so that
/// every PC that anonymises the same record writes the same value, and no two records share one.
pub fn anonymous_nik(record_id: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(record_id);
    let n =
        u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % 100_000_000_000_000;
    format!("{ANONYMOUS_NIK_PREFIX}{n:014}")
}

pub fn is_anonymised(nik: &str) -> bool {
    nik.starts_with(ANONYMOUS_NIK_PREFIX)
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resident::ResidentInput;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn resident(birth: &str, blood: &str, disability: &str) -> Resident {
        ResidentInput {
            nik: "1872046510800001".into(),
            no_kk: "1872040101090001".into(),
            full_name: "CONTOH SINTETIS".into(),
            sex: "P".into(),
            birth_place: "METRO".into(),
            birth_date: birth.into(),
            religion: "ISLAM".into(),
            marital_status: "BELUM KAWIN".into(),
            shdk: "ANAK".into(),
            citizenship: "WNI".into(),
            blood_type: blood.into(),
            disability: disability.into(),
            address: "JL. CONTOH".into(),
            rt: "1".into(),
            rw: "1".into(),
            // The NIK's date part is not the birth date under test.
            nik_override_reason: "data uji sintetis".into(),
            ..Default::default()
        }
        .validate(d("2026-12-07"))
        .map_err(|e| format!("{e:?}"))
        .unwrap()
    }

    #[test]
    fn the_shipped_rules_parse_and_name_every_kind_of_record() {
        let r = rules();
        assert!(!r.version.is_empty());
        for kind in RetentionKind::ALL {
            assert_eq!(r.retention_of(kind).kind, kind);
        }
    }

    #[test]
    fn specific_data_is_found_by_category_and_never_by_a_code_that_says_nothing() {
        let r = rules();
        let today = d("2026-12-07");
        let adult = "1980-10-25";
        assert!(r.specific_categories(&resident(adult, "", ""), today).is_empty());
        assert!(r
            .specific_categories(&resident(adult, "TIDAK TAHU", "TIDAK CACAT"), today)
            .is_empty());
        assert_eq!(r.specific_categories(&resident(adult, "AB+", ""), today), ["kesehatan"]);
        assert_eq!(
            r.specific_categories(&resident(adult, "O", "CACAT NETRA/BUTA"), today),
            ["kesehatan", "disabilitas"]
        );
        // A child until the day before the 18th birthday.
        assert_eq!(r.specific_categories(&resident("2008-12-08", "", ""), today), ["anak"]);
        assert!(r.specific_categories(&resident("2008-12-07", "", ""), today).is_empty());
    }

    #[test]
    fn a_period_ends_after_whole_years_and_a_leap_day_lands_on_28_february() {
        let rule = rules().retention_of(RetentionKind::PendudukMeninggal).clone();
        let years = rule.years as i32;
        let start = d("2012-02-29");
        let until = rule.kept_until(start);
        assert_eq!(until.year(), 2012 + years);
        assert!(!rule.is_due(start, until));
        assert!(rule.is_due(start, until.succ_opt().unwrap()));
        assert_eq!(
            rule.kept_until(d("2010-06-15")),
            d("2010-06-15").with_year(2010 + years).unwrap()
        );
        // What the store gives for a date it cannot read: never due.
        assert!(!rule.is_due(NaiveDate::MAX, d("2026-12-07")));
    }

    #[test]
    fn an_anonymous_nik_is_sixteen_digits_fixed_by_the_record_and_never_a_province() {
        let a = anonymous_nik(&[1; 16]);
        assert_eq!(a, anonymous_nik(&[1; 16]));
        assert_ne!(a, anonymous_nik(&[2; 16]));
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_digit()) && is_anonymised(&a));
        assert!(crate::nik::Nik::parse(&a).is_ok());
        assert!(!is_anonymised("1872045508900001") && !is_anonymised("0072045508900001"));
    }

    #[test]
    fn bad_rule_files_are_refused_with_the_place_named() {
        let good = RULES.to_string();
        let refuse = |text: String, want: &str| {
            let e = parse(&text).unwrap_err();
            assert!(e.contains(want), "{e} should name {want}");
        };
        refuse(
            good.replace("field = \"disability\"", "field = \"full_name\""),
            "specific.field[1].field",
        );
        refuse(good.replace("years = 2\n", "years = 0\n"), "permohonan_daring");
        refuse(
            good.replace("kind = \"penduduk_pindah\"", "kind = \"penduduk_meninggal\""),
            "penduduk_meninggal' harus tepat satu aturan (ada 2)",
        );
        refuse(
            good.replace("child_under_years = 18", "child_under_years = 0"),
            "child_under_years",
        );
        refuse(good.replace("action = \"anonymise\"", "action = \"delete_all\""), "delete_all");
    }
}
