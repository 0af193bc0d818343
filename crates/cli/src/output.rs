//! What the CLI prints: text for people, or with `--json` one JSON document on stdout and a
//! JSON error object on stderr. Exit codes are stable (docs/cli.md).

#![allow(clippy::print_stdout)] // printing is this module's job

use balai_app::{ApiError, ErrorCode, COMMANDS};
use serde_json::{json, Value};
use std::process::ExitCode;

/// An error from balai-app, kept whole so its code reaches the exit status and the JSON.
#[derive(Debug)]
pub struct ApiFailure(pub ApiError);

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}
impl std::error::Error for ApiFailure {}

pub fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::InvalidInput | ErrorCode::BadArguments | ErrorCode::UnknownCommand => 2,
        ErrorCode::Unauthenticated
        | ErrorCode::SessionLocked
        | ErrorCode::InvalidCredentials
        | ErrorCode::TooManyAttempts
        | ErrorCode::Forbidden => 3,
        ErrorCode::NotFound => 4,
        ErrorCode::Conflict => 5,
        ErrorCode::DatabaseTooNew => 6,
        ErrorCode::NotInitialized | ErrorCode::NotAvailable => 7,
        ErrorCode::KeyMissing | ErrorCode::WrongKey => 8,
        ErrorCode::DiskFull | ErrorCode::ReadOnly | ErrorCode::DatabaseBusy => 9,
        ErrorCode::Internal => 1,
    }
}

pub fn fail(json: bool, e: &anyhow::Error) -> ExitCode {
    let (value, status) = match e.downcast_ref::<ApiFailure>() {
        Some(ApiFailure(api)) => {
            (serde_json::to_value(api).unwrap_or(Value::Null), exit_code(api.code))
        }
        None => (json!({"code": "usage", "message": format!("{e:#}"), "fields": []}), 2),
    };
    if json {
        eprintln!("{}", json!({ "error": value }));
    } else {
        eprintln!("balai: {}", value["message"].as_str().unwrap_or("error"));
        if let Some(fields) = value["fields"].as_array() {
            for f in fields {
                eprintln!(
                    "  {}: {}",
                    f["field"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or("")
                );
            }
        }
    }
    ExitCode::from(status)
}

pub fn print(json: bool, command: &str, out: &Value) -> anyhow::Result<ExitCode> {
    // A broken audit chain is a finding, not a crash: print the report, then fail.
    let status = if command == "audit.verify" && out["ok"] == false { 5 } else { 0 };
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
    } else {
        print_text(command, out);
    }
    Ok(ExitCode::from(status))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn print_text(command: &str, out: &Value) {
    match command {
        "users.list" => {
            println!("{:<16} {:<12} {:<8} NAMA", "PENGGUNA", "PERAN", "AKTIF");
            for u in out.as_array().into_iter().flatten() {
                let active = if u["active"] == true { "ya" } else { "tidak" };
                println!(
                    "{:<16} {:<12} {:<8} {}",
                    s(&u["username"]),
                    s(&u["role"]),
                    active,
                    s(&u["full_name"])
                );
            }
        }
        "audit.list" => {
            for e in out.as_array().into_iter().flatten() {
                println!(
                    "{:>6}  {}  {:<14} {:<22} {} {} {}",
                    e["seq"],
                    s(&e["at"]),
                    s(&e["actor"]),
                    s(&e["action"]),
                    s(&e["entity"]),
                    s(&e["entity_id"]),
                    s(&e["detail"])
                );
            }
        }
        "audit.verify" => println!("{}", s(&out["message"])),
        "profile.get" | "profile.set" => match out.get("profile") {
            Some(Value::Object(p)) => {
                for (k, v) in p {
                    println!("{k:<16} {}", s(v));
                }
                if let Some(e) = out.get("emblem").filter(|e| !e.is_null()) {
                    println!("{:<16} {} ({})", "emblem", s(&e["mime"]), s(&e["sha256"]));
                }
            }
            _ => println!("Profil kantor belum diisi (jalankan `balai init`)."),
        },
        "privacy.retention" => {
            let due = out["due"].as_array().map(Vec::as_slice).unwrap_or_default();
            let held = due.iter().filter(|d| d["held"] == true).count();
            println!(
                "{} catatan lewat masa simpan ({held} ditahan), aturan versi {}",
                due.len(),
                s(&out["rules_version"])
            );
            for d in due {
                let hold = if d["held"] == true { "  DITAHAN" } else { "" };
                println!(
                    "{}  {:<20} sejak {}  disimpan s.d. {}{hold}",
                    s(&d["id"]),
                    s(&d["kind"]),
                    s(&d["since"]),
                    s(&d["kept_until"])
                );
            }
        }
        "privacy.anonymise_due" => println!(
            "{} penduduk dan {} permohonan dianonimkan; {} ditahan dan dibiarkan",
            out["residents"], out["requests"], out["held"]
        ),
        "residents.search" => {
            for r in out.as_array().into_iter().flatten() {
                println!(
                    "{}  {:<32} {} {}  RT {:>3}/RW {:>3}  {}",
                    s(&r["nik_masked"]),
                    s(&r["full_name"]),
                    s(&r["sex"]),
                    s(&r["birth_date"]),
                    r["rt"],
                    r["rw"],
                    s(&r["status"])
                );
            }
        }
        "residents.import" => {
            let dry =
                if out["dry_run"] == true { " (uji coba, tidak ada yang disimpan)" } else { "" };
            println!(
                "{} baris: {} baru, {} diperbarui, {} tidak berubah, {} masalah{dry}",
                out["rows"],
                out["imported"],
                out["updated"],
                out["unchanged"],
                out["rejected"].as_array().map(Vec::len).unwrap_or(0)
            );
            for r in out["rejected"].as_array().into_iter().flatten() {
                println!(
                    "  baris {:>6}  {:<16} {:<20} {}",
                    r["line"],
                    s(&r["column"]),
                    s(&r["value"]),
                    s(&r["message"])
                );
            }
            if let Some(u) = out["unknown_columns"].as_array().filter(|u| !u.is_empty()) {
                println!(
                    "  kolom tidak dikenal (diabaikan): {}",
                    u.iter().map(s).collect::<Vec<_>>().join(", ")
                );
            }
        }
        "reports.monthly" => {
            println!("Laporan mutasi penduduk {}", s(&out["month"]));
            println!("{:<24} {:>8} {:>8} {:>8}", "", "L", "P", "Jumlah");
            for (label, key) in [
                ("Awal bulan", "start"),
                ("Lahir", "births"),
                ("Pindah masuk", "moves_in"),
                ("Meninggal", "deaths"),
                ("Pindah keluar", "moves_out"),
                ("Hilang / pergi", "other_departures"),
                ("Akhir bulan", "end"),
            ] {
                let (l, p) =
                    (out[key]["l"].as_i64().unwrap_or(0), out[key]["p"].as_i64().unwrap_or(0));
                println!("{label:<24} {l:>8} {p:>8} {:>8}", l + p);
            }
        }
        "reports.monthly_xlsx" => println!("Laporan ditulis ke {}", s(&out["path"])),
        "residents.export" => println!(
            "{} penduduk diekspor ke {}{}",
            out["rows"],
            s(&out["path"]),
            if out["masked"] == true { " (NIK dan No. KK disamarkan)" } else { "" }
        ),
        "sync.conflicts" => {
            for c in out.as_array().into_iter().flatten() {
                let state = if c["reviewed_at_ms"].is_null() { "TERBUKA" } else { "ditinjau" };
                let fields: Vec<&str> =
                    c["fields"].as_array().into_iter().flatten().map(s).collect();
                println!(
                    "{}  {:<8} {} {}  [{}]",
                    s(&c["id"]),
                    state,
                    s(&c["table"]),
                    s(&c["subject"]),
                    fields.join(", ")
                );
                for (label, side) in [("disimpan", &c["kept"]), ("kalah", &c["lost"])] {
                    let values: Vec<String> = side["values"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| format!("{k}={}", s(v)))
                        .collect();
                    println!("    {label:<9} {}", values.join("  "));
                }
                if !s(&c["review_note"]).is_empty() {
                    println!("    catatan   {}", s(&c["review_note"]));
                }
            }
        }
        "contest.rulesets" => {
            for r in out.as_array().into_iter().flatten() {
                println!(
                    "{:<16} {:<5} {} ({} indikator) — {}",
                    s(&r["id"]),
                    s(&r["edition"]),
                    s(&r["title"]),
                    r["indicators"],
                    s(&r["regulation"])
                );
                let bands: Vec<String> = r["bands"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| format!("{} ≥ {}", s(&b["name"]), b["from"]))
                    .collect();
                println!("    predikat: {}", bands.join(" · "));
            }
        }
        "contest.band" => println!("{} {}: {}", s(&out["ruleset"]), out["score"], s(&out["band"])),
        "contest.scores" => {
            println!(
                "{:<16} {:>8} {:<20} {:>9} {:>7}",
                "PENILAIAN", "NILAI", "PREDIKAT", "TERISI", "KURANG"
            );
            for o in out.as_array().into_iter().flatten() {
                println!(
                    "{:<16} {:>8} {:<20} {:>4}/{:<4} {:>7}{}",
                    s(&o["ruleset"]),
                    o["total"],
                    s(&o["band"]),
                    o["filled"],
                    o["indicators"],
                    o["lacking"],
                    if o["submitted"] == true { "  (terkirim)" } else { "" }
                );
            }
        }
        "contest.score" | "contest.submit" => {
            let sc = &out["score"];
            println!(
                "{} {} — periode {}: {} dari {} ({})",
                s(&out["ruleset"]["title"]),
                s(&out["ruleset"]["edition"]),
                out["period"],
                sc["total"],
                sc["max_total"],
                s(&sc["band"]["name"])
            );
            if let Some(n) = sc["next"].as_object() {
                println!("  kurang {} lagi untuk {}", n["needed"], s(&n["name"]));
            }
            for a in sc["areas"].as_array().into_iter().flatten() {
                println!(
                    "  {:<40} {:>8} / {:<8} ({} %)",
                    s(&a["name"]),
                    a["total"],
                    a["max"],
                    a["percent"]
                );
            }
            println!(
                "  {} indikator belum lengkap",
                out["readiness"].as_array().map_or(0, Vec::len)
            );
            if let Some(sub) = out["submitted"].as_object() {
                println!("  terkirim oleh {}", s(&sub["submitted_by"]));
            }
        }
        "contest.plan" => {
            println!(
                "Upaya {}: {} → {} ({} → {})",
                out["effort"],
                out["before"],
                out["after"],
                s(&out["band_before"]),
                s(&out["band_after"])
            );
            for st in out["steps"].as_array().into_iter().flatten() {
                println!(
                    "  {:<10} {} → {} ({})  upaya {}  +{}",
                    s(&st["indicator"]),
                    st["from"],
                    st["to"],
                    s(&st["to_label"]),
                    st["effort"],
                    st["gain"]
                );
            }
        }
        "contest.report" => println!("Laporan ditulis ke {}", s(&out["path"])),
        "demo.seed" => {
            println!(
                "Kantor demo Kelurahan {} dibuat dengan {} penduduk sintetis. Pengguna demo:",
                s(&out["kelurahan"]),
                out["residents"]
            );
            for u in out["users"].as_array().into_iter().flatten() {
                println!(
                    "  {:<10} kata sandi {:<14} ({})",
                    s(&u["username"]),
                    s(&u["password"]),
                    s(&u["role"])
                );
            }
        }
        _ => println!("{}", serde_json::to_string_pretty(out).unwrap_or_default()),
    }
}

pub fn commands(json: bool) -> anyhow::Result<ExitCode> {
    let list: Vec<Value> = COMMANDS
        .iter()
        .map(|c| {
            let access = match c.access {
                balai_app::commands::Access::Public => json!("public"),
                balai_app::commands::Access::AnyUser => json!("any_user"),
                balai_app::commands::Access::Roles(r) => json!(r),
            };
            json!({"name": c.name, "access": access, "writes": c.writes})
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for c in &list {
            println!("{:<24} {}", s(&c["name"]), c["access"]);
        }
    }
    Ok(ExitCode::SUCCESS)
}
