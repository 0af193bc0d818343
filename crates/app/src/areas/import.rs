//! Importing a register from a spreadsheet saved as CSV (comma, semicolon or tab; with or
//! without a BOM; UTF-8 or Windows-1252), with the headers OpenSID and SIAK exports use.
//!
//! One transaction per file: valid rows are written together, every rejected row is reported
//! with its line, column, value, a stable code and an Indonesian message. Re-importing the same
//! file changes nothing. A dry run does the same work and rolls it back.

use crate::areas::{audit, residents};
use crate::error::{ApiError, ErrorCode};
use crate::{App, Ctx};
use balai_domain::resident::{normalize_name, ResidentInput, SHDK_KEPALA};
use balai_domain::FieldErrors;
use balai_import::{field_for, read_table, slot, Row, IGNORED_HEADERS, REQUIRED};
use balai_store::register;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportArgs {
    /// A file on this computer (CLI), or…
    #[serde(default)]
    pub path: Option<String>,
    /// …the file's text (UI upload of a CSV), or…
    #[serde(default)]
    pub content: Option<String>,
    /// …the file's bytes in base64 (UI upload of an XLSX).
    #[serde(default)]
    pub content_base64: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// A reason that accepts NIK *warnings* (not errors) on every row, e.g. "data SIAK".
    #[serde(default)]
    pub nik_override_reason: Option<String>,
    /// An id the caller picks to follow the import with `progress.get` while it runs.
    #[serde(default)]
    pub progress_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub column: String,
    pub value: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportReport {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<Rejected>,
    /// Columns of the file that Balai does not know (ignored).
    pub unknown_columns: Vec<String>,
    pub dry_run: bool,
    /// Rows read (excluding the header).
    pub rows: u64,
}

/// Above this many lines a file is written as a bulk write (indexes and sync capture done once,
/// set-based, at the end).
const BULK_ROWS: usize = 2_000;

fn file_error(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::field("file", code, message)
}

/// Rows between two progress updates: often enough for a bar to move smoothly, rarely enough
/// that the lock it takes costs nothing.
const PROGRESS_EVERY: u64 = 1_000;

pub fn import(app: &App, ctx: &Ctx, a: ImportArgs) -> Result<ImportReport, ApiError> {
    let actor = ctx.actor()?;
    let progress = app.progress.start(a.progress_id.as_deref(), actor);
    let path = ctx.local_path("path", a.path.clone())?;
    let bytes = match (&path, &a.content, &a.content_base64) {
        (Some(p), None, None) => std::fs::read(p)
            .map_err(|e| file_error("unreadable", format!("Berkas tidak dapat dibaca: {e}")))?,
        (None, Some(c), None) => c.clone().into_bytes(),
        (None, None, Some(b)) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|_| file_error("unreadable", "Isi berkas tidak terbaca (base64)."))?
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::BadArguments,
                "Beri `path`, `content` atau `content_base64`, salah satu.",
            ))
        }
    };
    let mut table = read_table(&bytes).map_err(|e| file_error(e.code, e.message))?;
    let total = table.rows.len() as u64;
    progress.set("rows", 0, total);
    let headers = table.headers.clone();
    let bulk = table.rows.len() > BULK_ROWS;
    let mut mapping: Vec<Option<&'static str>> = Vec::new();
    let mut report = ImportReport { dry_run: a.dry_run, ..Default::default() };
    for h in headers.iter() {
        let f = field_for(h);
        if f.is_none()
            && !h.trim().is_empty()
            && !IGNORED_HEADERS.contains(&h.trim().to_lowercase().as_str())
        {
            report.unknown_columns.push(h.trim().to_string());
        }
        // A column seen twice counts once (the first).
        mapping.push(f.filter(|f| !mapping.contains(&Some(*f))));
    }
    let missing: Vec<&str> =
        REQUIRED.iter().copied().filter(|r| !mapping.contains(&Some(*r))).collect();
    if missing.len() == REQUIRED.len() {
        return Err(file_error(
            "not_a_spreadsheet",
            "Tidak ada kolom penduduk yang dikenal (NIK, No. KK, Nama, …): ini bukan berkas data penduduk.",
        ));
    }
    if !missing.is_empty() {
        return Err(file_error(
            "missing_columns",
            format!("Kolom wajib tidak ada: {}.", missing.join(", ")),
        ));
    }
    let column_name = |field: &str| -> String {
        mapping
            .iter()
            .position(|m| *m == Some(field))
            .and_then(|i| headers.get(i))
            .map(|h: &String| h.trim().to_string())
            .unwrap_or_else(|| field.to_string())
    };
    let today = residents::today(app);
    let at = app.now_text();
    let override_reason = a.nik_override_reason.clone().unwrap_or_default();

    let ctx_w = crate::session::Actor::clone(actor);
    let report = app.store.write_or_rehearse(
        &app.write_ctx(&ctx_w),
        !a.dry_run,
        |tx| -> Result<ImportReport, ApiError> {
            let mut first_line_of_nik: HashMap<String, u64> = HashMap::new();
            let mut head_line_of_kk: HashMap<String, u64> = HashMap::new();
            let mut index = register::load_index(tx)?;
            // Lookups during the import use the in-memory index above, never the register's
            // secondary indexes, so a big file can be written as a bulk write.
            let mut write_rows = |tx: &balai_store::WriteTx| -> Result<(), ApiError> {
            for (n, row) in std::mem::take(&mut table.rows).into_iter().enumerate() {
                if (n as u64).is_multiple_of(PROGRESS_EVERY) {
                    progress.set("rows", n as u64, total);
                }
                let (line, cells) = match row {
                    Row::Cells(line, cells) => (line, cells),
                    Row::Broken(line, why) => {
                        report.rows += 1;
                        report.rejected.push(Rejected {
                            line,
                            column: String::new(),
                            value: String::new(),
                            code: "csv_syntax".into(),
                            message: format!("Baris tidak terbaca sebagai CSV: {why}"),
                        });
                        continue;
                    }
                };
                if cells.iter().all(|f| f.trim().is_empty()) {
                    continue; // blank lines that Excel leaves at the end
                }
                report.rows += 1;
                let mut input = ResidentInput::default();
                for (i, v) in cells.into_iter().enumerate() {
                    if let Some(Some(f)) = mapping.get(i) {
                        if let Some(slot) = slot(&mut input, f) {
                            *slot = v.trim().to_string();
                        }
                    }
                }
                if input.nik_override_reason.is_empty() {
                    input.nik_override_reason = override_reason.clone();
                }
                let reject = |report: &mut ImportReport, e: FieldErrors, input: &ResidentInput| {
                    for f in e.0 {
                        let value = field_value(input, &f.field);
                        report.rejected.push(Rejected { line, column: column_name(&f.field), value, code: f.code, message: f.message });
                    }
                };
                let r = match input.validate(today) {
                    Ok(r) => r,
                    Err(e) => {
                        reject(&mut report, e, &input);
                        continue;
                    }
                };
                if let Some(first) = first_line_of_nik.get(r.nik.as_str()) {
                    let mut e = FieldErrors::default();
                    e.push("nik", "duplicate_nik_in_file", format!("NIK ini sudah ada di baris {first} berkas yang sama."));
                    reject(&mut report, e, &input);
                    continue;
                }
                first_line_of_nik.insert(r.nik.as_str().to_string(), line);
                // The same person already in the register: update or leave as is. Another
                // person with this NIK: refuse.
                let existing_id = match index.by_nik.get(r.nik.as_str()) {
                    Some((id, name, birth)) if *name == normalize_name(&r.full_name) && *birth == r.birth_date => {
                        let old = register::get(tx, *id)?;
                        if old.as_ref().is_some_and(|o| o.data == r) {
                            report.unchanged += 1;
                            continue;
                        }
                        Some(*id)
                    }
                    Some((id, _, _)) => {
                        let other = register::get(tx, *id)?;
                        let mut e = FieldErrors::default();
                        e.push(
                            "nik",
                            "nik_taken",
                            match other {
                                Some(o) => format!(
                                    "NIK sudah terdaftar atas nama {} (lahir {}).",
                                    o.data.full_name,
                                    o.data.birth_date.format("%d-%m-%Y")
                                ),
                                None => "NIK sudah terdaftar atas nama orang lain.".into(),
                            },
                        );
                        reject(&mut report, e, &input);
                        continue;
                    }
                    None => None,
                };
                let (family_id, new_family) = match index.families.get(r.no_kk.as_str()) {
                    Some(f) => (*f, None),
                    None => {
                        let id = app.new_id();
                        let f = register::FamilyRow {
                            id,
                            no_kk: r.no_kk.as_str().into(),
                            address: r.address.clone(),
                            rt: r.rt,
                            rw: r.rw,
                            lingkungan: r.lingkungan.clone(),
                        };
                        (id, Some(f))
                    }
                };
                if r.shdk == SHDK_KEPALA {
                    let other_head = index
                        .heads
                        .get(&family_id)
                        .and_then(|hs| hs.iter().find(|h| Some(**h) != existing_id));
                    if other_head.is_some() {
                        let at_line = head_line_of_kk
                            .get(r.no_kk.as_str())
                            .map(|l| format!("di baris {l}"))
                            .unwrap_or_else(|| "di register".into());
                        let mut e = FieldErrors::default();
                        e.push(
                            "shdk",
                            "second_head",
                            format!("KK {} sudah punya kepala keluarga {at_line}; satu KK hanya boleh satu kepala keluarga.", r.no_kk),
                        );
                        reject(&mut report, e, &input);
                        continue;
                    }
                    head_line_of_kk.entry(r.no_kk.as_str().to_string()).or_insert(line);
                }
                if let Some(f) = &new_family {
                    index.families.insert(f.no_kk.clone(), f.id);
                }
                let placement = residents::Placement { family_id, new_family };
                let new_id = app.new_id();
                let id = existing_id.unwrap_or(new_id);
                index.by_nik.insert(r.nik.as_str().to_string(), (id, normalize_name(&r.full_name), r.birth_date));
                if r.shdk == SHDK_KEPALA {
                    index.heads.entry(family_id).or_default().push(id);
                }
                residents::store_resident(tx, &r, existing_id, new_id, &placement, &at)?;
                if existing_id.is_some() {
                    report.updated += 1;
                } else {
                    report.imported += 1;
                }
            }
            // What follows the rows: the indexes a bulk write rebuilds, then the commit.
            progress.set(if bulk { "indexing" } else { "saving" }, total, total);
            Ok(())
            };
            if bulk {
                app.store.bulk(tx, write_rows)?;
                progress.set("saving", total, total);
            } else {
                write_rows(tx)?;
            }
            if report.rows == 0 {
                return Err(file_error("file_empty", "Berkas hanya berisi baris judul, tanpa data penduduk."));
            }
            if !a.dry_run {
                audit::record_in(tx, app, actor, "residents.import", "register", "", &summary(&report))?;
            }
            Ok(std::mem::take(&mut report))
        },
    )?;
    if a.dry_run {
        // The rehearsal rolled back; its audit entry is written on its own.
        audit::record(app, actor, "residents.import_dry_run", "register", "", &summary(&report))?;
    }
    progress.finish(total);
    Ok(report)
}

/// Counts only: the audit trail never holds the rows themselves.
fn summary(r: &ImportReport) -> String {
    let rejected_rows =
        r.rejected.iter().map(|x| x.line).collect::<std::collections::BTreeSet<_>>().len();
    format!(
        "rows={} imported={} updated={} unchanged={} rejected_rows={rejected_rows}",
        r.rows, r.imported, r.updated, r.unchanged
    )
}

fn field_value(i: &ResidentInput, field: &str) -> String {
    let mut copy = i.clone();
    slot(&mut copy, field).map(std::mem::take).unwrap_or_default()
}
