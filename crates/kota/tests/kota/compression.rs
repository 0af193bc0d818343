//! Compressed bodies both ways: a push may come zstd-compressed (checked by its signature
//! before it is opened, and never opened past the limit), feed pages go out compressed to a
//! client that accepts it, and a change too large to travel is refused without blocking.

use crate::sync::Pc;
use crate::{signed, Kota};
use balai_protocol::{MAX_DECODED_BYTES, PROTOCOL};
use serde_json::{json, Value};

fn zstd(raw: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(raw, 3).unwrap()
}

/// A signed push of `body` sent compressed; (status, answer).
fn push_compressed(pc: &Pc, body: &[u8], sign_as: &[u8]) -> (u16, Value) {
    let auth = signed(&pc.key, &pc.id, "POST", "/v1/push", pc.kota.server_time(), sign_as);
    let headers = [("Authorization", auth.as_str()), ("Content-Encoding", "zstd")];
    let (status, _, answer) = pc.kota.exchange("POST", "/v1/push", &headers, body);
    (status, serde_json::from_slice(&answer).unwrap_or(Value::Null))
}

fn push_body(pc: &Pc, ops: &[Value]) -> Vec<u8> {
    json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
           "device_id": pc.id, "epoch": 1, "ops": ops})
    .to_string()
    .into_bytes()
}

#[test]
fn a_compressed_push_is_opened_only_when_signed_and_within_the_limit() {
    let kota = Kota::start();
    let mut pc = Pc::enrol(&kota, 7);
    let op = pc.set("identity", json!({"name": "Siti Aminah"}), 1 << 16);
    let body = zstd(&push_body(&pc, &[op]));

    // Signed over other bytes than those sent: refused before anything is decompressed.
    let (status, v) = push_compressed(&pc, &body, b"something else");
    assert_eq!((status, v["code"].as_str()), (401, Some("unauthenticated")), "{v}");

    let (status, v) = push_compressed(&pc, &body, &body);
    assert_eq!((status, v["acked_through"].as_u64()), (200, Some(1)), "{v}");
    assert_eq!(v["results"][0]["outcome"], "ok", "{v}");

    // A small body that opens into more than the limit (a "zip bomb"): refused, nothing taken.
    let mut huge = push_body(&pc, &[]);
    huge.resize(MAX_DECODED_BYTES + 1024, b' ');
    let bomb = zstd(&huge);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let (status, v) = push_compressed(&pc, &bomb, &bomb);
    assert_eq!((status, v["code"].as_str()), (400, Some("bad_request")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("terlalu besar"), "{v}");

    // Not zstd at all, though it says so.
    let (status, v) = push_compressed(&pc, b"not zstd", b"not zstd");
    assert_eq!(status, 400, "{v}");

    // The PC's too-large note is refused with its own code, and the op after it is taken.
    let note = pc.command(
        "too_large",
        json!({"table": "residents", "field_group": "notes", "bytes": 900 * 1024}),
    );
    let after = pc.set("identity", json!({"name": "Siti Aminah binti Umar"}), 2 << 16);
    let body = zstd(&push_body(&pc, &[note, after]));
    let (status, v) = push_compressed(&pc, &body, &body);
    assert_eq!((status, v["acked_through"].as_u64()), (200, Some(3)), "{v}");
    assert_eq!(
        (v["results"][0]["outcome"].as_str(), v["results"][0]["code"].as_str()),
        (Some("rejected"), Some("too_large")),
        "{v}"
    );
    assert!(v["results"][0]["message"].as_str().unwrap().contains("900 KB"), "{v}");
    assert_eq!(v["results"][1]["outcome"], "ok", "{v}");
}

#[test]
fn feed_pages_go_out_compressed_to_a_client_that_accepts_it() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 8);
    let b = Pc::enrol(&kota, 9);
    let ops: Vec<Value> = (0..50)
        .map(|i| a.set("identity", json!({"name": format!("Warga Contoh {i}")}), (i + 1) << 16))
        .collect();
    let (status, v) = a.push(&ops);
    assert_eq!(status, 200, "{v}");

    let path = "/v1/pull?cursor=0&limit=100";
    let auth = signed(&b.key, &b.id, "GET", path, kota.server_time(), b"");
    let headers = [("Authorization", auth.as_str()), ("Accept-Encoding", "zstd")];
    let (status, head, body) = kota.exchange("GET", path, &headers, b"");
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-encoding: zstd"), "{head}");
    let page: Value = serde_json::from_slice(&zstd::decode_all(&body[..]).unwrap()).unwrap();
    assert_eq!(page["changes"].as_array().unwrap().len(), 50, "{page}");
    assert!(body.len() * 3 < serde_json::to_vec(&page).unwrap().len(), "{} bytes", body.len());

    // Without asking: plain JSON.
    let auth = signed(&b.key, &b.id, "GET", path, kota.server_time(), b"");
    let (status, head, body) = kota.exchange("GET", path, &[("Authorization", auth.as_str())], b"");
    assert_eq!(status, 200);
    assert!(!head.to_ascii_lowercase().contains("content-encoding"), "{head}");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["changes"], page["changes"]);
}
