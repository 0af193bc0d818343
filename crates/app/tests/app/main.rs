//! balai-app at its boundary: every test goes through `dispatch`, as the UI does, on a real
//! SQLite file. `check` renders an outcome as one line so expectations read like the API.

mod auth;
mod backup;
mod contest;
mod import;
mod letters;
mod office;
mod privacy;
mod register;
mod reports;
mod sync;

use balai_testkit::TestApp;
use serde_json::Value;

/// `ok` or `err <code> [field:code, …]`.
pub fn outcome(r: &Result<Value, balai_app::ApiError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => {
            let code = serde_json::to_value(e.code).unwrap();
            let mut s = format!("err {}", code.as_str().unwrap());
            if !e.fields.is_empty() {
                let f: Vec<_> =
                    e.fields.iter().map(|f| format!("{}:{}", f.field, f.code)).collect();
                s.push_str(&format!(" [{}]", f.join(", ")));
            }
            s
        }
    }
}

/// Runs `command` as the user `as_user` (a demo user, logged in with its demo password, or
/// `None` for no session) and compares the outcome.
pub fn check(
    t: &TestApp,
    as_user: Option<&str>,
    command: &str,
    args: Value,
    expect: &str,
) -> Value {
    let token = as_user.map(|u| login_demo(t, u));
    let r = t.call(token.as_deref(), command, args);
    assert_eq!(outcome(&r), expect, "{command} as {as_user:?}: {r:?}");
    r.unwrap_or(Value::Null)
}

/// The bytes of a file a command returned inline (`content_base64`).
pub fn content_of(out: &Value) -> Vec<u8> {
    use base64::Engine;
    let b64 = out["content_base64"].as_str().unwrap_or_else(|| panic!("no content: {out}"));
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}

pub fn login_demo(t: &TestApp, username: &str) -> String {
    let password = balai_app::areas::demo::DEMO_USERS
        .iter()
        .find(|u| u.0 == username)
        .map(|u| u.3)
        .unwrap_or_else(|| panic!("no demo user {username}"));
    t.login(username, password)
}

pub fn audit_actions(t: &TestApp) -> Vec<String> {
    let list = t.operator("audit.list", serde_json::json!({"limit": 1000})).unwrap();
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    v.reverse();
    v
}

/// A raw SQLite connection to the test's database (encrypted: with its key), to look beneath
/// the app.
pub fn raw_db(t: &TestApp) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(t.db_path()).unwrap();
    conn.execute_batch(&t.key_pragma()).unwrap();
    conn
}
