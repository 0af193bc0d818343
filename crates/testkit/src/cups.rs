//! A private CUPS scheduler for print tests: `cupsd` in the foreground on a Unix socket in a
//! temporary directory (never the machine's own CUPS), with printers whose device is a TCP
//! listener in this process, like a network printer on port 9100. What a job sends is what the
//! printer would receive: PostScript rendered by CUPS's own filters for the queue's PPD.
//!
//! Needs the Debian packages `cups` and `printer-driver-cups-pdf` (its PPD is a PostScript
//! printer that accepts custom sizes such as F4); `cargo xtask test` installs them.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const PPD: &str = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd";

pub struct PrivateCups {
    dir: tempfile::TempDir,
    daemon: Child,
}

/// A printer on the private scheduler and the jobs it has received.
pub struct Printer {
    pub name: String,
    jobs: Receiver<Vec<u8>>,
}

impl PrivateCups {
    pub fn start() -> PrivateCups {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for sub in ["spool", "tmp", "cache", "state", "log"] {
            std::fs::create_dir_all(d.join(sub)).expect("cups dir");
        }
        // Filters run as the unprivileged `lp` user when the tests run as root.
        for sub in ["spool", "tmp"] {
            chmod(&d.join(sub), 0o1777);
        }
        chmod(d, 0o755);
        let socket = d.join("cups.sock");
        let open = "  Order allow,deny\n  Allow all\n";
        std::fs::write(
            d.join("cupsd.conf"),
            format!(
                "Listen {}\nLogLevel debug\nWebInterface No\nBrowsing No\nDefaultAuthType None\n\
                 <Location />\n{open}</Location>\n<Location /admin>\n{open}</Location>\n\
                 <Policy default>\n  <Limit All>\n{open}  </Limit>\n</Policy>\n",
                socket.display()
            ),
        )
        .expect("cupsd.conf");
        let p = |s: &str| d.join(s).display().to_string();
        std::fs::write(
            d.join("cups-files.conf"),
            format!(
                "ServerRoot {}\nRequestRoot {}\nTempDir {}\nCacheDir {}\nStateDir {}\n\
                 ErrorLog {}\nAccessLog {}\nPageLog {}\nSandboxing Relaxed\n",
                d.display(),
                p("spool"),
                p("tmp"),
                p("cache"),
                p("state"),
                p("log/error_log"),
                p("log/access_log"),
                p("log/page_log"),
            ),
        )
        .expect("cups-files.conf");
        let daemon = Command::new("cupsd")
            .arg("-f")
            .arg("-c")
            .arg(d.join("cupsd.conf"))
            .arg("-s")
            .arg(d.join("cups-files.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cupsd (Debian package cups) runs");
        let cups = PrivateCups { dir, daemon };
        let start = Instant::now();
        while !socket.exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "cupsd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        cups
    }

    /// The value of `CUPS_SERVER` that reaches this scheduler.
    pub fn server(&self) -> PathBuf {
        self.dir.path().join("cups.sock")
    }

    /// The page log line of the job named `title` (title, media, sides), once the scheduler
    /// has written it (after the printer took the job), waiting up to half a minute.
    pub fn page_log_line(&self, title: &str) -> String {
        let start = Instant::now();
        loop {
            let log =
                std::fs::read_to_string(self.dir.path().join("log/page_log")).unwrap_or_default();
            if let Some(line) = log.lines().find(|l| l.contains(title)) {
                return line.to_string();
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no page log for {title}: {log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Adds a printer whose jobs arrive in this process.
    pub fn add_printer(&self, name: &str) -> Printer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("printer port");
        let port = listener.local_addr().expect("port").port();
        let (send, jobs) = channel();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut job = Vec::new();
                if conn.read_to_end(&mut job).is_ok() && !job.is_empty() && send.send(job).is_err()
                {
                    return;
                }
            }
        });
        let out = Command::new("lpadmin")
            .env("CUPS_SERVER", self.server())
            .args(["-p", name, "-E", "-v", &format!("socket://127.0.0.1:{port}"), "-P", PPD])
            .output()
            .expect("lpadmin (Debian package cups-client) runs");
        assert!(out.status.success(), "lpadmin: {}", String::from_utf8_lossy(&out.stderr));
        Printer { name: name.to_string(), jobs }
    }

    /// Makes `name` the default printer.
    pub fn set_default(&self, name: &str) {
        let ok = Command::new("lpadmin")
            .env("CUPS_SERVER", self.server())
            .args(["-d", name])
            .status()
            .expect("lpadmin runs");
        assert!(ok.success());
    }
}

impl Printer {
    /// The next job the printer received (PostScript), waiting up to a minute: CUPS's filters
    /// take a few seconds on this machine.
    pub fn next_job(&self) -> Vec<u8> {
        self.jobs.recv_timeout(Duration::from_secs(60)).expect("the printer received a job")
    }
}

impl Drop for PrivateCups {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
