//! Sync with Balai Kota as the office sees it: enrol this PC (admin, with the one-time code
//! from the city), push now (and keep the letter-number reserve of every series in use), and the
//! status for the sync page. The work is balai-sync's; this
//! area maps its errors to `ApiError` codes the UI branches on and audits the enrolment.

use crate::areas::{audit, letters, NoArgs};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_sync::SyncError;
use serde::{Deserialize, Serialize};

const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

fn api_error(e: SyncError) -> ApiError {
    match e {
        SyncError::NotEnrolled => ApiError::new(ErrorCode::NotInitialized, e.to_string()),
        SyncError::AlreadyEnrolled(_) => ApiError::new(ErrorCode::Conflict, e.to_string()),
        SyncError::Network(_) => ApiError::new(ErrorCode::NotAvailable, e.to_string()),
        SyncError::Server { ref code, .. } if code == "code_invalid" => {
            ApiError::field("code", "code_invalid", e.to_string())
        }
        SyncError::Server { ref code, .. } if code == "kelurahan_mismatch" => {
            ApiError::field("code", "kelurahan_mismatch", e.to_string())
        }
        SyncError::Server { ref code, .. }
            if code == "revoked" || code == "epoch_fenced" || code == "unknown_device" =>
        {
            ApiError::new(ErrorCode::Forbidden, e.to_string())
        }
        SyncError::Server { .. } | SyncError::BadAnswer(_) => {
            ApiError::new(ErrorCode::NotAvailable, e.to_string())
        }
        SyncError::Store(s) => s.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolArgs {
    /// The city server, e.g. `https://kota.example` (`http://` only inside the office network).
    pub server: String,
    /// The one-time code the city admin gave.
    pub code: String,
    /// The city's own CA certificate (PEM), if its certificate is not from a public CA.
    #[serde(default)]
    pub ca_pem: Option<String>,
}

/// Plain HTTP carries residents' data readable by anyone on the way — on an office LAN or a
/// city network as much as on the internet: allowed only to this PC itself (a city server
/// tried out on the same machine, the tests).
fn plain_http_allowed(url: &str) -> bool {
    let rest = url.trim().trim_start_matches("http://");
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolOut {
    pub device_id: String,
    pub kelurahan_code: String,
    pub kelurahan_name: String,
    /// Letter numbers leased right after enrolling (0 if the server could not be reached again:
    /// the next sync leases them).
    pub numbers_leased: u64,
}

fn now_ms(app: &App) -> u64 {
    app.now().timestamp_millis().max(0) as u64
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "balai".into())
}

pub fn enrol(app: &App, ctx: &Ctx, a: EnrolArgs) -> Result<EnrolOut, ApiError> {
    let actor = ctx.actor()?;
    if !(a.server.starts_with("http://") || a.server.starts_with("https://")) {
        return Err(ApiError::field(
            "server",
            "url",
            "Alamat server harus diawali http:// atau https://.",
        ));
    }
    if a.server.starts_with("http://") && !plain_http_allowed(&a.server) {
        return Err(ApiError::field(
            "server",
            "insecure",
            "Server kota harus memakai https:// agar data penduduk terenkripsi di perjalanan (http:// hanya untuk server di komputer ini).",
        ));
    }
    let ca_pem = a.ca_pem.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if ca_pem.is_some_and(|p| !p.contains("-----BEGIN CERTIFICATE-----")) {
        return Err(ApiError::field(
            "ca_pem",
            "invalid",
            "Sertifikat CA kota harus berupa berkas PEM (-----BEGIN CERTIFICATE-----).",
        ));
    }
    let host = hostname();
    let profile = app.store.read(|c| Ok::<_, ApiError>(balai_store::profile::get(c)?))?;
    let joining = balai_sync::Joining {
        server_url: &a.server,
        trust: ca_pem,
        code: &a.code,
        hostname: &host,
        office_kelurahan: profile.as_ref().map(|p| p.kelurahan_code.as_str()),
    };
    let e = balai_sync::enrol(&app.store, &*app.link, joining, APP_VERSION, now_ms(app))
        .map_err(api_error)?;
    audit::record(app, actor, "sync.enrol", "device", &e.device_id.to_string(), &e.kelurahan_code)?;
    // From now on letters are numbered from the city's leases: take the first reserve at once.
    // Failing here is not failing the enrolment (it is done); the next sync round retries.
    let series = letters::series_in_use(app)?;
    let numbers_leased =
        balai_sync::refill_reserve(&app.store, &*app.link, APP_VERSION, now_ms(app), &series)
            .unwrap_or(0);
    Ok(EnrolOut {
        device_id: e.device_id.to_string(),
        kelurahan_code: e.kelurahan_code,
        kelurahan_name: e.kelurahan_name,
        numbers_leased,
    })
}

/// After the city did not answer the fast path, how long letters take their numbers from the
/// reserve without asking.
const CITY_QUIET_MS: u64 = 60_000;

/// Before a letter of `series` is issued on an enrolled PC: the city's next number, leased
/// singly (`balai_sync::lease_next_number`), so it is the number the letter gets. Whatever goes
/// wrong, the letter is still issued, from the reserve: this only tries.
pub(crate) fn lease_next_number(app: &App, series: &str) {
    use std::sync::atomic::Ordering;
    let now = now_ms(app);
    if now < app.city_quiet_until_ms.load(Ordering::Relaxed) {
        return;
    }
    let enrolled = app
        .store
        .read(|c| balai_store::sync::state(c, "server_device_id"))
        .is_ok_and(|id| id.is_some());
    if !enrolled {
        return;
    }
    if let Err(SyncError::Network(_)) =
        balai_sync::lease_next_number(&app.store, &*app.link, APP_VERSION, now, series)
    {
        app.city_quiet_until_ms.store(now + CITY_QUIET_MS, Ordering::Relaxed);
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NowArgs {
    /// Compare this PC's copy with the city's in this round (otherwise hourly, after rounds
    /// that moved something).
    #[serde(default)]
    pub check: bool,
}

pub fn now(app: &App, ctx: &Ctx, args: NowArgs) -> Result<balai_sync::Report, ApiError> {
    ctx.actor()?;
    let series = letters::series_in_use(app)?;
    let types = letters::published_types()?;
    let check = if args.check { balai_sync::Check::Now } else { balai_sync::Check::WhenDue };
    balai_sync::sync_now(&app.store, &*app.link, APP_VERSION, now_ms(app), &series, &types, check)
        .map_err(api_error)
}

pub fn status(app: &App, ctx: &Ctx, _: NoArgs) -> Result<balai_sync::Status, ApiError> {
    ctx.actor()?;
    balai_sync::status(&app.store).map_err(api_error)
}
