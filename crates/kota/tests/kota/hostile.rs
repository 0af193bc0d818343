//! Every route of Balai Kota against hostile input: no credentials, forged or revoked ones,
//! oversized and malformed bodies, wrong content types, path traversal, SQL-shaped and
//! script-shaped text in every field, and the per-address limits of the routes that need no
//! device signature. (Another kelurahan's device writing or reading this one's rows:
//! `sync.rs`, `a_pc_of_another_kelurahan_cannot_write_or_read_this_kelurahans_rows`.)

use crate::dashboard::{exchange, FORM};
use crate::sync::Pc;
use crate::{cli, Kota};
use serde_json::{json, Value};

/// Every route a device signs, with a body that would be accepted from an enrolled PC.
const DEVICE_ROUTES: [(&str, &str); 7] = [
    ("GET", "/v1/whoami"),
    ("POST", "/v1/push"),
    ("GET", "/v1/pull?cursor=0&limit=10"),
    ("GET", "/v1/snapshot"),
    ("POST", "/v1/lease"),
    ("POST", "/v1/digest"),
    ("GET", "/v1/reference?after=0"),
];

const SQL: &str = "x'); DROP TABLE feed; --";
const SCRIPT: &str = "<script>alert(1)</script>";

fn code_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(String::from))
        .unwrap_or_default()
}

/// Counts the rows of a table (present on both backends), so that a test sees it survived.
fn rows(kota: &Kota, table: &str) -> i64 {
    kota.db.rows(&format!("SELECT count(*) FROM {table}"), "")[0][0].as_i64().unwrap()
}

#[test]
fn every_device_route_refuses_no_forged_or_revoked_credentials_bad_bodies_and_other_content_types()
{
    let kota = Kota::start();
    let mut pc = Pc::enrol(&kota, 5);
    let now = kota.server_time() << 16;
    let op = pc.set("identity", json!({"nik": SQL, "full_name": SCRIPT}), now);
    for (method, path) in DEVICE_ROUTES {
        let body: &[u8] = if method == "POST" { b"{}" } else { b"" };
        let (status, v) = kota.http(method, path, None, body);
        assert_eq!(
            (status, v["code"].as_str()),
            (401, Some("unauthenticated")),
            "{path} with no credentials: {v}"
        );
        let (status, v) = kota.http(
            method,
            path,
            Some("Balai-Device 00000000-0000-0000-0000-000000000000:1:AAAA"),
            body,
        );
        // A device id the city does not know is told so (a city restored from an old backup
        // answers its PCs this way); it gets nothing else.
        assert_eq!(
            (status, v["code"].as_str()),
            (403, Some("unknown_device")),
            "{path} forged: {v}"
        );
        // Signed, but declared as something else than JSON.
        let (status, text) = pc.send_raw(method, path, &[("Content-Type", "text/plain")], body);
        assert_eq!(
            (status, code_of(&text).as_str()),
            (415, "unsupported_media_type"),
            "{path}: {text}"
        );
        if method == "POST" {
            let (status, text) = pc.send_raw(method, path, &[], b"{\"ops\": [");
            assert_eq!(
                (status, code_of(&text).as_str()),
                (400, "bad_request"),
                "{path} malformed: {text}"
            );
            let big = vec![b'a'; 3 * 1024 * 1024];
            let (status, text) = pc.send_raw(method, path, &[], &big);
            assert_eq!(status, 400, "{path} with 3 MB: {text}");
            assert!(text.contains("terlalu besar"), "{text}");
        }
    }
    // Query strings shaped like SQL are refused as values, never run.
    let (status, text) = pc.send_raw("GET", "/v1/pull?cursor=0%20OR%201%3D1", &[], b"");
    assert_eq!(status, 400, "{text}");
    // SQL- and script-shaped names of tables, groups and values: refused or stored as text.
    let mut hostile = pc.set("identity", json!({"nik": "1"}), now);
    hostile["table"] = json!(SQL);
    let mut group = pc.set(SQL, json!({SQL: SCRIPT}), now + 1);
    group["row_id"] = json!("019f0000-0000-7000-8000-0000000000cc");
    let (status, res) = pc.push(&[op, hostile, group]);
    assert_eq!(status, 200, "{res}");
    let outcomes: Vec<&str> =
        res["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "rejected", "ok"], "{res}");
    assert!(rows(&kota, "feed") >= 2, "the feed table is there and holds the text as text");
    let stored = kota.db.rows("SELECT value FROM row_groups WHERE field_group = ?1", SQL);
    assert_eq!(stored.len(), 1, "{stored:?}");

    // A revoked device is refused on every route.
    let (ok, _, err) = cli(&kota.db, &["devices", "revoke", &pc.id]);
    assert!(ok, "{err}");
    for (method, path) in DEVICE_ROUTES {
        let body: &[u8] = if method == "POST" { b"{}" } else { b"" };
        let (status, text) = pc.send_raw(method, path, &[], body);
        assert_eq!((status, code_of(&text).as_str()), (403, "revoked"), "{path}: {text}");
    }
}

#[test]
fn enrolment_refuses_bad_bodies_and_an_address_that_keeps_guessing_codes() {
    let kota = Kota::start();
    let (status, _, body) = exchange(
        &kota,
        "POST",
        "/v1/enrol",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "code=ABCDE-FGHJK",
    );
    assert_eq!((status, code_of(&body).as_str()), (415, "unsupported_media_type"), "{body}");
    let (status, v) = kota.http("POST", "/v1/enrol", None, b"{\"code\": ");
    assert_eq!((status, v["code"].as_str()), (400, Some("bad_request")), "{v}");
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    for guess in 0..crate::hostile::ENROL_GUESSES {
        let (status, v) = kota.enrol(&format!("{SQL}{guess}"), &key);
        assert_eq!((status, v["code"].as_str()), (400, Some("code_invalid")), "{v}");
    }
    // The address is refused now, even with a good code; the code stays unused.
    let code = kota.code();
    let (status, v) = kota.enrol(&code, &key);
    assert_eq!((status, v["code"].as_str()), (429, Some("too_many_attempts")), "{v}");
    let events =
        kota.db.rows("SELECT kind FROM security_events WHERE kind = 'enrol_rate_limited'", "");
    assert_eq!(events.len(), 1);
    assert_eq!(rows(&kota, "devices"), 0);
}

/// `balai_kota::http::ENROL_FAILURES_PER_HOUR`, as the test expects it.
const ENROL_GUESSES: usize = 10;

#[test]
fn public_pages_refuse_hostile_input_without_harm_and_limit_each_address() {
    let kota = Kota::start();
    // The request form: JSON is not a form; an oversized form is refused before it is read;
    // SQL- and script-shaped text in every field is answered with the form's errors, escaped.
    let (status, _, _) = exchange(
        &kota,
        "POST",
        "/permohonan",
        &[("Content-Type", "application/json")],
        "{\"nik\": \"1\"}",
    );
    assert_eq!(status, 415);
    let huge = format!("keperluan={}", "a".repeat(3 * 1024 * 1024));
    let (status, _, _) = exchange(&kota, "POST", "/permohonan", &[FORM], &huge);
    assert_eq!(status, 413);
    let fields = ["kelurahan", "nik", "no_kk", "jenis", "keperluan", "kontak"];
    let body: Vec<String> =
        fields.iter().map(|f| format!("{f}={}", urlencode(&format!("{SQL}{SCRIPT}")))).collect();
    let (status, _, page) = exchange(&kota, "POST", "/permohonan", &[FORM], &body.join("&"));
    assert_eq!(status, 400, "{page}");
    assert!(!page.contains(SCRIPT), "script reflected unescaped");
    assert!(page.contains("&lt;script&gt;") || !page.contains("script"), "{page}");

    // The verification and status pages take any text and say it is not valid.
    let (status, _, page) = exchange(
        &kota,
        "GET",
        &format!("/verify?p={}", urlencode(&format!("BLV1|{SQL}|{SCRIPT}"))),
        &[],
        "",
    );
    assert_eq!(status, 200);
    assert!(page.contains("TIDAK SAH") && !page.contains(SCRIPT), "{page}");
    let (status, _, page) =
        exchange(&kota, "GET", &format!("/permohonan/status?kode={}", urlencode(SQL)), &[], "");
    assert!(status == 200 || status == 404, "{status}");
    assert!(!page.contains(SCRIPT));

    // Paths that climb out of the site find nothing.
    for path in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/permohonan/..%2f..%2fetc%2fpasswd",
        "/admin/../../etc/passwd",
    ] {
        let (status, _, page) = exchange(&kota, "GET", path, &[], "");
        assert!(!page.contains("root:"), "{path}");
        assert!(status == 404 || status == 400 || status == 303, "{path}: {status}");
    }

    // One address checks letters until it is told to wait; the check then costs nothing.
    let mut limited = None;
    for i in 0..400 {
        let (status, _, _) = exchange(&kota, "GET", &format!("/verify?p=BLV1%7C{i}"), &[], "");
        if status == 429 {
            limited = Some(i);
            break;
        }
    }
    assert_eq!(
        limited,
        Some(300 - 1),
        "the 300th lookup of the hour is the last (one was made above)"
    );
    // The empty form still opens.
    assert_eq!(exchange(&kota, "GET", "/verify", &[], "").0, 200);
    assert_eq!(rows(&kota, "security_events"), 1);
}

#[test]
fn the_admin_login_stops_a_guesser_by_address_and_by_name_and_keeps_sql_as_text() {
    let kota = Kota::start();
    let cookie = crate::dashboard::login_admin(&kota);
    assert!(cookie.starts_with("balai_kota_admin=") || !cookie.is_empty());
    let attempt = |user: &str, password: &str| {
        let body = format!("username={}&password={}", urlencode(user), urlencode(password));
        exchange(&kota, "POST", "/admin/login", &[FORM], &body).0
    };
    assert_eq!(attempt("' OR '1'='1' --", "' OR '1'='1"), 401);
    let (status, _, _) = exchange(
        &kota,
        "POST",
        "/admin/login",
        &[("Content-Type", "application/json")],
        "{\"username\":\"dinas\"}",
    );
    assert_eq!(status, 415);
    for _ in 1..10 {
        assert_eq!(attempt("dinas", "tebak-tebak"), 401);
    }
    // Ten failures this hour from this address: even the right password waits.
    assert_eq!(attempt("dinas", "rahasia-kota-2026"), 429);
    let events =
        kota.db.rows("SELECT kind FROM security_events WHERE kind = 'login_rate_limited'", "");
    assert_eq!(events.len(), 1);
    // Without a session the dashboard sends to the login page, whatever the path says.
    let (status, head, _) =
        exchange(&kota, "GET", "/admin", &[("Cookie", "balai_kota_admin=' OR 1=1 --")], "");
    assert_eq!(status, 303, "{head}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
