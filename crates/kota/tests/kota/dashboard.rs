//! The city dashboard: only for city admins, and it shows each kelurahan side by side.

use crate::sync::Pc;
use crate::{cli, Kota};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;

/// A raw HTTP/1.1 exchange: (status, headers, body).
pub(crate) fn exchange(
    kota: &Kota,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(&kota.addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        kota.addr,
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{head}\r\n{body}").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (status, head.to_lowercase(), body.to_string())
}

pub(crate) const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// Adds a city admin and logs in: the session cookie.
pub(crate) fn login_admin(kota: &Kota) -> String {
    let added = kota
        .db
        .command()
        .args(["admin", "add", "--username", "dinas"])
        .env("BALAI_KOTA_PASSWORD", "rahasia-kota-2026")
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let body = "username=dinas&password=rahasia-kota-2026";
    let (status, head, _) = exchange(kota, "POST", "/admin/login", &[FORM], body);
    assert_eq!(status, 303, "{head}");
    head.lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string()
}

#[test]
fn a_city_admin_logs_in_and_sees_each_kelurahan_side_by_side_and_nobody_else_does() {
    let kota = Kota::start();
    let (ok, _, err) =
        cli(&kota.db, &["kelurahan", "add", "--code", "1872041005", "--name", "Tejosari"]);
    assert!(ok, "{err}");
    let add_admin = |password: &str| {
        kota.db
            .command()
            .args(["admin", "add", "--username", "diskominfo"])
            .env("BALAI_KOTA_PASSWORD", password)
            .output()
            .unwrap()
    };
    assert!(!add_admin("pendek").status.success(), "a short password is refused");
    let added = add_admin("rahasia-kota-2026");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    // One office PC of Yosorejo syncs two residents (one died) and issues a letter.
    let mut pc = Pc::enrol(&kota, 1);
    let now = kota.server_time() << 16;
    let (_, leased) = pc.lease(&[("2026/domisili", 5, 0)]);
    let lease = &leased["leases"][0];
    let mut ops = Vec::new();
    for (n, status) in [(1, "hidup"), (2, "mati")] {
        let row = uuid::Uuid::from_u128(0x019f_0000_0000_7000_8000_0000_0000_0100 + n);
        ops.push(
            json!({"device_seq": pc.next_seq, "change_id": uuid::Uuid::now_v7(), "user_id": "u1",
            "kind": "set", "table": "residents", "row_id": row, "field_group": "*",
            "value": {"name": {"full_name": "Warga"}, "status": {"status": status}}, "hlc": now}),
        );
        pc.next_seq += 1;
    }
    ops.push(pc.command("issue_letter", json!({"letter_id": uuid::Uuid::now_v7(), "lease_id": lease["lease_id"],
        "series": "2026/domisili", "serial": lease["first"], "number": "470/001/YSR/III/2026", "issued_on": "2026-03-02"})));
    // The rest of the lease given back: four numbers the register shows as unused.
    let (first, last) = (lease["first"].as_u64().unwrap(), lease["last"].as_u64().unwrap());
    ops.push(pc.command(
        "return_numbers",
        json!({"lease_id": lease["lease_id"],
        "series": "2026/domisili", "first": first + 1, "last": last}),
    ));
    let (status, res) = pc.push(&ops);
    assert_eq!(status, 200, "{res}");

    let (status, head, _) = exchange(&kota, "GET", "/admin", &[], "");
    assert_eq!((status, head.contains("location: /admin/login")), (303, true), "{head}");
    let (status, _, body) = exchange(
        &kota,
        "POST",
        "/admin/login",
        &[FORM],
        "username=diskominfo&password=salah-sekali",
    );
    assert_eq!(status, 401);
    assert!(body.contains("kata sandi salah"), "{body}");
    let (status, head, _) = exchange(
        &kota,
        "POST",
        "/admin/login",
        &[FORM],
        "username=diskominfo&password=rahasia-kota-2026",
    );
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    assert!(head.contains("httponly"), "{head}");

    let (status, _, html) = exchange(&kota, "GET", "/admin", &[("Cookie", &cookie)], "");
    assert_eq!(status, 200, "{html}");
    let row = |code: &str| {
        let at =
            html.find(&format!("data-kelurahan=\"{code}\"")).unwrap_or_else(|| panic!("{html}"));
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    let cell = |row: &str, col: &str| {
        let pat = format!("data-col=\"{col}\">");
        let at = row.find(&pat).unwrap() + pat.len();
        row[at..at + row[at..].find('<').unwrap()].to_string()
    };
    let yosorejo = row("18.72.04.1004");
    assert_eq!(
        (cell(&yosorejo, "residents"), cell(&yosorejo, "living"), cell(&yosorejo, "letters")),
        ("2".into(), "1".into(), "1".into()),
        "{yosorejo}"
    );
    assert!(yosorejo.contains("<title>Maret: 1</title>"), "the March bar: {yosorejo}");
    assert_eq!(cell(&yosorejo, "unused"), "4", "{yosorejo}");
    let tejosari = row("18.72.04.1005");
    assert_eq!(cell(&tejosari, "residents"), "0");
    assert!(tejosari.contains("belum pernah"), "never synced: {tejosari}");

    // After logging out the cookie opens nothing.
    let (status, _, _) = exchange(&kota, "POST", "/admin/logout", &[("Cookie", &cookie)], "");
    assert_eq!(status, 303);
    let (status, _, _) = exchange(&kota, "GET", "/admin", &[("Cookie", &cookie)], "");
    assert_eq!(status, 303, "the session ended");
}

#[test]
fn a_city_in_wita_reads_its_kelurahans_last_sync_in_wita() {
    let k = balai_kota::dashboard::KelurahanSummary {
        code: "73.71.01.1001".into(),
        name: "Sawerigading".into(),
        devices: 1,
        // 2026-12-03 23:30 UTC: 07:30 on 4 December in Makassar.
        last_sync_ms: Some(1_796_340_600_000),
        residents: 0,
        living: 0,
        letters_by_month: [0; 12],
        voided: 0,
        numbers_unused: 0,
        requests_waiting: 0,
        security_events_7d: 0,
    };
    let offset = balai_kota::html::offset_of(&k.code);
    let ranked = balai_kota::dashboard::Ranked { ruleset: "spbe", titles: &[], scores: &[] };
    let html = balai_kota::dashboard::page("admin", 2026, offset, &[k], &ranked);
    assert!(html.contains("Sinkron terakhir (WITA)"), "{html}");
    assert!(html.contains("04-12-2026 07:30"), "{html}");
}
