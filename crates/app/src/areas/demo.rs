//! A synthetic demo office: a Kota Metro-like profile, signatories and one user per role.
//! Every name and number here is invented; nothing is real personal data.

use crate::areas::{import, profile, signatories, users};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::office::{Capacity, OfficeProfile, Post, Signatory};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedArgs {
    /// Synthetic residents to create (needs the register, a later version).
    #[serde(default)]
    pub residents: u32,
    /// Seed for the synthetic data, so a demo is reproducible.
    #[serde(default)]
    pub seed: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SeedReport {
    pub kelurahan: String,
    pub users: Vec<DemoUser>,
    pub signatories: usize,
    pub residents: u32,
}

/// The demo accounts: documented in README.md. Only for demo databases.
pub const DEMO_USERS: [(&str, &str, &str, &str); 4] = [
    ("admin", "Admin Demo", "admin", "demo-admin"),
    ("lurah", "Lurah Demo", "lurah", "demo-lurah"),
    ("sekel", "Sekretaris Demo", "sekretaris", "demo-sekel"),
    ("petugas", "Petugas Demo", "petugas", "demo-petugas"),
];

pub fn demo_profile() -> OfficeProfile {
    OfficeProfile {
        province_code: "18".into(),
        province_name: "Lampung".into(),
        city_code: "18.72".into(),
        city_name: "Kota Metro".into(),
        kecamatan_code: "18.72.04".into(),
        kecamatan_name: "Metro Timur".into(),
        kelurahan_code: "18.72.04.1004".into(),
        kelurahan_name: "Yosorejo".into(),
        address: "Jl. Contoh Raya No. 1, Yosorejo".into(),
        postal_code: "34124".into(),
        phone: "(0725) 000000".into(),
        email: "kel.yosorejo@contoh.go.id".into(),
        website: String::new(),
    }
}

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate, ApiError> {
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "tanggal demo"))
}

pub fn seed(app: &App, ctx: &Ctx, args: SeedArgs) -> Result<SeedReport, ApiError> {
    if args.residents > 1_000_000 {
        return Err(ApiError::field(
            "residents",
            "too_many",
            "Paling banyak 1.000.000 penduduk demo.",
        ));
    }
    let already =
        app.store.read(|c| Ok::<_, ApiError>(!balai_store::users::list(c)?.is_empty()))?;
    if already {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Basis data ini sudah berisi pengguna; data demo hanya untuk basis data baru.",
        ));
    }
    let p = demo_profile();
    profile::set(app, ctx, p.clone())?;
    let officials = [
        Signatory {
            id: None,
            name: "Budi Contoh, S.STP".into(),
            post: Post::Lurah,
            capacity: Capacity::Definitif,
            position: "Lurah Yosorejo".into(),
            nip: "198001012005011001".into(),
            rank: "Penata Tingkat I (III/d)".into(),
            valid_from: date(2024, 1, 1)?,
            valid_to: None,
        },
        Signatory {
            id: None,
            name: "Siti Percontohan, S.Sos".into(),
            post: Post::Sekretaris,
            capacity: Capacity::Definitif,
            position: "Sekretaris Kelurahan Yosorejo".into(),
            nip: "198505152010012002".into(),
            rank: "Penata (III/c)".into(),
            valid_from: date(2024, 1, 1)?,
            valid_to: None,
        },
    ];
    for s in &officials {
        signatories::save(app, ctx, s.clone())?;
    }
    let mut created = Vec::new();
    for (username, full_name, role, password) in DEMO_USERS {
        users::add(
            app,
            ctx,
            users::AddArgs {
                username: username.into(),
                full_name: full_name.into(),
                role: role.into(),
                password: password.into(),
            },
        )?;
        created.push(DemoUser {
            username: username.into(),
            password: password.into(),
            role: role.into(),
        });
    }
    let mut residents = 0;
    if args.residents > 0 {
        let csv = synthetic_register_csv(args.residents, args.seed.unwrap_or(1), app.today());
        let report = import::import(
            app,
            ctx,
            import::ImportArgs { content: Some(csv), ..Default::default() },
        )?;
        if !report.rejected.is_empty() {
            return Err(ApiError::new(
                ErrorCode::Internal,
                format!("data demo ditolak: {:?}", report.rejected.first()),
            ));
        }
        residents = report.imported as u32;
    }
    Ok(SeedReport {
        kelurahan: p.kelurahan_name,
        users: created,
        signatories: officials.len(),
        residents,
    })
}

// Synthetic names: common Indonesian given names and family names, combined at random. No
// combination is taken from any real register.
const MALE: &[&str] = &[
    "Agus", "Budi", "Joko", "Slamet", "Rahmat", "Hendra", "Dedi", "Eko", "Fajar", "Rizky", "Andi",
    "Bambang", "Wahyu", "Arif", "Teguh", "Yusuf", "Ilham", "Bayu", "Dimas", "Made", "Ketut",
    "Hasan", "Ma'ruf", "Imam", "Nur", "Taufik", "Irfan", "Galih", "Surya", "Aditya",
];
const FEMALE: &[&str] = &[
    "Siti", "Sri", "Dewi", "Ani", "Rina", "Wati", "Yuni", "Lestari", "Fitri", "Putri", "Nur",
    "Indah", "Ratna", "Ayu", "Kartika", "Endang", "Sulastri", "Nining", "Dian", "Rahayu", "Wulan",
    "Aisyah", "Fatimah", "Nia", "Tri", "Mega", "Yanti", "Lina", "Eka", "Intan",
];
const FAMILY: &[&str] = &[
    "Saputra",
    "Wijaya",
    "Santoso",
    "Hidayat",
    "Pratama",
    "Kurniawan",
    "Setiawan",
    "Nugroho",
    "Siregar",
    "Lubis",
    "Harahap",
    "Simanjuntak",
    "Purnomo",
    "Susanto",
    "Gunawan",
    "Halim",
    "Rahman",
    "Hakim",
    "Permana",
    "Suryadi",
    "Wibowo",
    "Utami",
    "Maharani",
    "Anggraini",
    "Fauzi",
    "Ramadhan",
    "Firmansyah",
    "Syahputra",
    "Kusuma",
    "Handayani",
];
const PLACES: &[&str] = &[
    "Metro",
    "Bandar Lampung",
    "Pringsewu",
    "Lampung Tengah",
    "Palembang",
    "Jakarta",
    "Yogyakarta",
    "Surabaya",
];

/// A small, seedable generator (splitmix64), so a demo is the same for the same seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A synthetic register of `n` residents in realistic families, as an OpenSID-style CSV.
pub fn synthetic_register_csv(n: u32, seed: u64, today: NaiveDate) -> String {
    use balai_domain::nik::{Nik, Sex};
    use chrono::Datelike;
    let mut rng = Rng(seed);
    let mut out = String::from(
        "nik;no_kk;nama;jenis_kelamin;tempat_lahir;tanggal_lahir;agama;status_kawin;hubungan_keluarga;pendidikan;pekerjaan;golongan_darah;nama_ibu;nama_ayah;alamat;rt;rw;dusun\n",
    );
    let mut used = std::collections::HashSet::new();
    let mut used_kk: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut serial = 0u32;
    let mut nik_for = |rng: &mut Rng, birth: NaiveDate, sex: Sex| -> String {
        loop {
            serial += 1;
            let _ = rng.below(2);
            if let Some(n) = Nik::compose("187204", birth, sex, 1 + serial % 9999) {
                if used.insert(n.as_str().to_string()) {
                    return n.as_str().to_string();
                }
            }
        }
    };
    let birth = |rng: &mut Rng, min_age: u32, max_age: u32| -> NaiveDate {
        let age_days =
            (min_age as i64 * 365) + rng.below(((max_age - min_age) as u64 + 1) * 365) as i64;
        today - chrono::Duration::days(age_days)
    };
    let mut made = 0u32;
    let mut family_no = 0u32;
    while made < n {
        family_no += 1;
        let surname = rng.pick(FAMILY);
        let rt = 1 + rng.below(12);
        let rw = 1 + rng.below(5);
        let address = format!("Jl. Contoh {} No. {}", rng.pick(FAMILY), 1 + rng.below(200));
        let recorded = birth(&mut rng, 0, 15);
        let mut kk_serial = family_no;
        let kk = loop {
            let kk = format!(
                "187204{:02}{:02}{:02}{:04}",
                recorded.day(),
                recorded.month(),
                recorded.year() % 100,
                1 + kk_serial % 9999
            );
            if used_kk.insert(kk.clone()) {
                break kk;
            }
            kk_serial += 7;
        };
        let size = (1 + rng.below(5)).min((n - made) as u64) as u32;
        let head_birth = birth(&mut rng, 25, 75);
        let mother = format!("{} {}", rng.pick(FEMALE), rng.pick(FAMILY));
        let mut members: Vec<(String, Sex, NaiveDate, u16, u16)> = Vec::new();
        let head_name = format!("{} {surname}", rng.pick(MALE));
        members.push((
            head_name.clone(),
            Sex::L,
            head_birth,
            1,
            if size > 1 { 2 } else { 1 + 2 * rng.below(2) as u16 },
        ));
        if size > 1 {
            let wife_birth = head_birth + chrono::Duration::days(rng.below(3650) as i64);
            let wife_birth = wife_birth.min(today - chrono::Duration::days(20 * 365));
            members.push((mother.clone(), Sex::P, wife_birth, 3, 2));
        }
        for _ in 2..size {
            let sex = if rng.below(2) == 0 { Sex::L } else { Sex::P };
            let given = if sex == Sex::L { rng.pick(MALE) } else { rng.pick(FEMALE) };
            members.push((format!("{given} {surname}"), sex, birth(&mut rng, 0, 22), 4, 1));
        }
        for (name, sex, born, shdk, kawin) in members {
            let age = today.year() - born.year();
            let education = if age < 6 { 1 } else { (2 + rng.below(8)).min(10) };
            let occupation = if age < 18 { 3 } else { 1 + rng.below(89) };
            let religion = match rng.below(20) {
                0 => 2,
                1 => 3,
                2 => 4,
                3 => 5,
                _ => 1,
            };
            let nik = nik_for(&mut rng, born, sex);
            let (mother_name, father_name) = if shdk == 4 {
                (mother.clone(), head_name.clone())
            } else {
                (String::new(), String::new())
            };
            out.push_str(&format!(
                "{nik};{kk};{name};{};{};{};{religion};{kawin};{shdk};{education};{occupation};{};{mother_name};{father_name};{address};{rt};{rw};Lingkungan {rw}\n",
                sex.as_str(),
                rng.pick(PLACES),
                born.format("%d-%m-%Y"),
                1 + rng.below(13),
            ));
            made += 1;
        }
    }
    out
}
