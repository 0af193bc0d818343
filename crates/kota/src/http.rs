//! The routes of Balai Kota. Each handler is one call into `db`/`auth`; errors become a
//! `balai_protocol::ErrorBody` with its stable code.
//!
//! Public (no device key): `GET /v1/time`, `POST /v1/enrol`. Signed by a device: `GET
//! /v1/whoami`, `POST /v1/push` (body plain or `Content-Encoding: zstd`), `GET
//! /v1/pull?cursor=N&limit=M`, `POST /v1/lease`, `POST /v1/digest`. Answers are zstd-compressed for a client that accepts it.

use crate::auth::device_of;
use crate::db::Db;
use crate::db::Device;
use crate::KotaError;
use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use balai_protocol::{
    DigestRequest, DigestResponse, EnrolRequest, Enrolled, ErrorBody, LeaseRequest, LeaseResponse,
    PullResponse, PushRequest, PushResponse, ServerTime, WhoAmI, MAX_DECODED_BYTES, ZSTD,
};
use serde::Deserialize;
use std::sync::Arc;

/// The server's clock: milliseconds since the Unix epoch (the simulation's is its own).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub struct Server {
    pub db: Db,
    pub clock: Clock,
    /// Pushes from a client below this protocol are held (`update_required`): the city raises
    /// it to make every office update before a change to what they send.
    pub min_push_protocol: u32,
    /// What one address (or one admin name) may do per hour on the routes without a device
    /// signature: the public pages, enrolment and the admin's login.
    pub limits: Limits,
    /// The most rows one snapshot page holds ([`balai_protocol::MAX_SNAPSHOT_ROWS`]; the
    /// simulation makes it small so that its lost requests cut first syncs in the middle).
    pub snapshot_rows: u32,
}

/// How many requests one address may send through the public form per hour (an RT office or
/// a warnet sends for many residents; a script sends thousands).
pub const FORM_PER_HOUR: usize = 30;
/// Letters one address may look up on the public verification page per hour (a bank teller
/// checks a few dozen a day; a script harvesting masked NIKs checks thousands).
pub const VERIFY_PER_HOUR: usize = 300;
/// Failed enrolments one address may make per hour (a one-time code is 10 random characters;
/// guessing one needs millions of tries).
pub const ENROL_FAILURES_PER_HOUR: usize = 10;
/// Failed admin logins per hour, per address and per user name (so that neither one machine
/// nor many guess one password).
pub const LOGIN_FAILURES_PER_HOUR: usize = 10;

/// The per-hour counters of the routes that need no device signature. In memory: a restart
/// forgets them (the per-NIK limit of the request form is in the database).
#[derive(Debug, Default)]
pub struct Limits {
    pub form: Window,
    pub verify: Window,
    pub enrol_failures: Window,
    pub login_failures: Window,
}

/// Events per key in the last hour.
#[derive(Debug, Default)]
pub struct Window(std::sync::Mutex<std::collections::HashMap<String, Vec<u64>>>);

impl Window {
    fn with<T>(
        &self,
        now_ms: u64,
        f: impl FnOnce(&mut std::collections::HashMap<String, Vec<u64>>) -> T,
    ) -> T {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let hour_ago = now_ms.saturating_sub(3_600_000);
        seen.retain(|_, times| {
            times.retain(|t| *t > hour_ago);
            !times.is_empty()
        });
        f(&mut seen)
    }

    /// How many events `key` had in the last hour.
    pub fn count(&self, key: &str, now_ms: u64) -> usize {
        self.with(now_ms, |seen| seen.get(key).map_or(0, Vec::len))
    }

    pub fn add(&self, key: &str, now_ms: u64) {
        self.with(now_ms, |seen| seen.entry(key.to_string()).or_default().push(now_ms));
    }

    /// Counts one event of `key` unless it already had `max` this hour (then false).
    pub fn allow(&self, key: &str, now_ms: u64, max: usize) -> bool {
        self.with(now_ms, |seen| {
            let times = seen.entry(key.to_string()).or_default();
            if times.len() >= max {
                return false;
            }
            times.push(now_ms);
            true
        })
    }
}

/// The client's address, as `serve` records it for every connection (plain or TLS).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for ClientAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsListener>>
    for ClientAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

/// The sender's IP address when the connection has one (not in the simulation's city).
struct ClientIp(Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<ClientAddr>>();
        Ok(ClientIp(info.map(|i| i.0 .0.ip())))
    }
}

impl IntoResponse for KotaError {
    fn into_response(self) -> Response {
        let status = match &self {
            KotaError::BadRequest(_)
            | KotaError::CodeInvalid
            | KotaError::KelurahanMismatch { .. } => StatusCode::BAD_REQUEST,
            KotaError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            KotaError::Revoked | KotaError::UnknownDevice => StatusCode::FORBIDDEN,
            KotaError::NotFound(_) => StatusCode::NOT_FOUND,
            KotaError::Gap { .. } | KotaError::EpochFenced => StatusCode::CONFLICT,
            KotaError::UpdateRequired => StatusCode::UPGRADE_REQUIRED,
            KotaError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            KotaError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            KotaError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            // The database's own words go to the server's log, not into the answer.
            KotaError::Database(e) => {
                eprintln!("balai-kota: kesalahan basis data: {}", e.for_log());
                "Kesalahan server.".to_string()
            }
            e => e.to_string(),
        };
        let expected_seq = match &self {
            KotaError::Gap { expected } => Some(*expected),
            _ => None,
        };
        let body = ErrorBody { code: self.code().into(), message, expected_seq };
        (status, Json(body)).into_response()
    }
}

pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/v1/time", get(time))
        .route("/v1/enrol", post(enrol))
        .route("/v1/whoami", get(whoami))
        .route("/v1/push", post(push))
        .route("/v1/pull", get(pull))
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/lease", post(lease))
        .route("/v1/digest", post(digest))
        .route("/v1/reference", get(reference))
        .route("/verify", get(verify))
        .route("/permohonan", get(request_form).post(request_submit))
        .route("/permohonan/status", get(request_status))
        .route("/admin", get(dashboard))
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/logout", post(logout))
        // Feed pages and pages for people, compressed for a client that asks (zstd only).
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(server)
}

async fn time(State(s): State<Arc<Server>>) -> Result<Json<ServerTime>, KotaError> {
    Ok(Json(ServerTime { server_time_ms: (s.clock)(), server_epoch: s.db.server_epoch() }))
}

/// A JSON route refuses a body declared as anything else (a form or plain text is what a
/// page of another site can send without asking the browser first).
fn json_only(headers: &axum::http::HeaderMap) -> Result<(), KotaError> {
    match headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("")) {
        None => Ok(()),
        Some(t)
            if t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")) =>
        {
            Ok(())
        }
        Some(_) => Err(KotaError::UnsupportedMediaType),
    }
}

async fn enrol(
    State(s): State<Arc<Server>>,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<Enrolled>, KotaError> {
    json_only(&headers)?;
    let now = (s.clock)();
    let who = ip.0.map(|i| i.to_string()).unwrap_or_default();
    if s.limits.enrol_failures.count(&who, now) >= ENROL_FAILURES_PER_HOUR {
        let _ = s.db.security_event(None, "enrol_rate_limited", &who, now);
        return Err(KotaError::TooManyAttempts);
    }
    let answer = enrol_with(&s, &body, now).await;
    if matches!(answer, Err(KotaError::CodeInvalid)) {
        s.limits.enrol_failures.add(&who, now);
    }
    answer
}

async fn enrol_with(s: &Server, body: &[u8], now: u64) -> Result<Json<Enrolled>, KotaError> {
    let req: EnrolRequest = serde_json::from_slice(body)
        .map_err(|e| KotaError::BadRequest(format!("Isi permintaan tidak sesuai: {e}")))?;
    if req.versions.protocol < s.min_push_protocol {
        return Err(KotaError::BadRequest("Perbarui aplikasi Balai sebelum mendaftar.".into()));
    }
    if let Some(office) = req.office_kelurahan.as_deref() {
        let office = balai_domain::office::normalize_region_code(
            office,
            balai_domain::office::RegionLevel::Kelurahan,
        )
        .unwrap_or_else(|| office.to_string());
        match s.db.code_kelurahan(&req.code, now)? {
            Some(code_for) if code_for != office => {
                return Err(KotaError::KelurahanMismatch { code_for, office })
            }
            _ => {}
        }
    }
    let new = crate::db::NewDevice {
        public_key_hex: &req.public_key_hex,
        hostname: &req.hostname,
        app_version: &req.versions.app_version,
        first_seq: req.first_seq,
        replaces: req.replaces,
    };
    let (device, k) = s.db.enrol(&req.code, &new, now)?;
    Ok(Json(Enrolled {
        device_id: device.id,
        epoch: device.epoch,
        kelurahan_code: k.code,
        kelurahan_name: k.name,
        server_time_ms: now,
        server_epoch: s.db.server_epoch(),
    }))
}

/// The largest request body accepted as sent (a push batch is at most `BATCH_MAX_BYTES`
/// compressed).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// A request signed by an enrolled, unrevoked device (see `auth`), with its body.
struct Signed {
    device: Device,
    /// When the device signed it, by its clock.
    signed_ms: u64,
    uri: Uri,
    body: Bytes,
}

impl FromRequest<Arc<Server>> for Signed {
    type Rejection = KotaError;

    async fn from_request(req: Request, s: &Arc<Server>) -> Result<Self, KotaError> {
        let (parts, body) = req.into_parts();
        json_only(&parts.headers)?;
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| KotaError::BadRequest("Isi permintaan terlalu besar.".into()))?;
        let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
        let (device, signed_ms) =
            device_of(&s.db, auth, parts.method.as_str(), path, &body, (s.clock)())?;
        let encoding = parts.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
        let body = match encoding {
            None | Some("identity") => body,
            // Signed first, decompressed after: only an enrolled device makes the server
            // decompress, and never past `MAX_DECODED_BYTES`.
            Some(e) if e.eq_ignore_ascii_case(ZSTD) => decompress(&body)?,
            Some(e) => return Err(KotaError::BadRequest(format!("Pemampatan {e} tidak dikenal."))),
        };
        Ok(Signed { device, signed_ms, uri: parts.uri, body })
    }
}

fn decompress(body: &[u8]) -> Result<Bytes, KotaError> {
    use std::io::Read;
    let bad = |what: &str| KotaError::BadRequest(format!("Isi permintaan {what}."));
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(body)
        .map_err(|_| bad("tidak terbaca"))?
        .take(MAX_DECODED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| bad("rusak"))?;
    if out.len() > MAX_DECODED_BYTES {
        return Err(bad("terlalu besar"));
    }
    Ok(out.into())
}

async fn whoami(State(s): State<Arc<Server>>, r: Signed) -> Result<Json<WhoAmI>, KotaError> {
    let last_applied = crate::feed::last_applied(&s.db, &r.device)?;
    let d = r.device;
    let (device_id, epoch, kelurahan_code) = (d.id, d.epoch, d.kelurahan_code);
    let server_time_ms = (s.clock)();
    Ok(Json(WhoAmI { device_id, epoch, kelurahan_code, server_time_ms, last_applied }))
}

async fn push(State(s): State<Arc<Server>>, r: Signed) -> Result<Json<PushResponse>, KotaError> {
    let req: PushRequest = serde_json::from_slice(&r.body)
        .map_err(|e| KotaError::BadRequest(format!("Isi permintaan tidak sesuai: {e}")))?;
    if req.versions.protocol < s.min_push_protocol {
        // Held on the client, never dropped: it pushes again after the update.
        return Err(KotaError::UpdateRequired);
    }
    let now = (s.clock)();
    let (acked_through, results) = crate::feed::push(&s.db, &r.device, &req, (now, r.signed_ms))?;
    let server_epoch = s.db.server_epoch();
    Ok(Json(PushResponse { acked_through, results, server_time_ms: now, server_epoch }))
}

#[derive(Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: u64,
    #[serde(default)]
    limit: Option<u32>,
    /// The newest op number the PC holds: fewer than the server applied means a restored copy.
    #[serde(default)]
    head: Option<u64>,
    /// The newest lease ask number the PC holds: fewer than the server granted, the same.
    #[serde(default)]
    asks: Option<u64>,
}

async fn pull(State(s): State<Arc<Server>>, r: Signed) -> Result<Json<PullResponse>, KotaError> {
    let q: Query<PullQuery> = Query::try_from_uri(&r.uri)
        .map_err(|e| KotaError::BadRequest(format!("cursor/limit tidak sesuai: {e}")))?;
    let limit = q.limit.unwrap_or(crate::feed::MAX_PULL);
    if let Some(head) = q.head {
        let holds = crate::feed::Holds { head, asks: q.asks };
        crate::feed::check_head(&s.db, &r.device, (holds, r.signed_ms), (s.clock)())?;
    }
    let (changes, next_cursor, has_more) = crate::feed::pull(&s.db, &r.device, q.cursor, limit)?;
    let server_epoch = s.db.server_epoch();
    let reference_seq = crate::contest::reference_seq(&s.db)?;
    Ok(Json(PullResponse {
        changes,
        next_cursor,
        has_more,
        server_time_ms: (s.clock)(),
        server_epoch,
        reference_seq,
    }))
}

#[derive(Debug, serde::Deserialize)]
struct ReferenceQuery {
    #[serde(default)]
    after: u64,
}

/// The city-wide reference feed after `after`, for any enrolled device.
async fn reference(
    State(s): State<Arc<Server>>,
    r: Signed,
) -> Result<Json<balai_protocol::ReferenceResponse>, KotaError> {
    let q: Query<ReferenceQuery> = Query::try_from_uri(&r.uri)
        .map_err(|e| KotaError::BadRequest(format!("after tidak sesuai: {e}")))?;
    Ok(Json(crate::contest::reference_after(&s.db, q.after)?))
}

#[derive(Debug, serde::Deserialize)]
struct SnapshotQuery {
    /// `table:row_id` of the last row the client holds; none for the first page.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn snapshot(State(s): State<Arc<Server>>, r: Signed) -> Result<Response, KotaError> {
    let q: Query<SnapshotQuery> = Query::try_from_uri(&r.uri)
        .map_err(|e| KotaError::BadRequest(format!("after/limit tidak sesuai: {e}")))?;
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(a) => {
            let bad = || KotaError::BadRequest("after harus berbentuk tabel:id-baris.".into());
            let (table, row) = a.split_once(':').ok_or_else(bad)?;
            Some((table, uuid::Uuid::parse_str(row).map_err(|_| bad())?))
        }
    };
    let limit = q.limit.unwrap_or(s.snapshot_rows).min(s.snapshot_rows);
    let (as_of, mut rows, next_after) = crate::feed::snapshot(&s.db, &r.device, after, limit)?;
    let mut commands = Vec::new();
    if next_after.is_empty() {
        let (deleted, requests) = crate::feed::snapshot_commands(&s.db, &r.device)?;
        for d in deleted {
            if !rows.is_empty() {
                rows.push(',');
            }
            rows.push_str(
                &serde_json::to_string(&d).map_err(|e| KotaError::BadRequest(e.to_string()))?,
            );
        }
        commands = requests;
    }
    // The rows are JSON already (written from the stored text); the rest as serde writes it,
    // so the page reads back as a `SnapshotPage`.
    let rest = serde_json::json!({
        "commands": commands,
        "next_after": next_after,
        "server_time_ms": (s.clock)(),
        "server_epoch": s.db.server_epoch(),
    })
    .to_string();
    let body = format!(r#"{{"as_of":{as_of},"rows":[{rows}],{}"#, &rest[1..]);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn lease(State(s): State<Arc<Server>>, r: Signed) -> Result<Json<LeaseResponse>, KotaError> {
    let req: LeaseRequest = serde_json::from_slice(&r.body)
        .map_err(|e| KotaError::BadRequest(format!("Isi permintaan tidak sesuai: {e}")))?;
    let now = (s.clock)();
    let leases = crate::leases::grant(&s.db, &r.device, &req, (now, r.signed_ms))?;
    Ok(Json(LeaseResponse { leases, server_time_ms: now, server_epoch: s.db.server_epoch() }))
}

async fn digest(
    State(s): State<Arc<Server>>,
    r: Signed,
) -> Result<Json<DigestResponse>, KotaError> {
    let req: DigestRequest = serde_json::from_slice(&r.body)
        .map_err(|e| KotaError::BadRequest(format!("Isi permintaan tidak sesuai: {e}")))?;
    Ok(Json(crate::feed::digest(&s.db, &r.device, &req.tables)?))
}

#[derive(Deserialize)]
struct VerifyQuery {
    #[serde(default)]
    p: Option<String>,
}

/// The public verification page (no authentication): the form, and the verdict for `?p=`.
async fn verify(
    State(s): State<Arc<Server>>,
    ip: ClientIp,
    q: Query<VerifyQuery>,
) -> Result<Response, KotaError> {
    let text = q.p.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let now = (s.clock)();
    if let (Some(_), Some(ip)) = (text, ip.0) {
        if !s.limits.verify.allow(&ip.to_string(), now, VERIFY_PER_HOUR) {
            let _ = s.db.security_event(None, "verify_rate_limited", &ip.to_string(), now);
            let page = crate::verify::busy_page();
            return Ok((StatusCode::TOO_MANY_REQUESTS, axum::response::Html(page)).into_response());
        }
    }
    // The city's date in its own zone, for "expired".
    let today = crate::html::local_time((s.clock)(), s.db.city_offset()?).date_naive();
    let verdict = match text {
        Some(t) => Some(crate::verify::check(&s.db, t, today)?),
        None => None,
    };
    Ok(axum::response::Html(crate::verify::page(text, verdict.as_ref())).into_response())
}

/// The session token of the city admin's cookie, if the request carries one.
fn session_token(headers: &axum::http::HeaderMap) -> Option<String> {
    let prefix = format!("{}=", crate::dashboard::COOKIE);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&prefix).map(str::to_string))
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// The city dashboard, for a logged-in city admin; anyone else is sent to the login form.
#[derive(Debug, serde::Deserialize)]
struct DashboardQuery {
    /// The rule set whose scores rank the kelurahan (default SPBE).
    ruleset: Option<String>,
}

async fn dashboard(
    State(s): State<Arc<Server>>,
    headers: axum::http::HeaderMap,
    q: Query<DashboardQuery>,
) -> Result<Response, KotaError> {
    let now = (s.clock)();
    let admin = match session_token(&headers) {
        Some(t) => crate::dashboard::session(&s.db, &t, now)?,
        None => None,
    };
    let Some(admin) = admin else { return Ok(see_other("/admin/login")) };
    use chrono::Datelike;
    let offset = s.db.city_offset()?;
    let year = crate::html::local_time(now, offset).year();
    let all = crate::dashboard::summaries(&s.db, year, now)?;
    let titles = crate::contest::ruleset_titles(&s.db)?;
    let ruleset = q
        .ruleset
        .as_deref()
        .and_then(|r| titles.iter().find(|(id, _)| id == r))
        .or_else(|| titles.iter().find(|(id, _)| id == "spbe"))
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    let scores = crate::contest::scores(&s.db, &ruleset)?;
    let ranked = crate::dashboard::Ranked { ruleset: &ruleset, titles: &titles, scores: &scores };
    Ok(axum::response::Html(crate::dashboard::page(&admin, year, offset, &all, &ranked))
        .into_response())
}

async fn login_form() -> axum::response::Html<String> {
    axum::response::Html(crate::dashboard::login_page(None))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    State(s): State<Arc<Server>>,
    ip: ClientIp,
    form: axum::Form<LoginForm>,
) -> Result<Response, KotaError> {
    let now = (s.clock)();
    let by_address = format!("ip:{}", ip.0.map(|i| i.to_string()).unwrap_or_default());
    let by_name = format!("user:{}", form.username.trim().to_lowercase());
    let failures = &s.limits.login_failures;
    if failures.count(&by_address, now) >= LOGIN_FAILURES_PER_HOUR
        || failures.count(&by_name, now) >= LOGIN_FAILURES_PER_HOUR
    {
        let _ = s.db.security_event(None, "login_rate_limited", &by_address, now);
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            axum::response::Html(crate::dashboard::login_page(Some(
                "Terlalu banyak percobaan masuk yang gagal; coba lagi dalam satu jam.",
            ))),
        )
            .into_response());
    }
    let found = crate::dashboard::login(&s.db, &form.username, &form.password, now)?;
    if found.is_none() {
        failures.add(&by_address, now);
        failures.add(&by_name, now);
    }
    match found {
        Some(token) => {
            let cookie = format!(
                "{}={token}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age={}",
                crate::dashboard::COOKIE,
                crate::dashboard::SESSION_MS / 1000
            );
            let mut res = see_other("/admin");
            if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        None => Ok((
            StatusCode::UNAUTHORIZED,
            axum::response::Html(crate::dashboard::login_page(Some(
                "Nama pengguna atau kata sandi salah.",
            ))),
        )
            .into_response()),
    }
}

async fn logout(
    State(s): State<Arc<Server>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, KotaError> {
    if let Some(t) = session_token(&headers) {
        crate::dashboard::logout(&s.db, &t)?;
    }
    let mut res = see_other("/admin/login");
    let gone =
        format!("{}=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0", crate::dashboard::COOKIE);
    if let Ok(v) = axum::http::HeaderValue::from_str(&gone) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The public request form (step 1: the kelurahan; step 2: the request).
async fn request_form(
    State(s): State<Arc<Server>>,
    q: Query<crate::requests::Form>,
) -> Result<axum::response::Html<String>, KotaError> {
    let page = crate::requests::form_page(&s.db, &q, &Default::default())?;
    Ok(axum::response::Html(page))
}

async fn request_submit(
    State(s): State<Arc<Server>>,
    ip: ClientIp,
    form: axum::Form<crate::requests::Form>,
) -> Result<Response, KotaError> {
    let now = (s.clock)();
    if let Some(ip) = ip.0 {
        if !s.limits.form.allow(&ip.to_string(), now, FORM_PER_HOUR) {
            let _ = s.db.security_event(None, "form_rate_limited", &ip.to_string(), now);
            let page = crate::requests::busy_page();
            return Ok((StatusCode::TOO_MANY_REQUESTS, axum::response::Html(page)).into_response());
        }
    }
    Ok(match crate::requests::submit(&s.db, &form, now)? {
        Ok(code) => axum::response::Html(crate::requests::sent_page(&code)).into_response(),
        Err(errors) => {
            let page = crate::requests::form_page(&s.db, &form, &errors)?;
            (StatusCode::BAD_REQUEST, axum::response::Html(page)).into_response()
        }
    })
}

#[derive(Deserialize)]
struct TrackQuery {
    #[serde(default)]
    kode: Option<String>,
}

async fn request_status(
    State(s): State<Arc<Server>>,
    q: Query<TrackQuery>,
) -> Result<axum::response::Html<String>, KotaError> {
    let code = q.kode.as_deref().map(str::trim).filter(|c| !c.is_empty());
    Ok(axum::response::Html(crate::requests::status_page(&s.db, code)?))
}

/// The city in this process, for the deterministic simulation: each request goes through the
/// same router, extractors and handlers as over the network, on a single-threaded runtime, so
/// a run is one thread and reproducible.
pub struct InProcess {
    router: Router,
    runtime: tokio::runtime::Runtime,
}

impl InProcess {
    pub fn new(server: Arc<Server>) -> std::io::Result<InProcess> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(InProcess { router: router(server), runtime })
    }

    /// One request (`path` with its query); (status, body as sent).
    pub fn handle(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, Vec<u8>) {
        use tower::ServiceExt;
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let Ok(req) = req.body(axum::body::Body::from(body)) else {
            return (400, b"{}".to_vec());
        };
        self.runtime.block_on(async {
            let Ok(res) = self.router.clone().oneshot(req).await;
            let status = res.status().as_u16();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await;
            (status, body.map(|b| b.to_vec()).unwrap_or_default())
        })
    }
}
