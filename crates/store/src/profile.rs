//! The office profile and emblem (one row each).

use crate::Result;
use balai_domain::office::OfficeProfile;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

pub fn get(conn: &Connection) -> Result<Option<OfficeProfile>> {
    Ok(conn
        .query_row(
            "SELECT province_code, province_name, city_code, city_name, kecamatan_code,
                    kecamatan_name, kelurahan_code, kelurahan_name, address, postal_code, phone,
                    email, website
             FROM office_profile WHERE singleton = 1",
            [],
            |r| {
                Ok(OfficeProfile {
                    province_code: r.get(0)?,
                    province_name: r.get(1)?,
                    city_code: r.get(2)?,
                    city_name: r.get(3)?,
                    kecamatan_code: r.get(4)?,
                    kecamatan_name: r.get(5)?,
                    kelurahan_code: r.get(6)?,
                    kelurahan_name: r.get(7)?,
                    address: r.get(8)?,
                    postal_code: r.get(9)?,
                    phone: r.get(10)?,
                    email: r.get(11)?,
                    website: r.get(12)?,
                })
            },
        )
        .optional()?)
}

/// Stores a profile that balai-domain has already validated.
pub fn put(tx: &Transaction, p: &OfficeProfile, at: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO office_profile (singleton, province_code, province_name, city_code, city_name,
             kecamatan_code, kecamatan_name, kelurahan_code, kelurahan_name, address, postal_code,
             phone, email, website, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (singleton) DO UPDATE SET
             province_code = excluded.province_code, province_name = excluded.province_name,
             city_code = excluded.city_code, city_name = excluded.city_name,
             kecamatan_code = excluded.kecamatan_code, kecamatan_name = excluded.kecamatan_name,
             kelurahan_code = excluded.kelurahan_code, kelurahan_name = excluded.kelurahan_name,
             address = excluded.address, postal_code = excluded.postal_code,
             phone = excluded.phone, email = excluded.email, website = excluded.website,
             updated_at = excluded.updated_at",
        params![
            p.province_code,
            p.province_name,
            p.city_code,
            p.city_name,
            p.kecamatan_code,
            p.kecamatan_name,
            p.kelurahan_code,
            p.kelurahan_name,
            p.address,
            p.postal_code,
            p.phone,
            p.email,
            p.website,
            at
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Emblem {
    pub mime: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

pub fn emblem(conn: &Connection) -> Result<Option<Emblem>> {
    Ok(conn
        .query_row("SELECT mime, bytes, sha256 FROM office_emblem WHERE singleton = 1", [], |r| {
            Ok(Emblem { mime: r.get(0)?, bytes: r.get(1)?, sha256: r.get(2)? })
        })
        .optional()?)
}

pub fn put_emblem(tx: &Transaction, e: &Emblem, at: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO office_emblem (singleton, mime, bytes, sha256, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (singleton) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes,
             sha256 = excluded.sha256, updated_at = excluded.updated_at",
        params![e.mime, e.bytes, e.sha256, at],
    )?;
    Ok(())
}
