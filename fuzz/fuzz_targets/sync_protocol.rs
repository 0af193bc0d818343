//! Any bytes as a sync body (balai-protocol): what Balai Kota reads from a PC and a PC reads
//! from the city. Nothing may panic; what decodes encodes and decodes to the same value.
#![no_main]

use balai_protocol::{EnrolRequest, LeaseRequest, PullResponse, PushRequest, SnapshotPage};
use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<T>(data) {
        let text = serde_json::to_vec(&v).expect("a decoded body encodes");
        let back: T = serde_json::from_slice(&text).expect("an encoded body decodes");
        assert_eq!(back, v);
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<PushRequest>(data);
    round_trip::<PullResponse>(data);
    round_trip::<SnapshotPage>(data);
    round_trip::<EnrolRequest>(data);
    round_trip::<LeaseRequest>(data);
});
