//! `balai-kota`: run the city server and administer it from the command line.
//!
//! ```text
//! balai-kota [--db kota.sqlite | --database-url postgres://…] [--json] serve [--listen 127.0.0.1:8470] [--min-push-protocol N]
//!            [--tls-cert chain.pem --tls-key key.pem]   # HTTPS
//! balai-kota kelurahan add --code 18.72.04.1004 --name Yosorejo | kelurahan list
//! balai-kota enrol --kelurahan 18.72.04.1004      # a one-time code, valid 24 h, single use
//! balai-kota devices list | devices revoke DEVICE_ID
//! balai-kota admin add --username NAME   # password from BALAI_KOTA_PASSWORD or stdin
//! balai-kota backup --out FILE            # while serving, too
//! balai-kota restore FILE                 # server stopped: new epoch, numbers skip ahead
//! ```
//!
//! The city dashboard is `/admin` on the server (log in as a city admin).
//!
//! `serve` prints its address first (`{"address": "http://…"}` with `--json`), so scripts and
//! tests start it on port 0 and read where it listens.

#![allow(clippy::print_stdout)] // a command-line tool: its answers go to stdout

use anyhow::Context;
use balai_kota::db::Db;
use balai_kota::http::{router, ClientAddr, Server};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "balai-kota", version, about = "Balai Kota, the city server of Balai")]
struct Cli {
    /// The server database (SQLite).
    #[arg(long, global = true, env = "BALAI_KOTA_DB", default_value = "kota.sqlite")]
    db: PathBuf,
    /// The server database on PostgreSQL instead (`postgres://user@host:port/dbname`), for
    /// large deployments; the database must use the C collation (`balai-kota` says how if not).
    #[arg(long, global = true, env = "BALAI_KOTA_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Answer in JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Where to listen (address:port).
        #[arg(long, env = "BALAI_KOTA_LISTEN", default_value = "127.0.0.1:8470")]
        listen: String,
        /// Hold the changes of office apps older than this protocol until they update (they
        /// still receive the others' data).
        #[arg(long, default_value_t = balai_protocol::MIN_PUSH_PROTOCOL)]
        min_push_protocol: u32,
        /// The most rows a first sync's snapshot page holds: smaller pages for offices on slow
        /// links (each page must arrive within the app's 60 s; a cut-off download resumes at
        /// the page it was waiting for).
        #[arg(long, default_value_t = balai_protocol::MAX_SNAPSHOT_ROWS,
              value_parser = clap::value_parser!(u32).range(1..=balai_protocol::MAX_SNAPSHOT_ROWS as i64))]
        snapshot_rows: u32,
        /// Serve HTTPS with this certificate chain (PEM)…
        #[arg(long, env = "BALAI_KOTA_TLS_CERT", value_name = "FILE.pem", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// …and its private key (PEM).
        #[arg(long, env = "BALAI_KOTA_TLS_KEY", value_name = "FILE.pem", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// The kelurahan registry.
    #[command(subcommand)]
    Kelurahan(KelurahanCmd),
    /// A one-time enrolment code for an office PC of a kelurahan (valid 24 h, single use).
    Enrol {
        #[arg(long)]
        kelurahan: String,
    },
    /// Enrolled devices.
    #[command(subcommand)]
    Devices(DevicesCmd),
    /// City admins (who may open the dashboard).
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Scorecard rule sets: publish the year's guideline as a new edition to every office.
    #[command(subcommand)]
    Contest(ContestCmd),
    /// A consistent copy of the database into a new file (the server may be running).
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Encrypt the backup with the key in this file (64 hex digits: `openssl rand -hex 32`;
        /// keep it apart from the backups).
        #[arg(long, value_name = "KEY_FILE")]
        key_file: Option<PathBuf>,
    },
    /// Replace the database by a backup (stop the server first). The one replaced is set
    /// aside, the offices re-send what the backup lacks, and letter numbers skip ahead so none
    /// is issued twice.
    Restore {
        backup: PathBuf,
        /// The key the backup was encrypted with.
        #[arg(long, value_name = "KEY_FILE")]
        key_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Adds a city admin; the password comes from BALAI_KOTA_PASSWORD or the first line of stdin.
    Add {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum ContestCmd {
    /// Publishes a rule set edition (TOML in the format of assets/contest) to every office;
    /// refused when it does not pass the checks or changes an edition already published.
    Publish { file: PathBuf },
}

#[derive(Subcommand)]
enum KelurahanCmd {
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    List,
}

#[derive(Subcommand)]
enum DevicesCmd {
    List,
    /// Refuse everything from this device from now on (a lost or stolen PC).
    Revoke {
        id: uuid::Uuid,
    },
}

/// The server's wall clock: the time every office PC corrects its own against.
#[allow(clippy::disallowed_methods)]
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn say(json: bool, value: serde_json::Value, text: String) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("balai-kota: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    if let Command::Restore { backup, key_file } = &cli.command {
        if cli.database_url.is_some() {
            anyhow::bail!(
                "Pemulihan di PostgreSQL memakai pg_restore; `balai-kota restore` hanya untuk \
                 basis data SQLite."
            );
        }
        let key = key_file.as_deref().map(balai_kota::backup::BackupKey::from_file).transpose()?;
        let r = balai_kota::backup::restore(&cli.db, backup, key.as_ref(), now_ms())?;
        let text = format!(
            "Dipulihkan dari {}; epoch server baru {}; {} seri nomor melompat {}{}",
            backup.display(),
            r.server_epoch,
            r.series_moved,
            balai_kota::backup::NUMBER_GAP,
            r.set_aside.as_ref().map_or(String::new(), |p| format!(
                "; basis data lama disimpan di {}",
                p.display()
            ))
        );
        say(json, serde_json::to_value(&r)?, text);
        return Ok(ExitCode::SUCCESS);
    }
    let db = match &cli.database_url {
        Some(url) => Db::connect_postgres(url)?,
        None => Db::open(&cli.db).with_context(|| format!("cannot open {}", cli.db.display()))?,
    };
    match cli.command {
        Command::Restore { .. } => unreachable!("handled above"),
        Command::Backup { out, key_file } => {
            let key =
                key_file.as_deref().map(balai_kota::backup::BackupKey::from_file).transpose()?;
            let bytes = db.backup(&out, key.as_ref())?;
            say(
                json,
                serde_json::json!({"file": out, "bytes": bytes}),
                format!("Cadangan {} ({bytes} bita)", out.display()),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen, min_push_protocol, snapshot_rows, tls_cert, tls_key } => {
            // Held while serving: a restore refuses to replace the database under it.
            // (PostgreSQL is restored by its own tools, with the server stopped.)
            let _lock = match cli.database_url {
                None => Some(balai_kota::backup::hold_lock(&cli.db)?),
                Some(_) => None,
            };
            let server = Arc::new(Server {
                db,
                clock: Arc::new(now_ms),
                min_push_protocol,
                limits: Default::default(),
                snapshot_rows,
            });
            let tls = match (&tls_cert, &tls_key) {
                (Some(cert), Some(key)) => {
                    Some(balai_kota::tls::config(cert, key).map_err(anyhow::Error::msg)?)
                }
                _ => None,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let scheme = if tls.is_some() { "https" } else { "http" };
                let url = format!("{scheme}://{}", listener.local_addr()?);
                say(
                    json,
                    serde_json::json!({"address": url}),
                    format!("Balai Kota berjalan di {url}"),
                );
                std::io::stdout().flush()?;
                let stop = stop_requested();
                match tls {
                    Some(config) => {
                        let listener = balai_kota::tls::TlsListener::new(listener, config)?;
                        let app =
                            router(server).into_make_service_with_connect_info::<ClientAddr>();
                        axum::serve(listener, app).with_graceful_shutdown(stop).await?
                    }
                    None => {
                        let app =
                            router(server).into_make_service_with_connect_info::<ClientAddr>();
                        axum::serve(listener, app).with_graceful_shutdown(stop).await?
                    }
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Kelurahan(KelurahanCmd::Add { code, name }) => {
            let k = db.add_kelurahan(&code, &name, now_ms())?;
            say(json, serde_json::to_value(&k)?, format!("{} {}", k.code, k.name));
            Ok(ExitCode::SUCCESS)
        }
        Command::Kelurahan(KelurahanCmd::List) => {
            let all = db.kelurahan()?;
            let text = all.iter().map(|k| format!("{} {}", k.code, k.name)).collect::<Vec<_>>();
            say(json, serde_json::to_value(&all)?, text.join("\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Enrol { kelurahan } => {
            let c = db.new_enrol_code(&kelurahan, now_ms())?;
            let text = format!(
                "Kode pendaftaran {} untuk {} (berlaku 24 jam, sekali pakai)",
                c.code, c.kelurahan_code
            );
            say(json, serde_json::to_value(&c)?, text);
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices(DevicesCmd::List) => {
            let all = db.devices()?;
            let text = all
                .iter()
                .map(|d| {
                    let state = match (d.revoked_at_ms, d.revoke_reason.as_deref()) {
                        (None, _) => "aktif",
                        (Some(_), Some("restored_copy")) => "dicabut (salinan dipulihkan/disalin)",
                        (Some(_), _) => "dicabut",
                    };
                    format!(
                        "{} {} {} epoch {} {state}",
                        d.id, d.kelurahan_code, d.hostname, d.epoch
                    )
                })
                .collect::<Vec<_>>();
            say(json, serde_json::to_value(&all)?, text.join("\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(AdminCmd::Add { username }) => {
            let password = match std::env::var("BALAI_KOTA_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            balai_kota::dashboard::add_admin(&db, &username, &password, now_ms())?;
            say(
                json,
                serde_json::json!({"admin": username}),
                format!("Admin kota {username} ditambahkan."),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Contest(ContestCmd::Publish { file }) => {
            let text = std::fs::read_to_string(&file)?;
            let name = file.display().to_string();
            let p = balai_kota::contest::publish_edition(&db, &name, &text, now_ms())?;
            let what = if p.new { "diterbitkan" } else { "sudah diterbitkan sebelumnya" };
            say(
                json,
                serde_json::to_value(&p)?,
                format!("Edisi {}/{} {what} (urutan {}).", p.ruleset, p.edition, p.seq),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices(DevicesCmd::Revoke { id }) => {
            db.revoke(id, now_ms())?;
            say(json, serde_json::json!({"revoked": id}), format!("Perangkat {id} dicabut."));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Resolves on Ctrl-C at a terminal or SIGTERM from a service manager: requests in flight then
/// finish (a push commits or rolls back whole) and the server exits.
async fn stop_requested() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
