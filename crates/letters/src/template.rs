//! Letter types as data: `assets/letters/<code>-<slug>/template.toml`, read into [`Template`]
//! and checked by [`Template::check`]. Templates ship inside the binary ([`shipped`]); a test
//! checks that every directory under `assets/letters` is shipped and valid.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a person placeholder may name (`{pemohon.nama}`), and identity-block rows.
pub const PERSON_KEYS: &[(&str, &str)] = &[
    ("nama", "Nama"),
    ("nik", "NIK"),
    ("no_kk", "No. KK"),
    ("ttl", "Tempat/Tgl. Lahir"),
    ("tempat_lahir", "Tempat Lahir"),
    ("tanggal_lahir", "Tanggal Lahir"),
    ("umur", "Umur"),
    ("jenis_kelamin", "Jenis Kelamin"),
    ("agama", "Agama"),
    ("pekerjaan", "Pekerjaan"),
    ("pendidikan", "Pendidikan"),
    ("status_kawin", "Status Perkawinan"),
    ("kewarganegaraan", "Kewarganegaraan"),
    ("hubungan", "Hubungan Keluarga"),
    ("nama_ayah", "Nama Ayah"),
    ("nama_ibu", "Nama Ibu"),
    ("alamat", "Alamat"),
];

/// Placeholders every letter has, from the office and the letter itself.
pub const LETTER_KEYS: &[&str] = &[
    "kelurahan",
    "kecamatan",
    "kota",
    "provinsi",
    "alamat_kantor",
    "nomor",
    "tanggal_surat",
    "berlaku_sampai",
    "jabatan_penanda_tangan",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub code: String,
    pub title: String,
    /// Archive classification (Permendagri 83/2022), e.g. `400.8.1`; offices may override it.
    pub classification: String,
    pub version: String,
    /// The regulation(s) the layout and content follow.
    pub regulation: String,
    /// Days the letter is valid from its issue date; 0 = no end.
    #[serde(default)]
    pub validity_days: u32,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// A life event issuing the letter records for the first person (e.g. `mati`).
    #[serde(default)]
    pub records_event: Option<String>,
    /// A co-signature block (e.g. the camat's "Mengetahui") beside the signer's.
    #[serde(default)]
    pub cosign: Option<Cosign>,
    #[serde(default)]
    pub page: PageStyle,
    pub people: Vec<PersonSpec>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosign {
    /// E.g. "Mengetahui,".
    pub heading: String,
    /// E.g. "Camat {kecamatan}".
    pub position: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageStyle {
    pub font_size: f32,
    pub margin_top_mm: f32,
    pub margin_bottom_mm: f32,
    pub margin_left_mm: f32,
    pub margin_right_mm: f32,
}

impl Default for PageStyle {
    fn default() -> Self {
        // Tata Naskah Dinas practice: 12 pt, left margin wider for binding.
        PageStyle {
            font_size: 12.0,
            margin_top_mm: 12.0,
            margin_bottom_mm: 20.0,
            margin_left_mm: 25.0,
            margin_right_mm: 20.0,
        }
    }
}

/// A person the letter needs from the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonSpec {
    /// The placeholder name, e.g. `pemohon`.
    pub role: String,
    pub label: String,
    /// Allowed life statuses (default: hidup).
    #[serde(default = "default_status")]
    pub status: Vec<String>,
    /// `L` or `P` when the role requires it (a mother must be female).
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub optional: bool,
    /// More than one person (heirs, family members moving).
    #[serde(default)]
    pub many: bool,
}

fn default_status() -> Vec<String> {
    vec!["hidup".into()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Date,
    Time,
    Number,
    Money,
    Choice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    #[serde(default)]
    pub choices: Vec<String>,
}

fn yes() -> bool {
    true
}
fn default_max_len() -> usize {
    200
}

/// One piece of the letter body, top to bottom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// Justified text with placeholders; `indent` in mm for the first line.
    Paragraph {
        text: String,
        #[serde(default)]
        indent_mm: f32,
    },
    /// Label : value rows of one person (the first if `many`).
    Identity {
        person: String,
        rows: Vec<String>,
    },
    /// A numbered table of every person of a `many` role.
    PeopleTable {
        person: String,
        columns: Vec<String>,
    },
    /// Label : value rows of extra fields (and `{…}` texts).
    Details {
        rows: Vec<DetailRow>,
    },
    Spacer {
        mm: f32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailRow {
    pub label: String,
    pub value: String,
}

/// Every template shipped with this build, as (directory name, TOML text).
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    macro_rules! t {
        ($dir:literal) => {
            ($dir, include_str!(concat!("../../../assets/letters/", $dir, "/template.toml")))
        };
    }
    &[
        t!("400.8.1-domisili"),
        t!("400.8.1-sktm"),
        t!("400.8.1-pengantar-skck"),
        t!("400.8.1-usaha"),
        t!("400.8.2-kelahiran"),
        t!("400.8.2-kematian"),
        t!("400.8.1-pindah"),
        t!("400.8.1-belum-menikah"),
        t!("400.8.2-pengantar-nikah"),
        t!("400.8.1-ahli-waris"),
        t!("400.8.1-penghasilan-orang-tua"),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {dir}: {message}")]
    Invalid { dir: String, message: String },
}

impl Template {
    pub fn parse(dir: &str, text: &str) -> Result<Template, TemplateError> {
        let t: Template = toml::from_str(text)
            .map_err(|e| TemplateError::Invalid { dir: dir.into(), message: e.to_string() })?;
        t.check().map_err(|message| TemplateError::Invalid { dir: dir.into(), message })?;
        Ok(t)
    }

    /// Every placeholder refers to a known person key, field or letter key; every role and
    /// field is named once; sizes are sane.
    pub fn check(&self) -> Result<(), String> {
        if self.code.is_empty() || !self.code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(format!("code {:?}: lower-case letters and _ only", self.code));
        }
        if self.title.trim().is_empty() || self.version.trim().is_empty() {
            return Err("title and version are required".into());
        }
        if self.classification.is_empty() || self.classification.contains('|') {
            return Err("classification is required (no |)".into());
        }
        if !(9.0..=14.0).contains(&self.page.font_size) {
            return Err(format!("font_size {} outside 9–14 pt", self.page.font_size));
        }
        let mut names = BTreeSet::new();
        for p in &self.people {
            if !names.insert(p.role.clone()) {
                return Err(format!("role {} named twice", p.role));
            }
            for s in &p.status {
                if !["hidup", "mati", "pindah", "hilang", "pergi"].contains(&s.as_str()) {
                    return Err(format!("role {}: unknown status {s}", p.role));
                }
            }
            if p.sex.as_deref().is_some_and(|s| s != "L" && s != "P") {
                return Err(format!("role {}: sex must be L or P", p.role));
            }
        }
        if self.people.is_empty() || self.people[0].optional || self.people[0].many {
            return Err(
                "the first person (the letter's subject) must be one, required person".into()
            );
        }
        for f in &self.fields {
            if !names.insert(f.key.clone()) {
                return Err(format!("field {} clashes with another name", f.key));
            }
            if f.kind == FieldKind::Choice && f.choices.is_empty() {
                return Err(format!("field {}: a choice needs choices", f.key));
            }
        }
        if let Some(e) = &self.records_event {
            if !["mati", "lahir", "pindah_keluar"].contains(&e.as_str()) {
                return Err(format!("records_event {e} is not supported"));
            }
        }
        let person = |role: &str| self.people.iter().find(|p| p.role == role);
        let check_text = |text: &str| -> Result<(), String> {
            for key in placeholders(text)? {
                let ok = match key.split_once('.') {
                    Some((role, k)) => {
                        person(role).is_some() && PERSON_KEYS.iter().any(|(pk, _)| *pk == k)
                    }
                    None => {
                        LETTER_KEYS.contains(&key.as_str())
                            || self.fields.iter().any(|f| f.key == key)
                    }
                };
                if !ok {
                    return Err(format!("unknown placeholder {{{key}}} in {text:?}"));
                }
            }
            Ok(())
        };
        for b in &self.blocks {
            match b {
                Block::Paragraph { text, indent_mm } => {
                    check_text(text)?;
                    if !(0.0..=40.0).contains(indent_mm) {
                        return Err("indent_mm outside 0–40".into());
                    }
                }
                Block::Identity { person: role, rows }
                | Block::PeopleTable { person: role, columns: rows } => {
                    let p =
                        person(role).ok_or_else(|| format!("block names unknown person {role}"))?;
                    if matches!(b, Block::PeopleTable { .. }) && !p.many {
                        return Err(format!("people_table needs a `many` role, {role} is not"));
                    }
                    for r in rows {
                        if !PERSON_KEYS.iter().any(|(k, _)| k == r) {
                            return Err(format!("unknown row {r} for {role}"));
                        }
                    }
                }
                Block::Details { rows } => {
                    for r in rows {
                        check_text(&r.label)?;
                        check_text(&r.value)?;
                    }
                }
                Block::Spacer { mm } => {
                    if !(0.0..=60.0).contains(mm) {
                        return Err("spacer outside 0–60 mm".into());
                    }
                }
            }
        }
        if let Some(c) = &self.cosign {
            check_text(&c.position)?;
        }
        Ok(())
    }
}

/// The `{…}` names in `text`.
pub fn placeholders(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let end = rest[i..].find('}').ok_or_else(|| format!("unclosed {{ in {text:?}"))?;
        out.push(rest[i + 1..i + end].to_string());
        rest = &rest[i + end + 1..];
    }
    Ok(out)
}

/// Every shipped template, parsed and checked.
pub fn load_shipped() -> Result<Vec<Template>, TemplateError> {
    shipped().iter().map(|(dir, text)| Template::parse(dir, text)).collect()
}
