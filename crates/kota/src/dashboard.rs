//! The city's own view: city admins (Argon2id passwords, sessions in an HttpOnly cookie) and
//! the dashboard that shows every kelurahan side by side — its PCs and last sync, residents,
//! letters issued per month this year, voided letters, refusals worth a look. It only reads:
//! nothing here writes an office's data.
//!
//! Schema v6:
//! - `city_admins(username, password_hash, created_at_ms, disabled_at_ms)`.
//! - `admin_sessions(token_hash, username, created_at_ms, expires_at_ms)`: only the token's
//!   SHA-256 is kept; a session lasts [`SESSION_MS`].
//!
//! Contest scores: the kelurahan ranked by their latest period under one rule set (submitted
//! totals, or a draft of the typed values; `contest::scores`).

use crate::db::Db;
use crate::html::{escape, local_time};
use crate::sql::{params, Optional, Query};
use crate::KotaError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use balai_domain::dates::month_name;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub(crate) const SCHEMA_V6: &str = "
CREATE TABLE city_admins (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    disabled_at_ms INTEGER
) STRICT;
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES city_admins(username),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
";

/// How long a city admin stays logged in.
pub const SESSION_MS: u64 = 8 * 60 * 60 * 1000;
/// The cookie holding the session token.
pub const COOKIE: &str = "balai_kota_sesi";

/// A valid Argon2id hash of a random string: a refusal for an unknown name costs the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8rY8pFNsbb0u2yD4hdn5k7BZsRmEFIQZ1BvF0E6mSa4";

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Adds a city admin.
pub fn add_admin(db: &Db, username: &str, password: &str, now_ms: u64) -> Result<(), KotaError> {
    let username = username.trim();
    let ok_name = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !ok_name {
        return Err(KotaError::BadRequest(
            "Nama pengguna 3–32 huruf kecil, angka, titik, garis bawah atau tanda hubung.".into(),
        ));
    }
    if password.chars().count() < 10 || password.len() > 256 {
        return Err(KotaError::BadRequest("Kata sandi admin kota 10–256 karakter.".into()));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| KotaError::BadRequest(format!("hash kata sandi gagal: {e}")))?
        .to_string();
    db.with(|c| {
        c.execute(
            "INSERT INTO city_admins (username, password_hash, created_at_ms) VALUES (?1, ?2, ?3)",
            params![username, hash, now_ms as i64],
        )
        .map_err(|e| {
            if e.is_constraint_violation() {
                KotaError::BadRequest(format!("Admin {username} sudah ada."))
            } else {
                KotaError::Database(e)
            }
        })?;
        Ok(())
    })
}

/// Logs a city admin in: the session token for the cookie, or `None` (wrong name or password,
/// or disabled; a security event either way, naming only the username tried).
pub fn login(
    db: &Db,
    username: &str,
    password: &str,
    now_ms: u64,
) -> Result<Option<String>, KotaError> {
    let username = username.trim();
    let stored: Option<String> = db.with(|c| {
        Ok(c.query_row(
            "SELECT password_hash FROM city_admins WHERE username = ?1 AND disabled_at_ms IS NULL",
            [username],
            |r| r.get(0),
        )
        .optional()?)
    })?;
    let hash = stored.as_deref().unwrap_or(DUMMY_HASH);
    let good = PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false);
    if !good || stored.is_none() {
        let name: String = username.chars().take(32).collect();
        db.security_event(None, "admin_login_failed", &name, now_ms)?;
        return Ok(None);
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    db.with(|c| {
        c.execute(
            "INSERT INTO admin_sessions (token_hash, username, created_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![token_hash(&token), username, now_ms as i64, (now_ms + SESSION_MS) as i64],
        )?;
        Ok(())
    })?;
    Ok(Some(token))
}

/// The admin a session token belongs to, while it lasts.
pub fn session(db: &Db, token: &str, now_ms: u64) -> Result<Option<String>, KotaError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT s.username FROM admin_sessions s JOIN city_admins a USING (username)
             WHERE s.token_hash = ?1 AND s.expires_at_ms > ?2 AND a.disabled_at_ms IS NULL",
            params![token_hash(token), now_ms as i64],
            |r| r.get(0),
        )
        .optional()?)
    })
}

pub fn logout(db: &Db, token: &str) -> Result<(), KotaError> {
    db.with(|c| {
        c.execute("DELETE FROM admin_sessions WHERE token_hash = ?1", [token_hash(token)])?;
        Ok(())
    })
}

/// One kelurahan on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KelurahanSummary {
    pub code: String,
    pub name: String,
    /// Enrolled PCs not revoked.
    pub devices: u32,
    /// The latest request of any of its PCs.
    pub last_sync_ms: Option<u64>,
    /// Residents the city holds for it, and of them those living (status `hidup`).
    pub residents: u64,
    pub living: u64,
    /// Letters issued this year, January first.
    pub letters_by_month: [u32; 12],
    pub voided: u64,
    /// Letter numbers of this year's series recorded unused (given back at a year's end, or
    /// left in the leases of a PC that was locked out): the register's explained gaps.
    pub numbers_unused: u64,
    /// Residents' online requests no PC has taken yet.
    pub requests_waiting: u64,
    /// Refused requests of its PCs in the last 7 days (bad signatures, revoked or fenced PCs,
    /// writes for another kelurahan).
    pub security_events_7d: u64,
}

/// Every kelurahan, by code; `year` picks the letters counted.
pub fn summaries(db: &Db, year: i32, now_ms: u64) -> Result<Vec<KelurahanSummary>, KotaError> {
    db.with(|c| {
        let mut out: Vec<KelurahanSummary> = Vec::new();
        // The status group's value is JSON text on both backends.
        let status =
            c.dialect().pick("json_extract(g.value, '$.status')", "(g.value::jsonb ->> 'status')");
        let mut st = c.prepare(&format!(
            "SELECT k.code, k.name,
                (SELECT count(*) FROM devices d WHERE d.kelurahan_code = k.code AND d.revoked_at_ms IS NULL),
                (SELECT max(last_seen_ms) FROM devices d WHERE d.kelurahan_code = k.code),
                (SELECT count(DISTINCT row_id) FROM row_groups g
                  WHERE g.kelurahan_code = k.code AND g.tbl = 'residents'),
                (SELECT count(*) FROM row_groups g
                  WHERE g.kelurahan_code = k.code AND g.tbl = 'residents' AND g.field_group = 'status'
                    AND {status} = 'hidup'),
                (SELECT count(*) FROM voided_letters v WHERE v.kelurahan_code = k.code),
                (SELECT count(*) FROM security_events e JOIN devices d ON d.id = e.device_id
                  WHERE d.kelurahan_code = k.code AND e.at_ms > ?1),
                (SELECT count(*) FROM online_requests o
                  WHERE o.kelurahan_code = k.code AND o.status = 'diajukan'),
                (SELECT count(*) FROM unused_numbers u
                  WHERE u.kelurahan_code = k.code AND substr(u.series, 1, 4) = ?2)
             FROM kelurahan k ORDER BY k.code"
        ))?;
        let week_ago = now_ms.saturating_sub(7 * 24 * 3_600_000) as i64;
        let rows = st.query_map(params![week_ago, year.to_string()], |r| {
            Ok(KelurahanSummary {
                code: r.get(0)?,
                name: r.get(1)?,
                devices: r.get(2)?,
                last_sync_ms: r.get::<Option<i64>>(3)?.map(|v| v as u64),
                residents: r.get::<i64>(4)? as u64,
                living: r.get::<i64>(5)? as u64,
                letters_by_month: [0; 12],
                voided: r.get::<i64>(6)? as u64,
                numbers_unused: r.get::<i64>(9)? as u64,
                requests_waiting: r.get::<i64>(8)? as u64,
                security_events_7d: r.get::<i64>(7)? as u64,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
        let mut st = c.prepare(
            "SELECT kelurahan_code, CAST(substr(issued_on, 6, 2) AS INTEGER), count(*)
             FROM issued_numbers WHERE substr(issued_on, 1, 4) = ?1 GROUP BY 1, 2",
        )?;
        let counts = st.query_map([year.to_string()], |r| {
            Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?))
        })?;
        for row in counts {
            let (code, month, n) = row?;
            if let (Some(k), 1..=12) = (out.iter_mut().find(|k| k.code == code), month) {
                k.letters_by_month[(month - 1) as usize] = n as u32;
            }
        }
        Ok(out)
    })
}

/// `03-12-2026 14:05` in the city's zone, or `belum pernah`.
fn when(ms: Option<u64>, offset_s: i32) -> String {
    ms.map_or("belum pernah".into(), |ms| {
        local_time(ms, offset_s).format("%d-%m-%Y %H:%M").to_string()
    })
}

/// Twelve bars, one per month: the letters a kelurahan issued this year, at a glance.
fn bars(months: &[u32; 12]) -> String {
    let top = months.iter().copied().max().unwrap_or(0).max(1);
    let mut svg = String::from(
        "<svg class=\"bars\" viewBox=\"0 0 120 38\" width=\"180\" height=\"57\" role=\"img\">",
    );
    let total: u32 = months.iter().sum();
    svg.push_str(&format!("<title>{total} surat tahun ini</title>"));
    for (i, n) in months.iter().enumerate() {
        let h = (*n as f64 / top as f64 * 26.0).round();
        let h = if *n > 0 { h.max(1.0) } else { 0.0 };
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"8\" height=\"{h}\"><title>{}: {n}</title></rect>",
            i * 10 + 1,
            28.0 - h,
            month_name(i as u32 + 1)
        ));
    }
    svg.push_str("<line x1=\"0\" y1=\"28.5\" x2=\"120\" y2=\"28.5\"/>");
    // The months' initials under the bars (J F M A M J J A S O N D).
    for i in 0..12 {
        let initial = &month_name(i + 1)[..1];
        svg.push_str(&format!("<text x=\"{}\" y=\"36\">{initial}</text>", i * 10 + 5));
    }
    svg.push_str("</svg>");
    svg
}

/// The kelurahan ranked by their latest score under one rule set.
#[derive(Debug)]
pub struct Ranked<'a> {
    pub ruleset: &'a str,
    /// Every rule set the city knows: (id, title), for the switch between them.
    pub titles: &'a [(String, String)],
    pub scores: &'a [crate::contest::KelurahanScore],
}

/// The scores section: links to each rule set, then the kelurahan best first.
fn scores_section(r: &Ranked) -> String {
    let links: Vec<String> = r
        .titles
        .iter()
        .map(|(id, title)| {
            if id == r.ruleset {
                format!("<b>{}</b>", escape(title))
            } else {
                format!("<a href=\"/admin?ruleset={}\">{}</a>", escape(id), escape(title))
            }
        })
        .collect();
    let mut rows = String::new();
    for (k, s) in r.scores.iter().enumerate() {
        rows.push_str(&format!(
            "<tr data-score=\"{code}\"><td class=\"n\">{rank}</td><td>{code}</td><td>{name}</td>\
             <td class=\"n\">{period}</td><td class=\"n\" data-col=\"total\">{total}</td><td data-col=\"band\">{band}</td>\
             <td class=\"n\">{filled}/{count}</td><td>{status}</td></tr>",
            rank = k + 1,
            code = escape(&s.code),
            name = escape(&s.name),
            period = s.period,
            total = s.total,
            band = escape(&s.band),
            filled = s.filled,
            count = s.indicators,
            status = if s.submitted { "terkirim" } else { "sementara (nilai isian saja)" },
        ));
    }
    if r.scores.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"8\">Belum ada kelurahan yang mengisi penilaian ini.</td></tr>",
        );
    }
    format!(
        "<section class=\"scores\"><h2>Nilai penilaian</h2><p>{}</p><table><thead><tr><th>#</th><th>Kode</th>\
<th>Kelurahan</th><th>Periode</th><th>Nilai</th><th>Predikat</th><th>Indikator terisi</th><th>Status</th>\
</tr></thead><tbody>{rows}</tbody></table></section>",
        links.join(" · ")
    )
}

/// The dashboard page for `admin`, times in the zone `offset_s` seconds ahead of UTC.
pub fn page(
    admin: &str,
    year: i32,
    offset_s: i32,
    all: &[KelurahanSummary],
    ranked: &Ranked,
) -> String {
    let mut rows = String::new();
    for k in all {
        let letters: u32 = k.letters_by_month.iter().sum();
        let warn = if k.security_events_7d > 0 { " class=\"warn\"" } else { "" };
        rows.push_str(&format!(
            "<tr data-kelurahan=\"{code}\"><td>{code}</td><td>{name}</td><td class=\"n\">{devices}</td>\
             <td class=\"when\">{last}</td><td class=\"n\" data-col=\"residents\">{residents}</td>\
             <td class=\"n\" data-col=\"living\">{living}</td><td class=\"n\" data-col=\"letters\">{letters}</td>\
             <td>{bars}</td><td class=\"n\">{voided}</td>\
             <td class=\"n\" data-col=\"unused\">{unused}</td><td class=\"n\" data-col=\"waiting\">{waiting}</td>\
             <td class=\"n\"{warn}>{events}</td></tr>",
            code = escape(&k.code),
            name = escape(&k.name),
            devices = k.devices,
            last = when(k.last_sync_ms, offset_s),
            residents = k.residents,
            living = k.living,
            bars = bars(&k.letters_by_month),
            voided = k.voided,
            unused = k.numbers_unused,
            waiting = k.requests_waiting,
            events = k.security_events_7d,
        ));
    }
    if all.is_empty() {
        rows.push_str("<tr><td colspan=\"12\">Belum ada kelurahan terdaftar.</td></tr>");
    }
    let (residents, living): (u64, u64) =
        all.iter().fold((0, 0), |(r, l), k| (r + k.residents, l + k.living));
    let letters: u32 = all.iter().flat_map(|k| k.letters_by_month).sum();
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Dasbor Balai Kota</title>\
<style>{STYLE}</style></head><body><header><h1>Dasbor Balai Kota</h1>\
<form method=\"post\" action=\"/admin/logout\"><span>{admin}</span> <button type=\"submit\">Keluar</button></form>\
</header><main><section class=\"totals\"><div><b>{count}</b> kelurahan</div>\
<div><b>{residents}</b> penduduk ({living} hidup)</div><div><b>{letters}</b> surat terbit {year}</div></section>\
<table><thead><tr><th>Kode</th><th>Kelurahan</th><th>PC</th><th>Sinkron terakhir ({zone})</th>\
<th>Penduduk</th><th>Hidup</th><th>Surat {year}</th><th>Per bulan</th><th>Dibatalkan</th>\
<th title=\"Nomor surat seri {year} yang dicatat tidak terpakai (dikembalikan akhir tahun, atau sewa PC yang dikunci)\">Nomor tidak terpakai</th>\
<th title=\"Permohonan daring yang belum diambil kantor\">Permohonan menunggu</th>\
<th title=\"Permintaan ditolak 7 hari terakhir\">Penolakan 7 hari</th></tr></thead><tbody>{rows}</tbody></table>\
{scores}<p class=\"muted\">Hanya baca: dasbor ini tidak mengubah data kelurahan.</p></main></body></html>",
        scores = scores_section(ranked),
        admin = escape(admin),
        count = all.len(),
        zone = balai_domain::dates::zone_name(offset_s),
    )
}

/// The login form, with `error` after a refused try.
pub fn login_page(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Masuk — Balai Kota</title>\
<style>{STYLE}</style></head><body><main class=\"narrow\"><h1>Masuk sebagai admin kota</h1>{error}\
<form method=\"post\" action=\"/admin/login\"><label for=\"username\">Nama pengguna</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
<label for=\"password\">Kata sandi</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Masuk</button></form></main></body></html>"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0;color:#1f2328}\
header{display:flex;justify-content:space-between;align-items:center;background:#0b6e4f;color:#fff;padding:.6rem 1.5rem}\
header h1{font-size:1.2rem;margin:0}header button{background:#fff;color:#0b6e4f;border:0;border-radius:6px;padding:.3rem .8rem}\
main{max-width:76rem;margin:1.5rem auto;background:#fff;padding:1.2rem 1.5rem;border-radius:8px;border:1px solid #d8dde3}\
.scores h2{font-size:1.1rem;margin:1.4rem 0 .4rem}.scores a{color:#0b6e4f}.scores b{color:#0b6e4f}\
main.narrow{max-width:26rem}label{display:block;font-weight:600;margin:.7rem 0 .2rem}\
input{width:100%;box-sizing:border-box;padding:.45rem;font-size:1rem}\
main>form>button,.narrow button{margin-top:1rem;padding:.5rem 1.2rem;background:#0b6e4f;color:#fff;border:0;border-radius:6px;font-size:1rem}\
.error{color:#b42318;font-weight:600}.totals{display:flex;gap:2.5rem;margin-bottom:1rem}.totals b{font-size:1.6rem}\
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;border-bottom:1px solid #e5e7eb;text-align:left}\
th{font-size:.85rem;color:#57606a}td.n{text-align:right;font-variant-numeric:tabular-nums}td.when{white-space:nowrap}\
.bars rect{fill:#0b6e4f}.bars text{font-size:6px;fill:#57606a;text-anchor:middle}.bars line{stroke:#8c959f;stroke-width:.5}.warn{color:#b42318;font-weight:700}\
.muted{color:#57606a;font-size:.85rem;margin-top:1rem}";
