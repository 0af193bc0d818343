//! The command table: every command of Balai, once, with who may run it.
//!
//! Transports (Tauri, `balai serve`, the CLI) call [`dispatch`] with a command name and JSON
//! arguments; nothing else of balai-app is reachable from the UI.

use crate::areas::{
    audit, auth, backup, conflicts, contest, demo, import, info, letters, print, privacy, profile,
    reports, requests, residents, security, settings, setup, signatories, sync, users,
};
use crate::error::{ApiError, ErrorCode};
use crate::progress;
use crate::session::Actor;
use crate::{App, Ctx};
use balai_domain::Role;
use serde_json::Value;

/// Who may run a command.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// Anyone, signed in or not (log in, app info).
    Public,
    /// Any signed-in user.
    AnyUser,
    /// Signed-in users with one of these roles.
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::AnyUser => true,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
}

type Run = fn(&App, &Ctx, Value) -> Result<Value, ApiError>;

#[derive(Debug, Clone, Copy)]
pub struct Command {
    pub name: &'static str,
    pub access: Access,
    /// Whether the command changes data (the CLI and docs say so; reads are never audited as
    /// changes).
    pub writes: bool,
    run: Run,
}

/// Adapts a typed area function to the table's JSON signature.
macro_rules! command {
    ($name:literal, $access:expr, $writes:literal, $f:path) => {
        Command {
            name: $name,
            access: $access,
            writes: $writes,
            run: |app, ctx, args| {
                let args = serde_json::from_value(normalize_args(args)).map_err(|e| {
                    ApiError::new(
                        ErrorCode::BadArguments,
                        format!("Argumen `{}` tidak sesuai: {e}", $name),
                    )
                })?;
                let out = $f(app, ctx, args)?;
                serde_json::to_value(out)
                    .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
            },
        }
    };
}

/// `null` (no arguments) means an empty object, so commands without arguments take `{}`.
fn normalize_args(v: Value) -> Value {
    if v.is_null() {
        Value::Object(Default::default())
    } else {
        v
    }
}

use Role::{Admin, Lurah, Petugas, Sekretaris};
const ADMIN: Access = Access::Roles(&[Admin]);
const OVERSIGHT: Access = Access::Roles(&[Admin, Lurah]);
/// Keeping the register is the counter's and the secretary's job (and the admin's, for imports).
const REGISTRAR: Access = Access::Roles(&[Admin, Sekretaris, Petugas]);
/// Merging records removes one from view: a supervisor's decision.
const SUPERVISOR: Access = Access::Roles(&[Admin, Sekretaris, Lurah]);
/// The letter desk: whoever serves residents records and moves requests.
const LETTER_DESK: Access = Access::Roles(&[Sekretaris, Petugas, Lurah]);
/// Who keeps the office's scorecards: the lurah, the secretary (and the admin).
const SCORE_KEEPER: Access = Access::Roles(&[Admin, Lurah, Sekretaris]);
/// Submitting a period to the city is the lurah's act.
const LURAH: Access = Access::Roles(&[Lurah]);
/// Who signs letters (the lurah, or the sekretaris a.n. the lurah) and voids them.
const SIGNER: Access = Access::Roles(&[Lurah, Sekretaris]);

/// Every command, in one place. Documented in docs/commands.md.
pub static COMMANDS: &[Command] = &[
    command!("app.info", Access::Public, false, info::info),
    command!("auth.login", Access::Public, true, auth::login),
    command!("setup.start", Access::Public, true, setup::start),
    command!("auth.unlock", Access::Public, true, auth::unlock),
    command!("auth.logout", Access::Public, false, auth::logout),
    command!("auth.me", Access::AnyUser, false, auth::me),
    command!("auth.keepalive", Access::AnyUser, false, auth::keepalive),
    command!("auth.change_password", Access::AnyUser, true, auth::change_password),
    command!("profile.get", Access::AnyUser, false, profile::get),
    command!("profile.set", ADMIN, true, profile::set),
    command!("profile.emblem", Access::AnyUser, false, profile::emblem),
    command!("profile.set_emblem", ADMIN, true, profile::set_emblem),
    command!("signatories.list", Access::AnyUser, false, signatories::list),
    command!("signatories.save", ADMIN, true, signatories::save),
    command!("security.recovery_key", ADMIN, true, security::recovery_key),
    command!("backup.create", ADMIN, true, backup::create),
    command!("backup.list", ADMIN, false, backup::list),
    command!("backup.daily", ADMIN, true, backup::daily),
    command!("backup.restore", ADMIN, true, backup::restore),
    command!("users.list", ADMIN, false, users::list),
    command!("users.add", ADMIN, true, users::add),
    command!("users.passwd", ADMIN, true, users::passwd),
    command!("users.disable", ADMIN, true, users::disable),
    command!("users.enable", ADMIN, true, users::enable),
    command!("settings.get", Access::AnyUser, false, settings::get),
    command!("settings.set", ADMIN, true, settings::set),
    command!("sync.enrol", ADMIN, true, sync::enrol),
    command!("sync.now", Access::AnyUser, true, sync::now),
    command!("sync.status", Access::AnyUser, false, sync::status),
    command!("sync.conflicts", SUPERVISOR, false, conflicts::list),
    command!("sync.review_conflict", SUPERVISOR, true, conflicts::review),
    command!("requests.list", LETTER_DESK, false, requests::list),
    command!("requests.claim", LETTER_DESK, true, requests::claim),
    command!("requests.resolve", LETTER_DESK, true, requests::resolve),
    command!("privacy.rules", Access::AnyUser, false, privacy::rules),
    command!("privacy.hold", OVERSIGHT, true, privacy::hold),
    command!("privacy.release", OVERSIGHT, true, privacy::release),
    command!("privacy.retention", OVERSIGHT, false, privacy::retention),
    command!("privacy.anonymise_due", ADMIN, true, privacy::anonymise_due),
    command!("privacy.subject_add", Access::AnyUser, true, privacy::subject_add),
    command!("privacy.subject_list", Access::AnyUser, false, privacy::subject_list),
    command!("privacy.subject_decide", SUPERVISOR, true, privacy::subject_decide),
    command!("privacy.subject_copy", SUPERVISOR, true, privacy::subject_copy),
    command!("privacy.breaches", OVERSIGHT, false, privacy::breaches),
    command!("privacy.breach_open", OVERSIGHT, true, privacy::breach_open),
    command!("privacy.breach_mark", OVERSIGHT, true, privacy::breach_mark),
    command!("audit.list", OVERSIGHT, false, audit::list),
    command!("audit.verify", OVERSIGHT, false, audit::verify),
    command!("residents.search", Access::AnyUser, false, residents::search),
    command!("residents.show", Access::AnyUser, true, residents::show),
    command!("residents.add", REGISTRAR, true, residents::add),
    command!("residents.edit", REGISTRAR, true, residents::edit),
    command!("residents.event", REGISTRAR, true, residents::event),
    command!("residents.duplicates", Access::AnyUser, false, residents::duplicates),
    command!("residents.merge", SUPERVISOR, true, residents::merge),
    command!("residents.import", REGISTRAR, true, import::import),
    command!("progress.get", Access::AnyUser, false, progress::get),
    command!("residents.codes", Access::AnyUser, false, residents::codes),
    command!("residents.export", Access::AnyUser, true, reports::export),
    command!("reports.monthly", Access::AnyUser, false, reports::monthly),
    command!("reports.monthly_xlsx", Access::AnyUser, false, reports::monthly_xlsx),
    command!("reports.monthly_pdf", Access::AnyUser, false, reports::monthly_pdf),
    command!("reports.demographics", Access::AnyUser, false, reports::demographics),
    command!("families.show", Access::AnyUser, false, residents::family),
    command!("letters.types", Access::AnyUser, false, letters::types),
    command!("letters.settings", Access::AnyUser, false, letters::settings),
    command!("letters.set_settings", ADMIN, true, letters::set_settings),
    command!("letters.list", Access::AnyUser, false, letters::list),
    command!("letters.show", Access::AnyUser, false, letters::show),
    command!("letters.request", LETTER_DESK, true, letters::request),
    command!("letters.mark_verified", LETTER_DESK, true, letters::mark_verified),
    command!("letters.reject", LETTER_DESK, true, letters::reject),
    command!("letters.approve", SIGNER, true, letters::approve),
    command!("letters.issue", SIGNER, true, letters::issue),
    command!("letters.collect", LETTER_DESK, true, letters::collect),
    command!("letters.void", SIGNER, true, letters::void),
    command!("letters.pdf", Access::AnyUser, true, letters::pdf),
    command!("letters.print", Access::AnyUser, true, print::print),
    command!("letters.printers", Access::AnyUser, false, print::printers),
    command!("letters.verify", Access::AnyUser, false, letters::verify),
    command!("letters.keys", Access::AnyUser, false, letters::keys),
    command!("letters.register", Access::AnyUser, false, letters::register_of),
    command!("letters.register_xlsx", Access::AnyUser, false, letters::register_xlsx),
    command!("letters.register_pdf", Access::AnyUser, false, letters::register_pdf),
    command!("contest.rulesets", Access::AnyUser, false, contest::list_rulesets),
    command!("contest.ruleset", Access::AnyUser, false, contest::ruleset),
    command!("contest.band", Access::AnyUser, false, contest::band),
    command!("contest.score", Access::AnyUser, false, contest::score),
    command!("contest.scores", Access::AnyUser, false, contest::scores),
    command!("contest.set", SCORE_KEEPER, true, contest::set),
    command!("contest.attach", SCORE_KEEPER, true, contest::attach),
    command!("contest.detach", SCORE_KEEPER, true, contest::detach),
    command!("contest.evidence_file", Access::AnyUser, false, contest::evidence_file),
    command!("contest.set_effort", SCORE_KEEPER, true, contest::set_effort),
    command!("contest.plan", Access::AnyUser, false, contest::plan),
    command!("contest.accept_plan", SCORE_KEEPER, true, contest::accept_plan),
    command!("contest.tasks", Access::AnyUser, false, contest::tasks),
    command!("contest.submit", LURAH, true, contest::submit),
    command!("contest.report", Access::AnyUser, true, contest::report),
    command!("demo.seed", ADMIN, true, demo::seed),
];

pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The UI (Tauri or HTTP), with the session token it holds, if any.
    Session(Option<String>),
    /// The `balai` command line, run by this OS user.
    Operator(String),
}

/// Runs command `name` with JSON `args` for `caller`.
pub fn dispatch(app: &App, caller: &Caller, name: &str, args: Value) -> Result<Value, ApiError> {
    let command = find(name).ok_or_else(|| {
        ApiError::new(ErrorCode::UnknownCommand, format!("Perintah `{name}` tidak dikenal."))
    })?;
    let (actor, token) = match caller {
        Caller::Operator(os_user) => (Some(Actor::operator(os_user)), None),
        Caller::Session(token) => {
            let actor = match (command.access, token) {
                (Access::Public, None) => None,
                // A public command with a token (logout, unlock) resolves it itself; a stale
                // token must not stop it.
                (Access::Public, Some(t)) => app.sessions.actor_of(t),
                (_, None) => return Err(ApiError::unauthenticated()),
                (_, Some(t)) => Some(app.sessions.touch(t, app.now(), auth::idle_limit(app)?)?),
            };
            (actor, token.clone())
        }
    };
    if let Some(actor) = &actor {
        if !command.access.allows(actor.role) {
            audit::record(app, actor, "access.denied", "command", name, actor.role.as_str())?;
            return Err(ApiError::forbidden(name));
        }
    }
    (command.run)(app, &Ctx { actor, token }, args)
}
