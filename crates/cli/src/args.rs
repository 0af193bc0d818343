//! Command-line arguments, and their translation into a (command, JSON arguments) pair.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Map, Value};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "balai",
    version,
    about = "Balai: the kelurahan office database from the command line"
)]
pub struct Cli {
    /// The office database (default: $BALAI_DB, else ~/.local/share/balai/balai.sqlite).
    #[arg(long, global = true, env = "BALAI_DB")]
    pub db: Option<PathBuf>,
    /// Print one JSON document on stdout (errors as JSON on stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Act as this Balai user (password from $BALAI_PASSWORD) instead of as the operator:
    /// needed for what only a role may do, e.g. signing letters as the lurah.
    #[arg(long, global = true, env = "BALAI_USER")]
    pub user: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up the office profile of a new database.
    Init(ProfileFields),
    /// Show or change the office profile.
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// Officials who sign letters.
    #[command(subcommand)]
    Signatories(SignatoriesCmd),
    /// User accounts.
    #[command(subcommand)]
    Users(UsersCmd),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The database's encryption key (kept in the operating system's key store).
    #[command(subcommand)]
    Key(KeyCmd),
    /// Backups of the office database (encrypted with its key).
    #[command(subcommand)]
    Backup(BackupCmd),
    /// Check the database whole (every page); a damaged one is set aside and the newest whole
    /// backup restored in its place, as the desktop app does at start.
    Check,
    /// Sync with the city server (Balai Kota).
    #[command(subcommand)]
    Sync(SyncCmd),
    /// Residents' online requests (from the city's public form).
    #[command(subcommand)]
    Requests(RequestsCmd),
    /// Personal data (UU 27/2022): retention, legal holds, data subjects' requests, breaches.
    #[command(subcommand)]
    Privacy(PrivacyCmd),
    /// The resident register.
    #[command(subcommand)]
    Residents(ResidentsCmd),
    /// Reports from the register.
    #[command(subcommand)]
    Reports(ReportsCmd),
    /// Letters: request, sign and issue, verify, the outgoing register.
    #[command(subcommand)]
    Letters(LettersCmd),
    /// Family cards (KK).
    #[command(subcommand)]
    Families(FamiliesCmd),
    /// Contest and smart-village scorecards (SPBE, kelurahan evaluation, Lomba, Smart City).
    #[command(subcommand)]
    Contest(ContestCmd),
    /// A synthetic demo office.
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Serve the UI and the command table over loopback HTTP.
    Serve(ServeArgs),
    /// Run any command of the table with JSON arguments (see `balai commands`).
    Call {
        command: String,
        #[arg(default_value = "{}")]
        args: String,
    },
    /// List every command with the roles that may run it.
    Commands,
}

#[derive(Debug, Args, Default)]
pub struct ProfileFields {
    #[arg(long)]
    pub province_code: Option<String>,
    #[arg(long)]
    pub province_name: Option<String>,
    #[arg(long)]
    pub city_code: Option<String>,
    #[arg(long)]
    pub city_name: Option<String>,
    #[arg(long)]
    pub kecamatan_code: Option<String>,
    #[arg(long)]
    pub kecamatan_name: Option<String>,
    #[arg(long)]
    pub kelurahan_code: Option<String>,
    /// The kelurahan's name.
    #[arg(long = "name", alias = "kelurahan-name")]
    pub kelurahan_name: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub postal_code: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub website: Option<String>,
}

impl ProfileFields {
    fn pairs(&self) -> [(&'static str, &Option<String>); 13] {
        [
            ("province_code", &self.province_code),
            ("province_name", &self.province_name),
            ("city_code", &self.city_code),
            ("city_name", &self.city_name),
            ("kecamatan_code", &self.kecamatan_code),
            ("kecamatan_name", &self.kecamatan_name),
            ("kelurahan_code", &self.kelurahan_code),
            ("kelurahan_name", &self.kelurahan_name),
            ("address", &self.address),
            ("postal_code", &self.postal_code),
            ("phone", &self.phone),
            ("email", &self.email),
            ("website", &self.website),
        ]
    }
}

#[derive(Debug, Subcommand)]
pub enum ProfileCmd {
    Show,
    /// Change the given fields; the others keep their values.
    Set(ProfileFields),
    /// Set the emblem from a PNG or SVG file.
    Emblem {
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SignatoriesCmd {
    List,
    /// Add or update one, given as JSON (fields in docs/cli.md).
    Save {
        json: String,
    },
}

#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input (keeps it out of `ps`).
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// The password on the command line (visible to other users of the machine: demos only).
    #[arg(long)]
    pub password: Option<String>,
}

impl PasswordSource {
    fn read(&self) -> anyhow::Result<String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            return Ok(line.trim_end_matches(['\r', '\n']).to_string());
        }
        bail!("give the password with --password-stdin (or --password)")
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    List,
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// admin, lurah, sekretaris or petugas
        #[arg(long)]
        role: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password (their open sessions end).
    Passwd {
        username: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCmd {
    /// The records past their retention period (`assets/privacy/rules.toml`); with `--apply`
    /// (admin), anonymise every one not under a legal hold (for cron: idempotent).
    Retention {
        #[arg(long)]
        apply: bool,
    },
    /// Keep a resident's record as it is past its retention period (e.g. a court case).
    Hold {
        /// NIK or id.
        resident: String,
        #[arg(long)]
        reason: String,
    },
    /// Release a legal hold.
    Release { resident: String },
    /// Data subjects' requests: open ones first, soonest due first.
    Requests,
    /// Record a data subject's request (due 3 × 24 hours later).
    Request {
        /// akses, perbaikan, keberatan or penghapusan.
        #[arg(long)]
        kind: String,
        /// NIK or id of the resident it is about.
        #[arg(long, default_value = "")]
        resident: String,
        #[arg(long)]
        requester: String,
        #[arg(long)]
        details: String,
    },
    /// Answer a request: dikabulkan or ditolak, with what was done or why not.
    Decide {
        id: String,
        #[arg(long)]
        status: String,
        #[arg(long)]
        outcome: String,
    },
    /// Everything the office holds about a resident (their access request), as JSON.
    Copy { resident: String },
    /// Recorded breaches with their 72-hour deadline and drafted notices.
    Breaches,
    /// Record a breach: the 3 × 24-hour clock starts at `--discovered-at` (office time).
    Breach {
        /// YYYY-MM-DDTHH:MM, the office's time.
        #[arg(long)]
        discovered_at: String,
        #[arg(long)]
        what_happened: String,
        #[arg(long)]
        data_disclosed: String,
        #[arg(long)]
        subjects_estimate: i64,
        #[arg(long)]
        measures: String,
    },
    /// Record that the residents or the authority were notified, or that it is closed.
    BreachMark {
        id: String,
        /// subjects_notified, authority_notified or closed.
        #[arg(long)]
        moment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCmd {
    /// The queue: waiting ones first.
    List,
    /// This PC takes a waiting request.
    Claim { id: String },
    /// Finish (`selesai`: the letter is ready) or refuse (`ditolak`, with a note) a request this
    /// PC holds; the note is what the resident reads.
    Resolve {
        id: String,
        #[arg(long)]
        status: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Enrol this office database with the city server (admin), with the city's one-time code.
    Enrol {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        /// The city's own CA certificate (PEM), when its HTTPS certificate is not from a CA the
        /// operating system trusts; from then on only that CA is trusted for the city.
        #[arg(long, value_name = "FILE.pem")]
        ca: Option<PathBuf>,
    },
    /// Push every waiting change now, then pull.
    Now {
        /// Also compare this PC's copy with the city's now (otherwise hourly, after rounds
        /// that moved something).
        #[arg(long)]
        check: bool,
    },
    /// Pending changes, last push, rejected items.
    Status,
    /// Identity conflicts the city found (two PCs wrote a different NIK, name or No. KK into
    /// one record), open ones first (admin, sekretaris, lurah).
    Conflicts,
    /// Marks an identity conflict reviewed on every PC of the office, with what was decided.
    Review {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Make a backup now.
    Create {
        /// Another folder (e.g. a USB stick); default: `backups` beside the database.
        #[arg(long)]
        dir: Option<String>,
    },
    /// The backups in the folder, newest first.
    List {
        #[arg(long)]
        dir: Option<String>,
    },
    /// A backup if the newest is a day old, and daily backups older than 7 days removed
    /// (the desktop app does this by itself; for cron on a PC without it).
    Daily {
        #[arg(long)]
        dir: Option<String>,
    },
    /// Replace the database by a backup (a name from `backup list`, or a path), after proving
    /// it whole; the database as it was is kept as a backup first.
    Restore {
        backup: String,
        #[arg(long)]
        dir: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Show the recovery key, once: write it down and keep it apart from the PC.
    Recovery,
    /// Give this PC the key of an existing database from its recovery key (read from stdin),
    /// e.g. after moving the database or on a new user profile.
    Recover,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Newest entries first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        before: Option<i64>,
    },
    /// Check the hash chain; exits non-zero if it is broken.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum ResidentsCmd {
    /// Import a CSV register (OpenSID/SIAK headers; comma or semicolon; BOM or not).
    Import {
        file: PathBuf,
        /// Check and report without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Accept NIK warnings (not errors) on every row, with this written reason.
        #[arg(long, value_name = "REASON")]
        accept_nik_warnings: Option<String>,
        /// Print how far the import has got to stderr while it runs, one JSON line per step:
        /// `{"phase", "done", "total"}` (the shape of `progress.get`).
        #[arg(long)]
        progress: bool,
    },
    /// Search by name words, NIK prefix or No. KK prefix.
    Search {
        #[arg(default_value = "")]
        query: String,
        #[arg(long)]
        rt: Option<u16>,
        #[arg(long)]
        rw: Option<u16>,
        #[arg(long)]
        sex: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// One resident by NIK or id, with family, events and likely duplicates.
    Show { key: String },
    /// Add a resident from a JSON file (fields as in docs/cli.md).
    Add {
        #[arg(long, value_name = "FILE")]
        from_json: PathBuf,
    },
    /// Replace a resident's fields from a JSON file.
    Edit {
        key: String,
        #[arg(long, value_name = "FILE")]
        from_json: PathBuf,
    },
    /// Record a life event: lahir, mati, pindah_masuk, pindah_keluar, hilang, pergi.
    Event {
        key: String,
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        date: String,
        #[arg(long, default_value = "")]
        details: String,
    },
    /// Pairs of likely duplicate records.
    Duplicates,
    /// Export the register as CSV (NIK/KK masked unless --full and the role allows it).
    Export {
        /// Ends in .xlsx for an Excel workbook, anything else for CSV.
        file: PathBuf,
        #[arg(long)]
        full: bool,
    },
    /// Merge the record `--drop` into `--keep` (both are kept with their history).
    Merge {
        #[arg(long)]
        keep: String,
        #[arg(long)]
        drop: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportsCmd {
    /// Laporan mutasi penduduk for a month (YYYY-MM).
    Monthly {
        #[arg(long)]
        month: String,
        /// Also write the report as an XLSX workbook to this file.
        #[arg(long, value_name = "FILE", conflicts_with = "pdf")]
        xlsx: Option<PathBuf>,
        /// Write the report as a PDF (office letterhead, F4) to this file.
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
    },
    /// Counts by sex, age band, RT/RW, religion, education, occupation.
    Demographics,
}

/// Who and what a letter names.
#[derive(Debug, Args)]
pub struct LetterInput {
    /// The letter type's code (see `balai letters types`).
    #[arg(long = "type")]
    pub letter_type: String,
    /// The letter's subject (its first person), by NIK.
    #[arg(long)]
    pub nik: Option<String>,
    /// Another person, `role=NIK` (repeat; a `many` role may repeat).
    #[arg(long = "person", value_name = "ROLE=NIK")]
    pub people: Vec<String>,
    /// An extra field, `key=value` (repeat).
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
}

impl LetterInput {
    fn json(&self) -> anyhow::Result<Value> {
        let mut people: Map<String, Value> = Map::new();
        for p in &self.people {
            let (role, nik) =
                p.split_once('=').with_context(|| format!("--person {p}: use ROLE=NIK"))?;
            let list = people.entry(role.trim().to_string()).or_insert_with(|| json!([]));
            if let Value::Array(a) = list {
                a.push(json!(nik.trim()));
            }
        }
        let mut fields = Map::new();
        for f in &self.fields {
            let (k, v) =
                f.split_once('=').with_context(|| format!("--field {f}: use KEY=VALUE"))?;
            fields.insert(k.trim().to_string(), json!(v));
        }
        Ok(
            json!({"letter_type": self.letter_type, "nik": self.nik, "people": people, "fields": fields}),
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum LettersCmd {
    /// The letter types this build ships, with the people and fields each needs.
    Types,
    /// Letters, newest first.
    List {
        #[arg(long)]
        status: Option<String>,
    },
    Show {
        id: String,
    },
    /// Record a request (status diminta).
    Request(LetterInput),
    /// Mark a request verified (requirements checked).
    Verified {
        id: String,
    },
    /// Sign and issue a request (lurah or sekretaris).
    Approve {
        id: String,
        /// Write the PDF here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Void a letter (its number is never reused).
    Void {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// The resident collected the letter.
    Collect {
        id: String,
    },
    /// Counter fast path for a signer: request, sign and issue at once.
    Issue {
        #[command(flatten)]
        input: LetterInput,
        /// f4 or a4 (default: the office setting).
        #[arg(long)]
        paper: Option<String>,
        /// Write the PDF here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write an issued letter's PDF.
    Pdf {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print an issued letter on the office printer (CUPS), at its true size.
    Print {
        id: String,
        /// A printer by name (see `letters printers`); the default printer when absent.
        #[arg(long)]
        printer: Option<String>,
    },
    /// The printers this PC can print to, and the default one.
    Printers,
    /// Check a letter's QR text: valid, invalid (which check failed) or voided.
    Verify {
        /// The QR text.
        #[arg(long, required_unless_present_any = ["image", "pdf"])]
        payload: Option<String>,
        /// A photo or scan of the letter (PNG or JPEG).
        #[arg(long, conflicts_with = "pdf")]
        image: Option<PathBuf>,
        /// The letter as a PDF file (one Balai issued, or a scan saved as PDF).
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
    /// The outgoing register (buku agenda surat keluar); with --out, as a file: `.pdf` on the
    /// office letterhead, anything else an XLSX workbook.
    Register {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        month: Option<u32>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The office's public signing keys (for the city).
    Keys,
}

impl LettersCmd {
    /// Where the PDF of the answer goes, for the commands that make one.
    pub fn pdf_out(&self) -> Option<&PathBuf> {
        match self {
            LettersCmd::Approve { out, .. } | LettersCmd::Issue { out, .. } => out.as_ref(),
            LettersCmd::Pdf { out, .. } => Some(out),
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ContestCmd {
    /// The rule sets this build ships, with their bands.
    Rulesets,
    /// The band of a total under a rule set.
    Band {
        #[arg(long)]
        ruleset: String,
        #[arg(long)]
        edition: Option<String>,
        #[arg(long)]
        score: f64,
    },
    /// Enter an indicator's value for a period (a year), with evidence files.
    Set {
        #[arg(long)]
        period: i32,
        /// Needed only when the indicator id exists in more than one rule set.
        #[arg(long)]
        ruleset: Option<String>,
        #[arg(long)]
        indicator: String,
        /// The value; `none` clears it.
        #[arg(long)]
        value: String,
        #[arg(long)]
        note: Option<String>,
        /// An evidence file (PDF, PNG or JPEG; repeat for more).
        #[arg(long, value_name = "FILE")]
        evidence: Vec<PathBuf>,
    },
    /// A period's score: one rule set in full, or every rule set's total.
    Score {
        #[arg(long)]
        period: i32,
        #[arg(long)]
        ruleset: Option<String>,
    },
    /// The cheapest raises to reach a band, or the best total within an effort budget.
    Plan {
        #[arg(long)]
        period: i32,
        #[arg(long)]
        ruleset: Option<String>,
        #[arg(long, required_unless_present = "budget", conflicts_with = "budget")]
        target: Option<String>,
        #[arg(long)]
        budget: Option<u64>,
    },
    /// The planner's effort of raising an indicator by one step (default 1).
    Effort {
        #[arg(long)]
        ruleset: String,
        #[arg(long)]
        indicator: String,
        #[arg(long)]
        effort: u32,
    },
    /// Submit a period (locks it; sent to the city).
    Submit {
        #[arg(long)]
        period: i32,
        #[arg(long)]
        ruleset: String,
    },
    /// The two-year report for the jury, as PDF or XLSX (by the file's extension).
    Report {
        #[arg(long)]
        period: i32,
        #[arg(long)]
        ruleset: String,
        #[arg(long, value_name = "FILE.pdf|FILE.xlsx")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum FamiliesCmd {
    /// A family card with its members.
    Show { no_kk: String },
}

#[derive(Debug, Subcommand)]
pub enum DemoCmd {
    /// Fill a new database with a synthetic office and one user per role.
    Seed {
        #[arg(long, default_value_t = 0)]
        residents: u32,
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8780)]
    pub port: u16,
    /// The built UI (default: $BALAI_UI_DIR, else ui/dist next to the working directory).
    #[arg(long, env = "BALAI_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
}

/// `base` with the fields given on the command line put over it.
pub fn fields_json(f: &ProfileFields, base: Map<String, Value>) -> Value {
    let mut m = base;
    for (k, v) in f.pairs() {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    }
    Value::Object(m)
}

/// The command of the table a subcommand runs, and its arguments.
pub fn to_dispatch(c: &Command) -> anyhow::Result<(&'static str, Value)> {
    Ok(match c {
        Command::Init(f) => {
            let missing: Vec<_> = f
                .pairs()
                .iter()
                .take(9)
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| {
                    format!(
                        "--{}",
                        if *k == "kelurahan_name" { "name".into() } else { k.replace('_', "-") }
                    )
                })
                .collect();
            if !missing.is_empty() {
                bail!("balai init needs {}", missing.join(", "));
            }
            ("profile.set", fields_json(f, Map::new()))
        }
        Command::Profile(ProfileCmd::Show) => ("profile.get", json!({})),
        Command::Profile(ProfileCmd::Emblem { file }) => {
            use base64::Engine;
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            (
                "profile.set_emblem",
                json!({"data_base64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
            )
        }
        Command::Signatories(SignatoriesCmd::List) => ("signatories.list", json!({})),
        Command::Signatories(SignatoriesCmd::Save { json }) => (
            "signatories.save",
            serde_json::from_str(json).context("the signatory is not valid JSON")?,
        ),
        Command::Users(UsersCmd::List) => ("users.list", json!({})),
        Command::Users(UsersCmd::Add { username, full_name, role, password }) => (
            "users.add",
            json!({"username": username, "full_name": full_name, "role": role, "password": password.read()?}),
        ),
        Command::Users(UsersCmd::Passwd { username, password }) => {
            ("users.passwd", json!({"username": username, "password": password.read()?}))
        }
        Command::Users(UsersCmd::Disable { username }) => {
            ("users.disable", json!({"username": username}))
        }
        Command::Users(UsersCmd::Enable { username }) => {
            ("users.enable", json!({"username": username}))
        }
        Command::Audit(AuditCmd::List { limit, before }) => {
            ("audit.list", json!({"limit": limit, "before": before}))
        }
        Command::Audit(AuditCmd::Verify) => ("audit.verify", json!({})),
        Command::Key(KeyCmd::Recovery) => ("security.recovery_key", json!({})),
        Command::Check => ("app.info", json!({})),
        Command::Backup(BackupCmd::Create { dir }) => ("backup.create", json!({"dir": whole(dir)})),
        Command::Backup(BackupCmd::List { dir }) => ("backup.list", json!({"dir": whole(dir)})),
        Command::Backup(BackupCmd::Daily { dir }) => ("backup.daily", json!({"dir": whole(dir)})),
        Command::Backup(BackupCmd::Restore { backup, dir }) => {
            ("backup.restore", json!({"backup": backup, "dir": whole(dir)}))
        }
        Command::Key(KeyCmd::Recover) => {
            bail!("`balai key recover` is handled before the database is opened")
        }
        Command::Sync(SyncCmd::Enrol { server, code, ca }) => {
            let ca_pem = match ca {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                ),
                None => None,
            };
            ("sync.enrol", json!({"server": server, "code": code, "ca_pem": ca_pem}))
        }
        Command::Sync(SyncCmd::Now { check }) => ("sync.now", json!({"check": check})),
        Command::Sync(SyncCmd::Status) => ("sync.status", json!({})),
        Command::Sync(SyncCmd::Conflicts) => ("sync.conflicts", json!({})),
        Command::Sync(SyncCmd::Review { id, note }) => {
            ("sync.review_conflict", json!({"id": id, "note": note}))
        }
        Command::Requests(RequestsCmd::List) => ("requests.list", json!({})),
        Command::Requests(RequestsCmd::Claim { id }) => ("requests.claim", json!({"id": id})),
        Command::Requests(RequestsCmd::Resolve { id, status, note }) => {
            ("requests.resolve", json!({"id": id, "status": status, "note": note}))
        }
        Command::Privacy(p) => privacy(p),
        Command::Residents(r) => residents(r)?,
        Command::Reports(ReportsCmd::Monthly { month, xlsx: None, pdf: None }) => {
            ("reports.monthly", json!({"month": month}))
        }
        Command::Reports(ReportsCmd::Monthly { month, xlsx: Some(file), .. }) => {
            ("reports.monthly_xlsx", json!({"month": month, "path": file}))
        }
        Command::Reports(ReportsCmd::Monthly { month, pdf: Some(file), .. }) => {
            ("reports.monthly_pdf", json!({"month": month, "path": file}))
        }
        Command::Reports(ReportsCmd::Demographics) => ("reports.demographics", json!({})),
        Command::Families(FamiliesCmd::Show { no_kk }) => {
            ("families.show", json!({"no_kk": no_kk}))
        }
        Command::Letters(l) => letters_dispatch(l)?,
        Command::Contest(c) => contest(c)?,
        Command::Demo(DemoCmd::Seed { residents, seed }) => {
            ("demo.seed", json!({"residents": residents, "seed": seed}))
        }
        Command::Call { command, args } => {
            let name = balai_app::commands::find(command)
                .map(|c| c.name)
                .with_context(|| format!("no command `{command}` (see `balai commands`)"))?;
            (name, serde_json::from_str(args).context("the arguments are not valid JSON")?)
        }
        Command::Profile(ProfileCmd::Set(_)) | Command::Commands | Command::Serve(_) => {
            bail!("handled before dispatch")
        }
    })
}

fn contest(c: &ContestCmd) -> anyhow::Result<(&'static str, Value)> {
    Ok(match c {
        ContestCmd::Rulesets => ("contest.rulesets", json!({})),
        ContestCmd::Band { ruleset, edition, score } => {
            ("contest.band", json!({"ruleset": ruleset, "edition": edition, "score": score}))
        }
        ContestCmd::Set { period, ruleset, indicator, value, note, evidence } => {
            use base64::Engine;
            let value: Option<i64> = match value.trim() {
                "none" | "" => None,
                v => Some(
                    v.parse().with_context(|| format!("--value {v}: a whole number or none"))?,
                ),
            };
            let mut files = Vec::new();
            for path in evidence {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let name = path.file_name().map(|n| n.to_string_lossy().to_string());
                files.push(json!({
                    "file_name": name.unwrap_or_default(),
                    "data_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
                }));
            }
            (
                "contest.set",
                json!({"period": period, "ruleset": ruleset, "indicator": indicator,
                       "value": value, "note": note, "evidence": files}),
            )
        }
        ContestCmd::Score { period, ruleset: None } => {
            ("contest.scores", json!({"period": period}))
        }
        ContestCmd::Score { period, ruleset: Some(r) } => {
            ("contest.score", json!({"period": period, "ruleset": r}))
        }
        ContestCmd::Plan { period, ruleset, target, budget } => (
            "contest.plan",
            json!({"period": period, "ruleset": ruleset, "target": target, "budget": budget}),
        ),
        ContestCmd::Effort { ruleset, indicator, effort } => (
            "contest.set_effort",
            json!({"ruleset": ruleset, "indicator": indicator, "effort": effort}),
        ),
        ContestCmd::Submit { period, ruleset } => {
            ("contest.submit", json!({"period": period, "ruleset": ruleset}))
        }
        ContestCmd::Report { period, ruleset, out } => {
            let format = match out.extension().and_then(|e| e.to_str()) {
                Some(e) if e.eq_ignore_ascii_case("xlsx") => "xlsx",
                Some(e) if e.eq_ignore_ascii_case("pdf") => "pdf",
                _ => bail!("--out {}: end the name in .pdf or .xlsx", out.display()),
            };
            (
                "contest.report",
                json!({"period": period, "ruleset": ruleset, "format": format,
                       "path": out.display().to_string()}),
            )
        }
    })
}

fn read_json(path: &std::path::Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// The task id of an import run with `--progress` (one import per process).
pub const CLI_PROGRESS_ID: &str = "cli-import";

fn residents(c: &ResidentsCmd) -> anyhow::Result<(&'static str, Value)> {
    Ok(match c {
        ResidentsCmd::Import { file, dry_run, accept_nik_warnings, progress } => (
            "residents.import",
            json!({"path": file, "dry_run": dry_run, "nik_override_reason": accept_nik_warnings,
                   "progress_id": progress.then_some(CLI_PROGRESS_ID)}),
        ),
        ResidentsCmd::Search { query, rt, rw, sex, status, limit } => (
            "residents.search",
            json!({"q": query, "rt": rt, "rw": rw, "sex": sex, "status": status, "limit": limit}),
        ),
        ResidentsCmd::Show { key } => ("residents.show", json!({"key": key})),
        ResidentsCmd::Add { from_json } => {
            ("residents.add", json!({"resident": read_json(from_json)?}))
        }
        ResidentsCmd::Edit { key, from_json } => {
            ("residents.edit", json!({"id": key, "resident": read_json(from_json)?}))
        }
        ResidentsCmd::Event { key, kind, date, details } => {
            ("residents.event", json!({"key": key, "kind": kind, "date": date, "details": details}))
        }
        ResidentsCmd::Duplicates => ("residents.duplicates", json!({})),
        ResidentsCmd::Export { file, full } => {
            let xlsx = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
            let format = if xlsx { "xlsx" } else { "csv" };
            ("residents.export", json!({"path": file, "full": full, "format": format}))
        }
        ResidentsCmd::Merge { keep, drop } => {
            ("residents.merge", json!({"keep": keep, "drop": drop}))
        }
    })
}

fn letters_dispatch(c: &LettersCmd) -> anyhow::Result<(&'static str, Value)> {
    Ok(match c {
        LettersCmd::Types => ("letters.types", json!({})),
        LettersCmd::List { status } => ("letters.list", json!({"status": status})),
        LettersCmd::Show { id } => ("letters.show", json!({"id": id})),
        LettersCmd::Request(input) => ("letters.request", input.json()?),
        LettersCmd::Verified { id } => ("letters.mark_verified", json!({"id": id})),
        LettersCmd::Approve { id, .. } => ("letters.approve", json!({"id": id})),
        LettersCmd::Reject { id, reason } => {
            ("letters.reject", json!({"id": id, "reason": reason}))
        }
        LettersCmd::Void { id, reason } => ("letters.void", json!({"id": id, "reason": reason})),
        LettersCmd::Collect { id } => ("letters.collect", json!({"id": id})),
        LettersCmd::Issue { input, paper, .. } => {
            let mut v = input.json()?;
            if let Some(p) = paper {
                v["paper"] = json!(p.to_lowercase());
            }
            ("letters.issue", v)
        }
        LettersCmd::Pdf { id, .. } => ("letters.pdf", json!({"id": id})),
        LettersCmd::Print { id, printer } => {
            ("letters.print", json!({"id": id, "printer": printer}))
        }
        LettersCmd::Printers => ("letters.printers", json!({})),
        LettersCmd::Verify { payload, image, pdf } => (
            "letters.verify",
            json!({"payload": payload.clone().unwrap_or_default(),
                   "image_path": image.as_ref().or(pdf.as_ref()).map(|p| p.display().to_string())}),
        ),
        LettersCmd::Register { year, month, out: None } => {
            ("letters.register", json!({"year": year, "month": month}))
        }
        LettersCmd::Register { year, month, out: Some(out) } => (
            if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
                "letters.register_pdf"
            } else {
                "letters.register_xlsx"
            },
            json!({"year": year, "month": month, "path": out.display().to_string()}),
        ),
        LettersCmd::Keys => ("letters.keys", json!({})),
    })
}

fn privacy(p: &PrivacyCmd) -> (&'static str, Value) {
    match p {
        PrivacyCmd::Retention { apply: false } => ("privacy.retention", json!({})),
        PrivacyCmd::Retention { apply: true } => ("privacy.anonymise_due", json!({})),
        PrivacyCmd::Hold { resident, reason } => {
            ("privacy.hold", json!({"key": resident, "reason": reason}))
        }
        PrivacyCmd::Release { resident } => ("privacy.release", json!({"key": resident})),
        PrivacyCmd::Requests => ("privacy.subject_list", json!({})),
        PrivacyCmd::Request { kind, resident, requester, details } => (
            "privacy.subject_add",
            json!({"kind": kind, "key": resident, "requester": requester, "details": details}),
        ),
        PrivacyCmd::Decide { id, status, outcome } => {
            ("privacy.subject_decide", json!({"id": id, "status": status, "outcome": outcome}))
        }
        PrivacyCmd::Copy { resident } => ("privacy.subject_copy", json!({"key": resident})),
        PrivacyCmd::Breaches => ("privacy.breaches", json!({})),
        PrivacyCmd::Breach {
            discovered_at,
            what_happened,
            data_disclosed,
            subjects_estimate,
            measures,
        } => (
            "privacy.breach_open",
            json!({"discovered_at": discovered_at, "what_happened": what_happened,
                   "data_disclosed": data_disclosed, "subjects_estimate": subjects_estimate,
                   "measures": measures}),
        ),
        PrivacyCmd::BreachMark { id, moment } => {
            ("privacy.breach_mark", json!({"id": id, "moment": moment}))
        }
    }
}

/// A folder as typed on the command line, made whole from the current directory (the app
/// takes only whole paths: it may run elsewhere).
fn whole(dir: &Option<String>) -> Option<String> {
    dir.as_ref()
        .map(|d| std::path::absolute(d).map_or_else(|_| d.clone(), |p| p.display().to_string()))
}
