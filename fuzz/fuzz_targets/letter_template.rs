//! Any text as a letter template (`assets/letters/*/template.toml`): parsed and checked as the
//! loader does. Nothing may panic.
#![no_main]

use balai_letters::template::{placeholders, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = placeholders(text);
    if let Ok(t) = Template::parse("fuzz", text) {
        let _ = t.check();
    }
});
