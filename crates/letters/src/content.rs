//! What one letter says: the template's placeholders filled from the office, the people, the
//! extra fields and the signer; and the canonical form its content hash is taken from.

use crate::template::{FieldKind, Template, LETTER_KEYS};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    /// Folio, 215 × 330 mm: the norm in Indonesian offices.
    #[default]
    F4,
    A4,
}

impl Paper {
    /// (width, height) in mm.
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            Paper::F4 => (215.0, 330.0),
            Paper::A4 => (210.0, 297.0),
        }
    }

    pub fn parse(s: &str) -> Option<Paper> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f4" | "folio" => Some(Paper::F4),
            "a4" => Some(Paper::A4),
            _ => None,
        }
    }
}

/// The office as the letter names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    /// e.g. "Kota Metro" (or "Kabupaten …").
    pub kota: String,
    pub kecamatan: String,
    pub kelurahan: String,
    pub provinsi: String,
    /// The office's address line for the letterhead.
    pub alamat: String,
    /// The place before the date ("Metro, 1 Juli 2026").
    pub place: String,
    /// PNG bytes of the emblem, if the office has a PNG one.
    #[serde(skip)]
    pub emblem_png: Option<Vec<u8>>,
}

/// Who signs, as of the signing date (copied onto the letter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The lines above the signature space, e.g. ["a.n. Lurah Yosorejo", "Sekretaris Kelurahan"].
    pub position_lines: Vec<String>,
    pub name: String,
    pub rank: String,
    pub nip: String,
}

/// A person's display values by `PERSON_KEYS` key.
pub type Person = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LetterContent {
    pub template: String,
    pub template_version: String,
    pub title: String,
    pub number: String,
    pub issued: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub office: Office,
    /// People by role; a `many` role may hold several.
    pub people: BTreeMap<String, Vec<Person>>,
    /// Extra fields, as validated (ISO dates, plain digits for money).
    pub fields: BTreeMap<String, String>,
    pub signer: Signer,
}

pub use balai_domain::dates::{long_date, month_name};

/// `1500000` → `Rp1.500.000`.
pub fn rupiah(digits: &str) -> String {
    let d: String = digits.chars().filter(|c| c.is_ascii_digit()).collect();
    let d = d.trim_start_matches('0');
    let d = if d.is_empty() { "0" } else { d };
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    format!("Rp{out}")
}

/// One problem with an extra field: (field key, code, Indonesian message).
pub type FieldProblem = (String, &'static str, String);

/// Checks and normalises the extra fields a request supplies for `t`: required present,
/// lengths, dates (DD-MM-YYYY or ISO → ISO), times (HH:MM or HH.MM → HH:MM), numbers and money
/// (digits, dots and "Rp" accepted → digits), choices (case-insensitive → as listed). Unknown
/// keys are refused too.
pub fn validate_fields(
    t: &Template,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Vec<FieldProblem>> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for key in given.keys() {
        if !t.fields.iter().any(|f| &f.key == key) {
            problems.push((
                key.clone(),
                "unknown_field",
                format!("Isian \"{key}\" tidak dikenal untuk surat ini."),
            ));
        }
    }
    for f in &t.fields {
        let raw = given.get(&f.key).map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            if f.required {
                problems.push((f.key.clone(), "required", format!("{} wajib diisi.", f.label)));
            }
            continue;
        }
        if raw.chars().count() > f.max_len {
            problems.push((
                f.key.clone(),
                "too_long",
                format!("{} paling panjang {} huruf.", f.label, f.max_len),
            ));
            continue;
        }
        let value = match f.kind {
            FieldKind::Text => Some(raw.split_whitespace().collect::<Vec<_>>().join(" ")),
            FieldKind::Date => ["%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"]
                .iter()
                .find_map(|fmt| NaiveDate::parse_from_str(raw, fmt).ok())
                .map(|d| d.format("%Y-%m-%d").to_string()),
            FieldKind::Time => {
                let t = raw.replace('.', ":");
                chrono::NaiveTime::parse_from_str(&t, "%H:%M")
                    .ok()
                    .map(|t| t.format("%H:%M").to_string())
            }
            FieldKind::Number | FieldKind::Money => {
                let cleaned: String = raw
                    .trim_start_matches("Rp")
                    .trim_start_matches("rp")
                    .chars()
                    .filter(|c| !matches!(c, '.' | ' '))
                    .collect();
                (!cleaned.is_empty()
                    && cleaned.len() <= 15
                    && cleaned.chars().all(|c| c.is_ascii_digit()))
                .then_some(cleaned)
            }
            FieldKind::Choice => f.choices.iter().find(|c| c.eq_ignore_ascii_case(raw)).cloned(),
        };
        match value {
            Some(v) => {
                out.insert(f.key.clone(), v);
            }
            None => problems.push((
                f.key.clone(),
                "invalid",
                match f.kind {
                    FieldKind::Date => format!("{}: tanggal tidak sah (HH-BB-TTTT).", f.label),
                    FieldKind::Time => format!("{}: pukul tidak sah (JJ:MM).", f.label),
                    FieldKind::Number | FieldKind::Money => format!("{}: hanya angka.", f.label),
                    FieldKind::Choice => {
                        format!("{}: pilih salah satu dari {}.", f.label, f.choices.join(", "))
                    }
                    FieldKind::Text => format!("{}: tidak sah.", f.label),
                },
            )),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

impl LetterContent {
    /// The text of placeholder `key` (`nama`, `pemohon.nik`, `keperluan`, …); empty if absent.
    pub fn value(&self, t: &Template, key: &str) -> String {
        if let Some((role, k)) = key.split_once('.') {
            return self
                .people
                .get(role)
                .and_then(|ps| ps.first())
                .and_then(|p| p.get(k))
                .cloned()
                .unwrap_or_else(|| "-".into());
        }
        if LETTER_KEYS.contains(&key) {
            return match key {
                "kelurahan" => self.office.kelurahan.clone(),
                "kecamatan" => self.office.kecamatan.clone(),
                "kota" => self.office.kota.clone(),
                "provinsi" => self.office.provinsi.clone(),
                "alamat_kantor" => self.office.alamat.clone(),
                "nomor" => self.number.clone(),
                "tanggal_surat" => long_date(self.issued),
                "berlaku_sampai" => {
                    self.valid_until.map(long_date).unwrap_or_else(|| "seterusnya".into())
                }
                "jabatan_penanda_tangan" => self.signer.position_lines.join(" "),
                _ => String::new(),
            };
        }
        let raw = self.fields.get(key).cloned().unwrap_or_default();
        if raw.is_empty() {
            return "-".into();
        }
        match t.fields.iter().find(|f| f.key == key).map(|f| f.kind) {
            Some(FieldKind::Date) => {
                NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map(long_date).unwrap_or(raw)
            }
            Some(FieldKind::Money) => rupiah(&raw),
            Some(FieldKind::Time) => format!("{} WIB", raw.replace(':', ".")),
            _ => raw,
        }
    }

    /// `text` with every `{…}` replaced.
    pub fn fill(&self, t: &Template, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            match rest[i..].find('}') {
                Some(end) => {
                    out.push_str(&self.value(t, &rest[i + 1..i + end]));
                    rest = &rest[i + end + 1..];
                }
                None => {
                    out.push_str(&rest[i..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The bytes the content hash covers: the letter as data (serde_json of this struct, whose
    /// maps are ordered), so any change of a person, field, number, date or signer changes it.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
