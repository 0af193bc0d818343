//! The resident register: search, show, add, edit, life events, duplicates and merging.
//!
//! The rules that need the whole register live here (a NIK belongs to one living record; a KK
//! has one kepala keluarga); the rules of a single record live in balai-domain.

use crate::areas::audit;
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::codes::{list, CodeKind};
use balai_domain::letter_payload::mask_nik;
use balai_domain::nik::Sex;
use balai_domain::privacy;
use balai_domain::resident::{
    parse_date, EventKind, LifeStatus, Resident, ResidentInput, SHDK_KEPALA,
};
use balai_domain::FieldErrors;
use balai_store::register::{
    self, DuplicateReason, EventRow, FamilyRow, SearchHit, SearchQuery, StoredResident,
};
use balai_store::{Uuid, WriteTx};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub(crate) fn today(app: &App) -> NaiveDate {
    app.today()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchArgs {
    pub q: String,
    pub rt: Option<u16>,
    pub rw: Option<u16>,
    pub sex: Option<String>,
    pub status: Option<String>,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    pub limit: Option<u32>,
}

/// One line of a search result. The NIK and KK are masked: a list is read over a clerk's
/// shoulder, and the record itself (`residents.show`) has the full numbers.
#[derive(Clone, Serialize, Deserialize)]
pub struct ResidentHit {
    pub id: String,
    pub nik_masked: String,
    pub no_kk_masked: Option<String>,
    pub full_name: String,
    pub sex: Sex,
    pub birth_place: String,
    pub birth_date: NaiveDate,
    pub rt: u16,
    pub rw: u16,
    pub status: LifeStatus,
    pub shdk: u16,
}

impl std::fmt::Debug for ResidentHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResidentHit").field("id", &self.id).finish_non_exhaustive()
    }
}

impl From<SearchHit> for ResidentHit {
    fn from(h: SearchHit) -> Self {
        ResidentHit {
            id: h.id,
            nik_masked: mask_nik(&h.nik),
            no_kk_masked: h.no_kk.as_deref().map(mask_nik),
            full_name: h.full_name,
            sex: h.sex,
            birth_place: h.birth_place,
            birth_date: h.birth_date,
            rt: h.rt,
            rw: h.rw,
            status: h.status,
            shdk: h.shdk,
        }
    }
}

pub fn search(app: &App, _ctx: &Ctx, a: SearchArgs) -> Result<Vec<ResidentHit>, ApiError> {
    let today = today(app);
    let years_ago = |y: u32| today.with_year(today.year() - y as i32).unwrap_or(today);
    let sex = match a.sex.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Sex::parse(s)
                .ok_or_else(|| ApiError::field("sex", "sex_format", "Jenis kelamin: L atau P."))?,
        ),
        None => None,
    };
    let status =
        match a.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(LifeStatus::parse(s).ok_or_else(|| {
                ApiError::field("status", "unknown_status", "Status tidak dikenal.")
            })?),
            None => None,
        };
    let q = SearchQuery {
        q: a.q,
        rt: a.rt,
        rw: a.rw,
        sex,
        status,
        born_on_or_before: a.min_age.map(years_ago),
        // Younger than max_age + 1 years: born after that many years ago.
        born_after: a.max_age.map(|y| years_ago(y + 1)),
        limit: a.limit,
    };
    let hits = app.store.read(|c| register::search(c, &q))?;
    Ok(hits.into_iter().map(ResidentHit::from).collect())
}

/// A resident as the UI shows it: stored fields plus their code labels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResidentView {
    pub id: String,
    pub status: LifeStatus,
    pub merged_into: Option<String>,
    pub resident: Resident,
    pub labels: Labels,
    pub age: i32,
    pub family: Option<FamilyView>,
    pub events: Vec<EventRow>,
    pub duplicates: Vec<DuplicateView>,
    pub created_at: String,
    pub updated_at: String,
    /// The categories of specific personal data the record holds (`kesehatan`, `disabilitas`,
    /// `anak`; `assets/privacy/rules.toml`). When not empty, showing it was audited.
    pub specific: Vec<String>,
    /// The reason of a legal hold (`privacy.hold`); empty when there is none.
    pub legal_hold: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Labels {
    pub religion: String,
    pub marital_status: String,
    pub shdk: String,
    pub education: String,
    pub occupation: String,
    pub blood_type: String,
    pub citizenship: String,
    pub disability: String,
}

fn label(kind: CodeKind, code: Option<u16>) -> String {
    code.and_then(|c| list(kind).label(c)).unwrap_or("").to_string()
}

fn labels(r: &Resident) -> Labels {
    Labels {
        religion: label(CodeKind::Agama, Some(r.religion)),
        marital_status: label(CodeKind::StatusPerkawinan, Some(r.marital_status)),
        shdk: label(CodeKind::Shdk, Some(r.shdk)),
        education: label(CodeKind::Pendidikan, r.education),
        occupation: label(CodeKind::Pekerjaan, r.occupation),
        blood_type: label(CodeKind::GolonganDarah, r.blood_type),
        citizenship: label(CodeKind::Kewarganegaraan, Some(r.citizenship)),
        disability: label(CodeKind::Cacat, r.disability),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberView {
    pub id: String,
    pub nik: String,
    pub full_name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub shdk: u16,
    pub shdk_label: String,
    pub status: LifeStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FamilyView {
    pub id: String,
    pub no_kk: String,
    pub address: String,
    pub rt: u16,
    pub rw: u16,
    pub members: Vec<MemberView>,
    /// Living heads (kepala keluarga); exactly one in a sound family.
    pub heads: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicateView {
    pub other_id: String,
    pub other_name: String,
    pub other_nik: String,
    pub reason: DuplicateReason,
}

pub(crate) fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

fn family_view(
    conn: &balai_store::ReadConn,
    family_id: Uuid,
) -> Result<Option<FamilyView>, ApiError> {
    let members = register::family_members(conn, family_id)?;
    let Some(first) = members.first() else { return Ok(None) };
    let heads = members
        .iter()
        .filter(|m| m.data.shdk == SHDK_KEPALA && m.status == LifeStatus::Hidup)
        .count();
    let no_kk = first.no_kk.clone().unwrap_or_default();
    let fam = register::family(conn, family_id)?;
    Ok(Some(FamilyView {
        id: family_id.to_string(),
        no_kk,
        address: fam.as_ref().map(|f| f.address.clone()).unwrap_or_default(),
        rt: fam.as_ref().map(|f| f.rt).unwrap_or(0),
        rw: fam.as_ref().map(|f| f.rw).unwrap_or(0),
        heads,
        members: members
            .iter()
            .map(|m| MemberView {
                id: m.id.to_string(),
                nik: m.data.nik.as_str().into(),
                full_name: m.data.full_name.clone(),
                sex: m.data.sex,
                birth_date: m.data.birth_date,
                shdk: m.data.shdk,
                shdk_label: label(CodeKind::Shdk, Some(m.data.shdk)),
                status: m.status,
            })
            .collect(),
    }))
}

fn view(
    app: &App,
    conn: &balai_store::ReadConn,
    r: StoredResident,
) -> Result<ResidentView, ApiError> {
    let family = match r.family_id {
        Some(f) => family_view(conn, f)?,
        None => None,
    };
    let mut events = register::events_of(conn, r.id)?;
    // Records merged into this one keep their history: show it here too.
    for merged in register::merged_into(conn, r.id)? {
        events.extend(register::events_of(conn, merged)?);
    }
    events.sort_by(|a, b| (a.event_date, &a.created_at).cmp(&(b.event_date, &b.created_at)));
    let mut duplicates = Vec::new();
    for (a, b, reason) in register::duplicates(conn, Some(r.id))? {
        let other = if a == r.id { b } else { a };
        if let Some(o) = register::get(conn, other)? {
            duplicates.push(DuplicateView {
                other_id: other.to_string(),
                other_name: o.data.full_name,
                other_nik: o.data.nik.as_str().into(),
                reason,
            });
        }
    }
    let specific = specific_on_page(&r, family.as_ref(), today(app));
    Ok(ResidentView {
        id: r.id.to_string(),
        status: r.status,
        merged_into: r.merged_into.map(|m| m.to_string()),
        labels: labels(&r.data),
        age: age_on(r.data.birth_date, today(app)),
        family,
        events,
        duplicates,
        created_at: r.created_at,
        updated_at: r.updated_at,
        specific,
        legal_hold: balai_store::privacy::legal_hold(conn, r.id)?.unwrap_or_default(),
        resident: r.data,
    })
}

/// The categories of specific data the page of `r` shows: the record's own, and
/// `anak_dalam_kk` when its family card lists another member who is a child (their name, NIK
/// and birth date are on the page too).
fn specific_on_page(
    r: &StoredResident,
    family: Option<&FamilyView>,
    today: NaiveDate,
) -> Vec<String> {
    let rules = privacy::rules();
    let mut out = rules.specific_categories(&r.data, today);
    let own = r.id.to_string();
    if family.is_some_and(|f| children_listed(f, Some(&own), today)) {
        out.push(CHILDREN_ON_CARD.into());
    }
    out
}

/// The category of a family card that lists a child: children's data (Pasal 4 (2)).
const CHILDREN_ON_CARD: &str = "anak_dalam_kk";

/// Whether `f` lists a child other than `except`.
fn children_listed(f: &FamilyView, except: Option<&str>, today: NaiveDate) -> bool {
    f.members
        .iter()
        .any(|m| Some(m.id.as_str()) != except && privacy::rules().is_child(m.birth_date, today))
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::field("id", "id_format", "Id penduduk tidak valid."))
}

/// Finds a resident by id or NIK.
pub(crate) fn find(app: &App, key: &str) -> Result<StoredResident, ApiError> {
    app.store.read(|c| {
        let found = if key.trim().len() == 36 {
            register::get(c, parse_id(key)?)?
        } else {
            register::by_nik(
                c,
                &balai_domain::nik::Nik::parse(key)
                    .map_err(|_| ApiError::field("nik", "nik_format", "NIK harus 16 angka."))?
                    .to_string(),
            )?
            .into_iter()
            .next()
        };
        found.ok_or_else(|| ApiError::not_found("Penduduk"))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyArgs {
    /// The resident's id or NIK.
    pub key: String,
}

/// Shows a record. Showing one that holds specific personal data (health, disability, a child)
/// is audited, naming the categories and never the values (UU 27/2022; `docs/privacy.md`).
pub fn show(app: &App, ctx: &Ctx, a: KeyArgs) -> Result<ResidentView, ApiError> {
    let actor = ctx.actor()?;
    let v = current(app, &a.key)?;
    if !v.specific.is_empty() {
        let detail = format!("kategori={}", v.specific.join("+"));
        audit::record(app, actor, "residents.read_specific", "resident", &v.id, &detail)?;
    }
    Ok(v)
}

/// The record as stored now, without auditing the read: for answers to a write, which showed
/// the writer nothing they had not just entered.
pub(crate) fn current(app: &App, key: &str) -> Result<ResidentView, ApiError> {
    let r = find(app, key)?;
    app.store.read(|c| view(app, c, r))
}

/// Where a new or edited resident goes, after every register-wide rule was checked.
pub(crate) struct Placement {
    pub family_id: Uuid,
    pub new_family: Option<FamilyRow>,
}

/// Checks the register-wide rules for `r` (edited record `id`, if any) and finds or plans its
/// family. (Imports check the same rules against an in-memory index of the register.)
pub(crate) fn place(
    app: &App,
    tx: &WriteTx,
    r: &Resident,
    id: Option<Uuid>,
) -> Result<Placement, FieldErrors> {
    let mut e = FieldErrors::default();
    let sql = |e: balai_store::StoreError| {
        let mut f = FieldErrors::default();
        f.push("nik", "internal", e.to_string());
        f
    };
    let same_nik = register::by_nik(tx, r.nik.as_str()).map_err(sql)?;
    if let Some(other) = same_nik.iter().find(|o| Some(o.id) != id) {
        e.push(
            "nik",
            "nik_taken",
            format!(
                "NIK sudah terdaftar atas nama {} (lahir {}).",
                other.data.full_name,
                other.data.birth_date.format("%d-%m-%Y")
            ),
        );
    }
    let existing_family =
        register::family_by_no_kk(tx, r.no_kk.as_str()).map_err(sql)?.map(|f| f.id);
    let (family_id, new_family) = match existing_family {
        Some(fid) => (fid, None),
        None => {
            let fid = app.new_id();
            (
                fid,
                Some(FamilyRow {
                    id: fid,
                    no_kk: r.no_kk.as_str().into(),
                    address: r.address.clone(),
                    rt: r.rt,
                    rw: r.rw,
                    lingkungan: r.lingkungan.clone(),
                }),
            )
        }
    };
    if r.shdk == SHDK_KEPALA && new_family.is_none() {
        let heads = register::heads_of(tx, family_id, id).map_err(sql)?;
        if let Some(h) = heads.first() {
            let name =
                register::get(tx, *h).map_err(sql)?.map(|s| s.data.full_name).unwrap_or_default();
            e.push(
                "shdk",
                "second_head",
                format!("KK {} sudah punya kepala keluarga ({name}); satu KK hanya boleh satu kepala keluarga.", r.no_kk),
            );
        }
    }
    e.into_result()?;
    Ok(Placement { family_id, new_family })
}

/// Writes a placed resident (insert when `id` is new) and returns its id.
pub(crate) fn store_resident(
    tx: &WriteTx,
    r: &Resident,
    existing: Option<Uuid>,
    new_id: Uuid,
    p: &Placement,
    at: &str,
) -> Result<Uuid, ApiError> {
    if let Some(f) = &p.new_family {
        register::insert_family(tx, f, at)?;
    }
    match existing {
        Some(id) => {
            register::update_resident(tx, id, p.family_id, r, at)?;
            Ok(id)
        }
        None => {
            register::insert_resident(tx, new_id, p.family_id, r, LifeStatus::Hidup, at)?;
            Ok(new_id)
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddArgs {
    pub resident: ResidentInput,
    /// Record the arrival as an event: `lahir` or `pindah_masuk` (optional).
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub event_date: Option<String>,
}

fn sensitive_detail(r: &Resident) -> String {
    // The audit trail names the record and the kind of change, never the data itself.
    if r.nik_warnings.is_empty() {
        String::new()
    } else {
        format!(
            "nik_override={}",
            r.nik_warnings.iter().map(|w| w.code()).collect::<Vec<_>>().join("+")
        )
    }
}

pub fn add(app: &App, ctx: &Ctx, a: AddArgs) -> Result<ResidentView, ApiError> {
    let actor = ctx.actor()?;
    let r = a.resident.validate(today(app))?;
    let event = match a.event.as_deref().filter(|s| !s.is_empty()) {
        Some(k) => match EventKind::parse(k) {
            Some(k @ (EventKind::Lahir | EventKind::PindahMasuk)) => {
                let date = a.event_date.as_deref().and_then(parse_date).unwrap_or(today(app));
                Some((k, date))
            }
            _ => {
                return Err(ApiError::field(
                    "event",
                    "event_kind",
                    "Peristiwa saat pendaftaran: lahir atau pindah_masuk.",
                ))
            }
        },
        None => None,
    };
    let id = app.new_id();
    let at = app.now_text();
    app.write(actor, |tx| {
        let p = place(app, tx, &r, None)?;
        store_resident(tx, &r, None, id, &p, &at)?;
        if let Some((kind, date)) = event {
            register::insert_event(tx, app.new_id(), id, kind, date, "", &actor.name, &at)?;
        }
        audit::record_in(
            tx,
            app,
            actor,
            "residents.add",
            "resident",
            &id.to_string(),
            &sensitive_detail(&r),
        )
    })?;
    current(app, &id.to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditArgs {
    pub id: String,
    pub resident: ResidentInput,
}

pub fn edit(app: &App, ctx: &Ctx, a: EditArgs) -> Result<ResidentView, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_id(&a.id)?;
    let r = a.resident.validate(today(app))?;
    let at = app.now_text();
    app.write(actor, |tx| {
        let old = register::get(tx, id)?.ok_or_else(|| ApiError::not_found("Penduduk"))?;
        if old.merged_into.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "Data ini sudah digabung ke data lain; ubah data tujuannya.",
            ));
        }
        let p = place(app, tx, &r, Some(id))?;
        store_resident(tx, &r, Some(id), id, &p, &at)?;
        audit::record_in(
            tx,
            app,
            actor,
            "residents.edit",
            "resident",
            &id.to_string(),
            &sensitive_detail(&r),
        )
    })?;
    current(app, &id.to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventArgs {
    /// Id or NIK.
    pub key: String,
    pub kind: String,
    pub date: String,
    #[serde(default)]
    pub details: String,
}

pub fn event(app: &App, ctx: &Ctx, a: EventArgs) -> Result<ResidentView, ApiError> {
    let actor = ctx.actor()?;
    let mut e = FieldErrors::default();
    let kind = EventKind::parse(&a.kind);
    if kind.is_none() {
        e.push(
            "kind",
            "event_kind",
            "Jenis peristiwa: lahir, mati, pindah_masuk, pindah_keluar, hilang atau pergi.",
        );
    }
    let date = parse_date(&a.date);
    match date {
        None => {
            e.push("date", "date_format", "Tanggal harus HH-BB-TTTT, HH/BB/TTTT atau TTTT-BB-HH.")
        }
        Some(d) if d > today(app) => {
            e.push("date", "date_in_future", "Tanggal peristiwa tidak boleh di masa depan.")
        }
        _ => {}
    }
    if a.details.chars().count() > 500 {
        e.push("details", "too_long", "Paling banyak 500 karakter.");
    }
    e.into_result()?;
    let (Some(kind), Some(date)) = (kind, date) else {
        return Err(ApiError::new(ErrorCode::Internal, "event"));
    };
    let r = find(app, &a.key)?;
    if r.merged_into.is_some() {
        return Err(ApiError::new(ErrorCode::Conflict, "Data ini sudah digabung ke data lain."));
    }
    if r.status == LifeStatus::Mati {
        return Err(ApiError::field(
            "kind",
            "already_dead",
            "Penduduk ini sudah tercatat meninggal.",
        ));
    }
    let at = app.now_text();
    app.write(actor, |tx| {
        register::insert_event(
            tx,
            app.new_id(),
            r.id,
            kind,
            date,
            a.details.trim(),
            &actor.name,
            &at,
        )?;
        register::set_status(tx, r.id, kind.resulting_status(), &at)?;
        audit::record_in(
            tx,
            app,
            actor,
            "residents.event",
            "resident",
            &r.id.to_string(),
            kind.as_str(),
        )
    })?;
    current(app, &r.id.to_string())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub a: SearchHit,
    pub b: SearchHit,
    pub reason: DuplicateReason,
}

use crate::areas::NoArgs;

fn hit(r: &StoredResident) -> SearchHit {
    SearchHit {
        id: r.id.to_string(),
        nik: r.data.nik.as_str().into(),
        no_kk: r.no_kk.clone(),
        full_name: r.data.full_name.clone(),
        sex: r.data.sex,
        birth_place: r.data.birth_place.clone(),
        birth_date: r.data.birth_date,
        rt: r.data.rt,
        rw: r.data.rw,
        status: r.status,
        shdk: r.data.shdk,
    }
}

pub fn duplicates(app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<Vec<DuplicatePair>, ApiError> {
    app.store.read(|c| {
        let mut out = Vec::new();
        for (a, b, reason) in register::duplicates(c, None)? {
            if let (Some(ra), Some(rb)) = (register::get(c, a)?, register::get(c, b)?) {
                out.push(DuplicatePair { a: hit(&ra), b: hit(&rb), reason });
            }
        }
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeArgs {
    /// The record that stays.
    pub keep: String,
    /// The record merged into it: kept (with its events) and marked merged, never deleted.
    pub drop: String,
}

pub fn merge(app: &App, ctx: &Ctx, a: MergeArgs) -> Result<ResidentView, ApiError> {
    let actor = ctx.actor()?;
    let keep = find(app, &a.keep)?;
    let drop = find(app, &a.drop)?;
    if keep.id == drop.id {
        return Err(ApiError::field(
            "drop",
            "same_record",
            "Tidak dapat menggabung data dengan dirinya sendiri.",
        ));
    }
    if keep.merged_into.is_some() || drop.merged_into.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "Salah satu data sudah digabung sebelumnya.",
        ));
    }
    let at = app.now_text();
    app.write(actor, |tx| {
        register::set_merged_into(tx, drop.id, keep.id, &at)?;
        audit::record_in(
            tx,
            app,
            actor,
            "residents.merge",
            "resident",
            &keep.id.to_string(),
            &format!("merged={}", drop.id),
        )
    })?;
    current(app, &keep.id.to_string())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyArgs {
    pub no_kk: String,
}

/// Shows a family card; one that lists a child is audited as a read of children's data.
pub fn family(app: &App, ctx: &Ctx, a: FamilyArgs) -> Result<FamilyView, ApiError> {
    let actor = ctx.actor()?;
    let kk = balai_domain::nik::NoKk::parse(&a.no_kk)
        .map_err(|_| ApiError::field("no_kk", "no_kk_format", "No. KK harus 16 angka."))?;
    let f = app.store.read(|c| {
        let f = register::family_by_no_kk(c, kk.as_str())?
            .ok_or_else(|| ApiError::not_found("Kartu keluarga"))?;
        family_view(c, f.id)?.ok_or_else(|| ApiError::not_found("Anggota kartu keluarga"))
    })?;
    if children_listed(&f, None, today(app)) {
        let detail = format!("kategori={CHILDREN_ON_CARD}");
        audit::record(app, actor, "families.read_specific", "family", &f.id, &detail)?;
    }
    Ok(f)
}

/// The code lists the forms offer (Dukcapil codes with their labels).
pub fn codes(
    _app: &App,
    _ctx: &Ctx,
    _a: NoArgs,
) -> Result<std::collections::BTreeMap<&'static str, Vec<balai_domain::codes::CodeEntry>>, ApiError>
{
    Ok(CodeKind::ALL.iter().map(|k| (k.name(), list(*k).entries.clone())).collect())
}
