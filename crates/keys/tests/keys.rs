//! The database key: its recovery text, key files, and the operating system's real key store:
//! the Secret Service (gnome-keyring on a private session bus the test starts) on Linux, the
//! Credential Manager on Windows (run here under Wine by `cargo xtask test`).

use balai_keys::{DbKey, KeyError, KeyStore};
#[cfg(unix)]
use std::path::Path;
#[cfg(target_os = "linux")]
use {
    std::io::{BufRead, Write},
    std::process::{Child, Command, Stdio},
};

fn fixed_key() -> DbKey {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    DbKey::from_bytes(bytes)
}

#[test]
fn a_recovery_key_reads_back_as_the_same_key_however_it_is_typed() {
    for key in
        [fixed_key(), DbKey::generate(), DbKey::from_bytes([0; 32]), DbKey::from_bytes([255; 32])]
    {
        let text = key.recovery_text();
        assert_eq!(text.len(), 56 + 13, "14 groups of 4 with dashes: {}", text.len());
        assert!(text.split('-').all(|g| g.len() == 4), "groups of four");
        assert_eq!(DbKey::from_recovery_text(&text).expect("as printed"), key);
        let typed = text.replace('-', " ").to_lowercase().replace('0', "o").replace('1', "l");
        assert_eq!(DbKey::from_recovery_text(&format!("  {typed}\n")).expect("as typed"), key);
    }
    // Different keys, different texts.
    assert_ne!(fixed_key().recovery_text(), DbKey::generate().recovery_text());
}

#[test]
fn a_mistyped_recovery_key_is_refused_never_read_as_another_key() {
    let text = fixed_key().recovery_text().replace('-', "");
    for (i, c) in text.char_indices() {
        let other = if c == 'Z' { 'Y' } else { 'Z' };
        let mut typo = text.clone();
        typo.replace_range(i..i + 1, &other.to_string());
        assert!(
            matches!(DbKey::from_recovery_text(&typo), Err(KeyError::BadRecoveryKey(_))),
            "a typo at position {i} was accepted"
        );
    }
    for bad in [&text[..55], &format!("{text}0"), &format!("{}U", &text[..55]), ""] {
        assert!(
            matches!(DbKey::from_recovery_text(bad), Err(KeyError::BadRecoveryKey(_))),
            "{bad}"
        );
    }
}

#[test]
fn a_key_never_shows_in_debug_output() {
    let key = fixed_key();
    let shown = format!("{key:?}");
    assert!(
        !shown.contains(&hex::encode(key.bytes())) && !shown.contains(&key.recovery_text()[..8])
    );
}

#[test]
fn key_files_keep_one_key_per_database_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys_dir = dir.path().join("keys");
    let store = KeyStore::files(keys_dir.clone());
    assert_eq!(store.kind(), "file");
    let office_a = dir.path().join("a.sqlite");
    let office_b = dir.path().join("b.sqlite");
    assert!(store.load(&office_a).expect("load").is_none());
    let key = fixed_key();
    store.save(&office_a, &key).expect("save");
    assert_eq!(store.load(&office_a).expect("load"), Some(key.clone()));
    // The same file named another way is the same database.
    let other_name = dir.path().join(".").join("a.sqlite");
    assert_eq!(store.load(&other_name).expect("load"), Some(key.clone()));
    assert!(store.load(&office_b).expect("load").is_none());
    let files: Vec<_> =
        std::fs::read_dir(&keys_dir).expect("dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file_text = std::fs::read_to_string(&files[0]).expect("read");
    assert!(!file_text.contains("a.sqlite"), "the file does not say which database it opens");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&files[0]), 0o600);
        assert_eq!(mode(&keys_dir), 0o700);
    }
    // A damaged file is reported, not taken as a key.
    std::fs::write(&files[0], "not a key\n").expect("write");
    assert!(matches!(store.load(&office_a), Err(KeyError::Damaged)));
    store.save(&office_a, &key).expect("save again");
    store.forget(&office_a).expect("forget");
    assert!(store.load(&office_a).expect("load").is_none());
    store.forget(&office_a).expect("forgetting twice is fine");
}

/// A session bus of the test's own with gnome-keyring on it, its keyring in a temporary home.
#[cfg(target_os = "linux")]
struct SessionBus {
    daemon: Child,
    _home: tempfile::TempDir,
}

#[cfg(target_os = "linux")]
impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[cfg(target_os = "linux")]
fn session_bus_with_gnome_keyring() -> SessionBus {
    let home = tempfile::tempdir().expect("tempdir");
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (package dbus-daemon) runs");
    let mut address = String::new();
    std::io::BufReader::new(daemon.stdout.take().expect("stdout"))
        .read_line(&mut address)
        .expect("bus address");
    let address = address.trim().to_string();
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon (package gnome-keyring) runs");
    keyring.stdin.take().expect("stdin").write_all(b"keyring password").expect("password");
    assert!(keyring.wait().expect("wait").success(), "gnome-keyring-daemon started");
    // The library reads the bus address from the environment; this test is the only one here
    // that uses the bus.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
    SessionBus { daemon, _home: home }
}

#[cfg(target_os = "linux")]
#[test]
fn the_secret_service_keeps_the_key_outside_the_process() {
    // (No bus, no key store: libdbus reads the bus address once per process, so that case is
    // tested through the CLI, in a process of its own: crates/cli/tests/cli/keys.rs.)
    let _bus = session_bus_with_gnome_keyring();
    the_os_store_keeps_the_key_outside_the_process();
}

#[cfg(windows)]
#[test]
fn the_credential_manager_keeps_the_key_outside_the_process() {
    the_os_store_keeps_the_key_outside_the_process();
}

#[cfg(any(target_os = "linux", windows))]
fn the_os_store_keeps_the_key_outside_the_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let office = dir.path().join("balai.sqlite");
    let store = KeyStore::os().expect("the key store answers");
    assert_eq!(store.kind(), "os");
    assert!(store.load(&office).expect("load").is_none());
    let key = DbKey::generate();
    store.save(&office, &key).expect("save");
    drop(store);
    // A new connection finds it: the key lives in the key store, not in this process.
    let again = KeyStore::os().expect("reconnect");
    assert_eq!(again.load(&office).expect("load"), Some(key.clone()));
    assert!(again.load(&dir.path().join("other.sqlite")).expect("load").is_none());
    let replaced = DbKey::generate();
    again.save(&office, &replaced).expect("replace");
    assert_eq!(again.load(&office).expect("load"), Some(replaced));
    again.forget(&office).expect("forget");
    assert!(again.load(&office).expect("load").is_none());
}
