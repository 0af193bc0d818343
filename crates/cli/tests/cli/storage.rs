//! When the machine, not the data, is the problem: a database locked by another program, a full
//! disk, a read-only disk. Each answers its own code and exit status with an Indonesian
//! message, changes nothing, and the same command succeeds once the problem is gone.

use crate::{demo_db, office_db, run, Run};
use std::path::{Path, PathBuf};
use std::process::Command;

fn add_user(db: &Path, username: &str) -> Run {
    run(
        db,
        &[
            "--json",
            "users",
            "add",
            "--username",
            username,
            "--full-name",
            "Petugas Baru",
            "--role",
            "petugas",
            "--password",
            "rahasia-panjang",
        ],
    )
}

fn users(db: &Path) -> String {
    run(db, &["--json", "users", "list"]).json().to_string()
}

fn assert_refused(r: &Run, code: &str) {
    assert_eq!(r.status, 9, "{}", r.stderr);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], code, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("tidak"), "{e}");
}

#[test]
fn a_database_locked_by_another_program_is_refused_cleanly_and_works_once_released() {
    let (_dir, db) = demo_db();
    let holder = office_db(&db);
    holder
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO settings (key, value) VALUES ('holder', '1');")
        .unwrap();
    assert_refused(&add_user(&db, "terkunci"), "database_busy");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert!(!users(&db).contains("terkunci"));
    assert_eq!(add_user(&db, "terkunci").status, 0);
    assert!(users(&db).contains("terkunci"));
}

/// A small filesystem of the test's own (tmpfs), unmounted when dropped.
struct SmallDisk(PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("disk");
        std::fs::create_dir(&at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&at)
            .status()
            .unwrap();
        assert!(ok.success(), "mount a tmpfs (the test suite runs as root)");
        SmallDisk(at, dir)
    }
    fn remount(&self, mode: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_and_a_read_only_disk_change_nothing_and_say_so() {
    let disk = SmallDisk::mount(16);
    let db = disk.0.join("office.sqlite");
    assert_eq!(run(&db, &["demo", "seed", "--residents", "0"]).status, 0);
    // A register to import, made elsewhere.
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("source.sqlite");
    let csv = src_dir.path().join("register.csv");
    assert_eq!(run(&src, &["demo", "seed", "--residents", "4000", "--seed", "5"]).status, 0);
    assert_eq!(run(&src, &["residents", "export", csv.to_str().unwrap(), "--full"]).status, 0);

    // The disk filled by something else, all but a little.
    let filler = disk.0.join("filler");
    let free = fs_free(&disk.0);
    std::fs::write(&filler, vec![0u8; (free - 200 * 1024) as usize]).unwrap();
    let r = run(&db, &["--json", "residents", "import", csv.to_str().unwrap()]);
    assert_refused(&r, "disk_full");
    std::fs::remove_file(&filler).unwrap();
    let check: String =
        office_db(&db).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let residents: i64 =
        office_db(&db).query_row("SELECT count(*) FROM residents", [], |r| r.get(0)).unwrap();
    assert_eq!(residents, 0, "nothing of the refused import");
    let r = run(&db, &["--json", "residents", "import", csv.to_str().unwrap()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["imported"], 4000);

    // A read-only disk (a write-protected stick, a broken mount).
    disk.remount("ro");
    assert_refused(&add_user(&db, "hanya.baca"), "read_only");
    disk.remount("rw");
    assert!(!users(&db).contains("hanya.baca"));
    assert_eq!(add_user(&db, "hanya.baca").status, 0);
}

/// Bytes free on the filesystem of `path` (`df`).
fn fs_free(path: &Path) -> u64 {
    let out = Command::new("df").args(["--output=avail", "-B1"]).arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().trim().parse().unwrap()
}
