//! The office's identity: the region it governs (Kemendagri codes), its address and contacts,
//! its emblem, and the officials who sign its letters.

use crate::field::{optional_text, required_text, FieldErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Levels of the Kemendagri region code `PP.KK.CC.DDDD` and how many digits each has in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionLevel {
    Provinsi,
    KabupatenKota,
    Kecamatan,
    Kelurahan,
}

impl RegionLevel {
    pub fn digits(self) -> usize {
        match self {
            RegionLevel::Provinsi => 2,
            RegionLevel::KabupatenKota => 4,
            RegionLevel::Kecamatan => 6,
            RegionLevel::Kelurahan => 10,
        }
    }
    fn example(self) -> &'static str {
        match self {
            RegionLevel::Provinsi => "18",
            RegionLevel::KabupatenKota => "18.72",
            RegionLevel::Kecamatan => "18.72.05",
            RegionLevel::Kelurahan => "18.72.05.1001",
        }
    }
}

/// Normalises a region code written with or without dots (`1872051001`, `18.72.05.1001`) to
/// the dotted form. Returns `None` unless it is all digits (dots and spaces aside) of the
/// level's length.
pub fn normalize_region_code(raw: &str, level: RegionLevel) -> Option<String> {
    let digits: String = raw.chars().filter(|c| *c != '.' && !c.is_whitespace()).collect();
    if digits.len() != level.digits() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = String::with_capacity(digits.len() + 3);
    for (i, part) in [(0, 2), (2, 4), (4, 6), (6, 10)].iter().enumerate() {
        if part.1 > digits.len() {
            break;
        }
        if i > 0 {
            out.push('.');
        }
        out.push_str(&digits[part.0..part.1]);
    }
    Some(out)
}

/// The office profile: what letters print in their letterhead and what sync identifies by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeProfile {
    pub province_code: String,
    pub province_name: String,
    pub city_code: String,
    pub city_name: String,
    pub kecamatan_code: String,
    pub kecamatan_name: String,
    pub kelurahan_code: String,
    pub kelurahan_name: String,
    pub address: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub website: String,
}

impl OfficeProfile {
    /// Validates every field and returns the profile with codes normalised to the dotted form
    /// and text trimmed. All problems are reported at once.
    pub fn validated(&self) -> Result<OfficeProfile, FieldErrors> {
        let mut e = FieldErrors::default();
        let mut code = |field: &str, raw: &str, level: RegionLevel| -> String {
            match normalize_region_code(raw, level) {
                Some(c) => c,
                None => {
                    e.push(
                        field,
                        "region_code_format",
                        format!(
                            "Kode wilayah harus {} angka, contoh {}.",
                            level.digits(),
                            level.example()
                        ),
                    );
                    raw.trim().to_string()
                }
            }
        };
        let province_code = code("province_code", &self.province_code, RegionLevel::Provinsi);
        let city_code = code("city_code", &self.city_code, RegionLevel::KabupatenKota);
        let kecamatan_code = code("kecamatan_code", &self.kecamatan_code, RegionLevel::Kecamatan);
        let kelurahan_code = code("kelurahan_code", &self.kelurahan_code, RegionLevel::Kelurahan);
        // Each code must lie inside its parent: a kelurahan of another kecamatan is a typo.
        let nested = [
            ("city_code", &city_code, &province_code, "provinsi"),
            ("kecamatan_code", &kecamatan_code, &city_code, "kota/kabupaten"),
            ("kelurahan_code", &kelurahan_code, &kecamatan_code, "kecamatan"),
        ];
        for (field, child, parent, parent_label) in nested {
            if !e.has(field) && !child.starts_with(&format!("{parent}.")) {
                e.push(
                    field,
                    "region_code_parent",
                    format!("Kode harus diawali kode {parent_label} ({parent})."),
                );
            }
        }
        for (field, value) in [
            ("province_name", &self.province_name),
            ("city_name", &self.city_name),
            ("kecamatan_name", &self.kecamatan_name),
            ("kelurahan_name", &self.kelurahan_name),
        ] {
            required_text(&mut e, field, value, 80);
        }
        required_text(&mut e, "address", &self.address, 200);
        let postal = self.postal_code.trim();
        if !postal.is_empty() && (postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()))
        {
            e.push("postal_code", "postal_code_format", "Kode pos harus 5 angka.");
        }
        let phone = self.phone.trim();
        if !phone.is_empty()
            && (phone.len() > 30
                || !phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
                || phone.chars().filter(char::is_ascii_digit).count() < 6)
        {
            e.push(
                "phone",
                "phone_format",
                "Nomor telepon hanya berisi angka, spasi, +, - atau ().",
            );
        }
        let email = self.email.trim();
        if !email.is_empty() && !looks_like_email(email) {
            e.push(
                "email",
                "email_format",
                "Alamat e-mail tidak valid, contoh kel.yosorejo@metrokota.go.id.",
            );
        }
        optional_text(&mut e, "website", &self.website, 120);
        e.into_result()?;
        Ok(OfficeProfile {
            province_code,
            province_name: self.province_name.trim().into(),
            city_code,
            city_name: self.city_name.trim().into(),
            kecamatan_code,
            kecamatan_name: self.kecamatan_name.trim().into(),
            kelurahan_code,
            kelurahan_name: self.kelurahan_name.trim().into(),
            address: self.address.trim().into(),
            postal_code: postal.into(),
            phone: phone.into(),
            email: email.into(),
            website: self.website.trim().into(),
        })
    }
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 120
}

/// The emblem (lambang daerah) printed in the letterhead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmblemFormat {
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/svg+xml")]
    Svg,
}

impl EmblemFormat {
    pub fn mime(self) -> &'static str {
        match self {
            EmblemFormat::Png => "image/png",
            EmblemFormat::Svg => "image/svg+xml",
        }
    }
}

/// The largest emblem accepted; a letterhead emblem is a few tens of kilobytes.
pub const EMBLEM_MAX_BYTES: usize = 1024 * 1024;

/// Recognises an emblem by its content, never by a file name or a claimed type.
pub fn sniff_emblem(bytes: &[u8]) -> Result<EmblemFormat, FieldErrors> {
    let mut e = FieldErrors::default();
    if bytes.is_empty() {
        e.push("emblem", "required", "Berkas lambang kosong.");
    } else if bytes.len() > EMBLEM_MAX_BYTES {
        e.push("emblem", "too_large", "Berkas lambang paling besar 1 MB.");
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(EmblemFormat::Png);
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        let head: String = text.chars().take(2048).collect::<String>().to_ascii_lowercase();
        if head.contains("<svg") {
            if head.contains("<script") || text.to_ascii_lowercase().contains("<script") {
                e.push("emblem", "svg_script", "Berkas SVG tidak boleh berisi skrip.");
            } else {
                return Ok(EmblemFormat::Svg);
            }
        } else {
            e.push("emblem", "emblem_format", "Lambang harus berkas PNG atau SVG.");
        }
    } else {
        e.push("emblem", "emblem_format", "Lambang harus berkas PNG atau SVG.");
    }
    Err(e)
}

/// Checks a NIP (Nomor Induk Pegawai, 18 digits): `YYYYMMDD` birth date, `YYYYMM` of
/// appointment, one digit for sex (1 man, 2 woman), a three-digit serial.
pub fn check_nip(raw: &str) -> Result<String, (&'static str, &'static str)> {
    let nip: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if nip.len() != 18 || !nip.bytes().all(|b| b.is_ascii_digit()) {
        return Err(("nip_length", "NIP harus 18 angka."));
    }
    let num = |a: usize, b: usize| nip[a..b].parse::<u32>().unwrap_or(0);
    if NaiveDate::from_ymd_opt(num(0, 4) as i32, num(4, 6), num(6, 8)).is_none() || num(0, 4) < 1900
    {
        return Err(("nip_birth_date", "8 angka pertama NIP harus tanggal lahir (TTTTBBHH)."));
    }
    let (tmt_year, tmt_month) = (num(8, 12), num(12, 14));
    if !(1950..=2100).contains(&tmt_year) || !(1..=12).contains(&tmt_month) {
        return Err((
            "nip_appointment",
            "Angka ke-9 s.d. 14 NIP harus tahun dan bulan pengangkatan.",
        ));
    }
    if !matches!(&nip[14..15], "1" | "2") {
        return Err(("nip_sex", "Angka ke-15 NIP harus 1 (laki-laki) atau 2 (perempuan)."));
    }
    Ok(nip)
}

/// Which post a signatory fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Post {
    Lurah,
    Sekretaris,
}

/// In what capacity they sign (Tata Naskah Dinas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capacity {
    /// The definitive holder of the post.
    Definitif,
    /// Pelaksana Tugas: acting, the post is vacant.
    Plt,
    /// Pelaksana Harian: acting, the holder is temporarily absent.
    Plh,
}

impl Capacity {
    /// The prefix printed before the position, e.g. "Plt. Lurah Yosorejo".
    pub fn prefix(self) -> &'static str {
        match self {
            Capacity::Definitif => "",
            Capacity::Plt => "Plt. ",
            Capacity::Plh => "Plh. ",
        }
    }
}

/// An official who may sign, for a period. Letters copy these fields as of the signing date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatory {
    /// Absent when creating.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub post: Post,
    pub capacity: Capacity,
    /// The position as printed, e.g. "Lurah Yosorejo".
    pub position: String,
    pub nip: String,
    /// Pangkat/golongan, e.g. "Penata Tingkat I (III/d)".
    pub rank: String,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

impl Signatory {
    pub fn validated(&self) -> Result<Signatory, FieldErrors> {
        let mut e = FieldErrors::default();
        required_text(&mut e, "name", &self.name, 100);
        required_text(&mut e, "position", &self.position, 100);
        required_text(&mut e, "rank", &self.rank, 60);
        let nip = match check_nip(&self.nip) {
            Ok(n) => n,
            Err((code, msg)) => {
                e.push("nip", code, msg);
                String::new()
            }
        };
        if let Some(to) = self.valid_to {
            if to < self.valid_from {
                e.push(
                    "valid_to",
                    "date_order",
                    "Tanggal akhir tidak boleh sebelum tanggal mulai.",
                );
            }
        }
        e.into_result()?;
        Ok(Signatory {
            id: self.id.clone(),
            name: self.name.trim().into(),
            post: self.post,
            capacity: self.capacity,
            position: self.position.trim().into(),
            nip,
            rank: self.rank.trim().into(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        })
    }

    /// Whether this official held the post on `date` (both ends inclusive).
    pub fn serves_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// The official who signs for `post` on `date`: an acting official (Plh., then Plt.) named for
/// that day takes precedence over the definitive holder, because they were appointed precisely
/// because the holder could not sign.
pub fn signatory_on(all: &[Signatory], post: Post, date: NaiveDate) -> Option<&Signatory> {
    let rank = |c: Capacity| match c {
        Capacity::Plh => 0,
        Capacity::Plt => 1,
        Capacity::Definitif => 2,
    };
    all.iter()
        .filter(|s| s.post == post && s.serves_on(date))
        .min_by_key(|s| (rank(s.capacity), std::cmp::Reverse(s.valid_from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> OfficeProfile {
        OfficeProfile {
            province_code: "18".into(),
            province_name: "Lampung".into(),
            city_code: "1872".into(),
            city_name: "Kota Metro".into(),
            kecamatan_code: "18.72.05".into(),
            kecamatan_name: "Metro Selatan".into(),
            kelurahan_code: "1872051001".into(),
            kelurahan_name: "Rejomulyo".into(),
            address: "Jl. Contoh No. 1".into(),
            postal_code: "34119".into(),
            phone: "(0725) 41234".into(),
            email: "kel@example.go.id".into(),
            website: String::new(),
        }
    }

    #[test]
    fn region_codes_are_normalised_to_dotted_form() {
        let p = profile().validated().unwrap();
        assert_eq!(p.city_code, "18.72");
        assert_eq!(p.kelurahan_code, "18.72.05.1001");
        assert_eq!(normalize_region_code("18.72.0", RegionLevel::Kecamatan), None);
        assert_eq!(normalize_region_code("18.7a.05", RegionLevel::Kecamatan), None);
    }

    #[test]
    fn every_problem_is_reported_at_once_and_named_by_field() {
        let mut p = profile();
        p.kelurahan_code = "18.72.04.1001".into(); // not inside kecamatan 18.72.05
        p.email = "not-an-email".into();
        p.address = "  ".into();
        let errs = p.validated().unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("kelurahan_code", "region_code_parent"),
                ("address", "required"),
                ("email", "email_format")
            ]
        );
    }

    #[test]
    fn nip_checks_length_and_embedded_dates() {
        assert_eq!(check_nip("19750312 200003 1 002"), Ok("197503122000031002".into()));
        assert_eq!(check_nip("1975031220000310").unwrap_err().0, "nip_length");
        assert_eq!(check_nip("19751312200003100X").unwrap_err().0, "nip_length");
        assert_eq!(check_nip("197513122000031002").unwrap_err().0, "nip_birth_date");
        assert_eq!(check_nip("197503122000131002").unwrap_err().0, "nip_appointment");
        assert_eq!(check_nip("197503122000033002").unwrap_err().0, "nip_sex");
    }

    #[test]
    fn acting_official_signs_on_their_days_only() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let lurah = Signatory {
            id: None,
            name: "Lurah Definitif".into(),
            post: Post::Lurah,
            capacity: Capacity::Definitif,
            position: "Lurah Rejomulyo".into(),
            nip: "197503122000031002".into(),
            rank: "Penata (III/c)".into(),
            valid_from: d("2024-01-01"),
            valid_to: None,
        };
        let plh = Signatory {
            name: "Pelaksana Harian".into(),
            capacity: Capacity::Plh,
            valid_from: d("2026-07-01"),
            valid_to: Some(d("2026-07-10")),
            ..lurah.clone()
        };
        let all = [lurah, plh];
        assert_eq!(
            signatory_on(&all, Post::Lurah, d("2026-06-30")).unwrap().name,
            "Lurah Definitif"
        );
        assert_eq!(
            signatory_on(&all, Post::Lurah, d("2026-07-05")).unwrap().name,
            "Pelaksana Harian"
        );
        assert_eq!(
            signatory_on(&all, Post::Lurah, d("2026-07-11")).unwrap().name,
            "Lurah Definitif"
        );
        assert!(signatory_on(&all, Post::Lurah, d("2023-12-31")).is_none());
        assert!(signatory_on(&all, Post::Sekretaris, d("2026-07-05")).is_none());
    }

    #[test]
    fn emblem_is_recognised_by_content() {
        assert_eq!(sniff_emblem(b"\x89PNG\r\n\x1a\n...."), Ok(EmblemFormat::Png));
        assert_eq!(
            sniff_emblem(br#"<?xml version="1.0"?><svg xmlns="x"></svg>"#),
            Ok(EmblemFormat::Svg)
        );
        assert_eq!(
            sniff_emblem(b"<svg><script>alert(1)</script></svg>").unwrap_err().0[0].code,
            "svg_script"
        );
        assert_eq!(sniff_emblem(b"GIF89a").unwrap_err().0[0].code, "emblem_format");
        assert_eq!(sniff_emblem(b"").unwrap_err().0[0].code, "required");
    }
}
