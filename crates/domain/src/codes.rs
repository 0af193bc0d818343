//! Dukcapil code lists (as OpenSID stores them), shipped as data in `assets/reference/`.
//!
//! Spreadsheets write a code (`1`), a label (`Islam`), or a common variant (`Katolik` for
//! KATHOLIK); [`CodeList::lookup`] accepts all three, ignoring case, spacing and punctuation.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Agama,
    Pekerjaan,
    Pendidikan,
    Shdk,
    StatusPerkawinan,
    GolonganDarah,
    Kewarganegaraan,
    Cacat,
}

impl CodeKind {
    pub const ALL: [CodeKind; 8] = [
        CodeKind::Agama,
        CodeKind::Pekerjaan,
        CodeKind::Pendidikan,
        CodeKind::Shdk,
        CodeKind::StatusPerkawinan,
        CodeKind::GolonganDarah,
        CodeKind::Kewarganegaraan,
        CodeKind::Cacat,
    ];

    /// The name used in `aliases.csv` and in the API.
    pub fn name(self) -> &'static str {
        match self {
            CodeKind::Agama => "agama",
            CodeKind::Pekerjaan => "pekerjaan",
            CodeKind::Pendidikan => "pendidikan_kk",
            CodeKind::Shdk => "shdk",
            CodeKind::StatusPerkawinan => "status_perkawinan",
            CodeKind::GolonganDarah => "golongan_darah",
            CodeKind::Kewarganegaraan => "kewarganegaraan",
            CodeKind::Cacat => "cacat",
        }
    }

    fn source(self) -> &'static str {
        match self {
            CodeKind::Agama => include_str!("../../../assets/reference/agama.csv"),
            CodeKind::Pekerjaan => include_str!("../../../assets/reference/pekerjaan.csv"),
            CodeKind::Pendidikan => include_str!("../../../assets/reference/pendidikan_kk.csv"),
            CodeKind::Shdk => include_str!("../../../assets/reference/shdk.csv"),
            CodeKind::StatusPerkawinan => {
                include_str!("../../../assets/reference/status_perkawinan.csv")
            }
            CodeKind::GolonganDarah => include_str!("../../../assets/reference/golongan_darah.csv"),
            CodeKind::Kewarganegaraan => {
                include_str!("../../../assets/reference/kewarganegaraan.csv")
            }
            CodeKind::Cacat => include_str!("../../../assets/reference/cacat.csv"),
        }
    }
}

const ALIASES: &str = include_str!("../../../assets/reference/aliases.csv");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeEntry {
    pub code: u16,
    pub label: String,
}

#[derive(Debug)]
pub struct CodeList {
    pub kind: CodeKind,
    pub entries: Vec<CodeEntry>,
    /// (normalised label or alias, code)
    keys: Vec<(String, u16)>,
}

/// Upper-case letters and digits only: "Tamat SD / Sederajat" and "TAMAT SD/SEDERAJAT" meet.
pub fn normalize_label(s: &str) -> String {
    let mut key: String =
        s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
    // A closing + or - is a rhesus sign (AB+, O-), not punctuation: without it AB+, AB- and AB
    // would be one blood type.
    if let Some(sign @ ('+' | '-')) = s.trim().chars().last() {
        key.push(sign);
    }
    key
}

fn parse(kind: CodeKind) -> CodeList {
    let mut entries = Vec::new();
    let mut keys = Vec::new();
    for line in kind.source().lines().skip(1) {
        let Some((code, label)) = line.split_once(',') else { continue };
        let Ok(code) = code.trim().parse::<u16>() else { continue };
        let label = label.trim().trim_matches('"').to_string();
        keys.push((normalize_label(&label), code));
        entries.push(CodeEntry { code, label });
    }
    for line in ALIASES.lines().skip(1) {
        let mut parts = line.splitn(3, ',');
        let (Some(list), Some(alias), Some(code)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if list == kind.name() {
            if let Ok(code) = code.trim().parse() {
                let key = normalize_label(alias);
                // "-" normalises to nothing; keep it as a literal key.
                keys.push((if key.is_empty() { alias.trim().to_string() } else { key }, code));
            }
        }
    }
    CodeList { kind, entries, keys }
}

/// The list of a kind, parsed once.
pub fn list(kind: CodeKind) -> &'static CodeList {
    static LISTS: OnceLock<Vec<CodeList>> = OnceLock::new();
    let lists = LISTS.get_or_init(|| CodeKind::ALL.iter().map(|k| parse(*k)).collect());
    &lists[CodeKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)]
}

impl CodeList {
    /// The code for `input`: a code number, a label, or an alias.
    pub fn lookup(&self, input: &str) -> Option<u16> {
        let t = input.trim();
        if t.is_empty() {
            return None;
        }
        if let Ok(n) = t.parse::<u16>() {
            return self.entries.iter().any(|e| e.code == n).then_some(n);
        }
        let key = normalize_label(t);
        let key = if key.is_empty() { t.to_string() } else { key };
        self.keys.iter().find(|(k, _)| *k == key).map(|(_, c)| *c)
    }

    pub fn label(&self, code: u16) -> Option<&str> {
        self.entries.iter().find(|e| e.code == code).map(|e| e.label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_have_the_sizes_of_the_dukcapil_lists() {
        assert_eq!(list(CodeKind::Agama).entries.len(), 7);
        assert_eq!(list(CodeKind::Pekerjaan).entries.len(), 89);
        assert_eq!(list(CodeKind::Pendidikan).entries.len(), 10);
        assert_eq!(list(CodeKind::Shdk).entries.len(), 11);
        assert_eq!(list(CodeKind::StatusPerkawinan).entries.len(), 4);
        assert_eq!(list(CodeKind::GolonganDarah).entries.len(), 13);
        assert_eq!(list(CodeKind::Kewarganegaraan).entries.len(), 3);
    }

    #[test]
    fn lookup_takes_codes_labels_and_aliases_in_any_case_and_spacing() {
        let agama = list(CodeKind::Agama);
        assert_eq!(agama.lookup("1"), Some(1));
        assert_eq!(agama.lookup(" islam "), Some(1));
        assert_eq!(agama.lookup("Katolik"), Some(3));
        assert_eq!(agama.lookup("KATHOLIK"), Some(3));
        assert_eq!(agama.lookup("9"), None);
        assert_eq!(agama.lookup("Jedi"), None);
        let pend = list(CodeKind::Pendidikan);
        assert_eq!(pend.lookup("tamat sd/sederajat"), Some(3));
        assert_eq!(pend.lookup("TIDAK/BELUM  SEKOLAH"), Some(1));
        assert_eq!(list(CodeKind::GolonganDarah).lookup("-"), Some(13));
    }

    #[test]
    fn every_label_is_found_as_itself_so_no_two_labels_collapse_into_one() {
        // AB+, AB- and AB once all read as AB: a rhesus sign was dropped with the punctuation.
        for kind in CodeKind::ALL {
            let l = list(kind);
            for e in &l.entries {
                assert_eq!(l.lookup(&e.label), Some(e.code), "{} {}", kind.name(), e.label);
            }
        }
        let blood = list(CodeKind::GolonganDarah);
        assert_eq!(blood.lookup("ab +"), Some(9));
        assert_eq!(blood.lookup("o-"), Some(12));
        assert_eq!(blood.lookup("AB"), Some(3));
        assert_eq!(
            list(CodeKind::Pekerjaan).lookup("anggota dpr ri"),
            list(CodeKind::Pekerjaan).lookup("ANGGOTA DPR-RI")
        );
    }

    #[test]
    fn every_alias_points_at_an_existing_code() {
        for line in ALIASES.lines().skip(1) {
            let parts: Vec<_> = line.split(',').collect();
            let kind = CodeKind::ALL
                .iter()
                .find(|k| k.name() == parts[0])
                .unwrap_or_else(|| panic!("{line}"));
            let code: u16 = parts[2].parse().unwrap();
            assert!(list(*kind).label(code).is_some(), "{line}");
        }
    }
}
