//! Residents' online requests (design.md "city relays online requests"): a public form (no
//! account, no JavaScript) where a resident asks their kelurahan for a letter and is given a
//! tracking code; the request travels down the kelurahan's feed to its PCs; exactly one PC
//! claims it (`claim_request`; the others are answered `conflict`); the claiming PC reports
//! where it stands (`request_status`), which the city passes on to the other PCs and shows
//! the resident on the status page. The letter types offered are those the kelurahan's PCs
//! published (`publish_letter_types`). A PC the city locked out (revoked, or its database
//! restored or copied) that enrols again naming the device it was takes over the requests it
//! held ([`hand_over`]), so they are finished, not stranded.
//!
//! Schema v7:
//! - `letter_types(kelurahan_code, code, title)`: replaced on each publish.
//! - `online_requests(id, kelurahan_code, tracking_code, nik, no_kk, letter_type, purpose,
//!   contact, submitted_at_ms, status, claimed_by, note, updated_at_ms)`: `status` is
//!   `diajukan`, `diproses`, `selesai` or `ditolak`.
//!
//! What the status page shows: the type, the day it was sent, the status and the office's note
//! — never the NIK or the No. KK. What it does not do yet: limit how often one address sends.

use crate::db::{Db, Device};
use crate::feed::{ok, rejected};
use crate::html::{escape, local_time, offset_of};
use crate::sql::{params, Optional, Query, Tx};
use crate::KotaError;
use balai_domain::dates::long_date;
use balai_domain::nik::{Nik, NoKk};
use balai_protocol::{
    ClaimRequest, FeedChange, OnlineRequest, OpBody, Outcome, PublishLetterTypes, RequestStatus,
    ONLINE_REQUEST, REQUEST_STATUS,
};
use std::collections::BTreeMap;
use uuid::Uuid;

pub(crate) const SCHEMA_V7: &str = "
CREATE TABLE letter_types (
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    PRIMARY KEY (kelurahan_code, code)
) STRICT;
CREATE TABLE online_requests (
    id TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    tracking_code TEXT NOT NULL UNIQUE,
    nik TEXT NOT NULL,
    no_kk TEXT NOT NULL,
    letter_type TEXT NOT NULL,
    purpose TEXT NOT NULL,
    contact TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('diajukan', 'diproses', 'selesai', 'ditolak')),
    claimed_by TEXT,
    note TEXT NOT NULL DEFAULT '',
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX online_requests_by_kelurahan ON online_requests (kelurahan_code, status);
";

/// The `publish_letter_types` command inside a push transaction.
pub(crate) fn publish_types(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<PublishLetterTypes>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah publish_letter_types tidak lengkap."));
    };
    let ok_code = |c: &str| {
        !c.is_empty() && c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    };
    if a.types.len() > 100 || a.types.iter().any(|t| !ok_code(&t.code) || t.title.len() > 120) {
        return Ok(rejected("invalid", "Daftar jenis surat tidak sesuai."));
    }
    tx.execute("DELETE FROM letter_types WHERE kelurahan_code = ?1", [&device.kelurahan_code])?;
    for t in &a.types {
        tx.execute(
            "INSERT INTO letter_types (kelurahan_code, code, title) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![device.kelurahan_code, t.code, t.title],
        )?;
    }
    Ok(ok())
}

/// The request a command names, if it is this device's kelurahan's: (status, claimed_by).
fn request_of(
    tx: &Tx,
    device: &Device,
    id: Uuid,
) -> Result<Result<(String, Option<String>), Outcome>, KotaError> {
    let row: Option<(String, String, Option<String>)> = tx
        .query_row(
            "SELECT kelurahan_code, status, claimed_by FROM online_requests WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => Err(rejected("not_found", "Permohonan tidak dikenal server kota.")),
        Some((k, ..)) if k != device.kelurahan_code => {
            Err(rejected("cross_tenant", "Permohonan ini milik kelurahan lain."))
        }
        Some((_, status, claimed)) => Ok((status, claimed)),
    })
}

/// Sets a request's status and passes the change on to the kelurahan's PCs: all but `origin`
/// (the PC that made the change has it already; nil for a change the city made).
fn set_status(
    tx: &Tx,
    kelurahan: &str,
    (device, origin): (Uuid, Uuid),
    s: &RequestStatus,
    now_ms: u64,
) -> Result<(), KotaError> {
    tx.execute(
        "UPDATE online_requests SET status = ?1, claimed_by = ?2, note = ?3, updated_at_ms = ?4
         WHERE id = ?5",
        params![s.status, device.to_string(), s.note, now_ms as i64, s.request_id.to_string()],
    )?;
    let body = OpBody::Command {
        name: REQUEST_STATUS.into(),
        args: serde_json::to_value(RequestStatus { device: Some(device), ..s.clone() })
            .map_err(|e| KotaError::BadRequest(e.to_string()))?,
    };
    crate::feed::append_feed(tx, kelurahan, origin, Uuid::now_v7(), &body)
}

/// A PC enrolling again as `new` after the city locked it out as `old` (its database restored
/// or copied, or revoked) takes over the requests `old` held and had not finished, so its
/// clerk can finish them; the kelurahan's other PCs learn the new holder down the feed. Only
/// from a locked-out device of the same kelurahan: an active PC's requests stay its own
/// (naming it is recorded as a security event).
pub(crate) fn hand_over(
    tx: &Tx,
    old: Uuid,
    new: Uuid,
    kelurahan: &str,
    now_ms: u64,
) -> Result<(), KotaError> {
    let was: Option<(String, Option<i64>)> = tx
        .query_row(
            "SELECT kelurahan_code, revoked_at_ms FROM devices WHERE id = ?1",
            [old.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match was {
        Some((k, Some(_))) if k == kelurahan => {}
        None => return Ok(()),
        Some(_) => {
            tx.execute(
                "INSERT INTO security_events (at_ms, device_id, kind, detail)
                 VALUES (?1, ?2, 'hand_over_refused', ?3)",
                params![now_ms as i64, new.to_string(), format!("replaces {old}")],
            )?;
            return Ok(());
        }
    }
    let held: Vec<(String, String, String)> = {
        let mut st = tx.prepare(
            "SELECT id, status, note FROM online_requests
             WHERE claimed_by = ?1 AND status = 'diproses' ORDER BY id",
        )?;
        let rows = st.query_map([old.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, status, note) in held {
        let Ok(request_id) = Uuid::parse_str(&id) else { continue };
        let s = RequestStatus { request_id, status, note, device: None };
        // From the city, so the new holder receives it too: a restored copy pulls its old
        // device's claim again from where its cursor was, and this entry comes after it.
        set_status(tx, kelurahan, (new, Uuid::nil()), &s, now_ms)?;
    }
    Ok(())
}

/// The `claim_request` command inside a push transaction: the first PC wins.
pub(crate) fn claim(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<ClaimRequest>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah claim_request tidak lengkap."));
    };
    let (status, claimed) = match request_of(tx, device, a.request_id)? {
        Ok(v) => v,
        Err(refusal) => return Ok(refusal),
    };
    match claimed {
        Some(d) if d == device.id.to_string() => Ok(ok()),
        Some(d) => Ok(Outcome::Conflict {
            winner: serde_json::json!({ "device": d }),
            message: "Permohonan ini sudah diproses komputer lain di kantor.".into(),
        }),
        None if status != "diajukan" => Ok(rejected("invalid", "Permohonan ini sudah selesai.")),
        None => {
            let s = RequestStatus {
                request_id: a.request_id,
                status: "diproses".into(),
                note: String::new(),
                device: None,
            };
            set_status(tx, &device.kelurahan_code, (device.id, device.id), &s, now_ms)?;
            Ok(ok())
        }
    }
}

/// The `request_status` command inside a push transaction: only from the PC that claimed it.
pub(crate) fn status(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<RequestStatus>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah request_status tidak lengkap."));
    };
    if !["diproses", "selesai", "ditolak"].contains(&a.status.as_str()) || a.note.len() > 300 {
        return Ok(rejected("invalid", "Status permohonan tidak sesuai."));
    }
    let (_, claimed) = match request_of(tx, device, a.request_id)? {
        Ok(v) => v,
        Err(refusal) => return Ok(refusal),
    };
    if claimed.as_deref() != Some(&device.id.to_string()) {
        return Ok(Outcome::Conflict {
            winner: serde_json::json!({ "device": claimed }),
            message: "Permohonan ini dipegang komputer lain di kantor.".into(),
        });
    }
    set_status(tx, &device.kelurahan_code, (device.id, device.id), &a, now_ms)?;
    Ok(ok())
}

/// What a resident typed into the form (kept to show it again with the problems).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Form {
    #[serde(default)]
    pub kelurahan: String,
    #[serde(default)]
    pub nik: String,
    #[serde(default)]
    pub no_kk: String,
    #[serde(default)]
    pub jenis: String,
    #[serde(default)]
    pub keperluan: String,
    #[serde(default)]
    pub kontak: String,
}

/// A submitted request: its tracking code, or the problems by field (Indonesian).
/// Requests one NIK may make through the public form in 24 hours.
pub const PER_NIK_PER_DAY: i64 = 5;

/// The page for an address that sent too many requests in the last hour.
pub fn busy_page() -> String {
    shell(
        "Terlalu banyak permohonan",
        "<h1>Terlalu banyak permohonan</h1><p class=\"error\" role=\"alert\">Terlalu banyak \
         permohonan dari alamat ini dalam satu jam terakhir. Coba lagi nanti, atau datang ke \
         kantor kelurahan.</p>",
    )
}

pub fn submit(
    db: &Db,
    f: &Form,
    now_ms: u64,
) -> Result<Result<String, BTreeMap<&'static str, String>>, KotaError> {
    let mut errors = BTreeMap::new();
    let types = letter_types(db, &f.kelurahan)?;
    if types.is_empty() {
        errors.insert("kelurahan", "Pilih kelurahan yang melayani permohonan daring.".into());
    }
    let nik = Nik::parse(f.nik.trim());
    if let Err(e) = &nik {
        errors.insert("nik", format!("NIK: {e}"));
    }
    let kk = NoKk::parse(f.no_kk.trim());
    if let Err(e) = &kk {
        errors.insert("no_kk", format!("No. KK: {e}"));
    }
    if !types.iter().any(|(code, _)| *code == f.jenis) {
        errors.insert("jenis", "Pilih jenis surat.".into());
    }
    let purpose = f.keperluan.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        errors.insert("keperluan", "Tulis keperluan surat (paling banyak 200 huruf).".into());
    }
    let contact = f.kontak.trim();
    if contact.chars().count() > 60 {
        errors.insert("kontak", "Nomor HP atau surel paling banyak 60 huruf.".into());
    }
    let (Ok(nik), Ok(kk), true) = (nik, kk, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let day_ago = now_ms.saturating_sub(24 * 3_600_000) as i64;
    let recent: i64 = db.with(|c| {
        Ok(c.query_row(
            "SELECT count(*) FROM online_requests WHERE nik = ?1 AND submitted_at_ms > ?2",
            params![nik.as_str(), day_ago],
            |r| r.get(0),
        )?)
    })?;
    if recent >= PER_NIK_PER_DAY {
        errors.insert(
            "nik",
            format!(
                "Sudah {PER_NIK_PER_DAY} permohonan dengan NIK ini dalam 24 jam terakhir; coba lagi besok atau datang ke kantor kelurahan."
            ),
        );
        return Ok(Err(errors));
    }
    let request = OnlineRequest {
        request_id: Uuid::now_v7(),
        tracking_code: crate::codes::new_code(),
        nik: nik.as_str().to_string(),
        no_kk: kk.as_str().to_string(),
        letter_type: f.jenis.clone(),
        purpose: purpose.to_string(),
        contact: contact.to_string(),
        submitted_at_ms: now_ms,
    };
    db.with(|c| {
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO online_requests (id, kelurahan_code, tracking_code, nik, no_kk, letter_type,
                 purpose, contact, submitted_at_ms, status, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'diajukan', ?9)",
            params![
                request.request_id.to_string(),
                f.kelurahan,
                canonical(&request.tracking_code),
                request.nik,
                request.no_kk,
                request.letter_type,
                request.purpose,
                request.contact,
                now_ms as i64
            ],
        )?;
        let body = OpBody::Command {
            name: ONLINE_REQUEST.into(),
            args: serde_json::to_value(&request).map_err(|e| KotaError::BadRequest(e.to_string()))?,
        };
        // From no device: every PC of the kelurahan receives it.
        crate::feed::append_feed(&tx, &f.kelurahan, Uuid::nil(), request.request_id, &body)?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(Ok(request.tracking_code))
}

/// A tracking code as typed (case, spaces and dashes do not matter).
fn canonical(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// The letter types kelurahan `code` offers online: (code, title).
pub fn letter_types(db: &Db, kelurahan: &str) -> Result<Vec<(String, String)>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT code, title FROM letter_types WHERE kelurahan_code = ?1 ORDER BY title",
        )?;
        let rows = st.query_map([kelurahan], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

/// The kelurahan that take online requests (those whose PCs published letter types).
fn serving(db: &Db) -> Result<Vec<(String, String)>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT k.code, k.name FROM kelurahan k
             WHERE EXISTS (SELECT 1 FROM letter_types t WHERE t.kelurahan_code = k.code)
             ORDER BY k.name",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

/// A request as its status page shows it.
pub struct Tracked {
    /// The letter type's title (its code if the office never published it).
    pub title: String,
    pub sent_ms: u64,
    pub status: String,
    pub note: String,
    pub kelurahan_name: String,
    pub kelurahan_code: String,
}

/// Where a request stands, for its tracking code.
pub fn track(db: &Db, code: &str) -> Result<Option<Tracked>, KotaError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT coalesce(t.title, r.letter_type), r.submitted_at_ms, r.status, r.note, k.name,
                 k.code
             FROM online_requests r JOIN kelurahan k ON k.code = r.kelurahan_code
             LEFT JOIN letter_types t ON t.kelurahan_code = r.kelurahan_code AND t.code = r.letter_type
             WHERE r.tracking_code = ?1",
            [canonical(code)],
            |r| {
                Ok(Tracked {
                    title: r.get(0)?,
                    sent_ms: r.get::<i64>(1)? as u64,
                    status: r.get(2)?,
                    note: r.get(3)?,
                    kelurahan_name: r.get(4)?,
                    kelurahan_code: r.get(5)?,
                })
            },
        )
        .optional()?)
    })
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>{STYLE}</style></head><body><main>{body}\
<p class=\"muted\"><a href=\"/permohonan\">Ajukan permohonan</a> · \
<a href=\"/permohonan/status\">Lihat status permohonan</a> · <a href=\"/verify\">Periksa keaslian surat</a></p>\
</main></body></html>"
    )
}

fn field_error(errors: &BTreeMap<&'static str, String>, field: &str) -> String {
    errors
        .get(field)
        .map(|e| format!("<p class=\"error\" id=\"{field}-error\">{}</p>", escape(e)))
        .unwrap_or_default()
}

/// The form: the kelurahan choice, then (for a chosen one) the request itself.
pub fn form_page(
    db: &Db,
    f: &Form,
    errors: &BTreeMap<&'static str, String>,
) -> Result<String, KotaError> {
    let all = serving(db)?;
    let chosen = all.iter().find(|(code, _)| *code == f.kelurahan);
    let options: String = all
        .iter()
        .map(|(code, name)| {
            let sel = if Some(code) == chosen.map(|c| &c.0) { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", escape(code), escape(name))
        })
        .collect();
    let pick = format!(
        "<form method=\"get\" action=\"/permohonan\"><label for=\"kelurahan\">Kelurahan</label>\
<select id=\"kelurahan\" name=\"kelurahan\" required><option value=\"\">— pilih —</option>{options}</select>\
<button type=\"submit\">Pilih</button></form>"
    );
    let Some((code, name)) = chosen else {
        let none = if all.is_empty() {
            "<p>Belum ada kelurahan yang melayani permohonan daring.</p>"
        } else {
            ""
        };
        return Ok(shell(
            "Permohonan surat daring",
            &format!("<h1>Permohonan surat daring</h1><p>Pilih kelurahan tempat Anda terdaftar.</p>{none}{pick}"),
        ));
    };
    let types: String = letter_types(db, code)?
        .iter()
        .map(|(c, t)| {
            let sel = if *c == f.jenis { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", escape(c), escape(t))
        })
        .collect();
    let input = |id: &str, label: &str, value: &str, extra: &str| {
        format!(
            "<label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"{id}\" value=\"{}\" {extra}>{}",
            escape(value),
            field_error(errors, id)
        )
    };
    let summary = if errors.is_empty() {
        String::new()
    } else {
        "<p class=\"error\" role=\"alert\">Periksa kembali isian yang ditandai.</p>".into()
    };
    let body = format!(
        "<h1>Permohonan surat daring — Kelurahan {name}</h1>{summary}\
<form method=\"post\" action=\"/permohonan\"><input type=\"hidden\" name=\"kelurahan\" value=\"{code}\">\
{nik}{kk}<label for=\"jenis\">Jenis surat</label><select id=\"jenis\" name=\"jenis\" required>\
<option value=\"\">— pilih —</option>{types}</select>{jenis_error}\
<label for=\"keperluan\">Keperluan</label><textarea id=\"keperluan\" name=\"keperluan\" rows=\"3\" required>{purpose}</textarea>{purpose_error}\
{contact}<button type=\"submit\">Kirim permohonan</button></form>\
<p class=\"muted\">NIK dan No. KK hanya diteruskan ke kantor kelurahan Anda.</p>",
        name = escape(name),
        code = escape(code),
        nik = input("nik", "NIK (16 angka)", &f.nik, "inputmode=\"numeric\" required"),
        kk = input("no_kk", "No. KK (16 angka)", &f.no_kk, "inputmode=\"numeric\" required"),
        jenis_error = field_error(errors, "jenis"),
        purpose = escape(&f.keperluan),
        purpose_error = field_error(errors, "keperluan"),
        contact = input("kontak", "Nomor HP atau surel (tidak wajib)", &f.kontak, ""),
    );
    Ok(shell("Permohonan surat daring", &body))
}

pub fn sent_page(code: &str) -> String {
    shell(
        "Permohonan terkirim",
        &format!(
            "<h1>Permohonan terkirim</h1><p>Simpan kode pelacakan ini untuk melihat statusnya:</p>\
<p class=\"code\" data-testid=\"tracking-code\">{c}</p>\
<p><a href=\"/permohonan/status?kode={c}\">Lihat status</a></p>",
            c = escape(code)
        ),
    )
}

pub fn status_page(db: &Db, code: Option<&str>) -> Result<String, KotaError> {
    let form = format!(
        "<form method=\"get\" action=\"/permohonan/status\"><label for=\"kode\">Kode pelacakan</label>\
<input id=\"kode\" name=\"kode\" value=\"{}\" required><button type=\"submit\">Lihat</button></form>",
        escape(code.unwrap_or_default())
    );
    let result = match code {
        None => String::new(),
        Some(c) => match track(db, c)? {
            None => "<p class=\"error\" role=\"alert\">Kode pelacakan tidak ditemukan.</p>".into(),
            Some(Tracked {
                title,
                sent_ms: sent,
                status,
                note,
                kelurahan_name: kelurahan,
                kelurahan_code,
            }) => {
                let label = match status.as_str() {
                    "diajukan" => "Diajukan: menunggu diproses kantor kelurahan",
                    "diproses" => "Sedang diproses kantor kelurahan",
                    "selesai" => "Selesai: surat dapat diambil di kantor kelurahan",
                    _ => "Ditolak",
                };
                let day = long_date(local_time(sent, offset_of(&kelurahan_code)).date_naive());
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!("<tr><th>Catatan kantor</th><td>{}</td></tr>", escape(&note))
                };
                format!(
                    "<section class=\"verdict\" data-status=\"{status}\"><h2>{label}</h2><table>\
<tr><th>Jenis surat</th><td>{}</td></tr><tr><th>Kelurahan</th><td>{}</td></tr>\
<tr><th>Dikirim</th><td>{day}</td></tr>{note}</table></section>",
                    escape(&title),
                    escape(&kelurahan)
                )
            }
        },
    };
    Ok(shell("Status permohonan", &format!("<h1>Status permohonan</h1>{form}{result}")))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0;color:#1f2328}\
main{max-width:40rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;border:1px solid #d8dde3}\
h1{font-size:1.35rem}label{display:block;font-weight:600;margin:.8rem 0 .2rem}\
input,select,textarea{width:100%;box-sizing:border-box;padding:.45rem;font-size:1rem}\
button{margin-top:1rem;padding:.5rem 1.2rem;background:#0b6e4f;color:#fff;border:0;border-radius:6px;font-size:1rem}\
.error{color:#b42318;font-weight:600;margin:.2rem 0}.code{font-size:2rem;font-family:monospace;letter-spacing:.1em}\
.verdict{margin-top:1.2rem;padding:1rem 1.2rem;border-radius:8px;background:#e6f4ea;border:2px solid #0b6e4f}\
th{text-align:left;padding:.2rem 1rem .2rem 0}.muted{color:#57606a;font-size:.85rem;margin-top:1.5rem}";

/// Where one online request stands at the city (for the simulation's checks: no NIK in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    pub id: Uuid,
    pub status: String,
    /// The device that claimed it.
    pub claimed_by: Option<String>,
    pub note: String,
}

/// The online requests of `kelurahan` as the city holds them, by id (read-only).
pub fn states(db: &Db, kelurahan: &str) -> Result<Vec<RequestState>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT id, status, claimed_by, note FROM online_requests
             WHERE kelurahan_code = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([kelurahan], |r| {
            Ok(RequestState {
                id: Uuid::parse_str(&r.get::<String>(0)?).unwrap_or_default(),
                status: r.get(1)?,
                claimed_by: r.get(2)?,
                note: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

/// The online requests of `kelurahan` as the feed commands that brought them to its PCs, in
/// the order they were submitted: each request, then its status once a PC took it. For a PC's
/// first sync, which reads state rather than replaying the feed.
pub(crate) fn as_commands(c: &impl Query, kelurahan: &str) -> Result<Vec<FeedChange>, KotaError> {
    let mut st = c.prepare_cached(
        "SELECT id, tracking_code, nik, no_kk, letter_type, purpose, contact, submitted_at_ms,
                status, claimed_by, note
         FROM online_requests WHERE kelurahan_code = ?1 ORDER BY submitted_at_ms, id",
    )?;
    let rows = st.query_map([kelurahan], |r| {
        Ok((
            OnlineRequest {
                request_id: Uuid::parse_str(&r.get::<String>(0)?).unwrap_or_default(),
                tracking_code: r.get(1)?,
                nik: r.get(2)?,
                no_kk: r.get(3)?,
                letter_type: r.get(4)?,
                purpose: r.get(5)?,
                contact: r.get(6)?,
                submitted_at_ms: r.get::<i64>(7)? as u64,
            },
            r.get::<String>(8)?,
            r.get::<Option<String>>(9)?,
            r.get::<String>(10)?,
        ))
    })?;
    fn as_value(v: &impl serde::Serialize) -> Result<serde_json::Value, KotaError> {
        serde_json::to_value(v).map_err(|e| KotaError::BadRequest(e.to_string()))
    }
    let mut out = Vec::new();
    for row in rows {
        let (request, status, claimed_by, note) = row?;
        let request_id = request.request_id;
        out.push(FeedChange {
            server_seq: 0,
            origin_device: Uuid::nil(),
            body: OpBody::Command { name: ONLINE_REQUEST.into(), args: as_value(&request)? },
        });
        let holder = claimed_by.as_deref().and_then(|d| Uuid::parse_str(d).ok());
        // The device's own requests too: a restored copy enrolled again may not know it holds
        // one (handed over to it); a PC that does keeps any status it has moved past.
        if status == "diajukan" {
            continue;
        }
        let change = RequestStatus { request_id, status, note, device: holder };
        out.push(FeedChange {
            server_seq: 0,
            origin_device: holder.unwrap_or_default(),
            body: OpBody::Command { name: REQUEST_STATUS.into(), args: as_value(&change)? },
        });
    }
    Ok(out)
}
