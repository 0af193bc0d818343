//! Any text as a letter's QR payload (`BLV1|…`), as the verification page and the app read it:
//! decoded and verified against a key. Nothing may panic; what decodes, signed again with
//! another key, decodes to the same claims but that key's id.
#![no_main]

use balai_domain::letter_payload::{decode, encode, verify, LetterClaims, OfficeKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = OfficeKey::from_seed(&[7; 32]);
    let public = balai_domain::letter_payload::public_key(&key.public_hex());
    let _ = verify(text, |_| public);
    if let Ok((claims, _, _)) = decode(text) {
        if let Ok(again) = encode(&claims, &key) {
            let (back, _, _) = decode(&again).expect("an encoded payload decodes");
            assert_eq!(back, LetterClaims { key_id: key.key_id(), ..claims });
        }
    }
});
