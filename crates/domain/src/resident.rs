//! A resident (penduduk) as the register keeps it, and the rules a record must obey.

use crate::codes::{list, CodeKind};
use crate::field::FieldErrors;
use crate::nik::{Nik, NikWarning, NoKk, Sex};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeStatus {
    Hidup,
    Mati,
    Pindah,
    Hilang,
    Pergi,
}

impl LifeStatus {
    pub const ALL: [LifeStatus; 5] = [
        LifeStatus::Hidup,
        LifeStatus::Mati,
        LifeStatus::Pindah,
        LifeStatus::Hilang,
        LifeStatus::Pergi,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LifeStatus::Hidup => "hidup",
            LifeStatus::Mati => "mati",
            LifeStatus::Pindah => "pindah",
            LifeStatus::Hilang => "hilang",
            LifeStatus::Pergi => "pergi",
        }
    }
    pub fn parse(s: &str) -> Option<LifeStatus> {
        let s = s.trim().to_ascii_lowercase();
        LifeStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Life events (peristiwa), recorded as events; each also sets the resident's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Lahir,
    Mati,
    PindahMasuk,
    PindahKeluar,
    Hilang,
    Pergi,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::Lahir,
        EventKind::Mati,
        EventKind::PindahMasuk,
        EventKind::PindahKeluar,
        EventKind::Hilang,
        EventKind::Pergi,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Lahir => "lahir",
            EventKind::Mati => "mati",
            EventKind::PindahMasuk => "pindah_masuk",
            EventKind::PindahKeluar => "pindah_keluar",
            EventKind::Hilang => "hilang",
            EventKind::Pergi => "pergi",
        }
    }
    pub fn parse(s: &str) -> Option<EventKind> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        EventKind::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// The status the event leaves the resident in.
    pub fn resulting_status(self) -> LifeStatus {
        match self {
            EventKind::Lahir | EventKind::PindahMasuk => LifeStatus::Hidup,
            EventKind::Mati => LifeStatus::Mati,
            EventKind::PindahKeluar => LifeStatus::Pindah,
            EventKind::Hilang => LifeStatus::Hilang,
            EventKind::Pergi => LifeStatus::Pergi,
        }
    }
}

/// Parses the dates offices write: `DD-MM-YYYY`, `DD/MM/YYYY`, `DD.MM.YYYY` or ISO `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    let s = s.split(['T', ' ']).next().unwrap_or(s);
    for fmt in ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            if (1850..=2200).contains(&chrono::Datelike::year(&d)) {
                return Some(d);
            }
        }
    }
    None
}

/// A resident as entered (form, JSON or one spreadsheet row): every field as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResidentInput {
    pub nik: String,
    pub no_kk: String,
    pub full_name: String,
    pub sex: String,
    pub birth_place: String,
    pub birth_date: String,
    pub religion: String,
    pub marital_status: String,
    pub shdk: String,
    pub education: String,
    pub occupation: String,
    pub blood_type: String,
    pub citizenship: String,
    pub disability: String,
    pub mother_nik: String,
    pub mother_name: String,
    pub father_nik: String,
    pub father_name: String,
    pub address: String,
    pub rt: String,
    pub rw: String,
    pub lingkungan: String,
    pub birth_cert_no: String,
    pub marriage_cert_no: String,
    pub marriage_date: String,
    pub divorce_cert_no: String,
    pub divorce_date: String,
    /// The clerk's written reason for keeping a NIK that raised warnings.
    pub nik_override_reason: String,
}

/// A resident whose every field has been checked and normalised.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    pub nik: Nik,
    pub nik_temporary: bool,
    pub no_kk: NoKk,
    pub full_name: String,
    pub sex: Sex,
    pub birth_place: String,
    pub birth_date: NaiveDate,
    pub religion: u16,
    pub marital_status: u16,
    pub shdk: u16,
    pub education: Option<u16>,
    pub occupation: Option<u16>,
    pub blood_type: Option<u16>,
    pub citizenship: u16,
    pub disability: Option<u16>,
    pub mother_nik: Option<Nik>,
    pub mother_name: String,
    pub father_nik: Option<Nik>,
    pub father_name: String,
    pub address: String,
    pub rt: u16,
    pub rw: u16,
    pub lingkungan: String,
    pub birth_cert_no: String,
    pub marriage_cert_no: String,
    pub marriage_date: Option<NaiveDate>,
    pub divorce_cert_no: String,
    pub divorce_date: Option<NaiveDate>,
    pub nik_warnings: Vec<NikWarning>,
    pub nik_override_reason: String,
}

impl std::fmt::Debug for Resident {
    // Names, dates and numbers of a resident stay out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident").field("nik", &self.nik).finish_non_exhaustive()
    }
}

pub const SHDK_KEPALA: u16 = 1;

fn code(
    e: &mut FieldErrors,
    field: &str,
    kind: CodeKind,
    raw: &str,
    required: bool,
) -> Option<u16> {
    if raw.trim().is_empty() {
        if required {
            e.push(field, "required", "Wajib diisi.");
        }
        return None;
    }
    let found = list(kind).lookup(raw);
    if found.is_none() {
        e.push(
            field,
            "unknown_code",
            format!("“{}” tidak ada dalam daftar kode {}.", raw.trim(), kind.name()),
        );
    }
    found
}

fn small_number(e: &mut FieldErrors, field: &str, raw: &str) -> u16 {
    match raw.trim().trim_start_matches('0').parse::<u16>() {
        Ok(n) if n <= 999 => n,
        _ if raw.trim().chars().all(|c| c == '0') && !raw.trim().is_empty() => {
            e.push(field, "rt_rw_format", "RT/RW harus angka 1–999.");
            0
        }
        _ => {
            e.push(
                field,
                if raw.trim().is_empty() { "required" } else { "rt_rw_format" },
                "RT/RW harus angka 1–999.",
            );
            0
        }
    }
}

fn optional_date(e: &mut FieldErrors, field: &str, raw: &str) -> Option<NaiveDate> {
    if raw.trim().is_empty() {
        return None;
    }
    let d = parse_date(raw);
    if d.is_none() {
        e.push(field, "date_format", "Tanggal harus HH-BB-TTTT, HH/BB/TTTT atau TTTT-BB-HH.");
    }
    d
}

fn optional_nik(e: &mut FieldErrors, field: &str, raw: &str) -> Option<Nik> {
    if raw.trim().is_empty() || raw.trim() == "-" {
        return None;
    }
    match Nik::parse(raw) {
        Ok(n) => Some(n),
        Err(_) => {
            e.push(field, "nik_format", "NIK harus 16 angka.");
            None
        }
    }
}

fn text(e: &mut FieldErrors, field: &str, raw: &str, required: bool, max: usize) -> String {
    let v: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if required && v.is_empty() {
        e.push(field, "required", "Wajib diisi.");
    } else if v.chars().count() > max {
        e.push(field, "too_long", format!("Paling banyak {max} karakter."));
    }
    v
}

impl ResidentInput {
    /// Checks every field; NIK warnings become errors unless a written reason overrides them.
    pub fn validate(&self, today: NaiveDate) -> Result<Resident, FieldErrors> {
        let mut e = FieldErrors::default();
        let nik = match Nik::parse(&self.nik) {
            Ok(n) => Some(n),
            Err(_) => {
                e.push("nik", "nik_format", "NIK harus 16 angka.");
                None
            }
        };
        let no_kk = match NoKk::parse(&self.no_kk) {
            Ok(n) => Some(n),
            Err(_) => {
                e.push("no_kk", "no_kk_format", "No. KK harus 16 angka.");
                None
            }
        };
        let full_name = text(&mut e, "full_name", &self.full_name, true, 100);
        let sex = Sex::parse(&self.sex);
        if sex.is_none() {
            e.push(
                "sex",
                if self.sex.trim().is_empty() { "required" } else { "sex_format" },
                "Jenis kelamin: L atau P.",
            );
        }
        let birth_place = text(&mut e, "birth_place", &self.birth_place, true, 60);
        let birth_date = if self.birth_date.trim().is_empty() {
            e.push("birth_date", "required", "Wajib diisi.");
            None
        } else {
            let d = optional_date(&mut e, "birth_date", &self.birth_date);
            if let Some(d) = d {
                if d > today {
                    e.push(
                        "birth_date",
                        "date_in_future",
                        "Tanggal lahir tidak boleh di masa depan.",
                    );
                }
            }
            d
        };
        let religion = code(&mut e, "religion", CodeKind::Agama, &self.religion, true);
        let marital_status =
            code(&mut e, "marital_status", CodeKind::StatusPerkawinan, &self.marital_status, true);
        let shdk = code(&mut e, "shdk", CodeKind::Shdk, &self.shdk, true);
        let education = code(&mut e, "education", CodeKind::Pendidikan, &self.education, false);
        let occupation = code(&mut e, "occupation", CodeKind::Pekerjaan, &self.occupation, false);
        let blood_type =
            code(&mut e, "blood_type", CodeKind::GolonganDarah, &self.blood_type, false);
        let citizenship = if self.citizenship.trim().is_empty() {
            Some(1) // WNI unless stated otherwise
        } else {
            code(&mut e, "citizenship", CodeKind::Kewarganegaraan, &self.citizenship, true)
        };
        let disability = code(&mut e, "disability", CodeKind::Cacat, &self.disability, false);
        let mother_nik = optional_nik(&mut e, "mother_nik", &self.mother_nik);
        let father_nik = optional_nik(&mut e, "father_nik", &self.father_nik);
        let mother_name = text(&mut e, "mother_name", &self.mother_name, false, 100);
        let father_name = text(&mut e, "father_name", &self.father_name, false, 100);
        let address = text(&mut e, "address", &self.address, false, 200);
        let rt = small_number(&mut e, "rt", &self.rt);
        let rw = small_number(&mut e, "rw", &self.rw);
        let lingkungan = text(&mut e, "lingkungan", &self.lingkungan, false, 60);
        let birth_cert_no = text(&mut e, "birth_cert_no", &self.birth_cert_no, false, 60);
        let marriage_cert_no = text(&mut e, "marriage_cert_no", &self.marriage_cert_no, false, 60);
        let marriage_date = optional_date(&mut e, "marriage_date", &self.marriage_date);
        let divorce_cert_no = text(&mut e, "divorce_cert_no", &self.divorce_cert_no, false, 60);
        let divorce_date = optional_date(&mut e, "divorce_date", &self.divorce_date);
        let reason = text(&mut e, "nik_override_reason", &self.nik_override_reason, false, 300);

        let warnings = match &nik {
            Some(n) => n.check(sex, birth_date),
            None => Vec::new(),
        };
        if !warnings.is_empty() && reason.is_empty() {
            for w in &warnings {
                e.push(
                    "nik",
                    w.code(),
                    format!("{} Isi alasan bila data ini memang benar.", w.message()),
                );
            }
        }
        e.into_result()?;
        let (
            Some(nik),
            Some(no_kk),
            Some(sex),
            Some(birth_date),
            Some(religion),
            Some(marital_status),
            Some(shdk),
            Some(citizenship),
        ) = (nik, no_kk, sex, birth_date, religion, marital_status, shdk, citizenship)
        else {
            // Every None above pushed an error, so this is unreachable; stay total anyway.
            let mut e = FieldErrors::default();
            e.push("nik", "invalid", "Data tidak lengkap.");
            return Err(e);
        };
        Ok(Resident {
            nik_temporary: nik.is_temporary(),
            nik,
            no_kk,
            full_name,
            sex,
            birth_place,
            birth_date,
            religion,
            marital_status,
            shdk,
            education,
            occupation,
            blood_type,
            citizenship,
            disability,
            mother_nik,
            mother_name,
            father_nik,
            father_name,
            address,
            rt,
            rw,
            lingkungan,
            birth_cert_no,
            marriage_cert_no,
            marriage_date,
            divorce_cert_no,
            divorce_date,
            nik_override_reason: if warnings.is_empty() { String::new() } else { reason },
            nik_warnings: warnings,
        })
    }
}

/// Lower-case, accent-free words: how names are compared and searched ("Ma'ruf" and "Maruf",
/// "  SITI  " and "siti" meet).
pub fn normalize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = fold_accent(c);
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == '\'' || c == '`' || c == '’' {
            // Apostrophes join: Ma'ruf → maruf.
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'A',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'O',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ç' => 'c',
        'Ç' => 'C',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    }

    pub fn valid_input() -> ResidentInput {
        ResidentInput {
            nik: "1872045508900001".into(),
            no_kk: "1872041203150007".into(),
            full_name: "  Siti   Aminah ".into(),
            sex: "Perempuan".into(),
            birth_place: "Metro".into(),
            birth_date: "15-08-1990".into(),
            religion: "Islam".into(),
            marital_status: "Kawin".into(),
            shdk: "Istri".into(),
            rt: "003".into(),
            rw: "02".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_row_is_normalised() {
        let r = valid_input().validate(today()).unwrap();
        assert_eq!(r.full_name, "Siti Aminah");
        assert_eq!((r.rt, r.rw, r.shdk, r.religion, r.citizenship), (3, 2, 3, 1, 1));
        assert_eq!(r.sex, Sex::P);
        assert!(r.nik_warnings.is_empty());
    }

    #[test]
    fn nik_warnings_block_until_a_reason_is_given() {
        let mut i = valid_input();
        i.sex = "L".into();
        let e = i.validate(today()).unwrap_err();
        assert_eq!(e.0.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), ["nik_sex_mismatch"]);
        i.nik_override_reason = "Data KTP-el memang demikian (dicek Dukcapil).".into();
        let r = i.validate(today()).unwrap();
        assert_eq!(r.nik_warnings, [NikWarning::SexMismatch]);
        assert!(!r.nik_override_reason.is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let i = ResidentInput {
            nik: "12345".into(),
            no_kk: "x".into(),
            sex: "?".into(),
            birth_date: "31-02-1990".into(),
            religion: "Jedi".into(),
            rt: "abc".into(),
            ..Default::default()
        };
        let e = i.validate(today()).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| format!("{}:{}", f.field, f.code)).collect();
        assert_eq!(
            fields,
            [
                "nik:nik_format",
                "no_kk:no_kk_format",
                "full_name:required",
                "sex:sex_format",
                "birth_place:required",
                "birth_date:date_format",
                "religion:unknown_code",
                "marital_status:required",
                "shdk:required",
                "rt:rt_rw_format",
                "rw:required"
            ]
        );
    }

    #[test]
    fn dates_in_office_formats() {
        let d = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        for s in ["05-10-2026", "5/10/2026", "2026-10-05", "05.10.2026", "2026-10-05T00:00:00"] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        assert_eq!(parse_date("10/32/2026"), None);
        assert_eq!(parse_date("kemarin"), None);
    }

    #[test]
    fn names_normalise_for_search() {
        assert_eq!(normalize_name("  Ma'ruf   AMIN "), "maruf amin");
        assert_eq!(normalize_name("José  Ñandú"), "jose nandu");
        assert_eq!(normalize_name("I Gusti Ngurah-Rai"), "i gusti ngurah rai");
    }
}
