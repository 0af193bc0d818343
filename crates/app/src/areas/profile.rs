//! The office profile and its emblem.

use crate::areas::audit;
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::office::{sniff_emblem, OfficeProfile};
use balai_store::profile::{self as store_profile, Emblem};
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmblemInfo {
    pub mime: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileView {
    /// `None` until the office is set up (`balai init`).
    pub profile: Option<OfficeProfile>,
    pub emblem: Option<EmblemInfo>,
}

use crate::areas::NoArgs;

pub fn get(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<ProfileView, ApiError> {
    app.store.read(|c| {
        Ok(ProfileView {
            profile: store_profile::get(c)?,
            emblem: store_profile::emblem(c)?
                .map(|e| EmblemInfo { mime: e.mime, sha256: e.sha256 }),
        })
    })
}

/// Names of the fields that differ, for the audit trail (values are not logged).
fn changed_fields(old: Option<&OfficeProfile>, new: &OfficeProfile) -> Vec<&'static str> {
    let Some(old) = old else { return vec!["(baru)"] };
    let pairs: [(&'static str, &String, &String); 13] = [
        ("province_code", &old.province_code, &new.province_code),
        ("province_name", &old.province_name, &new.province_name),
        ("city_code", &old.city_code, &new.city_code),
        ("city_name", &old.city_name, &new.city_name),
        ("kecamatan_code", &old.kecamatan_code, &new.kecamatan_code),
        ("kecamatan_name", &old.kecamatan_name, &new.kecamatan_name),
        ("kelurahan_code", &old.kelurahan_code, &new.kelurahan_code),
        ("kelurahan_name", &old.kelurahan_name, &new.kelurahan_name),
        ("address", &old.address, &new.address),
        ("postal_code", &old.postal_code, &new.postal_code),
        ("phone", &old.phone, &new.phone),
        ("email", &old.email, &new.email),
        ("website", &old.website, &new.website),
    ];
    pairs.into_iter().filter(|(_, a, b)| a != b).map(|(n, _, _)| n).collect()
}

pub fn set(app: &App, ctx: &Ctx, args: OfficeProfile) -> Result<ProfileView, ApiError> {
    let actor = ctx.actor()?;
    let profile = args.validated()?;
    app.write(actor, |tx| {
        let old = store_profile::get(tx)?;
        let changed = changed_fields(old.as_ref(), &profile);
        store_profile::put(tx, &profile, &app.now_text())?;
        if old.is_none() {
            // Setting the office up makes its letter-signing key (once; later saves keep it).
            crate::areas::letters::signing_key(app, tx)?;
        }
        audit::record_in(tx, app, actor, "profile.set", "office_profile", "", &changed.join(","))
    })?;
    app.utc_offset_s
        .store(crate::office_utc_offset(Some(&profile)), std::sync::atomic::Ordering::Relaxed);
    get(app, ctx, NoArgs {})
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EmblemData {
    pub mime: String,
    pub data_base64: String,
}

pub fn emblem(app: &App, _ctx: &Ctx, _args: NoArgs) -> Result<Option<EmblemData>, ApiError> {
    let e = app.store.read(|c| Ok::<_, ApiError>(store_profile::emblem(c)?))?;
    Ok(e.map(|e| EmblemData {
        mime: e.mime,
        data_base64: base64::engine::general_purpose::STANDARD.encode(e.bytes),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetEmblemArgs {
    pub data_base64: String,
}

pub fn set_emblem(app: &App, ctx: &Ctx, args: SetEmblemArgs) -> Result<EmblemInfo, ApiError> {
    let actor = ctx.actor()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(args.data_base64.trim()).map_err(
        |_| ApiError::field("emblem", "base64", "Isi berkas lambang tidak terbaca (base64)."),
    )?;
    let format = sniff_emblem(&bytes)?;
    crate::areas::letters::check_emblem(format.mime(), &bytes)?;
    let emblem =
        Emblem { mime: format.mime().into(), sha256: balai_domain::sha256_hex(&bytes), bytes };
    app.write(actor, |tx| {
        if store_profile::get(tx)?.is_none() {
            return Err(ApiError::new(ErrorCode::NotInitialized, "Profil kantor belum diisi."));
        }
        store_profile::put_emblem(tx, &emblem, &app.now_text())?;
        audit::record_in(
            tx,
            app,
            actor,
            "profile.set_emblem",
            "office_emblem",
            &emblem.sha256,
            format.mime(),
        )
    })?;
    Ok(EmblemInfo { mime: emblem.mime, sha256: emblem.sha256 })
}
