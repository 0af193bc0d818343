//! The public verification page: a QR's text checked against the keys and voids offices sent.

use crate::sync::Pc;
use crate::Kota;
use balai_domain::letter_payload::{content_hash, encode, LetterClaims, OfficeKey};
use chrono::NaiveDate;
use serde_json::json;

/// `text` as a query value.
fn query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn page(kota: &Kota, text: &str) -> String {
    let (status, html) = kota.http_text("GET", &format!("/verify?p={}", query(text)), None, b"");
    assert_eq!(status, 200, "{html}");
    html
}

fn verdict(html: &str) -> &str {
    let at = html.find("data-verdict=\"").expect("a verdict") + 14;
    &html[at..at + html[at..].find('"').unwrap()]
}

fn letter(key: &OfficeKey, id: u128, valid_until: Option<NaiveDate>) -> String {
    let claims = LetterClaims {
        letter_id: uuid::Uuid::from_u128(id).simple().to_string(),
        number: format!("470/{id:03}/YSR/XII/2026"),
        letter_type: "domisili".into(),
        issued: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        valid_until,
        nik_masked: "1872********0002".into(),
        content_hash: content_hash(b"isi surat"),
        key_id: key.key_id(),
    };
    encode(&claims, key).unwrap()
}

#[test]
fn anyone_checks_a_letter_valid_voided_expired_altered_or_of_an_unknown_key() {
    let kota = Kota::start();
    let (status, form) = kota.http_text("GET", "/verify", None, b"");
    assert_eq!(status, 200);
    assert!(
        form.contains("<form method=\"get\" action=\"/verify\"") && !form.contains("data-verdict")
    );

    let key = OfficeKey::from_seed(&[4; 32]);
    let future = NaiveDate::from_ymd_opt(2999, 1, 1);
    let (valid, voided) = (letter(&key, 1, future), letter(&key, 2, future));
    let expired = letter(&key, 3, NaiveDate::from_ymd_opt(2026, 1, 31));
    assert_eq!(verdict(&page(&kota, &valid)), "tidak_dikenal", "before the office synced its key");

    let mut pc = Pc::enrol(&kota, 1);
    let bad_id = pc.command(
        "publish_key",
        json!({"key_id": "0000000000000000", "public_hex": key.public_hex()}),
    );
    let publish =
        pc.command("publish_key", json!({"key_id": key.key_id(), "public_hex": key.public_hex()}));
    let void = pc.command("void_letter", json!({"letter_id": uuid::Uuid::from_u128(2), "number": "470/002/YSR/XII/2026", "voided_on": "2026-12-04"}));
    let (status, res) = pc.push(&[bad_id, publish, void]);
    assert_eq!(status, 200, "{res}");
    let outcomes: Vec<&str> =
        res["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["rejected", "ok", "ok"], "{res}");

    let html = page(&kota, &valid);
    assert_eq!(verdict(&html), "sah");
    for shown in
        ["470/001/YSR/XII/2026", "1872********0002", "Kelurahan Yosorejo", "3 Desember 2026"]
    {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    let html = page(&kota, &voided);
    assert_eq!(verdict(&html), "dibatalkan");
    assert!(html.contains("4 Desember 2026"), "{html}");
    let html = page(&kota, &expired);
    assert_eq!(verdict(&html), "sah");
    assert!(html.contains("Masa berlaku surat ini sudah habis"), "{html}");
    // A link in front is ignored; one altered character is caught; a stranger's key is unknown.
    assert_eq!(verdict(&page(&kota, &format!("https://kota.example/verify?p={valid}"))), "sah");
    let altered = valid.replace("470/001/", "470/009/");
    assert_eq!(verdict(&page(&kota, &altered)), "tidak_sah");
    assert_eq!(verdict(&page(&kota, "surat palsu")), "tidak_sah");
    let stranger = letter(&OfficeKey::from_seed(&[5; 32]), 1, future);
    assert_eq!(verdict(&page(&kota, &stranger)), "tidak_dikenal");
    // What was typed comes back escaped, never as markup.
    let html = page(&kota, "<script>alert(1)</script>");
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
}
