//! Which device sent a request: the `Authorization: Balai-Device <id>:<time_ms>:<sig>` header
//! is checked against the device's enrolled public key, the time against the server's clock
//! (within `AUTH_WINDOW_MS`), and the device against revocation. The kelurahan of everything
//! the request writes is then the device's.
//!
//! Every refusal is a security event; the answer never says which check failed beyond "not
//! authenticated", "revoked" or "unknown device" (an id the city does not know: it was
//! restored from a backup older than the enrolment, and the PC enrols again).

use crate::db::{Db, Device};
use crate::KotaError;
use balai_protocol::{request_message, AUTH_SCHEME, AUTH_WINDOW_MS};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn refused() -> KotaError {
    KotaError::Unauthenticated("Permintaan perangkat tidak terautentikasi.".into())
}

/// The device that signed this request and the time it signed it at (by its clock), or why
/// not.
pub fn device_of(
    db: &Db,
    authorization: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: u64,
) -> Result<(Device, u64), KotaError> {
    let value = authorization.ok_or_else(refused)?;
    let rest =
        value.strip_prefix(AUTH_SCHEME).and_then(|r| r.strip_prefix(' ')).ok_or_else(refused)?;
    let mut parts = rest.trim().splitn(3, ':');
    let (Some(id), Some(time), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(refused());
    };
    let id = Uuid::parse_str(id).map_err(|_| refused())?;
    let time_ms: u64 = time.parse().map_err(|_| refused())?;
    let Some(device) = db.device(id)? else {
        let _ = db.security_event(None, "unknown_device", &format!("{method} {path}"), now_ms);
        return Err(KotaError::UnknownDevice);
    };
    let reject = |kind: &str| -> KotaError {
        // A failed write of the event must not turn a refusal into an acceptance.
        let _ = db.security_event(Some(id), kind, &format!("{method} {path}"), now_ms);
        refused()
    };
    if device.revoked_at_ms.is_some() {
        let _ = db.security_event(Some(id), "revoked_device", &format!("{method} {path}"), now_ms);
        return Err(if device.revoke_reason.as_deref() == Some("restored_copy") {
            KotaError::EpochFenced
        } else {
            KotaError::Revoked
        });
    }
    if time_ms.abs_diff(now_ms) > AUTH_WINDOW_MS {
        return Err(reject("stale_signature"));
    }
    let key: [u8; 32] = hex::decode(&device.public_key_hex)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| reject("bad_key"))?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| reject("bad_key"))?;
    let sig: [u8; 64] = hex::decode(sig)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| reject("bad_signature"))?;
    let message = request_message(method, path, time_ms, &hex::encode(Sha256::digest(body)));
    key.verify(&message, &Signature::from_bytes(&sig)).map_err(|_| reject("bad_signature"))?;
    // "Last seen" is for the city dashboard: once a minute is enough, not a write per request.
    if device.last_seen_ms.is_none_or(|t| now_ms.saturating_sub(t) > 60_000) {
        db.seen(id, now_ms)?;
    }
    Ok((device, time_ms))
}
