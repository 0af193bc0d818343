//! Letters: request → verified → signed and issued (numbered, PDF, signed QR) → collected; or
//! rejected; an issued letter is never edited, only voided (with a reason) and replaced.
//!
//! Numbers come from one allocator interface ([`NumberAllocator`]) inside the transaction that
//! issues the letter, so a number is never issued twice: the office's own counter, or once the
//! PC is enrolled, the number leases the city granted it (then the `issue_letter` command for
//! the city is written in the same transaction).

use crate::areas::{audit, residents};
use crate::error::{ApiError, ErrorCode};
use crate::session::Actor;
use crate::{App, Ctx};
use balai_domain::codes::{list as code_list, CodeKind};
use balai_domain::letter_number::{NumberPattern, SeriesMode};
use balai_domain::letter_payload::{self, LetterClaims, OfficeKey};
use balai_domain::office::{signatory_on, Post};
use balai_domain::resident::LifeStatus;
use balai_domain::{FieldErrors, Role};
use balai_letters::content::validate_fields;
use balai_letters::{LetterContent, Office, Paper, Person, Signer, Template};
use balai_store::letters::{self as store_letters, Issued, LetterRow};
use balai_store::register::StoredResident;
use balai_store::settings::{
    self as store_settings, NUMBER_PATTERN, NUMBER_SERIES, PAPER, UNIT_CODE,
};
use balai_store::{register, WriteTx};
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use uuid::Uuid;

static TEMPLATES: LazyLock<Result<Vec<Template>, String>> =
    LazyLock::new(|| balai_letters::load_shipped().map_err(|e| e.to_string()));

fn templates() -> Result<&'static [Template], ApiError> {
    TEMPLATES.as_deref().map_err(|e| ApiError::new(ErrorCode::Internal, e.clone()))
}

fn template(code: &str) -> Result<&'static Template, ApiError> {
    templates()?.iter().find(|t| t.code == code).ok_or_else(|| {
        ApiError::field(
            "letter_type",
            "unknown_type",
            format!("Jenis surat \"{code}\" tidak dikenal."),
        )
    })
}

use crate::areas::NoArgs;

pub fn types(_app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<Vec<Template>, ApiError> {
    Ok(templates()?.to_vec())
}

/// Hands out serials inside the issuing transaction. An office not enrolled with a city server
/// counts per series in its own database ([`LocalSeries`]); an enrolled PC draws from the
/// number leases the city granted it ([`CityLeases`]), so PCs of one office never issue the
/// same number even offline.
pub trait NumberAllocator {
    fn next_serial(&self, tx: &WriteTx, series: &str) -> Result<Serial, ApiError>;
}

/// A serial, and the lease it came from (then the city is told with an `issue_letter` command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serial {
    pub serial: u32,
    pub lease: Option<Uuid>,
}

/// Serials from the office database's own series table.
#[derive(Debug, Default)]
pub struct LocalSeries;

impl NumberAllocator for LocalSeries {
    fn next_serial(&self, tx: &WriteTx, series: &str) -> Result<Serial, ApiError> {
        Ok(Serial { serial: store_letters::next_serial(tx, series)?, lease: None })
    }
}

/// Serials from this PC's leases of its current enrolment `epoch`.
#[derive(Debug)]
pub struct CityLeases {
    pub epoch: u32,
}

impl NumberAllocator for CityLeases {
    fn next_serial(&self, tx: &WriteTx, series: &str) -> Result<Serial, ApiError> {
        match balai_store::leases::take(tx, series, self.epoch)? {
            Some((lease, serial)) => Ok(Serial { serial, lease: Some(lease) }),
            None => Err(ApiError::new(
                ErrorCode::NotAvailable,
                format!(
                    "Cadangan nomor surat seri {series} habis. Sambungkan komputer ini ke server \
                     kota lalu tekan Sinkronkan: nomor baru diambil otomatis."
                ),
            )),
        }
    }
}

/// How far an enrolled PC's clock may be from the city's before it stops issuing letters: a
/// letter's date, validity and place in the register come from it.
pub const MAX_CLOCK_SKEW_MS: i64 = 15 * 60 * 1000;

/// An enrolled PC issues no letter while its clock is known to be wrong: more than
/// [`MAX_CLOCK_SKEW_MS`] from the city's at the last contact, or set back since then. Fixing
/// the clock and syncing again lifts it. (A PC never enrolled has no reference to check.)
fn check_clock(app: &App, tx: &balai_store::ReadConn) -> Result<(), ApiError> {
    let state = |k: &str| -> Result<Option<i64>, ApiError> {
        let v = balai_store::sync::state(tx, k).map_err(balai_store::StoreError::from)?;
        Ok(v.and_then(|v| v.parse().ok()))
    };
    if balai_store::sync::state(tx, "server_device_id")
        .map_err(balai_store::StoreError::from)?
        .is_none()
    {
        return Ok(());
    }
    let minutes = |ms: i64| (ms.abs() + 59_999) / 60_000;
    if let Some(offset) = state("clock_offset_ms")?.filter(|o| o.abs() > MAX_CLOCK_SKEW_MS) {
        let way = if offset > 0 { "terlambat" } else { "terlalu cepat" };
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "Jam komputer ini {way} {} menit dibanding server kota: tanggal surat akan salah. \
                 Perbaiki tanggal dan jam komputer, lalu tekan Sinkronkan.",
                minutes(offset)
            ),
        ));
    }
    let now = app.now().timestamp_millis();
    if let Some(last) = state("last_contact_ms")?.filter(|l| now + MAX_CLOCK_SKEW_MS < *l) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "Jam komputer ini mundur {} menit sejak sinkronisasi terakhir: tanggal surat akan \
                 salah. Perbaiki tanggal dan jam komputer, lalu tekan Sinkronkan.",
                minutes(last - now)
            ),
        ));
    }
    Ok(())
}

/// The allocator of this database: the city's leases once it is enrolled.
fn allocator(tx: &WriteTx) -> Result<Box<dyn NumberAllocator>, ApiError> {
    let state = |k: &str| balai_store::sync::state(tx, k).map_err(balai_store::StoreError::from);
    if state("server_device_id")?.is_none() {
        return Ok(Box::new(LocalSeries));
    }
    if state("fenced")?.is_some() {
        // Its leases may be another copy's: not one number until an admin enrols it again.
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Server kota menolak komputer ini (basis datanya dipulihkan, disalin atau dicabut): \
             minta admin mendaftarkannya ulang di Sinkronisasi sebelum menerbitkan surat.",
        ));
    }
    let epoch = state("epoch")?.and_then(|e| e.parse().ok()).unwrap_or(1);
    Ok(Box::new(CityLeases { epoch }))
}

/// The online fast path before a letter of type `code` is issued: on an enrolled PC with the
/// city reachable, the letter's number is the city's next one (sync-notes §3.5), else it comes
/// from the reserve as offline.
fn number_from_city(app: &App, code: &str) -> Result<(), ApiError> {
    // A PC whose clock is wrong issues nothing (the issuing transaction checks again): no
    // number is asked for a letter that will not be issued.
    let settings = app.store.read(|c| {
        check_clock(app, c)?;
        read_settings(c)
    })?;
    let series = settings.series.series(code, residents::today(app).year());
    crate::areas::sync::lease_next_number(app, &series);
    Ok(())
}

/// The title of letter type `code` (e.g. `Surat Keterangan Domisili`), if this build has it.
pub fn title_of(code: &str) -> Option<String> {
    templates().ok()?.iter().find(|t| t.code == code).map(|t| t.title.clone())
}

/// Every letter type, for the city's online request form.
pub fn published_types() -> Result<Vec<balai_protocol::LetterType>, ApiError> {
    Ok(templates()?
        .iter()
        .map(|t| balai_protocol::LetterType { code: t.code.clone(), title: t.title.clone() })
        .collect())
}

/// The series this office issues letters in on `today` (and, in December, the next year's, so
/// the first working day of January works offline): what sync keeps a reserve of.
pub fn series_in_use(app: &App) -> Result<Vec<String>, ApiError> {
    let settings = app.store.read(|c| read_settings(c))?;
    let today = residents::today(app);
    let mut years = vec![today.year()];
    if today.month() == 12 {
        years.push(today.year() + 1);
    }
    let mut out = Vec::new();
    for year in years {
        for t in templates()? {
            let s = settings.series.series(&t.code, year);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterSettings {
    pub number_pattern: String,
    /// `per_type` or `single`.
    pub series: SeriesMode,
    pub unit_code: String,
    pub paper: Paper,
}

pub fn settings(app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<LetterSettings, ApiError> {
    app.store.read(|c| read_settings(c))
}

fn read_settings(c: &balai_store::ReadConn) -> Result<LetterSettings, ApiError> {
    let series = match store_settings::get_text(c, NUMBER_SERIES)?.as_str() {
        "single" => SeriesMode::Single,
        _ => SeriesMode::PerType,
    };
    Ok(LetterSettings {
        number_pattern: store_settings::get_text(c, NUMBER_PATTERN)?,
        series,
        unit_code: store_settings::get_text(c, UNIT_CODE)?,
        paper: Paper::parse(&store_settings::get_text(c, PAPER)?).unwrap_or_default(),
    })
}

pub fn set_settings(app: &App, ctx: &Ctx, a: LetterSettings) -> Result<LetterSettings, ApiError> {
    let actor = ctx.actor()?;
    let mut e = FieldErrors::default();
    if let Err(m) = NumberPattern::parse(&a.number_pattern) {
        e.push("number_pattern", "pattern", m);
    }
    let unit = a.unit_code.trim();
    if unit.is_empty() || unit.len() > 30 || unit.contains('|') {
        e.push(
            "unit_code",
            "unit_code",
            "Kode unit wajib, paling panjang 30 huruf, tanpa tanda |.",
        );
    }
    e.into_result()?;
    app.write(actor, |tx| {
        store_settings::set_text(tx, NUMBER_PATTERN, a.number_pattern.trim())?;
        store_settings::set_text(
            tx,
            NUMBER_SERIES,
            match a.series {
                SeriesMode::PerType => "per_type",
                SeriesMode::Single => "single",
            },
        )?;
        store_settings::set_text(tx, UNIT_CODE, unit)?;
        store_settings::set_text(
            tx,
            PAPER,
            match a.paper {
                Paper::F4 => "f4",
                Paper::A4 => "a4",
            },
        )?;
        audit::record_in(
            tx,
            app,
            actor,
            "letters.settings",
            "setting",
            "letters",
            a.number_pattern.trim(),
        )
    })?;
    app.store.read(|c| read_settings(c))
}

/// A letter as the UI and the CLI see it (never the full NIK: the subject is masked).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LetterView {
    pub id: String,
    pub letter_type: String,
    pub title: String,
    pub template_version: String,
    pub status: String,
    pub subject_name: String,
    pub subject_nik_masked: String,
    pub fields: BTreeMap<String, String>,
    pub number: Option<String>,
    pub issued_on: Option<String>,
    pub valid_until: Option<String>,
    pub signer_name: Option<String>,
    pub reason: String,
    pub replaces: Option<String>,
    pub qr_payload: Option<String>,
    /// The paper the issued letter was laid out on (`f4` or `a4`); absent before issue.
    pub paper: Option<String>,
    pub requested_by: String,
    pub created_at: String,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    pub note: String,
    pub at: String,
}

fn view(c: &balai_store::ReadConn, l: LetterRow) -> Result<LetterView, ApiError> {
    let title =
        template(&l.letter_type).map(|t| t.title.clone()).unwrap_or_else(|_| l.letter_type.clone());
    let subject_name =
        register::get(c, l.subject_id)?.map(|r| r.data.full_name).unwrap_or_default();
    let signer_name =
        l.signer.as_deref().and_then(|s| serde_json::from_str::<Signer>(s).ok()).map(|s| s.name);
    let history = store_letters::events(c, l.id)?
        .into_iter()
        .map(|(from, to, actor, note, at)| HistoryEntry { from, to, actor, note, at })
        .collect();
    Ok(LetterView {
        id: l.id.to_string(),
        letter_type: l.letter_type,
        title,
        template_version: l.template_version,
        status: l.status,
        subject_name,
        subject_nik_masked: l.subject_nik_masked,
        fields: serde_json::from_str(&l.fields).unwrap_or_default(),
        number: l.number,
        issued_on: l.issued_on,
        valid_until: l.valid_until,
        signer_name,
        reason: l.reason,
        replaces: l.replaces.map(|u| u.to_string()),
        qr_payload: l.payload,
        paper: l.paper,
        requested_by: l.requested_by,
        created_at: l.created_at,
        history,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestArgs {
    pub letter_type: String,
    /// The letter's subject (the template's first person), by NIK or id: a shorthand for
    /// `people.<first role>`.
    #[serde(default)]
    pub nik: Option<String>,
    /// Role → residents (NIK or id); a role that is not `many` takes one.
    #[serde(default)]
    pub people: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The voided letter this request corrects.
    #[serde(default)]
    pub replaces: Option<String>,
}

/// Checks a request against its template: every required person present and allowed (status,
/// sex), extra fields valid. Returns the people by role and the validated fields.
fn check_request(
    app: &App,
    t: &Template,
    a: &RequestArgs,
) -> Result<(BTreeMap<String, Vec<StoredResident>>, BTreeMap<String, String>), ApiError> {
    let mut e = FieldErrors::default();
    let mut given = a.people.clone();
    if let Some(nik) = a.nik.as_deref().filter(|n| !n.trim().is_empty()) {
        given.entry(t.people[0].role.clone()).or_default().insert(0, nik.trim().to_string());
    }
    for role in given.keys() {
        if !t.people.iter().any(|p| &p.role == role) {
            e.push(
                &format!("people.{role}"),
                "unknown_role",
                format!("Peran \"{role}\" tidak ada pada surat ini."),
            );
        }
    }
    let mut people = BTreeMap::new();
    for spec in &t.people {
        let keys: Vec<&String> = given
            .get(&spec.role)
            .map(|v| v.iter().filter(|k| !k.trim().is_empty()).collect())
            .unwrap_or_default();
        let field = format!("people.{}", spec.role);
        if keys.is_empty() {
            if !spec.optional {
                e.push(
                    &field,
                    "required",
                    format!("{} wajib dipilih dari data penduduk.", spec.label),
                );
            }
            continue;
        }
        if keys.len() > 1 && !spec.many {
            e.push(&field, "one_only", format!("{}: hanya satu orang.", spec.label));
            continue;
        }
        let mut found = Vec::new();
        for k in keys {
            match residents::find(app, k) {
                Ok(r) if r.merged_into.is_some() => {
                    e.push(
                        &field,
                        "merged",
                        format!("{}: data ini sudah digabung ke data lain.", spec.label),
                    );
                }
                Ok(r) => {
                    if !spec.status.iter().any(|s| s == r.status.as_str()) {
                        e.push(
                            &field,
                            "status",
                            format!(
                                "{}: {} berstatus {}, surat ini memerlukan status {}.",
                                spec.label,
                                r.data.full_name,
                                r.status.as_str(),
                                spec.status.join("/")
                            ),
                        );
                    } else if spec.sex.as_deref().is_some_and(|s| s != r.data.sex.as_str()) {
                        e.push(
                            &field,
                            "sex",
                            format!("{}: jenis kelamin tidak sesuai.", spec.label),
                        );
                    } else {
                        found.push(r);
                    }
                }
                Err(_) => e.push(
                    &field,
                    "not_found",
                    format!("{}: penduduk tidak ditemukan.", spec.label),
                ),
            }
        }
        people.insert(spec.role.clone(), found);
    }
    let fields = match validate_fields(t, &a.fields) {
        Ok(f) => f,
        Err(problems) => {
            for (key, code, message) in problems {
                e.push(&format!("fields.{key}"), code, message);
            }
            BTreeMap::new()
        }
    };
    e.into_result()?;
    Ok((people, fields))
}

fn insert_request(
    app: &App,
    tx: &WriteTx,
    actor: &Actor,
    t: &Template,
    people: &BTreeMap<String, Vec<StoredResident>>,
    fields: &BTreeMap<String, String>,
    replaces: Option<Uuid>,
) -> Result<Uuid, ApiError> {
    let subject = people
        .get(&t.people[0].role)
        .and_then(|v| v.first())
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "subject"))?;
    let ids: BTreeMap<&String, Vec<String>> =
        people.iter().map(|(k, v)| (k, v.iter().map(|r| r.id.to_string()).collect())).collect();
    let id = app.new_id();
    let at = app.now_text();
    store_letters::insert_request(
        tx,
        &LetterRow {
            id,
            letter_type: t.code.clone(),
            template_version: t.version.clone(),
            status: "diminta".into(),
            subject_id: subject.id,
            subject_nik_masked: letter_payload::mask_nik(subject.data.nik.as_str()),
            people: serde_json::to_string(&ids).unwrap_or_default(),
            fields: serde_json::to_string(fields).unwrap_or_default(),
            number: None,
            issued_on: None,
            valid_until: None,
            signer: None,
            content: None,
            content_hash: None,
            payload: None,
            paper: None,
            reason: String::new(),
            replaces,
            requested_by: actor.name.clone(),
            created_at: at.clone(),
            updated_at: at.clone(),
        },
    )?;
    store_letters::insert_event(tx, app.new_id(), id, None, "diminta", &actor.name, "", &at)?;
    audit::record_in(tx, app, actor, "letters.request", "letter", &id.to_string(), &t.code)?;
    Ok(id)
}

pub(crate) fn parse_letter_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::field("id", "id_format", "Id surat tidak valid."))
}

fn replaces_id(app: &App, raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else { return Ok(None) };
    let id = parse_letter_id(raw)?;
    let old = app
        .store
        .read(|c| Ok::<_, ApiError>(store_letters::get(c, id)?))?
        .ok_or_else(|| ApiError::not_found("Surat"))?;
    if old.status != "dibatalkan" {
        return Err(ApiError::field(
            "replaces",
            "not_voided",
            "Surat yang diganti harus dibatalkan lebih dulu.",
        ));
    }
    Ok(Some(id))
}

pub fn request(app: &App, ctx: &Ctx, a: RequestArgs) -> Result<LetterView, ApiError> {
    let actor = ctx.actor()?;
    let t = template(&a.letter_type)?;
    let (people, fields) = check_request(app, t, &a)?;
    let replaces = replaces_id(app, a.replaces.as_deref())?;
    let id =
        app.write(actor, |tx| insert_request(app, tx, actor, t, &people, &fields, replaces))?;
    show_id(app, id)
}

pub(crate) fn show_id(app: &App, id: Uuid) -> Result<LetterView, ApiError> {
    app.store.read(|c| {
        let l = store_letters::get(c, id)?.ok_or_else(|| ApiError::not_found("Surat"))?;
        view(c, l)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    pub id: String,
}

pub fn show(app: &App, _ctx: &Ctx, a: IdArgs) -> Result<LetterView, ApiError> {
    show_id(app, parse_letter_id(&a.id)?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListArgs {
    pub status: Option<String>,
    pub limit: Option<u32>,
}

pub fn list(app: &App, _ctx: &Ctx, a: ListArgs) -> Result<Vec<LetterView>, ApiError> {
    app.store.read(|c| {
        store_letters::list(
            c,
            a.status.as_deref().filter(|s| !s.is_empty()),
            a.limit.unwrap_or(200).clamp(1, 1000),
        )?
        .into_iter()
        .map(|l| view(c, l))
        .collect()
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonArgs {
    pub id: String,
    #[serde(default)]
    pub reason: String,
}

fn move_letter(
    app: &App,
    ctx: &Ctx,
    id: &str,
    from: &[&str],
    to: &str,
    note: &str,
    action: &str,
) -> Result<LetterView, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_letter_id(id)?;
    app.write(actor, |tx| {
        let moved = store_letters::transition(
            tx,
            id,
            from,
            to,
            app.new_id(),
            &actor.name,
            note,
            &app.now_text(),
        )?;
        if !moved {
            return Err(match store_letters::get(tx, id)? {
                None => ApiError::not_found("Surat"),
                Some(l) => ApiError::new(
                    ErrorCode::Conflict,
                    format!("Surat berstatus {}, tidak dapat diubah menjadi {to}.", l.status),
                ),
            });
        }
        audit::record_in(tx, app, actor, action, "letter", &id.to_string(), "")
    })?;
    show_id(app, id)
}

/// The petugas or sekretaris checked the requirements (pengantar RT/RW, KTP, KK).
pub fn mark_verified(app: &App, ctx: &Ctx, a: IdArgs) -> Result<LetterView, ApiError> {
    move_letter(app, ctx, &a.id, &["diminta"], "diverifikasi", "", "letters.verified")
}

pub fn reject(app: &App, ctx: &Ctx, a: ReasonArgs) -> Result<LetterView, ApiError> {
    if a.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "Alasan penolakan wajib diisi."));
    }
    move_letter(
        app,
        ctx,
        &a.id,
        &["diminta", "diverifikasi"],
        "ditolak",
        a.reason.trim(),
        "letters.reject",
    )
}

pub fn collect(app: &App, ctx: &Ctx, a: IdArgs) -> Result<LetterView, ApiError> {
    move_letter(app, ctx, &a.id, &["terbit"], "diambil", "", "letters.collect")
}

/// Voids a letter (issued or not); an issued letter keeps its number, which is never reused.
pub fn void(app: &App, ctx: &Ctx, a: ReasonArgs) -> Result<LetterView, ApiError> {
    if a.reason.trim().is_empty() {
        return Err(ApiError::field("reason", "required", "Alasan pembatalan wajib diisi."));
    }
    move_letter(
        app,
        ctx,
        &a.id,
        &["diminta", "diverifikasi", "terbit", "diambil"],
        "dibatalkan",
        a.reason.trim(),
        "letters.void",
    )
}

/// The signer block of `actor` on `date`: the lurah signs in their own capacity; the
/// sekretaris signs "a.n. Lurah …".
fn signer_for(
    c: &balai_store::ReadConn,
    actor: &Actor,
    date: NaiveDate,
    kelurahan: &str,
) -> Result<Signer, ApiError> {
    let post = match actor.role {
        Role::Lurah => Post::Lurah,
        Role::Sekretaris => Post::Sekretaris,
        _ => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Hanya lurah atau sekretaris kelurahan yang menandatangani surat.",
            ))
        }
    };
    let all = balai_store::signatories::list(c)?;
    let s = signatory_on(&all, post, date).ok_or_else(|| {
        ApiError::field(
            "signatory",
            "no_signatory",
            format!("Belum ada penanda tangan untuk jabatan {} pada {}; isi di Profil → Penanda tangan.", if post == Post::Lurah { "lurah" } else { "sekretaris" }, date.format("%d-%m-%Y")),
        )
    })?;
    let own = format!("{}{}", s.capacity.prefix(), s.position);
    let position_lines = match post {
        Post::Lurah => vec![own],
        Post::Sekretaris => vec![format!("a.n. Lurah {kelurahan}"), own],
    };
    Ok(Signer { position_lines, name: s.name.clone(), rank: s.rank.clone(), nip: s.nip.clone() })
}

fn person(
    c: &balai_store::ReadConn,
    r: &StoredResident,
    today: NaiveDate,
) -> Result<Person, ApiError> {
    let d = &r.data;
    let label = |kind: CodeKind, code: Option<u16>| {
        code.and_then(|c| code_list(kind).label(c)).unwrap_or("-").to_string()
    };
    let age = {
        let mut y = today.year() - d.birth_date.year();
        if (today.month(), today.day()) < (d.birth_date.month(), d.birth_date.day()) {
            y -= 1;
        }
        y.max(0)
    };
    let family = match r.family_id {
        Some(f) => register::family(c, f)?,
        None => None,
    };
    let address = {
        let base = if d.address.is_empty() {
            family.as_ref().map(|f| f.address.clone()).unwrap_or_default()
        } else {
            d.address.clone()
        };
        let mut a = format!("{base} RT {:03} RW {:03}", d.rt, d.rw);
        if !d.lingkungan.is_empty() {
            a.push_str(&format!(", {}", d.lingkungan));
        }
        a.trim().to_string()
    };
    let pairs = [
        ("nama", d.full_name.clone()),
        ("nik", d.nik.as_str().to_string()),
        ("no_kk", d.no_kk.as_str().to_string()),
        ("ttl", format!("{}, {}", d.birth_place, balai_letters::content::long_date(d.birth_date))),
        ("tempat_lahir", d.birth_place.clone()),
        ("tanggal_lahir", balai_letters::content::long_date(d.birth_date)),
        ("umur", format!("{age} tahun")),
        (
            "jenis_kelamin",
            if d.sex.as_str() == "L" { "Laki-laki".into() } else { "Perempuan".into() },
        ),
        ("agama", label(CodeKind::Agama, Some(d.religion))),
        ("pekerjaan", label(CodeKind::Pekerjaan, d.occupation)),
        ("pendidikan", label(CodeKind::Pendidikan, d.education)),
        ("status_kawin", label(CodeKind::StatusPerkawinan, Some(d.marital_status))),
        ("kewarganegaraan", label(CodeKind::Kewarganegaraan, Some(d.citizenship))),
        ("hubungan", label(CodeKind::Shdk, Some(d.shdk))),
        ("nama_ayah", d.father_name.clone()),
        ("nama_ibu", d.mother_name.clone()),
        ("alamat", address),
    ];
    Ok(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The emblem as the letterhead prints it: a PNG as uploaded, an SVG drawn to PNG (once per
/// emblem and process: drawing is deterministic, so the content hash names the result).
fn printed_emblem(e: balai_store::profile::Emblem) -> Result<Vec<u8>, ApiError> {
    static DRAWN: std::sync::Mutex<Option<(String, Vec<u8>)>> = std::sync::Mutex::new(None);
    if e.mime != "image/svg+xml" {
        return Ok(e.bytes);
    }
    let mut drawn = DRAWN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((sha, png)) = drawn.as_ref() {
        if *sha == e.sha256 {
            return Ok(png.clone());
        }
    }
    let png = draw_svg(&e.bytes)?;
    *drawn = Some((e.sha256, png.clone()));
    Ok(png)
}

fn draw_svg(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    balai_letters::emblem::svg_to_png(bytes)
        .map_err(|err| ApiError::field("emblem", "svg_unreadable", err.to_string()))
}

/// Checks at upload that an SVG emblem can be drawn, so a letter never fails on it later.
pub(crate) fn check_emblem(mime: &str, bytes: &[u8]) -> Result<(), ApiError> {
    if mime == "image/svg+xml" {
        draw_svg(bytes)?;
    }
    Ok(())
}

/// The office as letters and reports print it, with its emblem (PNG, or SVG drawn to PNG).
pub(crate) fn office_of(
    c: &balai_store::ReadConn,
    profile: &balai_domain::office::OfficeProfile,
) -> Result<Office, ApiError> {
    let emblem = balai_store::profile::emblem(c)?.map(printed_emblem).transpose()?;
    let city = profile.city_name.trim().to_string();
    let place = city.trim_start_matches("Kota ").trim_start_matches("Kabupaten ").to_string();
    Ok(Office {
        kota: if city.starts_with("Kota ") || city.starts_with("Kabupaten ") {
            city.clone()
        } else {
            format!("Kota {city}")
        },
        kecamatan: profile.kecamatan_name.clone(),
        kelurahan: profile.kelurahan_name.clone(),
        provinsi: profile.province_name.clone(),
        alamat: profile.address.clone(),
        place,
        emblem_png: emblem,
    })
}

/// The office, for a report; refused before the profile is filled in.
pub(crate) fn report_office(app: &App) -> Result<Office, ApiError> {
    app.store.read(|c| {
        let profile = balai_store::profile::get(c)?.ok_or_else(|| {
            ApiError::field("profile", "no_profile", "Profil kantor belum diisi.")
        })?;
        office_of(c, &profile)
    })
}

/// The office key that signs: made when the office profile is first saved (setup), so its
/// public half can go to the city before the first letter; made here for a database set up
/// before that.
pub(crate) fn signing_key(app: &App, tx: &WriteTx) -> Result<OfficeKey, ApiError> {
    let keys = store_letters::keys(tx)?;
    if let Some(k) = keys.iter().find(|k| k.retired_at.is_none()) {
        let seed: [u8; 32] = k
            .seed
            .as_slice()
            .try_into()
            .map_err(|_| ApiError::new(ErrorCode::Internal, "kunci tanda tangan rusak"))?;
        return Ok(OfficeKey::from_seed(&seed));
    }
    let key = OfficeKey::from_seed(&rand::random::<[u8; 32]>());
    store_letters::insert_key(
        tx,
        &store_letters::KeyRow {
            key_id: key.key_id(),
            public_hex: key.public_hex(),
            seed: key.seed().to_vec(),
            created_at: app.now_text(),
            retired_at: None,
        },
    )?;
    Ok(key)
}

/// Signs and issues letter `id` in the caller's transaction: number, content, QR, PDF, event.
fn issue_in(
    app: &App,
    tx: &WriteTx,
    actor: &Actor,
    id: Uuid,
    paper: Option<Paper>,
) -> Result<(), ApiError> {
    let l = store_letters::get(tx, id)?.ok_or_else(|| ApiError::not_found("Surat"))?;
    if !["diminta", "diverifikasi"].contains(&l.status.as_str()) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("Surat berstatus {}, tidak dapat diterbitkan.", l.status),
        ));
    }
    let t = template(&l.letter_type)?;
    let today = residents::today(app);
    let profile = balai_store::profile::get(tx)?.ok_or_else(|| {
        ApiError::field(
            "profile",
            "no_profile",
            "Profil kantor belum diisi: isi di Profil sebelum menerbitkan surat.",
        )
    })?;
    let signer = signer_for(tx, actor, today, &profile.kelurahan_name)?;
    let settings = read_settings(tx)?;
    let pattern = NumberPattern::parse(&settings.number_pattern)
        .map_err(|m| ApiError::field("number_pattern", "pattern", m))?;
    let series = settings.series.series(&t.code, today.year());
    check_clock(app, tx)?;
    let Serial { serial, lease } = allocator(tx)?.next_serial(tx, &series)?;
    let number = pattern.format(&t.classification, serial, &settings.unit_code, today);
    let ids: BTreeMap<String, Vec<String>> = serde_json::from_str(&l.people).unwrap_or_default();
    let mut people = BTreeMap::new();
    for (role, list) in ids {
        let mut ps = Vec::new();
        for rid in list {
            let r = register::get(
                tx,
                Uuid::parse_str(&rid).map_err(|_| ApiError::new(ErrorCode::Internal, "people"))?,
            )?
            .ok_or_else(|| ApiError::not_found("Penduduk"))?;
            ps.push(person(tx, &r, today)?);
        }
        people.insert(role, ps);
    }
    let content = LetterContent {
        template: t.code.clone(),
        template_version: t.version.clone(),
        title: t.title.clone(),
        number: number.clone(),
        issued: today,
        valid_until: (t.validity_days > 0)
            .then(|| today + chrono::Duration::days(t.validity_days as i64)),
        office: office_of(tx, &profile)?,
        people,
        fields: serde_json::from_str(&l.fields).unwrap_or_default(),
        signer: signer.clone(),
    };
    let key = signing_key(app, tx)?;
    let content_hash = letter_payload::content_hash(&content.canonical_bytes());
    let claims = LetterClaims {
        letter_id: id.simple().to_string(),
        number: number.clone(),
        letter_type: t.code.clone(),
        issued: today,
        valid_until: content.valid_until,
        nik_masked: l.subject_nik_masked.clone(),
        content_hash: content_hash.clone(),
        key_id: key.key_id(),
    };
    let payload = letter_payload::encode(&claims, &key)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let paper = paper.unwrap_or(settings.paper);
    let pdf = balai_letters::pdf::render(t, &content, paper, &payload)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let at = app.now_text();
    let date_text = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let valid = content.valid_until.map(date_text);
    store_letters::set_issued(
        tx,
        id,
        &Issued {
            number: &number,
            series: &series,
            serial,
            issued_on: &date_text(today),
            valid_until: valid.as_deref(),
            signer: &serde_json::to_string(&signer).unwrap_or_default(),
            content: &serde_json::to_string(&content).unwrap_or_default(),
            content_hash: &content_hash,
            payload: &payload,
            paper: match paper {
                Paper::F4 => "f4",
                Paper::A4 => "a4",
            },
            pdf: &pdf,
        },
        &at,
    )?;
    if let Some(lease_id) = lease {
        // In this transaction: a number the city has not heard of cannot exist locally.
        let command = balai_protocol::IssueLetter {
            letter_id: id,
            lease_id,
            series: series.clone(),
            serial,
            number: number.clone(),
            issued_on: date_text(today),
        };
        balai_store::sync::append_command(tx, balai_protocol::ISSUE_LETTER, id, &command)?;
    }
    store_letters::transition(
        tx,
        id,
        &["diminta", "diverifikasi"],
        "terbit",
        app.new_id(),
        &actor.name,
        &number,
        &at,
    )?;
    if t.records_event.as_deref() == Some("mati") {
        let subject =
            register::get(tx, l.subject_id)?.ok_or_else(|| ApiError::not_found("Penduduk"))?;
        if subject.status != LifeStatus::Mati {
            let date = content
                .fields
                .get("tanggal_meninggal")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .unwrap_or(today);
            register::insert_event(
                tx,
                app.new_id(),
                subject.id,
                balai_domain::resident::EventKind::Mati,
                date,
                &format!("Surat {number}"),
                &actor.name,
                &at,
            )?;
            register::set_status(tx, subject.id, LifeStatus::Mati, &at)?;
        }
    }
    audit::record_in(tx, app, actor, "letters.issue", "letter", &id.to_string(), &number)?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveArgs {
    pub id: String,
    #[serde(default)]
    pub paper: Option<Paper>,
}

/// The signer approves, signs and issues a requested letter.
pub fn approve(app: &App, ctx: &Ctx, a: ApproveArgs) -> Result<IssuedLetter, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_letter_id(&a.id)?;
    let letter = app.store.read(|c| Ok::<_, ApiError>(store_letters::get(c, id)?))?;
    if let Some(l) = letter.filter(|l| ["diminta", "diverifikasi"].contains(&l.status.as_str())) {
        number_from_city(app, &l.letter_type)?;
    }
    app.write(actor, |tx| issue_in(app, tx, actor, id, a.paper))?;
    issued(app, id)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueArgs {
    pub letter_type: String,
    #[serde(default)]
    pub nik: Option<String>,
    #[serde(default)]
    pub people: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    #[serde(default)]
    pub replaces: Option<String>,
    #[serde(default)]
    pub paper: Option<Paper>,
}

/// What issuing answers: the letter, its number, the PDF (base64) and the QR text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedLetter {
    pub id: String,
    pub number: String,
    pub pdf_base64: String,
    pub qr_payload: String,
    pub letter: LetterView,
}

fn issued(app: &App, id: Uuid) -> Result<IssuedLetter, ApiError> {
    let letter = show_id(app, id)?;
    let pdf =
        app.store.read(|c| Ok::<_, ApiError>(store_letters::pdf(c, id)?))?.unwrap_or_default();
    Ok(IssuedLetter {
        id: letter.id.clone(),
        number: letter.number.clone().unwrap_or_default(),
        pdf_base64: base64::engine::general_purpose::STANDARD.encode(pdf),
        qr_payload: letter.qr_payload.clone().unwrap_or_default(),
        letter,
    })
}

/// The counter fast path for a signer at the desk: request, sign and issue in one transaction.
pub fn issue(app: &App, ctx: &Ctx, a: IssueArgs) -> Result<IssuedLetter, ApiError> {
    let actor = ctx.actor()?;
    let IssueArgs { letter_type, nik, people, fields, replaces, paper } = a;
    let t = template(&letter_type)?;
    let req = RequestArgs { letter_type, nik, people, fields, replaces };
    let (people, fields) = check_request(app, t, &req)?;
    let replaces = replaces_id(app, req.replaces.as_deref())?;
    number_from_city(app, &t.code)?;
    let id = app.write(actor, |tx| {
        let id = insert_request(app, tx, actor, t, &people, &fields, replaces)?;
        issue_in(app, tx, actor, id, paper)?;
        Ok(id)
    })?;
    issued(app, id)
}

pub fn pdf(app: &App, ctx: &Ctx, a: IdArgs) -> Result<IssuedLetter, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_letter_id(&a.id)?;
    let out = issued(app, id)?;
    if out.pdf_base64.is_empty() {
        return Err(ApiError::new(ErrorCode::Conflict, "Surat ini belum terbit, belum ada PDF."));
    }
    // Every print or download of a letter is recorded (UU PDP).
    audit::record(app, actor, "letters.pdf", "letter", &id.to_string(), "")?;
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyArgs {
    /// The QR text (or a link containing it), or…
    pub payload: String,
    /// …a photo or scan of the letter (PNG or JPEG) or a PDF of it, in base64 (UI), or…
    pub image_base64: Option<String>,
    /// …the path of such a file (CLI).
    pub image_path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verification {
    /// `sah` (valid), `tidak_sah` (invalid) or `dibatalkan` (voided).
    pub verdict: String,
    /// Why not valid: `payload_format`, `unknown_key`, `bad_signature`, `unknown_letter`,
    /// `content_mismatch`, `voided`.
    pub reason: Option<String>,
    pub message: String,
    pub claims: Option<LetterClaims>,
}

/// Checks a letter's QR text: signature by one of this office's keys, the letter known here
/// with the same number and content, and not voided.
pub fn verify(app: &App, ctx: &Ctx, mut a: VerifyArgs) -> Result<Verification, ApiError> {
    a.image_path = ctx.local_path("image", a.image_path.take())?;
    let image = match (&a.image_base64, &a.image_path) {
        (Some(b), _) => {
            Some(base64::engine::general_purpose::STANDARD.decode(b.trim()).map_err(|_| {
                ApiError::field("image", "image_unreadable", "Gambar tidak terbaca (base64).")
            })?)
        }
        (None, Some(p)) => Some(std::fs::read(p).map_err(|e| {
            ApiError::field("image", "image_unreadable", format!("Berkas tidak dapat dibaca: {e}"))
        })?),
        (None, None) => None,
    };
    if let Some(bytes) = image {
        let texts = crate::areas::scan::qr_texts(&bytes)?;
        a.payload = texts.into_iter().find(|t| t.contains("BLV1|")).ok_or_else(|| {
            ApiError::field(
                "image",
                "no_qr",
                "Tidak ada kode QR surat Balai yang terbaca pada gambar atau PDF ini.",
            )
        })?;
    }
    let keys = app.store.read(|c| Ok::<_, ApiError>(store_letters::keys(c)?))?;
    let lookup = |kid: &str| {
        keys.iter()
            .find(|k| k.key_id == kid)
            .and_then(|k| letter_payload::public_key(&k.public_hex))
    };
    let bad = |reason: &str, message: String, claims: Option<LetterClaims>| Verification {
        verdict: if reason == "voided" { "dibatalkan".into() } else { "tidak_sah".into() },
        reason: Some(reason.into()),
        message,
        claims,
    };
    let claims = match letter_payload::verify(&a.payload, lookup) {
        Ok(c) => c,
        Err(e) => return Ok(bad(e.code(), e.to_string(), None)),
    };
    let id = Uuid::parse_str(&claims.letter_id).ok();
    let stored = match id {
        Some(id) => app.store.read(|c| Ok::<_, ApiError>(store_letters::get(c, id)?))?,
        None => None,
    };
    let Some(l) = stored else {
        return Ok(bad(
            "unknown_letter",
            "Tanda tangan sah, tetapi surat ini tidak tercatat di kantor ini.".into(),
            Some(claims),
        ));
    };
    if l.number.as_deref() != Some(claims.number.as_str())
        || l.content_hash.as_deref() != Some(claims.content_hash.as_str())
    {
        return Ok(bad(
            "content_mismatch",
            "Isi kode tidak cocok dengan surat yang tercatat.".into(),
            Some(claims),
        ));
    }
    if l.status == "dibatalkan" {
        return Ok(bad(
            "voided",
            format!("Surat ini telah dibatalkan: {}", l.reason),
            Some(claims),
        ));
    }
    Ok(Verification {
        verdict: "sah".into(),
        reason: None,
        message: format!(
            "Surat {} sah, diterbitkan {}.",
            claims.number,
            claims.issued.format("%d-%m-%Y")
        ),
        claims: Some(claims),
    })
}

/// The office's public signing key, for the city.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicKey {
    pub key_id: String,
    pub public_hex: String,
    pub created_at: String,
}

pub fn keys(app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<Vec<PublicKey>, ApiError> {
    app.store.read(|c| {
        Ok(store_letters::keys(c)?
            .into_iter()
            .map(|k| PublicKey {
                key_id: k.key_id,
                public_hex: k.public_hex,
                created_at: k.created_at,
            })
            .collect())
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterArgs {
    pub year: i32,
    #[serde(default)]
    pub month: Option<u32>,
}

/// One line of the outgoing register (buku agenda surat keluar).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterLine {
    pub number: String,
    pub issued_on: String,
    pub letter_type: String,
    pub title: String,
    pub subject_nik_masked: String,
    pub subject_name: String,
    pub signer: String,
    pub status: String,
}

pub fn register_of(app: &App, _ctx: &Ctx, a: RegisterArgs) -> Result<Vec<RegisterLine>, ApiError> {
    let (from, to) = match a.month {
        Some(m) if (1..=12).contains(&m) => {
            let from = NaiveDate::from_ymd_opt(a.year, m, 1)
                .ok_or_else(|| ApiError::field("year", "year", "Tahun tidak sah."))?;
            let to = if m == 12 {
                NaiveDate::from_ymd_opt(a.year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(a.year, m + 1, 1)
            }
            .map(|d| d - chrono::Duration::days(1))
            .unwrap_or(from);
            (from, to)
        }
        Some(_) => return Err(ApiError::field("month", "month", "Bulan 1–12.")),
        None => (
            NaiveDate::from_ymd_opt(a.year, 1, 1)
                .ok_or_else(|| ApiError::field("year", "year", "Tahun tidak sah."))?,
            NaiveDate::from_ymd_opt(a.year, 12, 31)
                .ok_or_else(|| ApiError::field("year", "year", "Tahun tidak sah."))?,
        ),
    };
    app.store.read(|c| {
        store_letters::register(
            c,
            &from.format("%Y-%m-%d").to_string(),
            &to.format("%Y-%m-%d").to_string(),
        )?
        .into_iter()
        .map(|l| {
            let v = view(c, l)?;
            Ok(RegisterLine {
                number: v.number.unwrap_or_default(),
                issued_on: v.issued_on.unwrap_or_default(),
                letter_type: v.letter_type,
                title: v.title,
                subject_nik_masked: v.subject_nik_masked,
                subject_name: v.subject_name,
                signer: v.signer_name.unwrap_or_default(),
                status: v.status,
            })
        })
        .collect()
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFileArgs {
    pub year: i32,
    #[serde(default)]
    pub month: Option<u32>,
    /// Write here (CLI); without it the workbook is returned in base64 (UI download).
    #[serde(default)]
    pub path: Option<String>,
}

/// The outgoing register as an XLSX workbook (buku agenda surat keluar), audited.
pub fn register_xlsx(
    app: &App,
    ctx: &Ctx,
    a: RegisterFileArgs,
) -> Result<crate::areas::reports::FileOut, ApiError> {
    let lines = register_of(app, ctx, RegisterArgs { year: a.year, month: a.month })?;
    let office = app.store.read(|c| Ok::<_, ApiError>(balai_store::profile::get(c)?))?;
    let fail =
        |e: rust_xlsxwriter::XlsxError| ApiError::new(ErrorCode::Internal, format!("XLSX: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Surat keluar").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let period = match a.month {
        Some(m) => format!("{}/{}", balai_letters::content::month_name(m), a.year),
        None => a.year.to_string(),
    };
    let title = match &office {
        Some(p) => format!(
            "BUKU AGENDA SURAT KELUAR KELURAHAN {} — {period}",
            p.kelurahan_name.to_uppercase()
        ),
        None => format!("BUKU AGENDA SURAT KELUAR — {period}"),
    };
    sheet.write_string_with_format(0, 0, &title, &bold).map_err(fail)?;
    let headers =
        ["No.", "Nomor surat", "Tanggal", "Jenis surat", "Nama", "NIK", "Penanda tangan", "Status"];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold).map_err(fail)?;
    }
    for (i, l) in lines.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_number(row, 0, (i + 1) as f64).map_err(fail)?;
        let cells = [
            &l.number,
            &l.issued_on,
            &l.title,
            &l.subject_name,
            &l.subject_nik_masked,
            &l.signer,
            &l.status,
        ];
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(row, c as u16 + 1, v.as_str()).map_err(fail)?;
        }
    }
    for (c, w) in [5.0, 32.0, 12.0, 40.0, 28.0, 20.0, 26.0, 12.0].iter().enumerate() {
        sheet.set_column_width(c as u16, *w).map_err(fail)?;
    }
    let bytes = wb.save_to_buffer().map_err(fail)?;
    audit::record(
        app,
        ctx.actor()?,
        "letters.register_xlsx",
        "report",
        &period,
        &format!("rows={}", lines.len()),
    )?;
    crate::areas::reports::file_out(bytes, ctx.local_path("path", a.path)?)
}

/// The outgoing register as a PDF on the office letterhead, audited.
pub fn register_pdf(
    app: &App,
    ctx: &Ctx,
    a: RegisterFileArgs,
) -> Result<crate::areas::reports::FileOut, ApiError> {
    let lines = register_of(app, ctx, RegisterArgs { year: a.year, month: a.month })?;
    let office = report_office(app)?;
    let period = match a.month {
        Some(m) => format!("{} {}", balai_letters::content::month_name(m), a.year),
        None => format!("Tahun {}", a.year),
    };
    let today = residents::today(app);
    let report = balai_letters::Report {
        title: "BUKU AGENDA SURAT KELUAR".into(),
        subtitle: period.clone(),
        headers: [
            "No.",
            "Nomor surat",
            "Tanggal",
            "Jenis surat",
            "Nama / NIK",
            "Penanda tangan",
            "Status",
        ]
        .map(String::from)
        .to_vec(),
        weights: vec![0.5, 2.4, 1.2, 2.2, 2.2, 1.6, 1.0],
        rows: lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    format!("{}.", i + 1),
                    l.number.clone(),
                    l.issued_on.clone(),
                    l.title.clone(),
                    format!("{} {}", l.subject_name, l.subject_nik_masked),
                    l.signer.clone(),
                    l.status.clone(),
                ]
            })
            .collect(),
        place_date: format!("{}, {}", office.place, balai_letters::content::long_date(today)),
        office,
    };
    let paper = app.store.read(|c| read_settings(c))?.paper;
    let bytes = balai_letters::pdf::render_report(&report, paper, today)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    audit::record(
        app,
        ctx.actor()?,
        "letters.register_pdf",
        "report",
        &period,
        &format!("rows={}", lines.len()),
    )?;
    crate::areas::reports::file_out(bytes, ctx.local_path("path", a.path)?)
}
