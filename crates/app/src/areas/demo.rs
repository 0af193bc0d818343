//! A synthetic demo office: a Kota Metro-like profile, signatories and one user per role.
//! Every name and number here is invented; nothing is real personal data.

use crate::areas::{profile, signatories, users};
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
    if args.residents > 0 {
        return Err(ApiError::new(
            ErrorCode::NotAvailable,
            "Register penduduk belum tersedia di versi ini; jalankan dengan --residents 0.",
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
    Ok(SeedReport {
        kelurahan: p.kelurahan_name,
        users: created,
        signatories: officials.len(),
        residents: 0,
    })
}
