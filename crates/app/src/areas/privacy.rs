//! Personal data under UU 27/2022 as the office handles it: legal holds, the end of retention
//! (anonymisation), data subjects' requests and breach notices.
//!
//! The rules (which data is specific, how long each kind of record is kept) are balai-domain's
//! `privacy`, read from `assets/privacy/rules.toml`. Reads of specific data are audited where
//! the data is shown (`residents.show`), exports and prints where they are made; this area
//! does not show resident data except in a data subject's own copy.

use crate::areas::residents::{self, KeyArgs, ResidentView};
use crate::areas::{audit, NoArgs};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::field::required_text;
use balai_domain::letter_payload::mask_nik;
use balai_domain::privacy::{self, PrivacyRules, RetentionKind};
use balai_domain::FieldErrors;
use balai_store::privacy::{self as store, AuditAbout, BreachMoment, BreachRow, LetterAbout};
use balai_store::{profile, signatories, Uuid};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// UU 27/2022 gives the controller 3 × 24 hours to answer a data subject (Pasal 32–33) and to
/// notify a breach (Pasal 46).
const ANSWER_WITHIN_HOURS: i64 = 72;

pub fn rules(_app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<PrivacyRules, ApiError> {
    Ok(privacy::rules().clone())
}

fn parse_id(raw: &str, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::field(field, "id_format", "Id tidak valid."))
}

// ---------------------------------------------------------------- legal hold

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldArgs {
    /// The resident's id or NIK.
    pub key: String,
    /// Why the record must be kept (e.g. a court case number). Required.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldState {
    pub id: String,
    /// The reason of the hold; empty when there is none.
    pub legal_hold: String,
}

/// Places a legal hold: the record is not anonymised when its retention period ends, until
/// the hold is released. Synced, so every PC of the office keeps it.
pub fn hold(app: &App, ctx: &Ctx, a: HoldArgs) -> Result<HoldState, ApiError> {
    let actor = ctx.actor()?;
    let mut e = FieldErrors::default();
    required_text(&mut e, "reason", &a.reason, 300);
    e.into_result()?;
    let r = residents::find(app, &a.key)?;
    let reason = a.reason.trim().to_string();
    app.write(actor, |tx| {
        store::set_legal_hold(tx, r.id, &reason, &app.now_text())?;
        audit::record_in(tx, app, actor, "privacy.hold", "resident", &r.id.to_string(), "")
    })?;
    Ok(HoldState { id: r.id.to_string(), legal_hold: reason })
}

pub fn release(app: &App, ctx: &Ctx, a: KeyArgs) -> Result<HoldState, ApiError> {
    let actor = ctx.actor()?;
    let r = residents::find(app, &a.key)?;
    app.write(actor, |tx| {
        store::set_legal_hold(tx, r.id, "", &app.now_text())?;
        audit::record_in(tx, app, actor, "privacy.release", "resident", &r.id.to_string(), "")
    })?;
    Ok(HoldState { id: r.id.to_string(), legal_hold: String::new() })
}

// ---------------------------------------------------------------- retention

/// A record whose retention period has ended. No name or NIK: the admin opens the record by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DueRecord {
    pub kind: RetentionKind,
    /// `resident` or `online_request`.
    pub entity: String,
    pub id: String,
    pub since: NaiveDate,
    pub kept_until: NaiveDate,
    /// Under a legal hold: stays as it is.
    pub held: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionReport {
    pub rules_version: String,
    pub today: NaiveDate,
    pub rules: Vec<privacy::RetentionRule>,
    /// Every record past its period, held ones included (flagged).
    pub due: Vec<DueRecord>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Anonymised {
    pub residents: usize,
    pub requests: usize,
    /// Past their period but under a legal hold: left as they are.
    pub held: usize,
}

fn ms_date(ms: u64) -> NaiveDate {
    // A time that does not read is never "long ago": the request is kept, not anonymised.
    DateTime::<Utc>::from_timestamp_millis(ms as i64).map_or(NaiveDate::MAX, |t| t.date_naive())
}

fn due_records(conn: &balai_store::ReadConn, today: NaiveDate) -> Result<Vec<DueRecord>, ApiError> {
    let rules = privacy::rules();
    let mut out = Vec::new();
    for r in store::left_residents(conn)? {
        let kind = if r.status == "mati" {
            RetentionKind::PendudukMeninggal
        } else {
            RetentionKind::PendudukPindah
        };
        let rule = rules.retention_of(kind);
        if rule.is_due(r.since, today) {
            out.push(DueRecord {
                kind,
                entity: "resident".into(),
                id: r.id.to_string(),
                since: r.since,
                kept_until: rule.kept_until(r.since),
                held: r.held,
            });
        }
    }
    let rule = rules.retention_of(RetentionKind::PermohonanDaring);
    for q in store::closed_requests(conn)? {
        let since = ms_date(q.submitted_at_ms);
        if rule.is_due(since, today) {
            out.push(DueRecord {
                kind: RetentionKind::PermohonanDaring,
                entity: "online_request".into(),
                id: q.id.to_string(),
                since,
                kept_until: rule.kept_until(since),
                held: store::nik_is_held(conn, &q.nik)?,
            });
        }
    }
    Ok(out)
}

pub fn retention(app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<RetentionReport, ApiError> {
    let today = app.today();
    let rules = privacy::rules();
    Ok(RetentionReport {
        rules_version: rules.version.clone(),
        today,
        rules: rules.retention.clone(),
        due: app.store.read(|c| due_records(c, today))?,
    })
}

/// Anonymises every record past its period and not held, in one transaction, each with its
/// own audit entry; the changes sync to the city and the office's other PCs as edits.
pub fn anonymise_due(app: &App, ctx: &Ctx, _a: NoArgs) -> Result<Anonymised, ApiError> {
    let actor = ctx.actor()?;
    let today = app.today();
    let version = &privacy::rules().version;
    let at = app.now_text();
    app.write(actor, |tx| {
        let mut done = Anonymised::default();
        for d in due_records(tx, today)? {
            if d.held {
                done.held += 1;
                continue;
            }
            let id = parse_id(&d.id, "id")?;
            if d.entity == "resident" {
                store::anonymise_resident(tx, id, &privacy::anonymous_nik(id.as_bytes()), &at)?;
                done.residents += 1;
            } else {
                let row = balai_store::requests::get(tx, id)?
                    .ok_or_else(|| ApiError::not_found("Permohonan"))?;
                store::anonymise_request(tx, id, &mask_nik(&row.nik), &mask_nik(&row.no_kk))?;
                done.requests += 1;
            }
            let detail = format!("aturan={} versi={version}", d.kind.code());
            audit::record_in(tx, app, actor, "privacy.anonymised", &d.entity, &d.id, &detail)?;
        }
        if done.residents > 0 {
            store::compact_name_index(tx)?;
        }
        Ok(done)
    })
}

// ---------------------------------------------------------------- data subjects' requests

const SUBJECT_KINDS: [&str; 4] = ["akses", "perbaikan", "keberatan", "penghapusan"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectAddArgs {
    /// `akses`, `perbaikan`, `keberatan` or `penghapusan`.
    pub kind: String,
    /// The resident's id or NIK, when found in the register (optional).
    #[serde(default)]
    pub key: String,
    /// Who asked (the resident or their representative).
    pub requester: String,
    /// What was asked, in the requester's words.
    pub details: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SubjectRequestView {
    #[serde(flatten)]
    pub row: store::SubjectRequestRow,
    /// Still waiting past its 3 × 24 hours.
    pub overdue: bool,
    /// Hours left to answer (negative when overdue); 0 once decided.
    pub hours_left: i64,
}

impl std::fmt::Debug for SubjectRequestView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectRequestView").field("row", &self.row).finish_non_exhaustive()
    }
}

fn hours_until(deadline: &str, now: DateTime<Utc>) -> i64 {
    DateTime::parse_from_rfc3339(deadline)
        .map(|d| (d.with_timezone(&Utc) - now).num_minutes().div_euclid(60))
        .unwrap_or(0)
}

fn subject_view(row: store::SubjectRequestRow, now: DateTime<Utc>) -> SubjectRequestView {
    let open = row.status == "diterima";
    let hours_left = if open { hours_until(&row.due_at, now) } else { 0 };
    SubjectRequestView { overdue: open && hours_left < 0, hours_left, row }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Records a request as received now; it is due 3 × 24 hours later.
pub fn subject_add(
    app: &App,
    ctx: &Ctx,
    a: SubjectAddArgs,
) -> Result<SubjectRequestView, ApiError> {
    let actor = ctx.actor()?;
    let mut e = FieldErrors::default();
    let kind = a.kind.trim().to_lowercase();
    if !SUBJECT_KINDS.contains(&kind.as_str()) {
        e.push(
            "kind",
            "subject_kind",
            "Jenis permintaan: akses, perbaikan, keberatan atau penghapusan.",
        );
    }
    required_text(&mut e, "requester", &a.requester, 200);
    required_text(&mut e, "details", &a.details, 4000);
    let resident = if a.key.trim().is_empty() {
        None
    } else {
        match residents::find(app, &a.key) {
            Ok(r) => Some(r.id),
            Err(err) if err.code == ErrorCode::NotFound => {
                e.push("key", "not_found", "Penduduk tidak ditemukan.");
                None
            }
            Err(err) => return Err(err),
        }
    };
    e.into_result()?;
    let id = app.new_id();
    let now = app.now();
    let due = rfc3339(now + Duration::hours(ANSWER_WITHIN_HOURS));
    app.write(actor, |tx| {
        store::insert_subject_request(
            tx,
            id,
            &kind,
            resident,
            a.requester.trim(),
            a.details.trim(),
            &rfc3339(now),
            &due,
            &actor.name,
        )?;
        audit::record_in(
            tx,
            app,
            actor,
            "privacy.subject_request",
            "subject_request",
            &id.to_string(),
            &kind,
        )
    })?;
    subject_get(app, id)
}

fn subject_get(app: &App, id: Uuid) -> Result<SubjectRequestView, ApiError> {
    let row = app.store.read(|c| store::subject_request(c, id))?;
    let row = row.ok_or_else(|| ApiError::not_found("Permintaan subjek data"))?;
    Ok(subject_view(row, app.now()))
}

pub fn subject_list(
    app: &App,
    _ctx: &Ctx,
    _a: NoArgs,
) -> Result<Vec<SubjectRequestView>, ApiError> {
    let now = app.now();
    let rows = app.store.read(store::subject_requests)?;
    Ok(rows.into_iter().map(|r| subject_view(r, now)).collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectDecideArgs {
    pub id: String,
    /// `dikabulkan` or `ditolak`.
    pub status: String,
    /// What was done or why not, as told to the requester. Required.
    #[serde(default)]
    pub outcome: String,
}

/// Records the answer. Granting an erasure (`penghapusan`) anonymises the record in the same
/// transaction; the register of people living here must be kept (UU 24/2013), so it is
/// granted only for a record that left (or died) and is not under a legal hold.
pub fn subject_decide(
    app: &App,
    ctx: &Ctx,
    a: SubjectDecideArgs,
) -> Result<SubjectRequestView, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_id(&a.id, "id")?;
    let mut e = FieldErrors::default();
    let status = a.status.trim().to_lowercase();
    if status != "dikabulkan" && status != "ditolak" {
        e.push("status", "decision", "Keputusan: dikabulkan atau ditolak.");
    }
    required_text(&mut e, "outcome", &a.outcome, 4000);
    e.into_result()?;
    let at = app.now_text();
    app.write(actor, |tx| {
        let row = store::subject_request(tx, id)?
            .ok_or_else(|| ApiError::not_found("Permintaan subjek data"))?;
        if row.kind == "penghapusan" && status == "dikabulkan" {
            let Some(rid) = row.resident_id.as_deref() else {
                return Err(ApiError::field(
                    "status",
                    "no_resident",
                    "Permintaan ini tidak terhubung ke data penduduk; tidak ada yang dihapus.",
                ));
            };
            let rid = parse_id(rid, "id")?;
            let r = balai_store::register::get(tx, rid)?.ok_or_else(|| ApiError::not_found("Penduduk"))?;
            if r.status == balai_domain::resident::LifeStatus::Hidup {
                return Err(ApiError::field(
                    "status",
                    "register_must_be_kept",
                    "Data penduduk yang masih tinggal di kelurahan wajib disimpan (UU 24/2013 Administrasi Kependudukan); tolak permintaan ini dengan alasan itu.",
                ));
            }
            if !store::legal_hold(tx, rid)?.unwrap_or_default().is_empty() {
                return Err(ApiError::field(
                    "status",
                    "legal_hold",
                    "Data ini sedang ditahan untuk keperluan hukum dan tidak boleh dihapus.",
                ));
            }
            store::anonymise_resident(tx, rid, &privacy::anonymous_nik(rid.as_bytes()), &at)?;
            store::compact_name_index(tx)?;
            audit::record_in(tx, app, actor, "privacy.anonymised", "resident", &rid.to_string(), "aturan=permintaan_penghapusan")?;
        }
        if !store::decide_subject_request(tx, id, &status, a.outcome.trim(), &actor.name, &at)? {
            return Err(ApiError::new(ErrorCode::Conflict, "Permintaan ini sudah diputuskan."));
        }
        audit::record_in(tx, app, actor, "privacy.subject_decided", "subject_request", &id.to_string(), &status)
    })?;
    subject_get(app, id)
}

/// Everything the office holds about one resident, for their access request: the record, the
/// letters about them and what staff did with their record (the audit trail).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubjectCopy {
    pub made_at: String,
    pub office: String,
    pub resident: ResidentView,
    pub letters: Vec<LetterAbout>,
    pub activity: Vec<AuditAbout>,
}

/// A data subject's copy; making it is audited as an export of their data.
pub fn subject_copy(app: &App, ctx: &Ctx, a: KeyArgs) -> Result<SubjectCopy, ApiError> {
    let actor = ctx.actor()?;
    let resident = residents::current(app, &a.key)?;
    let id = parse_id(&resident.id, "key")?;
    audit::record(app, actor, "privacy.subject_copy", "resident", &resident.id, "")?;
    let (letters, activity, office) = app.store.read(|c| {
        Ok::<_, ApiError>((
            store::letters_about(c, id)?,
            store::audit_about(c, "resident", &resident.id)?,
            profile::get(c)?.map(|p| p.kelurahan_name).unwrap_or_default(),
        ))
    })?;
    Ok(SubjectCopy { made_at: app.now_text(), office, resident, letters, activity })
}

// ---------------------------------------------------------------- breaches

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachOpenArgs {
    /// When the office learnt of it, in the office's time: `YYYY-MM-DDTHH:MM`.
    pub discovered_at: String,
    pub what_happened: String,
    pub data_disclosed: String,
    pub subjects_estimate: i64,
    pub measures: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BreachDrafts {
    /// To the residents whose data was disclosed.
    pub subjects: String,
    /// To the authority (lembaga PDP), copied to the city's Diskominfo.
    pub authority: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BreachView {
    #[serde(flatten)]
    pub row: BreachRow,
    /// 3 × 24 hours after `discovered_at`.
    pub deadline: String,
    /// Hours left until the deadline (negative past it).
    pub hours_left: i64,
    /// Past the deadline with a notice not yet sent.
    pub late: bool,
    pub drafts: BreachDrafts,
}

struct Letterhead {
    kelurahan: String,
    city: String,
    contact: String,
    lurah: String,
    offset_s: i32,
}

fn letterhead(conn: &balai_store::ReadConn, today: NaiveDate) -> Result<Letterhead, ApiError> {
    let p = profile::get(conn)?;
    let offset_s = crate::office_utc_offset(p.as_ref());
    let lurah = signatories::list(conn)?
        .into_iter()
        .find(|s| {
            s.post == balai_domain::office::Post::Lurah
                && s.valid_from <= today
                && s.valid_to.is_none_or(|t| t >= today)
        })
        .map(|s| s.name)
        .unwrap_or_default();
    let (kelurahan, city, address, phone, email) =
        p.map(|p| (p.kelurahan_name, p.city_name, p.address, p.phone, p.email)).unwrap_or_default();
    let mut contact = vec![address];
    if !phone.is_empty() {
        contact.push(format!("telepon {phone}"));
    }
    if !email.is_empty() {
        contact.push(format!("surel {email}"));
    }
    Ok(Letterhead {
        kelurahan,
        city,
        contact: contact.into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>().join(", "),
        lurah,
        offset_s,
    })
}

fn local(t: DateTime<Utc>, offset_s: i32) -> String {
    let l = t + Duration::seconds(offset_s.into());
    format!(
        "{} pukul {} {}",
        balai_domain::dates::long_date(l.date_naive()),
        l.format("%H.%M"),
        balai_domain::dates::zone_name(offset_s)
    )
}

/// The notices Pasal 46 ayat (2) asks for: what data, when and how it was disclosed, and what
/// is done to handle and recover from it.
fn drafts(
    b: &BreachRow,
    h: &Letterhead,
    discovered: DateTime<Utc>,
    today: NaiveDate,
) -> BreachDrafts {
    let when = local(discovered, h.offset_s);
    let kel = &h.kelurahan;
    let signed = format!(
        "{}, {}\nLurah {kel}\n\n\n{}",
        if h.city.is_empty() { kel.as_str() } else { h.city.as_str() },
        balai_domain::dates::long_date(today),
        if h.lurah.is_empty() { "(nama Lurah)" } else { h.lurah.as_str() }
    );
    let body = format!(
        "1. Data pribadi yang terungkap: {}\n2. Kapan dan bagaimana data terungkap: diketahui pada {when}. {}\n3. Upaya penanganan dan pemulihan: {}",
        b.data_disclosed, b.what_happened, b.measures
    );
    let subjects = format!(
        "PEMBERITAHUAN KEGAGALAN PELINDUNGAN DATA PRIBADI\n\nKepada Yth. Bapak/Ibu warga Kelurahan {kel}\n\nDengan ini Pemerintah Kelurahan {kel} memberitahukan bahwa telah terjadi kegagalan pelindungan data pribadi yang mungkin menyangkut data Bapak/Ibu, sebagai berikut.\n\n{body}\n\nBila Bapak/Ibu memiliki pertanyaan atau memerlukan bantuan, silakan menghubungi Kantor Kelurahan {kel}{}.\n\nPemberitahuan ini disampaikan sesuai Pasal 46 Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi.\n\n{signed}",
        if h.contact.is_empty() { String::new() } else { format!(", {}", h.contact) }
    );
    let authority = format!(
        "PEMBERITAHUAN KEGAGALAN PELINDUNGAN DATA PRIBADI\n\nKepada Yth. Lembaga Penyelenggara Pelindungan Data Pribadi\nTembusan: Dinas Komunikasi dan Informatika {}\n\nPemerintah Kelurahan {kel}, selaku pengendali data pribadi penduduk kelurahan, memberitahukan kegagalan pelindungan data pribadi sebagai berikut.\n\n{body}\n4. Perkiraan jumlah subjek data yang terdampak: {} orang.\n\nSubjek data yang terdampak diberi tahu secara tertulis. Pemberitahuan ini disampaikan sesuai Pasal 46 Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi.\n\n{signed}",
        if h.city.is_empty() { "kota" } else { h.city.as_str() },
        b.subjects_estimate
    );
    BreachDrafts { subjects, authority }
}

fn breach_view(b: BreachRow, h: &Letterhead, now: DateTime<Utc>, today: NaiveDate) -> BreachView {
    let discovered = DateTime::parse_from_rfc3339(&b.discovered_at)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now);
    let deadline = discovered + Duration::hours(ANSWER_WITHIN_HOURS);
    let hours_left = (deadline - now).num_minutes().div_euclid(60);
    let unsent = b.subjects_notified_at.is_none() || b.authority_notified_at.is_none();
    BreachView {
        deadline: rfc3339(deadline),
        hours_left,
        late: unsent && now > deadline && b.closed_at.is_none(),
        drafts: drafts(&b, h, discovered, today),
        row: b,
    }
}

pub fn breaches(app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<Vec<BreachView>, ApiError> {
    let (now, today) = (app.now(), app.today());
    let (rows, h) =
        app.store.read(|c| Ok::<_, ApiError>((store::breaches(c)?, letterhead(c, today)?)))?;
    Ok(rows.into_iter().map(|b| breach_view(b, &h, now, today)).collect())
}

fn breach_get(app: &App, id: Uuid) -> Result<BreachView, ApiError> {
    let (now, today) = (app.now(), app.today());
    let (row, h) =
        app.store.read(|c| Ok::<_, ApiError>((store::breach(c, id)?, letterhead(c, today)?)))?;
    let row = row.ok_or_else(|| ApiError::not_found("Insiden"))?;
    Ok(breach_view(row, &h, now, today))
}

/// Records a breach the office has learnt of; the 3 × 24-hour clock runs from `discovered_at`.
pub fn breach_open(app: &App, ctx: &Ctx, a: BreachOpenArgs) -> Result<BreachView, ApiError> {
    let actor = ctx.actor()?;
    let mut e = FieldErrors::default();
    let offset_s = app.utc_offset_s.load(std::sync::atomic::Ordering::Relaxed);
    let discovered = match NaiveDateTime::parse_from_str(a.discovered_at.trim(), "%Y-%m-%dT%H:%M")
        // A browser's datetime field may add seconds.
        .or_else(|_| NaiveDateTime::parse_from_str(a.discovered_at.trim(), "%Y-%m-%dT%H:%M:%S"))
    {
        Ok(t) => Some(t.and_utc() - Duration::seconds(offset_s.into())),
        Err(_) => {
            e.push("discovered_at", "datetime_format", "Isi tanggal dan jam (TTTT-BB-HHTjj:mm).");
            None
        }
    };
    if discovered.is_some_and(|d| d > app.now() + Duration::minutes(5)) {
        e.push(
            "discovered_at",
            "in_future",
            "Waktu diketahuinya insiden tidak boleh di masa depan.",
        );
    }
    required_text(&mut e, "what_happened", &a.what_happened, 4000);
    required_text(&mut e, "data_disclosed", &a.data_disclosed, 2000);
    required_text(&mut e, "measures", &a.measures, 4000);
    if a.subjects_estimate < 0 {
        e.push("subjects_estimate", "negative", "Jumlah tidak boleh negatif.");
    }
    e.into_result()?;
    let discovered = discovered.ok_or_else(|| {
        ApiError::field("discovered_at", "datetime_format", "Isi tanggal dan jam.")
    })?;
    let id = app.new_id();
    let row = BreachRow {
        id: id.to_string(),
        discovered_at: rfc3339(discovered),
        what_happened: a.what_happened.trim().into(),
        data_disclosed: a.data_disclosed.trim().into(),
        subjects_estimate: a.subjects_estimate,
        measures: a.measures.trim().into(),
        subjects_notified_at: None,
        authority_notified_at: None,
        closed_at: None,
        recorded_by: actor.name.clone(),
        created_at: app.now_text(),
    };
    app.write(actor, |tx| {
        store::insert_breach(tx, id, &row)?;
        audit::record_in(tx, app, actor, "privacy.breach_opened", "breach", &row.id, "")
    })?;
    breach_get(app, id)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachMarkArgs {
    pub id: String,
    /// `subjects_notified`, `authority_notified` or `closed`.
    pub moment: String,
}

/// Records that the notices went out (or that the incident is closed), now.
pub fn breach_mark(app: &App, ctx: &Ctx, a: BreachMarkArgs) -> Result<BreachView, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_id(&a.id, "id")?;
    let moment = match a.moment.trim() {
        "subjects_notified" => BreachMoment::SubjectsNotified,
        "authority_notified" => BreachMoment::AuthorityNotified,
        "closed" => BreachMoment::Closed,
        _ => {
            return Err(ApiError::field(
                "moment",
                "breach_moment",
                "Tahap: subjects_notified, authority_notified atau closed.",
            ))
        }
    };
    app.write(actor, |tx| {
        if store::breach(tx, id)?.is_none() {
            return Err(ApiError::not_found("Insiden"));
        }
        if !store::mark_breach(tx, id, moment, &app.now_text())? {
            return Err(ApiError::new(ErrorCode::Conflict, "Tahap ini sudah dicatat."));
        }
        audit::record_in(
            tx,
            app,
            actor,
            "privacy.breach_marked",
            "breach",
            &id.to_string(),
            a.moment.trim(),
        )
    })?;
    breach_get(app, id)
}
