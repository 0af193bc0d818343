//! Residents' online requests at the office: the queue the city passes down, and the clerk's
//! three moves — take a request (this PC holds it; the city says no if another PC of the
//! office took it first), then finish it (the letter is ready) or refuse it with a reason the
//! resident reads on the city's status page. Each move is one transaction with its command
//! for the city and its audit entry.

use crate::areas::{audit, letters};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::letter_payload::mask_nik;
use balai_protocol::{ClaimRequest, RequestStatus, CLAIM_REQUEST, REQUEST_STATUS};
use balai_store::requests::{self as store_requests, RequestRow};
use balai_store::sync::append_command;
use balai_store::StoreError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::NoArgs;

/// One request as the queue shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestView {
    pub id: String,
    pub tracking_code: String,
    pub nik: String,
    pub nik_masked: String,
    pub no_kk: String,
    pub letter_type: String,
    /// The type's title from this office's templates (the code when it has none).
    pub letter_title: String,
    pub purpose: String,
    pub contact: String,
    pub submitted_at_ms: u64,
    /// `diajukan`, `diproses`, `selesai` or `ditolak`.
    pub status: String,
    /// `here` (this PC holds it), `other` (another PC of the office does) or `none`.
    pub held_by: String,
    pub note: String,
}

/// This PC's device id at the city (`None` before enrolment).
pub(crate) fn this_device(app: &App) -> Result<Option<String>, ApiError> {
    app.store.read(|c| {
        balai_store::sync::state(c, "server_device_id").map_err(|e| StoreError::from(e).into())
    })
}

fn view(r: RequestRow, me: Option<&str>) -> RequestView {
    let held_by = match (&r.claimed_by, me) {
        (None, _) => "none",
        (Some(d), Some(m)) if d == m => "here",
        (Some(_), _) => "other",
    };
    let letter_title = letters::title_of(&r.letter_type).unwrap_or_else(|| r.letter_type.clone());
    RequestView {
        id: r.id.to_string(),
        tracking_code: r.tracking_code,
        nik_masked: mask_nik(&r.nik),
        nik: r.nik,
        no_kk: r.no_kk,
        letter_type: r.letter_type,
        letter_title,
        purpose: r.purpose,
        contact: r.contact,
        submitted_at_ms: r.submitted_at_ms,
        status: r.status,
        held_by: held_by.into(),
        note: r.note,
    }
}

pub fn list(app: &App, ctx: &Ctx, _a: NoArgs) -> Result<Vec<RequestView>, ApiError> {
    ctx.actor()?;
    let me = this_device(app)?;
    let rows = app.store.read(|c| Ok::<_, ApiError>(store_requests::list(c)?))?;
    Ok(rows.into_iter().map(|r| view(r, me.as_deref())).collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    pub id: String,
}

fn request(app: &App, id: &str) -> Result<(Uuid, RequestRow), ApiError> {
    let id = Uuid::parse_str(id.trim())
        .map_err(|_| ApiError::field("id", "id", "Nomor permohonan tidak sah."))?;
    let row = app
        .store
        .read(|c| Ok::<_, ApiError>(store_requests::get(c, id)?))?
        .ok_or_else(|| ApiError::not_found("Permohonan"))?;
    Ok((id, row))
}

/// This PC takes a waiting request.
pub fn claim(app: &App, ctx: &Ctx, a: IdArgs) -> Result<RequestView, ApiError> {
    let actor = ctx.actor()?;
    let me = this_device(app)?.ok_or_else(|| {
        ApiError::new(ErrorCode::NotInitialized, "Komputer ini belum terdaftar ke server kota.")
    })?;
    let (id, row) = request(app, &a.id)?;
    if row.status != "diajukan" || row.claimed_by.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Permohonan ini sudah diambil atau selesai.".to_string(),
        ));
    }
    let now = app.now().timestamp_millis().max(0) as u64;
    app.write(actor, |tx| {
        store_requests::set_status(tx, id, "diproses", Some(&me), "", now)?;
        append_command(tx, CLAIM_REQUEST, id, &ClaimRequest { request_id: id })?;
        audit::record_in(tx, app, actor, "requests.claim", "online_request", &id.to_string(), "")
    })?;
    let row = request(app, &a.id)?.1;
    Ok(view(row, Some(&me)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveArgs {
    pub id: String,
    /// `selesai` (the letter is ready) or `ditolak`.
    pub status: String,
    /// For the resident: e.g. the letter's number, or why it is refused (required then).
    #[serde(default)]
    pub note: String,
}

/// The PC holding a request finishes or refuses it.
pub fn resolve(app: &App, ctx: &Ctx, a: ResolveArgs) -> Result<RequestView, ApiError> {
    let actor = ctx.actor()?;
    let me = this_device(app)?.ok_or_else(|| {
        ApiError::new(ErrorCode::NotInitialized, "Komputer ini belum terdaftar ke server kota.")
    })?;
    if !["selesai", "ditolak"].contains(&a.status.as_str()) {
        return Err(ApiError::field("status", "status", "Status harus selesai atau ditolak."));
    }
    let note = a.note.trim();
    if a.status == "ditolak" && note.is_empty() {
        return Err(ApiError::field("note", "required", "Tulis alasan penolakan untuk pemohon."));
    }
    if note.chars().count() > 300 {
        return Err(ApiError::field("note", "too_long", "Catatan paling banyak 300 huruf."));
    }
    let (id, row) = request(app, &a.id)?;
    if row.claimed_by.as_deref() != Some(me.as_str()) || row.status != "diproses" {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Ambil permohonan ini dulu (atau sudah dipegang komputer lain).".to_string(),
        ));
    }
    let now = app.now().timestamp_millis().max(0) as u64;
    app.write(actor, |tx| {
        store_requests::set_status(tx, id, &a.status, Some(&me), note, now)?;
        let s = RequestStatus {
            request_id: id,
            status: a.status.clone(),
            note: note.into(),
            device: None,
        };
        append_command(tx, REQUEST_STATUS, id, &s)?;
        audit::record_in(
            tx,
            app,
            actor,
            "requests.resolve",
            "online_request",
            &id.to_string(),
            &a.status,
        )
    })?;
    let row = request(app, &a.id)?.1;
    Ok(view(row, Some(&me)))
}
