//! What the city knows of the letters offices issue, and the public page that checks one
//! (design.md "Verification of letters"): each office's public signing keys (`publish_key`)
//! and its voided letters (`void_letter`) arrive as commands; anyone pastes a letter's QR text
//! (or opens a link carrying it) and sees whether it is valid, voided or not Balai's, with the
//! masked details the QR itself carries. The page needs no account and no JavaScript.
//!
//! Schema v5:
//! - `office_keys(key_id, kelurahan_code, public_hex, published_at_ms)`: a key id belongs to one
//!   kelurahan; the same key from another is refused (`cross_tenant`).
//! - `voided_letters(letter_id, kelurahan_code, number, voided_on, at_ms)`: no reason (it stays
//!   in the office: it may name people).
//!
//! What it does not show: no full NIK (the QR carries none), no name, no reason of a void.

use crate::db::{Db, Device};
use crate::feed::{ok, rejected};
use crate::html::escape;
use crate::sql::{params, Optional, Query, Tx};
use crate::KotaError;
use balai_domain::dates::long_date;
use balai_domain::letter_payload::{self, LetterClaims, PayloadError};
use balai_protocol::{Outcome, PublishKey, VoidLetter};
use chrono::NaiveDate;
use uuid::Uuid;

pub(crate) const SCHEMA_V5: &str = "
CREATE TABLE office_keys (
    key_id TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    public_hex TEXT NOT NULL,
    published_at_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE voided_letters (
    letter_id TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    number TEXT NOT NULL,
    voided_on TEXT NOT NULL,
    at_ms INTEGER NOT NULL
) STRICT;
";

/// The `publish_key` command inside a push transaction.
pub(crate) fn publish_key(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<PublishKey>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah publish_key tidak lengkap."));
    };
    let Some(key) = letter_payload::public_key(&a.public_hex) else {
        return Ok(rejected("invalid", "Kunci publik kantor tidak sah."));
    };
    if letter_payload::key_id(&key) != a.key_id {
        return Ok(rejected("invalid", "Nomor kunci tidak cocok dengan kuncinya."));
    }
    let owner: Option<String> = tx
        .query_row("SELECT kelurahan_code FROM office_keys WHERE key_id = ?1", [&a.key_id], |r| {
            r.get(0)
        })
        .optional()?;
    match owner {
        Some(k) if k != device.kelurahan_code => {
            Ok(rejected("cross_tenant", "Kunci ini sudah terdaftar untuk kelurahan lain."))
        }
        Some(_) => Ok(ok()),
        None => {
            tx.execute(
                "INSERT INTO office_keys (key_id, kelurahan_code, public_hex, published_at_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    a.key_id,
                    device.kelurahan_code,
                    hex::encode(key.as_bytes()),
                    now_ms as i64
                ],
            )?;
            Ok(ok())
        }
    }
}

/// The `void_letter` command inside a push transaction.
pub(crate) fn void_letter(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(a) = serde_json::from_value::<VoidLetter>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah void_letter tidak lengkap."));
    };
    if NaiveDate::parse_from_str(&a.voided_on, "%Y-%m-%d").is_err() {
        return Ok(rejected("invalid", "Tanggal pembatalan tidak sah."));
    }
    // A letter the city knows by its number belongs to the kelurahan that issued it.
    let issuer: Option<String> = tx
        .query_row(
            "SELECT kelurahan_code FROM issued_numbers WHERE letter_id = ?1
             UNION SELECT kelurahan_code FROM voided_letters WHERE letter_id = ?1",
            [a.letter_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    if issuer.is_some_and(|k| k != device.kelurahan_code) {
        return Ok(rejected("cross_tenant", "Surat ini milik kelurahan lain."));
    }
    tx.execute(
        "INSERT INTO voided_letters (letter_id, kelurahan_code, number, voided_on, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (letter_id) DO NOTHING",
        params![
            a.letter_id.to_string(),
            device.kelurahan_code,
            a.number,
            a.voided_on,
            now_ms as i64
        ],
    )?;
    Ok(ok())
}

/// What the page says of one QR text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by a kelurahan's published key and not voided; `expired` past its validity.
    Valid {
        claims: LetterClaims,
        kelurahan: String,
        expired: bool,
    },
    Voided {
        claims: LetterClaims,
        kelurahan: String,
        voided_on: String,
    },
    /// Well-formed, but its key is no kelurahan's the city knows (not synced yet, or forged).
    UnknownKey,
    /// Altered, forged or not a Balai code: why, in Indonesian.
    Invalid(String),
}

/// Checks `text` (a QR's content, or a link holding it) on `today` (the city's date).
pub fn check(db: &Db, text: &str, today: NaiveDate) -> Result<Verdict, KotaError> {
    let keys: Vec<(String, String, String)> = db.with(|c| {
        // The key id named in the text picks the one row worth reading.
        let kid = letter_payload::decode(text).map(|(c, ..)| c.key_id).unwrap_or_default();
        let mut st = c.prepare(
            "SELECT k.public_hex, k.kelurahan_code, coalesce(n.name, k.kelurahan_code)
             FROM office_keys k LEFT JOIN kelurahan n ON n.code = k.kelurahan_code
             WHERE k.key_id = ?1",
        )?;
        let rows = st.query_map([kid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    })?;
    let lookup = |_: &str| keys.first().and_then(|(hex, ..)| letter_payload::public_key(hex));
    let claims = match letter_payload::verify(text, lookup) {
        Ok(c) => c,
        Err(PayloadError::UnknownKey(_)) => return Ok(Verdict::UnknownKey),
        Err(e) => return Ok(Verdict::Invalid(e.to_string())),
    };
    let Some((_, kelurahan_code, kelurahan)) = keys.into_iter().next() else {
        return Ok(Verdict::UnknownKey);
    };
    let letter_id = Uuid::parse_str(&claims.letter_id).map(|u| u.to_string()).unwrap_or_default();
    let voided: Option<String> = db.with(|c| {
        Ok(c.query_row(
            "SELECT voided_on FROM voided_letters WHERE letter_id = ?1 AND kelurahan_code = ?2",
            [&letter_id, &kelurahan_code],
            |r| r.get(0),
        )
        .optional()?)
    })?;
    Ok(match voided {
        Some(voided_on) => Verdict::Voided { claims, kelurahan, voided_on },
        None => {
            let expired = claims.valid_until.is_some_and(|d| d < today);
            Verdict::Valid { claims, kelurahan, expired }
        }
    })
}

fn letter_rows(c: &LetterClaims, kelurahan: &str) -> String {
    // The city has no templates: the type's code, readable (`pengantar_skck` → `pengantar skck`).
    let kind = c.letter_type.replace('_', " ");
    let rows = [
        ("Nomor surat", escape(&c.number)),
        ("Jenis surat", escape(&kind)),
        ("Tanggal terbit", long_date(c.issued)),
        ("Berlaku sampai", c.valid_until.map_or("—".into(), long_date)),
        ("NIK (disamarkan)", escape(&c.nik_masked)),
        ("Diterbitkan oleh", format!("Kelurahan {}", escape(kelurahan))),
    ];
    let cells: String =
        rows.iter().map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>")).collect();
    format!("<table>{cells}</table>")
}

/// The whole page: the form, and the verdict when `text` was given.
pub fn page(text: Option<&str>, verdict: Option<&Verdict>) -> String {
    let result = match verdict {
        None => String::new(),
        Some(Verdict::Valid { claims, kelurahan, expired }) => {
            let note = if *expired { "<p>Masa berlaku surat ini sudah habis.</p>" } else { "" };
            format!(
                "<section class=\"verdict ok\" data-verdict=\"sah\"><h2>SAH</h2>\
                 <p>Surat ini diterbitkan dan ditandatangani secara digital oleh kantor kelurahan.</p>\
                 {note}{}</section>",
                letter_rows(claims, kelurahan)
            )
        }
        Some(Verdict::Voided { claims, kelurahan, voided_on }) => {
            let on = NaiveDate::parse_from_str(voided_on, "%Y-%m-%d")
                .map_or(escape(voided_on), long_date);
            format!(
                "<section class=\"verdict void\" data-verdict=\"dibatalkan\"><h2>DIBATALKAN</h2>\
                 <p>Surat ini dibatalkan oleh kantor kelurahan pada {on} dan tidak berlaku lagi.</p>{}</section>",
                letter_rows(claims, kelurahan)
            )
        }
        Some(Verdict::UnknownKey) => {
            "<section class=\"verdict bad\" data-verdict=\"tidak_dikenal\">\
             <h2>TIDAK DIKENAL</h2><p>Kode ini ditandatangani dengan kunci yang tidak terdaftar di \
             server kota: kantor penerbitnya belum tersinkron, atau surat ini palsu. Tanyakan ke \
             kantor kelurahan yang tertera.</p></section>"
                .to_string()
        }
        Some(Verdict::Invalid(why)) => format!(
            "<section class=\"verdict bad\" data-verdict=\"tidak_sah\"><h2>TIDAK SAH</h2>\
             <p>Kode ini bukan kode surat yang sah: {}.</p></section>",
            escape(why)
        ),
    };
    shell(text, &result)
}

/// The page when one address has looked up too many letters this hour.
pub fn busy_page() -> String {
    shell(
        None,
        "<section class=\"verdict bad\" role=\"alert\"><h2>Terlalu banyak pemeriksaan</h2>\
         <p>Terlalu banyak surat diperiksa dari alamat ini dalam satu jam terakhir. Coba lagi \
         nanti, atau tanyakan ke kantor kelurahan yang tertera pada surat.</p></section>",
    )
}

fn shell(text: Option<&str>, result: &str) -> String {
    let value = text.map(escape).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Periksa keaslian surat</title><style>{STYLE}</style></head><body><main>\
<h1>Periksa keaslian surat kelurahan</h1>\
<p>Tempelkan teks kode QR pada surat (diawali <code>BLV1|</code>), lalu tekan Periksa.</p>\
<form method=\"get\" action=\"/verify\"><label for=\"p\">Teks kode QR</label>\
<textarea id=\"p\" name=\"p\" rows=\"4\" required>{value}</textarea>\
<button type=\"submit\">Periksa</button></form>{result}\
<p class=\"muted\">Pemeriksaan ini tidak menampilkan data pribadi selain yang tercetak di kode QR.</p>\
</main></body></html>"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0;color:#1f2328}\
main{max-width:44rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;\
border:1px solid #d8dde3}h1{font-size:1.4rem}label{display:block;font-weight:600;margin:.5rem 0}\
textarea{width:100%;font-family:monospace;font-size:.9rem;box-sizing:border-box}\
button{margin-top:.6rem;padding:.5rem 1.2rem;background:#0b6e4f;color:#fff;border:0;border-radius:6px;font-size:1rem}\
.verdict{margin-top:1.5rem;padding:1rem 1.2rem;border-radius:8px}.verdict h2{margin:0 0 .4rem}\
.ok{background:#e6f4ea;border:2px solid #0b6e4f}.void{background:#fff4e5;border:2px solid #b45309}\
.bad{background:#fdecec;border:2px solid #b42318}table{border-collapse:collapse;margin-top:.6rem}\
th{text-align:left;padding:.2rem 1rem .2rem 0;font-weight:600}td{padding:.2rem 0}\
.muted{color:#57606a;font-size:.85rem;margin-top:1.5rem}";
