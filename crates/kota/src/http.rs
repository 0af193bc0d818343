//! The routes of Balai Kota. Each handler is one call into `db`/`auth`; errors become a
//! `balai_protocol::ErrorBody` with its stable code.
//!
//! Public (no device key): `GET /v1/time`, `POST /v1/enrol`. Signed by a device: `GET
//! /v1/whoami`. Nothing else exists yet.

use crate::auth::device_of;
use crate::db::Db;
use crate::KotaError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use balai_protocol::{EnrolRequest, Enrolled, ErrorBody, ServerTime, WhoAmI, MIN_PUSH_PROTOCOL};
use std::sync::Arc;

/// The server's clock: milliseconds since the Unix epoch.
pub type Clock = fn() -> u64;

pub struct Server {
    pub db: Db,
    pub clock: Clock,
}

impl IntoResponse for KotaError {
    fn into_response(self) -> Response {
        let status = match &self {
            KotaError::BadRequest(_) | KotaError::CodeInvalid => StatusCode::BAD_REQUEST,
            KotaError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            KotaError::Revoked => StatusCode::FORBIDDEN,
            KotaError::NotFound(_) => StatusCode::NOT_FOUND,
            KotaError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            // The database's own words stay in the server's log, not in the answer.
            KotaError::Database(_) => "Kesalahan server.".to_string(),
            e => e.to_string(),
        };
        let body = ErrorBody { code: self.code().into(), message, expected_seq: None };
        (status, Json(body)).into_response()
    }
}

pub fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/v1/time", get(time))
        .route("/v1/enrol", post(enrol))
        .route("/v1/whoami", get(whoami))
        .with_state(server)
}

async fn time(State(s): State<Arc<Server>>) -> Result<Json<ServerTime>, KotaError> {
    Ok(Json(ServerTime { server_time_ms: (s.clock)(), server_epoch: s.db.server_epoch()? }))
}

async fn enrol(State(s): State<Arc<Server>>, body: Bytes) -> Result<Json<Enrolled>, KotaError> {
    let req: EnrolRequest = serde_json::from_slice(&body)
        .map_err(|e| KotaError::BadRequest(format!("Isi permintaan tidak sesuai: {e}")))?;
    if req.versions.protocol < MIN_PUSH_PROTOCOL {
        return Err(KotaError::BadRequest("Perbarui aplikasi Balai sebelum mendaftar.".into()));
    }
    let now = (s.clock)();
    let (device, k) =
        s.db.enrol(&req.code, &req.public_key_hex, &req.hostname, &req.versions.app_version, now)?;
    Ok(Json(Enrolled {
        device_id: device.id,
        epoch: device.epoch,
        kelurahan_code: k.code,
        kelurahan_name: k.name,
        server_time_ms: now,
        server_epoch: s.db.server_epoch()?,
    }))
}

async fn whoami(
    State(s): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WhoAmI>, KotaError> {
    let now = (s.clock)();
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let d = device_of(&s.db, auth, method.as_str(), path, &body, now)?;
    Ok(Json(WhoAmI {
        device_id: d.id,
        epoch: d.epoch,
        kelurahan_code: d.kelurahan_code,
        server_time_ms: now,
    }))
}
