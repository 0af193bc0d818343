//! Every command of `balai serve` against hostile input: no session, a role without the duty,
//! malformed JSON, other content types, an oversized body, paths that climb out of the UI
//! folder, a clerk naming a file on the computer, and SQL- and script-shaped text in every
//! field every command takes. None may answer 500, and the database must stay whole.

use crate::serve::{http, start};
use crate::{demo_db, office_db, run};
use serde_json::{json, Value};
use std::io::{Read, Write};

const HOSTILE: &str = "x'); DROP TABLE residents; --<script>alert(1)</script>";

fn commands() -> Vec<(String, Value)> {
    let (_dir, db) = demo_db();
    let list = run(&db, &["--json", "commands"]).json();
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["access"].clone()))
        .collect()
}

fn login(port: u16, user: &str, password: &str) -> String {
    let body = json!({"username": user, "password": password}).to_string();
    let (status, text) = http(port, "POST", "/api/auth.login", &[], &body);
    assert_eq!(status, 200, "{text}");
    serde_json::from_str::<Value>(&text).unwrap()["token"].as_str().unwrap().to_string()
}

fn code(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(String::from))
        .unwrap_or_default()
}

#[test]
fn every_command_refuses_no_session_a_role_without_the_duty_bad_json_and_other_content_types() {
    let (_dir, db) = demo_db();
    let srv = start(&db);
    let clerk = login(srv.port, "petugas", "demo-petugas");
    let bearer = format!("Bearer {clerk}");
    let all = commands();
    assert!(all.len() > 90, "{}", all.len());
    for (name, access) in &all {
        let path = format!("/api/{name}");
        let (status, text) = http(srv.port, "POST", &path, &[], "{\"x\": ");
        assert_eq!(
            (status, code(&text).as_str()),
            (422, "bad_arguments"),
            "{name} malformed: {text}"
        );
        let (status, text) = http(srv.port, "POST", &path, &[("Content-Type", "text/plain")], "{}");
        assert_eq!(status, 415, "{name} as text/plain: {text}");
        let (status, _) = http(
            srv.port,
            "POST",
            &path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "a=b",
        );
        assert_eq!(status, 415, "{name} as a form");
        if access != "public" {
            let (status, text) = http(srv.port, "POST", &path, &[], "{}");
            assert_eq!(
                (status, code(&text).as_str()),
                (401, "unauthenticated"),
                "{name} without a session: {text}"
            );
            let (status, text) =
                http(srv.port, "POST", &path, &[("Authorization", "Bearer forged-token")], "{}");
            assert_eq!(status, 401, "{name} with a forged token: {text}");
        }
        let clerk_may = access == "any_user"
            || access == "public"
            || access.as_array().is_some_and(|r| r.contains(&json!("petugas")));
        if !clerk_may {
            let (status, text) = http(srv.port, "POST", &path, &[("Authorization", &bearer)], "{}");
            assert_eq!(
                (status, code(&text).as_str()),
                (403, "forbidden"),
                "{name} as a clerk: {text}"
            );
        }
    }
    let (status, text) =
        http(srv.port, "POST", "/api/residents.drop_all", &[("Authorization", &bearer)], "{}");
    assert_eq!((status, code(&text).as_str()), (404, "unknown_command"), "{text}");

    // A clerk may not have the app read or write a file of the computer by name.
    let secret = _dir.path().join("rahasia.txt");
    std::fs::write(&secret, "nik;nama\n1872040101800002;RAHASIA SEKALI\n").unwrap();
    for (command, args) in [
        ("residents.import", json!({"path": secret.display().to_string(), "dry_run": true})),
        ("residents.export", json!({"path": secret.display().to_string()})),
        ("reports.monthly_xlsx", json!({"month": "2026-07", "path": secret.display().to_string()})),
        ("letters.verify", json!({"image_path": secret.display().to_string()})),
    ] {
        let (status, text) = http(
            srv.port,
            "POST",
            &format!("/api/{command}"),
            &[("Authorization", &bearer)],
            &args.to_string(),
        );
        assert_eq!(status, 422, "{command}: {text}");
        assert!(
            text.contains("path_not_allowed") && !text.contains("RAHASIA"),
            "{command}: {text}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "nik;nama\n1872040101800002;RAHASIA SEKALI\n"
    );

    // An oversized body is refused from its declared length, before it is read.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    write!(s, "POST /api/residents.import HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: {bearer}\r\nContent-Length: 300000000\r\n\r\n{{", srv.port).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{}", &answer[..answer.len().min(200)]);

    // Paths that climb out of the UI folder get the UI, never the file.
    for path in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/api/../../etc/passwd",
    ] {
        let (status, text) = http(srv.port, "GET", path, &[], "");
        assert!(!text.contains("root:"), "{path}: {text}");
        assert!(
            status == 200 || status == 400 || status == 404 || status == 405,
            "{path}: {status}"
        );
    }
}

/// The values tried for field `i`, in order, when the one before has the wrong type: each
/// distinct per field where serde's message can show it, so the message names the field.
fn alternatives(i: usize) -> Vec<Value> {
    vec![
        json!(format!("{HOSTILE}#{i}")),
        json!(1000 + i),
        json!(true),
        json!([format!("{HOSTILE}#{i}")]),
        json!({}),
        Value::Null,
    ]
}

/// How serde's "invalid type" message shows a value.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
        Value::Null => "null".into(),
    }
}

#[test]
fn sql_and_script_shaped_text_in_every_field_of_every_command_is_refused_or_kept_as_text() {
    let (_dir, db) = demo_db();
    let srv = start(&db);
    // Each command as a user whose role may run it (the demo users).
    let user_for = |access: &Value| -> (&'static str, &'static str) {
        let roles: Vec<&str> = access
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match roles.first().copied() {
            None | Some("admin") => ("admin", "demo-admin"),
            Some("lurah") => ("lurah", "demo-lurah"),
            Some("sekretaris") => ("sekel", "demo-sekel"),
            Some(_) => ("petugas", "demo-petugas"),
        }
    };
    let mut tokens: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let residents_before: i64 =
        office_db(&db).query_row("SELECT count(*) FROM residents", [], |r| r.get(0)).unwrap();
    let mut answers: Vec<(String, u16, String)> = Vec::new();
    for (name, access) in commands() {
        if name == "auth.logout"
            || name == "auth.lock"
            || name == "backup.restore"
            || name == "demo.seed"
        {
            continue; // they end or lock this session, or replace the database: tested on their own
        }
        let path = format!("/api/{name}");
        let (user, password) = user_for(&access);
        let token = tokens.entry(user).or_insert_with(|| login(srv.port, user, password)).clone();
        let auth = format!("Bearer {token}");
        // Every field the command takes, from its own refusal of an unknown one.
        let (_, probe) =
            http(srv.port, "POST", &path, &[("Authorization", &auth)], "{\"zz_probe\": 1}");
        let message = serde_json::from_str::<Value>(&probe)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(String::from))
            .unwrap_or_default();
        // "unknown field `zz_probe`, expected `key`" or "…, expected one of `a`, `b`".
        let names: Vec<String> = match message.split_once(", expected ") {
            Some((_, list)) => list.split('`').skip(1).step_by(2).map(str::to_string).collect(),
            None => Vec::new(),
        };
        let mut fields: Vec<(String, Value)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), alternatives(i)[0].clone()))
            .collect();
        let mut tried = vec![0usize; fields.len()];
        let (mut status, mut text) = (0, String::new());
        for _ in 0..60 {
            let body = Value::Object(fields.iter().cloned().collect()).to_string();
            (status, text) = http(srv.port, "POST", &path, &[("Authorization", &auth)], &body);
            let m = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(String::from))
                .unwrap_or_default();
            if code(&text) != "bad_arguments" || !m.contains("invalid type") {
                break;
            }
            // The field the message shows gets the next kind of value.
            let Some(i) = fields.iter().position(|(_, v)| m.contains(&shown(v))) else { break };
            tried[i] += 1;
            let Some(next) = alternatives(i).get(tried[i]).cloned() else { break };
            fields[i].1 = next;
        }
        assert_ne!(status, 500, "{name} answered 500: {text}");
        assert_ne!(code(&text), "internal", "{name}: {text}");
        if status == 401 || code(&text) == "session_locked" {
            tokens.remove(user);
        }
        answers.push((name, status, code(&text)));
    }
    // Many commands were reached with hostile text in place (not just refused as unparsable).
    let reached = answers.iter().filter(|(_, _, c)| c != "bad_arguments").count();
    assert!(reached > 85, "{answers:?}");
    // Text that looks like SQL or a script is a resident's text like any other: kept as typed.
    let admin =
        tokens.entry("admin").or_insert_with(|| login(srv.port, "admin", "demo-admin")).clone();
    let person = json!({"resident": {
        "nik": "1872040101800002", "no_kk": "1872041203150007", "full_name": "Budi O'Brien",
        "sex": "L", "birth_place": "Metro", "birth_date": "01-01-1980", "religion": "Islam",
        "marital_status": "Kawin", "shdk": "Kepala Keluarga", "rt": "3", "rw": "2",
        "address": "Jl. Mawar'); DROP TABLE residents; -- <script>alert(1)</script>",
        "mother_name": "Siti'); DELETE FROM audit_log; --"}});
    let (status, text) = http(
        srv.port,
        "POST",
        "/api/residents.add",
        &[("Authorization", &format!("Bearer {admin}"))],
        &person.to_string(),
    );
    assert_eq!(status, 200, "{text}");
    let added: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(added["resident"]["address"], person["resident"]["address"]);
    assert_eq!(added["resident"]["mother_name"], person["resident"]["mother_name"]);
    assert_eq!(added["resident"]["full_name"], "Budi O'Brien");
    let conn = office_db(&db);
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let residents_after: i64 =
        conn.query_row("SELECT count(*) FROM residents", [], |r| r.get(0)).unwrap();
    assert!(residents_after >= residents_before, "no table dropped, no row lost");
    drop(srv);
    let verified = run(&db, &["--json", "audit", "verify"]);
    assert_eq!(verified.json()["ok"], true, "{}", verified.stdout);
}
