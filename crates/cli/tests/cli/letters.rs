use crate::{balai, demo_db, run, run_in};
use std::path::PathBuf;
use std::process::Command;

/// The lurah issues a Surat Keterangan Domisili for Wiryo Percobaan.
pub(crate) const ISSUE_DOMISILI: [&str; 11] = [
    "--json",
    "--user",
    "lurah",
    "letters",
    "issue",
    "--type",
    "domisili",
    "--nik",
    "1872040101800002",
    "--field",
    "keperluan=melamar kerja",
];

/// The first page of `pdf` as a 200 dpi PNG next to it, as a scanner would make it.
fn scan_at_200_dpi(pdf: &std::path::Path) -> PathBuf {
    let prefix = pdf.with_file_name("scan");
    let ok = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success());
    prefix.with_extension("png")
}

/// The demo office with one resident, Wiryo Percobaan (NIK 1872040101800002), imported by CSV.
pub(crate) fn office_with_one_resident() -> (tempfile::TempDir, PathBuf) {
    let (dir, db) = demo_db();
    let file = dir.path().join("penduduk.csv");
    std::fs::write(
        &file,
        "nik;no_kk;nama;jenis_kelamin;tempat_lahir;tanggal_lahir;agama;status_kawin;hubungan_keluarga;rt;rw\n\
         1872040101800002;1872041203159991;Wiryo Percobaan;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2\n",
    )
    .unwrap();
    assert_eq!(run(&db, &["residents", "import", file.to_str().unwrap()]).status, 0);
    (dir, db)
}

#[test]
fn a_signer_issues_a_letter_to_a_pdf_file_and_anyone_verifies_its_qr_text() {
    let (dir, db) = office_with_one_resident();
    let pdf = dir.path().join("domisili.pdf");
    let out = balai()
        .arg("--db")
        .arg(&db)
        .args(ISSUE_DOMISILI)
        .arg("--out")
        .arg(&pdf)
        .env("BALAI_PASSWORD", "demo-lurah")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["id", "number", "pdf", "qr_payload"] {
        assert!(v.get(key).is_some(), "answer lacks `{key}`: {v}");
    }
    assert!(v.get("pdf_base64").is_none(), "the PDF went to the file, not stdout");
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Wiryo Percobaan"), "{text}");
    assert!(text.contains(v["number"].as_str().unwrap()));

    // The operator (admin) may not sign: the role check holds on the command line too.
    let as_operator = [&ISSUE_DOMISILI[..1], &ISSUE_DOMISILI[3..]].concat(); // no --user
    let refused = run(&db, &as_operator);
    assert_ne!(refused.status, 0);
    assert_eq!(refused.error_json()["error"]["code"], "forbidden");

    let payload = v["qr_payload"].as_str().unwrap();
    let ok = run(&db, &["--json", "letters", "verify", "--payload", payload]).json();
    assert_eq!(ok["verdict"], "sah");
    let bad = run(
        &db,
        &["--json", "letters", "verify", "--payload", &payload.replace("domisili", "sktm")],
    )
    .json();
    assert_eq!(bad["verdict"], "tidak_sah");
    // A scan of the printed letter verifies too.
    let png = scan_at_200_dpi(&pdf);
    let from_image =
        run(&db, &["--json", "letters", "verify", "--image", png.to_str().unwrap()]).json();
    assert_eq!(from_image["verdict"], "sah", "{from_image}");
    // So does the PDF file itself.
    let from_pdf =
        run(&db, &["--json", "letters", "verify", "--pdf", pdf.to_str().unwrap()]).json();
    assert_eq!(from_pdf["verdict"], "sah", "{from_pdf}");
    let reg = run(&db, &["--json", "letters", "register", "--year", "2026"]).json();
    let this_year = chrono_year();
    if this_year == 2026 {
        assert_eq!(reg.as_array().unwrap().len(), 1, "{reg}");
    }
}

/// The CLI runs on the system clock: the register's year is the office's today (Lampung: WIB).
fn chrono_year() -> i32 {
    use chrono::Datelike;
    (chrono::Utc::now() + chrono::Duration::hours(7)).year()
}

/// `balai --db DB ARGS…` as an unprivileged account, as on a clerk's desktop, with the account's
/// name. Under root (CI) that is `nobody`, with the office's folder and a copy of the binary
/// handed to it (so no part of the path it needs belongs to root alone); otherwise the account
/// running the tests, which is not root already.
fn run_as_clerk(
    dir: &std::path::Path,
    db: &std::path::Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> (crate::Run, String) {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    const NOBODY: u32 = 65534;
    let own = std::fs::metadata("/proc/self").unwrap().uid();
    let mut command = if own == 0 {
        let bin = dir.join("balai");
        std::fs::copy(env!("CARGO_BIN_EXE_balai"), &bin).unwrap();
        // The clerk's account keeps the database key in its own store (as after `balai key
        // recover` on that account).
        let clerk_keys = dir.join("clerk-keys");
        let key =
            balai_app::KeyStore::files(crate::key_dir().to_path_buf()).load(db).unwrap().unwrap();
        balai_app::KeyStore::files(clerk_keys.clone()).save(db, &key).unwrap();
        for entry in std::fs::read_dir(&clerk_keys).unwrap() {
            std::os::unix::fs::chown(entry.unwrap().path(), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        for entry in std::fs::read_dir(dir).unwrap() {
            std::os::unix::fs::chown(entry.unwrap().path(), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
        let mut c = Command::new(bin);
        c.uid(NOBODY)
            .gid(NOBODY)
            .env("HOME", dir)
            .env("BALAI_KEY_STORE", format!("file:{}", clerk_keys.display()));
        c
    } else {
        balai()
    };
    let out = command
        .arg("--db")
        .arg(db)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("BALAI_DB")
        .output()
        .unwrap();
    let uid = if own == 0 { NOBODY } else { own };
    let name = Command::new("id").arg("-un").arg(uid.to_string()).output().unwrap().stdout;
    let name = String::from_utf8(name).unwrap().trim().to_string();
    let run = crate::Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    (run, name)
}

#[test]
fn an_issued_letter_prints_on_the_office_printer_at_f4_and_the_printed_qr_verifies() {
    use balai_testkit::cups::PrivateCups;
    let (dir, db) = office_with_one_resident();
    let lurah = [("BALAI_PASSWORD", std::ffi::OsStr::new("demo-lurah"))];
    let issued = run_in(&db, &ISSUE_DOMISILI, "", &lurah);
    assert_eq!(issued.status, 0, "{}", issued.stderr);
    let letter = issued.json();
    let id = letter["id"].as_str().unwrap();

    let cups = PrivateCups::start();
    let printer = cups.add_printer("Kantor_Lt1");
    cups.add_printer("Gudang");
    cups.set_default("Kantor_Lt1");
    let server = cups.server();
    let env = [("CUPS_SERVER", server.as_os_str())];
    let list = run_in(&db, &["--json", "letters", "printers"], "", &env);
    assert_eq!(list.status, 0, "{}", list.stderr);
    let list = list.json();
    assert_eq!(list["default"], "Kantor_Lt1", "{list}");
    let mut names: Vec<&str> =
        list["printers"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Gudang", "Kantor_Lt1"]);

    // The clerk's PC prints as the clerk's own account, never as root.
    let (printed, clerk) = run_as_clerk(dir.path(), &db, &["--json", "letters", "print", id], &env);
    assert_eq!(printed.status, 0, "{}", printed.stderr);
    let printed = printed.json();
    assert_eq!(printed["paper"], "f4");
    assert!(printed["job"].as_str().unwrap().starts_with("Kantor_Lt1-"), "{printed}");
    // What reached the printer: one F4 page (609 × 935 pt), not scaled, titled with the number,
    // sent by the clerk's account.
    let job = printer.next_job();
    let ps = String::from_utf8_lossy(&job);
    assert!(ps.contains("%%BoundingBox: 0 0 609 935"), "{}", &ps[..ps.len().min(2000)]);
    let logged = cups.page_log_line(letter["number"].as_str().unwrap());
    assert!(logged.contains("Custom.215x330mm one-sided"), "{logged}");
    assert_eq!(logged.split(' ').nth(1), Some(clerk.as_str()), "{logged}");
    // The printed page, rendered, carries the QR code that verifies.
    let ps_path = dir.path().join("job.ps");
    std::fs::write(&ps_path, &job).unwrap();
    let page = dir.path().join("job.pdf");
    assert!(Command::new("ps2pdf").arg(&ps_path).arg(&page).status().unwrap().success());
    let png = scan_at_200_dpi(&page);
    let v = run(&db, &["--json", "letters", "verify", "--image", png.to_str().unwrap()]);
    assert_eq!(v.status, 0, "{}", v.stderr);
    assert_eq!(v.json()["verdict"], "sah");

    // A printer that does not exist, and a name that is not a printer name.
    let missing = run_in(&db, &["--json", "letters", "print", id, "--printer", "Nope"], "", &env);
    assert_ne!(missing.status, 0);
    assert_eq!(missing.error_json()["error"]["code"], "not_available", "{}", missing.stderr);
    assert!(missing.stderr.contains("Printer Nope tidak ada"), "{}", missing.stderr);
    let bad = run_in(&db, &["--json", "letters", "print", id, "--printer", "a;b"], "", &env);
    assert_eq!(bad.error_json()["error"]["fields"][0]["field"], "printer", "{}", bad.stderr);
    let audit = run(&db, &["--json", "audit", "list", "--limit", "20"]);
    let prints =
        audit.json().as_array().unwrap().iter().filter(|e| e["action"] == "letters.print").count();
    assert_eq!(prints, 1, "one successful print, one audit entry");
}
