//! `balai serve` as a real process on a random loopback port, spoken to over raw HTTP/1.1.

use crate::{balai, demo_db};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    _ui: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(db: &std::path::Path) -> Server {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html><title>Balai</title>").unwrap();
    let mut child = balai()
        .arg("--db")
        .arg(db)
        .args(["--json", "serve", "--port", "0", "--ui-dir"])
        .arg(ui.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let addr = v["address"].as_str().unwrap();
    let port = addr.trim_start_matches("http://127.0.0.1:").trim_end_matches('/').parse().unwrap();
    Server { child, port, _ui: ui }
}

/// Sends one request and returns (status, body).
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Logs the demo petugas in over HTTP and returns the session token.
fn login_petugas(port: u16) -> String {
    let login = r#"{"username":"petugas","password":"demo-petugas"}"#;
    let (status, body) = http(port, "POST", "/api/auth.login", &[], login);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["token"].as_str().unwrap().to_string()
}

#[test]
fn serve_runs_commands_with_a_session_and_serves_the_ui() {
    let (_dir, db) = demo_db();
    let srv = start(&db);
    let (status, body) = http(srv.port, "GET", "/", &[], "");
    assert_eq!(status, 200);
    assert!(body.contains("<title>Balai</title>"));
    // Client-side routes fall back to the UI.
    assert_eq!(http(srv.port, "GET", "/pengaturan", &[], "").0, 200);

    let (status, body) = http(srv.port, "POST", "/api/profile.get", &[], "{}");
    assert_eq!(status, 401, "{body}");
    let auth = format!("Bearer {}", login_petugas(srv.port));
    let (status, body) =
        http(srv.port, "POST", "/api/profile.get", &[("Authorization", &auth)], "{}");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["profile"]["kelurahan_name"],
        "Yosorejo"
    );
    let (status, body) =
        http(srv.port, "POST", "/api/users.list", &[("Authorization", &auth)], "{}");
    assert_eq!(status, 403);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], "forbidden");
}

#[test]
fn serve_takes_a_register_of_many_megabytes_in_one_import() {
    let (_dir, db) = demo_db();
    let srv = start(&db);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    let csv = balai_app::areas::demo::synthetic_register_csv(30_000, 11, today);
    assert!(csv.len() > 4 * 1024 * 1024, "{} bytes", csv.len());
    let args = serde_json::json!({"content": csv, "dry_run": true}).to_string();
    let auth = format!("Bearer {}", login_petugas(srv.port));
    let (status, body) =
        http(srv.port, "POST", "/api/residents.import", &[("Authorization", &auth)], &args);
    assert_eq!(status, 200, "{}", &body[..body.len().min(300)]);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["rows"], 30_000);
}

#[test]
fn serve_refuses_foreign_hosts_and_origins() {
    let (_dir, db) = demo_db();
    let srv = start(&db);
    let login = r#"{"username":"admin","password":"demo-admin"}"#;
    let (status, _) =
        http(srv.port, "POST", "/api/auth.login", &[("Host", "balai.evil.example")], login);
    assert_eq!(status, 403, "DNS-rebinding host");
    let (status, _) =
        http(srv.port, "POST", "/api/auth.login", &[("Origin", "https://evil.example")], login);
    assert_eq!(status, 403, "cross-site origin");
    let (status, _) = http(
        srv.port,
        "POST",
        "/api/auth.login",
        &[("Origin", &format!("http://localhost:{}", srv.port))],
        login,
    );
    assert_eq!(status, 200);
    let (status, _) = http(srv.port, "POST", "/api/auth.login", &[], "not json");
    assert_eq!(status, 422);
}
