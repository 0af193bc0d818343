//! Benchmarks of the foundation, through `dispatch` as the UI calls it, on a real database
//! file. `cargo xtask bench` runs them and writes BENCHMARKS.md.

use balai_app::areas::demo::demo_profile;
use balai_testkit::TestApp;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn foundation(c: &mut Criterion) {
    let t = TestApp::demo();
    c.bench_function("login", |b| b.iter(|| t.login("petugas", "demo-petugas")));

    let token = t.login("admin", "demo-admin");
    c.bench_function("profile_get", |b| {
        b.iter(|| t.call(Some(&token), "profile.get", json!({})).unwrap())
    });

    let mut n = 0u32;
    c.bench_function("profile_set", |b| {
        b.iter(|| {
            n += 1;
            let mut p = demo_profile();
            p.address = format!("Jl. Contoh Raya No. {n}");
            t.call(Some(&token), "profile.set", serde_json::to_value(&p).unwrap()).unwrap()
        })
    });

    let big = TestApp::demo();
    for i in 0..10_000 {
        big.operator("settings.set", json!({"idle_lock_minutes": 1 + i % 200})).unwrap();
    }
    c.bench_function("audit_verify_10k", |b| {
        b.iter(|| {
            let r = big.operator("audit.verify", json!({})).unwrap();
            assert_eq!(r["ok"], true);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = foundation
}
criterion_main!(benches);
