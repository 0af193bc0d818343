//! Evidence files: checked (PDF, PNG or JPEG, at most 10 MB, a name without a path), stored
//! once by content hash with a thumbnail, attached to an indicator of a period, detached, read.

use super::*;

/// The largest evidence file taken: a scanned decree or a phone photo fits well under it.
pub const EVIDENCE_MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachArgs {
    pub ruleset: String,
    pub period: i32,
    pub indicator: String,
    pub file_name: String,
    pub data_base64: String,
}

/// An evidence file checked and ready to store.
pub(super) struct Prepared {
    bytes: Vec<u8>,
    media_type: &'static str,
    file_name: String,
    thumbnail: Option<Vec<u8>>,
    sha256: String,
}

/// Decodes and checks an evidence file: PDF, PNG or JPEG, at most 10 MB, named.
pub(super) fn prepare_evidence(f: &NewEvidence) -> Result<Prepared, ApiError> {
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(f.data_base64.trim()).map_err(|_| {
            ApiError::field("file", "base64", "Isi berkas bukti tidak terbaca (base64).")
        })?;
    if bytes.is_empty() {
        return Err(ApiError::field("file", "empty", "Berkas bukti kosong."));
    }
    if bytes.len() > EVIDENCE_MAX_BYTES {
        return Err(ApiError::field("file", "too_large", "Berkas bukti paling besar 10 MB."));
    }
    let media_type = if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else {
        return Err(ApiError::field("file", "type", "Bukti harus berupa PDF, PNG atau JPEG."));
    };
    // Only the name itself: a path sent along (C:\…\foto.jpg, ../../x) is not kept.
    let file_name: String = f
        .file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if file_name.is_empty() || file_name == "." || file_name == ".." {
        return Err(ApiError::field("file_name", "required", "Nama berkas bukti wajib diisi."));
    }
    let thumbnail = match media_type {
        // A PDF shows its first page (text or scan); one that cannot be drawn keeps the badge "PDF".
        "application/pdf" => crate::areas::scan::pdf_thumbnail(&bytes),
        _ => Some(
            crate::areas::scan::thumbnail_png(&bytes)
                .map_err(|e| ApiError::field("file", "image_unreadable", e.message))?,
        ),
    };
    let sha256 = balai_domain::sha256_hex(&bytes);
    Ok(Prepared { bytes, media_type, file_name, thumbnail, sha256 })
}

pub(super) fn attach_in(
    tx: &WriteTx,
    app: &App,
    actor: &Actor,
    rs: &RuleSet,
    period: i32,
    indicator: &str,
    f: &Prepared,
) -> Result<EvidenceRow, ApiError> {
    if rs.indicator(indicator).is_none() {
        return Err(ApiError::field(
            "indicator",
            "unknown",
            format!("Indikator `{indicator}` tidak ada di {} {}.", rs.title, rs.edition),
        ));
    }
    let row = EvidenceRow {
        id: app.new_id(),
        ruleset: rs.id.clone(),
        period,
        indicator: indicator.to_string(),
        sha256: f.sha256.clone(),
        file_name: f.file_name.clone(),
        media_type: f.media_type.into(),
        size: f.bytes.len() as u64,
        thumbnail: f.thumbnail.is_some(),
        added_by: actor.name.clone(),
        added_at_ms: app.now().timestamp_millis().max(0) as u64,
    };
    store::put_file(tx, &f.sha256, f.media_type, &f.bytes, f.thumbnail.as_deref())?;
    if !store::attach(tx, &row)? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("Berkas {} sudah menjadi bukti indikator {indicator}.", f.file_name),
        ));
    }
    audit::record_in(
        tx,
        app,
        actor,
        "contest.attach",
        "contest_evidence",
        &row.id.to_string(),
        &format!("{}/{period}/{indicator} {}", rs.id, f.sha256),
    )?;
    Ok(row)
}

/// Attaches an evidence file (PDF, PNG or JPEG) to an indicator of a period.
pub fn attach(app: &App, ctx: &Ctx, a: AttachArgs) -> Result<EvidenceView, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let id = a.ruleset.trim();
    let f = prepare_evidence(&NewEvidence { file_name: a.file_name, data_base64: a.data_base64 })?;
    let indicator = a.indicator.trim();
    let row = app.write(actor, |tx| {
        refuse_if_submitted(tx, id, period)?;
        let rs = period_edition(tx, id, period)?;
        attach_in(tx, app, actor, rs, period, indicator, &f)
    })?;
    Ok(evidence_view(row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachArgs {
    pub id: String,
}

/// Removes an evidence file from its indicator (the bytes go when nothing else uses them).
pub fn detach(app: &App, ctx: &Ctx, a: DetachArgs) -> Result<(), ApiError> {
    let actor = ctx.actor()?;
    let id = Uuid::parse_str(a.id.trim())
        .map_err(|_| ApiError::field("id", "id", "Nomor bukti tidak sah."))?;
    app.write(actor, |tx| {
        let (ruleset, period, sha) =
            store::evidence_by_id(tx, id)?.ok_or_else(|| ApiError::not_found("Bukti"))?;
        refuse_if_submitted(tx, &ruleset, period)?;
        store::detach(tx, id)?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.detach",
            "contest_evidence",
            &id.to_string(),
            &sha,
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileArgs {
    pub sha256: String,
    /// The small PNG of a photo instead of the file.
    #[serde(default)]
    pub thumbnail: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub media_type: String,
    pub content_base64: String,
}

/// An evidence file's bytes (or its thumbnail), to show or open.
pub fn evidence_file(app: &App, ctx: &Ctx, a: FileArgs) -> Result<EvidenceFile, ApiError> {
    use base64::Engine;
    ctx.actor()?;
    let (media_type, bytes, thumb) = app
        .store
        .read(|c| Ok::<_, ApiError>(store::file(c, a.sha256.trim())?))?
        .ok_or_else(|| ApiError::not_found("Berkas bukti"))?;
    let (media_type, bytes) = match (a.thumbnail, thumb) {
        (true, Some(t)) => ("image/png".to_string(), t),
        (true, None) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "Berkas ini tidak bergambar kecil (PDF).",
            ))
        }
        (false, _) => (media_type, bytes),
    };
    Ok(EvidenceFile {
        media_type,
        content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}
