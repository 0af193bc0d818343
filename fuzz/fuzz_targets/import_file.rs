//! Any bytes as a register file: read as CSV or workbook, each row put into a resident's fields
//! as the importer does, and validated. Nothing may panic; memory stays bounded (libFuzzer's
//! -rss_limit_mb).
#![no_main]

use balai_domain::resident::ResidentInput;
use balai_import::{field_for, read_table, slot, Row};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = read_table(data) else { return };
    let fields: Vec<Option<&str>> = table.headers.iter().map(|h| field_for(h)).collect();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
    for row in &table.rows {
        let Row::Cells(_, cells) = row else { continue };
        let mut input = ResidentInput::default();
        for (field, cell) in fields.iter().zip(cells) {
            if let Some(s) = field.and_then(|f| slot(&mut input, f)) {
                *s = cell.clone();
            }
        }
        let _ = input.validate(today);
    }
});
