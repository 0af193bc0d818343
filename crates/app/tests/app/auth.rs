use crate::{audit_actions, check, login_demo, outcome};
use balai_testkit::TestApp;
use chrono::Duration;
use serde_json::json;

#[test]
fn login_refuses_wrong_passwords_and_unknown_users_alike() {
    let t = TestApp::demo();
    check(&t, None, "auth.login", json!({"username": "admin", "password": "demo-admin"}), "ok");
    check(&t, None, "auth.login", json!({"username": "ADMIN", "password": "demo-admin"}), "ok");
    check(
        &t,
        None,
        "auth.login",
        json!({"username": "admin", "password": "wrong-pass"}),
        "err invalid_credentials",
    );
    check(
        &t,
        None,
        "auth.login",
        json!({"username": "nobody", "password": "demo-admin"}),
        "err invalid_credentials",
    );
    assert_eq!(audit_actions(&t).iter().filter(|a| *a == "auth.login_failed").count(), 2);
}

#[test]
fn commands_need_a_session_and_the_right_role() {
    let t = TestApp::demo();
    check(&t, None, "profile.get", json!({}), "err unauthenticated");
    check(&t, None, "app.info", json!({}), "ok");
    let p = balai_app::areas::demo::demo_profile();
    check(&t, Some("petugas"), "profile.get", json!({}), "ok");
    check(&t, Some("petugas"), "profile.set", serde_json::to_value(&p).unwrap(), "err forbidden");
    check(&t, Some("lurah"), "profile.set", serde_json::to_value(&p).unwrap(), "err forbidden");
    check(&t, Some("petugas"), "users.list", json!({}), "err forbidden");
    check(&t, Some("petugas"), "audit.list", json!({}), "err forbidden");
    check(&t, Some("lurah"), "audit.verify", json!({}), "ok");
    check(&t, Some("admin"), "profile.set", serde_json::to_value(&p).unwrap(), "ok");
    check(&t, Some("admin"), "no.such.command", json!({}), "err unknown_command");
    check(&t, Some("admin"), "users.disable", json!({"user": "x"}), "err bad_arguments");
    let denied = audit_actions(&t).iter().filter(|a| *a == "access.denied").count();
    assert_eq!(denied, 4, "every refusal is audited");
}

#[test]
fn a_bogus_token_is_not_a_session() {
    let t = TestApp::demo();
    let r = t.call(Some("00ff"), "profile.get", json!({}));
    assert_eq!(outcome(&r), "err unauthenticated");
}

#[test]
fn an_idle_session_locks_and_unlocks_with_the_password() {
    let t = TestApp::demo();
    let token = login_demo(&t, "petugas");
    t.clock.advance(Duration::minutes(9));
    assert_eq!(outcome(&t.call(Some(&token), "profile.get", json!({}))), "ok");
    // Activity restarts the idle count.
    t.clock.advance(Duration::minutes(9));
    assert_eq!(outcome(&t.call(Some(&token), "auth.keepalive", json!({}))), "ok");
    t.clock.advance(Duration::minutes(10) + Duration::seconds(1));
    assert_eq!(outcome(&t.call(Some(&token), "profile.get", json!({}))), "err session_locked");
    // Still locked: time alone never unlocks.
    assert_eq!(outcome(&t.call(Some(&token), "auth.me", json!({}))), "err session_locked");
    let wrong = t.call(Some(&token), "auth.unlock", json!({"password": "not-it-at-all"}));
    assert_eq!(outcome(&wrong), "err invalid_credentials");
    let right = t.call(Some(&token), "auth.unlock", json!({"password": "demo-petugas"}));
    assert_eq!(outcome(&right), "ok");
    let me = t.call(Some(&token), "auth.me", json!({})).unwrap();
    assert_eq!(me["username"], "petugas");
    assert_eq!(me["role"], "petugas");
}

#[test]
fn the_idle_limit_is_a_setting() {
    let t = TestApp::demo();
    check(
        &t,
        Some("admin"),
        "settings.set",
        json!({"idle_lock_minutes": 0}),
        "err invalid_input [idle_lock_minutes:out_of_range]",
    );
    check(&t, Some("petugas"), "settings.set", json!({"idle_lock_minutes": 2}), "err forbidden");
    check(&t, Some("admin"), "settings.set", json!({"idle_lock_minutes": 2}), "ok");
    let token = login_demo(&t, "sekel");
    t.clock.advance(Duration::minutes(2) + Duration::seconds(1));
    assert_eq!(outcome(&t.call(Some(&token), "profile.get", json!({}))), "err session_locked");
}

#[test]
fn disabling_a_user_ends_their_sessions_but_never_the_last_admin() {
    let t = TestApp::demo();
    let token = login_demo(&t, "petugas");
    check(&t, Some("admin"), "users.disable", json!({"username": "petugas"}), "ok");
    assert_eq!(outcome(&t.call(Some(&token), "profile.get", json!({}))), "err unauthenticated");
    check(
        &t,
        None,
        "auth.login",
        json!({"username": "petugas", "password": "demo-petugas"}),
        "err invalid_credentials",
    );
    check(&t, Some("admin"), "users.disable", json!({"username": "admin"}), "err conflict");
    check(&t, Some("admin"), "users.enable", json!({"username": "petugas"}), "ok");
    check(&t, None, "auth.login", json!({"username": "petugas", "password": "demo-petugas"}), "ok");
}

#[test]
fn users_are_validated_and_unique() {
    let t = TestApp::demo();
    check(
        &t,
        Some("admin"),
        "users.add",
        json!({"username": "a b", "full_name": "", "role": "camat", "password": "short"}),
        "err invalid_input [username:username_format, full_name:required, role:unknown_role, password:password_too_short]",
    );
    check(
        &t,
        Some("admin"),
        "users.add",
        json!({"username": "Petugas", "full_name": "Dua", "role": "petugas", "password": "long-enough"}),
        "err invalid_input [username:username_taken]",
    );
    check(
        &t,
        Some("admin"),
        "users.add",
        json!({"username": "petugas2", "full_name": "Petugas Dua", "role": "petugas", "password": "long-enough"}),
        "ok",
    );
    check(&t, None, "auth.login", json!({"username": "petugas2", "password": "long-enough"}), "ok");
    check(
        &t,
        Some("admin"),
        "users.passwd",
        json!({"username": "petugas2", "password": "another-one"}),
        "ok",
    );
    check(
        &t,
        None,
        "auth.login",
        json!({"username": "petugas2", "password": "long-enough"}),
        "err invalid_credentials",
    );
    check(&t, None, "auth.login", json!({"username": "petugas2", "password": "another-one"}), "ok");
}

#[test]
fn a_user_changes_their_own_password_knowing_the_old_one() {
    let t = TestApp::demo();
    let token = login_demo(&t, "lurah");
    let bad = t.call(
        Some(&token),
        "auth.change_password",
        json!({"old_password": "nope-nope", "new_password": "x"}),
    );
    assert_eq!(
        outcome(&bad),
        "err invalid_input [old_password:wrong_password, new_password:password_too_short]"
    );
    let ok = t.call(
        Some(&token),
        "auth.change_password",
        json!({"old_password": "demo-lurah", "new_password": "lurah-baru-2026"}),
    );
    assert_eq!(outcome(&ok), "ok");
    check(
        &t,
        None,
        "auth.login",
        json!({"username": "lurah", "password": "lurah-baru-2026"}),
        "ok",
    );
}

#[test]
fn the_audit_trail_holds_no_passwords_and_verifies() {
    let t = TestApp::demo();
    login_demo(&t, "admin");
    let list = t.operator("audit.list", json!({"limit": 1000})).unwrap();
    let text = list.to_string();
    for (_, _, _, password) in balai_app::areas::demo::DEMO_USERS {
        assert!(!text.contains(password), "audit contains a password");
    }
    assert!(!text.contains("argon2"), "audit contains a hash");
    let report = t.operator("audit.verify", json!({})).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["entries"].as_i64().unwrap() >= 8);
}

#[test]
fn five_failed_logins_refuse_the_name_for_fifteen_minutes_unless_an_admin_resets_the_password() {
    let t = TestApp::demo();
    let login = |user: &str, password: &str| {
        outcome(&t.call(None, "auth.login", json!({"username": user, "password": password})))
    };
    // Four failures, then a success: the count starts again.
    for _ in 0..4 {
        assert_eq!(login("petugas", "tebak-tebak"), "err invalid_credentials");
    }
    assert_eq!(login("petugas", "demo-petugas"), "ok");
    for _ in 0..5 {
        assert_eq!(login("petugas", "tebak-tebak"), "err invalid_credentials");
    }
    // Now even the right password is refused, and says for how long; other users are not.
    assert_eq!(login("petugas", "demo-petugas"), "err too_many_attempts");
    let e = t.call(None, "auth.login", json!({"username": "petugas", "password": "demo-petugas"}));
    assert!(e.unwrap_err().message.contains("15 menit"));
    assert_eq!(login("lurah", "demo-lurah"), "ok");
    // A name that does not exist behaves the same (nothing to learn from the refusal).
    for _ in 0..5 {
        assert_eq!(login("tidak.ada", "tebak-tebak"), "err invalid_credentials");
    }
    assert_eq!(login("tidak.ada", "tebak-tebak"), "err too_many_attempts");
    assert!(audit_actions(&t).iter().any(|a| a == "auth.login_locked"));

    // Fifteen minutes after the last failure it opens again.
    t.clock.advance(Duration::minutes(14));
    assert_eq!(login("petugas", "demo-petugas"), "err too_many_attempts");
    t.clock.advance(Duration::minutes(2));
    assert_eq!(login("petugas", "demo-petugas"), "ok");

    // Locked again, an admin's password reset lifts it at once.
    for _ in 0..5 {
        assert_eq!(login("petugas", "tebak-tebak"), "err invalid_credentials");
    }
    assert_eq!(login("petugas", "demo-petugas"), "err too_many_attempts");
    check(
        &t,
        Some("admin"),
        "users.passwd",
        json!({"username": "petugas", "password": "baru-sekali"}),
        "ok",
    );
    assert_eq!(login("petugas", "baru-sekali"), "ok");
}
