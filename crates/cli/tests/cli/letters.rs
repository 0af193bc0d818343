use crate::{balai, demo_db, run};
use std::process::Command;

#[test]
fn a_signer_issues_a_letter_to_a_pdf_file_and_anyone_verifies_its_qr_text() {
    let (dir, db) = demo_db();
    let file = dir.path().join("penduduk.csv");
    std::fs::write(
        &file,
        "nik;no_kk;nama;jenis_kelamin;tempat_lahir;tanggal_lahir;agama;status_kawin;hubungan_keluarga;rt;rw\n\
         1872040101800002;1872041203159991;Wiryo Percobaan;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2\n",
    )
    .unwrap();
    assert_eq!(run(&db, &["residents", "import", file.to_str().unwrap()]).status, 0);
    let pdf = dir.path().join("domisili.pdf");
    let issue_args = [
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
        "--out",
    ];
    let out = balai()
        .arg("--db")
        .arg(&db)
        .args(issue_args)
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
    let refused = run(
        &db,
        &[
            "--json",
            "letters",
            "issue",
            "--type",
            "domisili",
            "--nik",
            "1872040101800002",
            "--field",
            "keperluan=x",
        ],
    );
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
    let scan = dir.path().join("scan");
    let ok = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-singlefile"])
        .arg(&pdf)
        .arg(&scan)
        .status()
        .unwrap();
    assert!(ok.success());
    let png = scan.with_extension("png");
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

/// The CLI runs on the system clock: the register's year is today's.
fn chrono_year() -> i32 {
    let out = Command::new("date").arg("+%Y").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
