use crate::{balai, demo_db, run, run_with_stdin};

#[test]
fn global_flags_work_before_the_subcommand_and_json_is_one_document() {
    let (_dir, db) = demo_db();
    let r = balai().args(["--json", "--db"]).arg(&db).args(["users", "list"]).output().unwrap();
    assert!(r.status.success());
    let users: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let names: Vec<_> =
        users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "lurah", "petugas", "sekel"]);
    for key in ["id", "username", "full_name", "role", "role_label", "active"] {
        assert!(users[0].get(key).is_some(), "users list lacks `{key}`");
    }
}

#[test]
fn init_sets_up_a_new_office_and_refuses_a_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.sqlite");
    let args = [
        "--json",
        "init",
        "--province-code",
        "18",
        "--province-name",
        "Lampung",
        "--city-code",
        "1872",
        "--city-name",
        "Kota Metro",
        "--kecamatan-code",
        "187201",
        "--kecamatan-name",
        "Metro Pusat",
        "--kelurahan-code",
        "1872011001",
        "--name",
        "Metro",
        "--address",
        "Jl. Contoh 1",
    ];
    let r = run(&db, &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["profile"]["kelurahan_code"], "18.72.01.1001");
    let again = run(&db, &args);
    assert_eq!(again.status, 2);
    assert!(again.stderr.contains("already has an office profile"), "{}", again.stderr);
}

#[test]
fn errors_are_json_on_stderr_with_a_stable_code_and_exit_status() {
    let (_dir, db) = demo_db();
    let r = run(&db, &["--json", "profile", "set", "--kelurahan-code", "12", "--email", "x"]);
    assert_eq!(r.status, 2);
    assert_eq!(r.stdout, "");
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "invalid_input");
    let fields: Vec<_> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kelurahan_code", "email"]);
    // Nothing was changed.
    let shown = run(&db, &["--json", "profile", "show"]).json();
    assert_eq!(shown["profile"]["kelurahan_code"], "18.72.04.1004");

    let r = run(&db, &["--json", "users", "disable", "nobody"]);
    assert_eq!(r.status, 4);
    assert_eq!(r.error_json()["error"]["code"], "not_found");
}

#[test]
fn profile_set_changes_only_the_given_fields() {
    let (_dir, db) = demo_db();
    let r = run(&db, &["--json", "profile", "set", "--phone", "0725 123456"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let p = &r.json()["profile"];
    assert_eq!(p["phone"], "0725 123456");
    assert_eq!(p["kelurahan_name"], "Yosorejo");
}

#[test]
fn users_take_passwords_from_stdin() {
    let (_dir, db) = demo_db();
    let r = run_with_stdin(
        &db,
        &[
            "--json",
            "users",
            "add",
            "--username",
            "kasi",
            "--full-name",
            "Kasi Pelayanan",
            "--role",
            "sekretaris",
            "--password-stdin",
        ],
        "rahasia-kasi\n",
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["role"], "sekretaris");
    let r = run(
        &db,
        &["--json", "call", "auth.login", r#"{"username":"kasi","password":"rahasia-kasi"}"#],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["user"]["username"], "kasi");
}

#[test]
fn a_database_newer_than_the_app_is_refused_with_its_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("future.sqlite");
    {
        // A plain file: refused before anything (encrypting it too) touches it.
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let r = run(&db, &["--json", "profile", "show"]);
    assert_eq!(r.status, 6);
    assert_eq!(r.error_json()["error"]["code"], "database_too_new");
}

/// Done-when of issue 2: editing an audit row in the file makes `balai audit verify` fail.
#[test]
fn editing_an_audit_row_in_the_file_makes_verify_fail() {
    let (_dir, db) = demo_db();
    let ok = run(&db, &["--json", "audit", "verify"]);
    assert_eq!(ok.status, 0);
    assert_eq!(ok.json()["ok"], true);
    {
        let c = crate::office_db(&db);
        c.execute("DROP TRIGGER audit_log_append_only_update", []).unwrap();
        let n = c.execute("UPDATE audit_log SET detail = 'role=admin' WHERE seq = 7", []).unwrap();
        assert_eq!(n, 1);
    }
    let bad = run(&db, &["--json", "audit", "verify"]);
    assert_eq!(bad.status, 5, "{}", bad.stdout);
    let report = bad.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["problem"]["problem"], "hash_mismatch");
    assert_eq!(report["problem"]["seq"], 7);
}

#[test]
fn the_command_list_names_every_command_with_its_access() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&dir.path().join("x.sqlite"), &["--json", "commands"]);
    let list = r.json();
    let profile_set = list.as_array().unwrap().iter().find(|c| c["name"] == "profile.set").unwrap();
    assert_eq!(profile_set["access"], serde_json::json!(["admin"]));
    assert_eq!(list.as_array().unwrap().len(), balai_app_command_count());
}

fn balai_app_command_count() -> usize {
    // Read the table's length from the text listing, independently of the JSON one.
    let dir = tempfile::tempdir().unwrap();
    let r = run(&dir.path().join("y.sqlite"), &["commands"]);
    r.stdout.lines().count()
}
