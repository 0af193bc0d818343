//! `balai contest …` as a city IT script or a lurah's assistant uses it.

use crate::{demo_db, run};

#[test]
fn scorecards_from_the_command_line_band_set_score_plan_and_report() {
    let (dir, db) = demo_db();
    let rulesets = run(&db, &["--json", "contest", "rulesets"]).json();
    assert_eq!(rulesets.as_array().unwrap().len(), 4);
    let band = run(&db, &["--json", "contest", "band", "--ruleset", "epdeskel", "--score", "351"]);
    assert_eq!(band.json()["band"], "Cepat Berkembang");
    let text = run(&db, &["contest", "band", "--ruleset", "spbe", "--score", "3.86"]);
    assert_eq!(text.stdout.trim(), "spbe 3.86: Sangat Baik");

    // Every SPBE indicator at 3; the first with an evidence file (the rule set found by id).
    let evidence = dir.path().join("SK Tim SPBE.pdf");
    std::fs::write(&evidence, b"%PDF-1.4\n%%EOF\n").unwrap();
    for i in 1..=47 {
        let id = format!("I{i}");
        let mut args = vec![
            "--json",
            "contest",
            "set",
            "--period",
            "2026",
            "--indicator",
            &id,
            "--value",
            "3",
        ];
        let ev = evidence.to_str().unwrap();
        if i == 1 {
            args.extend(["--evidence", ev]);
        }
        let r = run(&db, &args);
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    let one =
        run(&db, &["--json", "contest", "score", "--period", "2026", "--ruleset", "spbe"]).json();
    assert_eq!(one["score"]["total"], 3.0);
    assert_eq!(one["indicators"][0]["evidence"][0]["file_name"], "SK Tim SPBE.pdf");
    let all = run(&db, &["--json", "contest", "score", "--period", "2026"]).json();
    let spbe = all.as_array().unwrap().iter().find(|o| o["ruleset"] == "spbe").unwrap().clone();
    assert_eq!((spbe["band"].as_str(), spbe["lacking"].as_u64()), (Some("Baik"), Some(46)));

    // A wrong value names the field, in the documented error shape, and exits non-zero.
    let bad = run(
        &db,
        &["--json", "contest", "set", "--period", "2026", "--indicator", "I2", "--value", "9"],
    );
    assert_ne!(bad.status, 0);
    assert_eq!(bad.error_json()["error"]["fields"][0]["field"], "value");

    let to_sangat_baik = [
        "--json",
        "contest",
        "plan",
        "--period",
        "2026",
        "--ruleset",
        "spbe",
        "--target",
        "Sangat Baik",
    ];
    let plan = run(&db, &to_sangat_baik).json();
    assert_eq!(
        (plan["effort"].as_u64(), plan["band_after"].as_str()),
        (Some(17), Some("Sangat Baik"))
    );
    // Aspect 8 made dear: the same target now takes 18 steps of aspect 7.
    for i in 42..=47 {
        let id = format!("I{i}");
        let args = ["contest", "effort", "--ruleset", "spbe", "--indicator", &id, "--effort", "10"];
        let r = run(&db, &args);
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    assert_eq!(run(&db, &to_sangat_baik).json()["effort"], 18);
    // Two aspect-7 steps (2.75 % each): 3.055, shown 3.06.
    let text =
        run(&db, &["contest", "plan", "--period", "2026", "--ruleset", "spbe", "--budget", "2"]);
    assert!(text.stdout.starts_with("Upaya 2: 3.0 → 3.06 (Baik → Baik)"), "{}", text.stdout);

    for name in ["spbe-2026.pdf", "spbe-2026.xlsx"] {
        let out = dir.path().join(name);
        let r = run(
            &db,
            &[
                "contest",
                "report",
                "--period",
                "2026",
                "--ruleset",
                "spbe",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(r.status, 0, "{}", r.stderr);
        let bytes = std::fs::read(&out).unwrap();
        assert!(
            bytes.starts_with(if name.ends_with("pdf") { b"%PDF" } else { b"PK\x03\x04" }),
            "{name}"
        );
    }
    let r = run(
        &db,
        &["contest", "report", "--period", "2026", "--ruleset", "spbe", "--out", "laporan.doc"],
    );
    assert_ne!(r.status, 0);
    assert!(r.stderr.contains(".pdf or .xlsx"), "{}", r.stderr);
}
