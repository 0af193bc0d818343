//! Reports from the register: the monthly population report (laporan mutasi penduduk), the
//! demographics behind the charts, and the register export (masked unless the role may see
//! full numbers; always audited).

use crate::areas::{audit, residents::today};
use crate::error::ApiError;
use crate::{App, Ctx};
use balai_domain::codes::{list, CodeKind};
use balai_domain::Role;
use balai_store::reports::{self, age_expr, Bucket, BySex};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthArgs {
    /// `YYYY-MM`
    pub month: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonthlyReport {
    pub month: String,
    pub start: BySex,
    pub births: BySex,
    pub deaths: BySex,
    pub moves_in: BySex,
    pub moves_out: BySex,
    /// hilang + pergi
    pub other_departures: BySex,
    pub end: BySex,
}

const ARRIVALS: &[&str] = &["lahir", "pindah_masuk"];
const DEPARTURES: &[&str] = &["mati", "pindah_keluar", "hilang", "pergi"];

fn sub(a: BySex, b: BySex) -> BySex {
    BySex { l: a.l - b.l, p: a.p - b.p }
}
fn add(a: BySex, b: BySex) -> BySex {
    BySex { l: a.l + b.l, p: a.p + b.p }
}

/// Counts for a month. The population at a date is reconstructed from today's living residents
/// by undoing the events after that date; residents registered without an arrival event
/// (imported registers) count as present throughout.
pub fn monthly(app: &App, _ctx: &Ctx, a: MonthArgs) -> Result<MonthlyReport, ApiError> {
    let first =
        NaiveDate::parse_from_str(&format!("{}-01", a.month.trim()), "%Y-%m-%d").map_err(|_| {
            ApiError::field("month", "month_format", "Bulan ditulis TTTT-BB, contoh 2026-10.")
        })?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .ok_or_else(|| ApiError::field("month", "month_format", "Bulan tidak valid."))?;
    if first > today(app) {
        return Err(ApiError::field("month", "month_in_future", "Bulan ini belum terjadi."));
    }
    let before = (first - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let last = (next - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    app.store.read(|c| {
        let far = "9999-12-31";
        let now = reports::living_now(c)?;
        let arrivals_after = reports::events_between(c, ARRIVALS, &last, far)?;
        let departures_after = reports::events_between(c, DEPARTURES, &last, far)?;
        let end = add(sub(now, arrivals_after), departures_after);
        let births = reports::events_between(c, &["lahir"], &before, &last)?;
        let moves_in = reports::events_between(c, &["pindah_masuk"], &before, &last)?;
        let deaths = reports::events_between(c, &["mati"], &before, &last)?;
        let moves_out = reports::events_between(c, &["pindah_keluar"], &before, &last)?;
        let other = reports::events_between(c, &["hilang", "pergi"], &before, &last)?;
        let start = add(sub(sub(end, births), moves_in), add(add(deaths, moves_out), other));
        Ok(MonthlyReport {
            month: first.format("%Y-%m").to_string(),
            start,
            births,
            deaths,
            moves_in,
            moves_out,
            other_departures: other,
            end,
        })
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Demographics {
    pub total: BySex,
    /// 5-year bands: "0-4", "5-9", …, "75+".
    pub age_bands: Vec<Bucket>,
    /// "RW 001 / RT 003"
    pub regions: Vec<Bucket>,
    pub religion: Vec<Bucket>,
    pub education: Vec<Bucket>,
    /// The ten most common.
    pub occupation: Vec<Bucket>,
}

use crate::areas::NoArgs;

fn labelled(kind: CodeKind, buckets: Vec<Bucket>) -> Vec<Bucket> {
    buckets
        .into_iter()
        .map(|b| Bucket {
            key: b
                .key
                .parse::<u16>()
                .ok()
                .and_then(|c| list(kind).label(c))
                .unwrap_or("(kosong)")
                .to_string(),
            ..b
        })
        .collect()
}

pub fn demographics(app: &App, _ctx: &Ctx, _a: NoArgs) -> Result<Demographics, ApiError> {
    let today = today(app).format("%Y-%m-%d").to_string();
    app.store.read(|c| {
        let ages = reports::group_living(c, &format!("min({} / 5, 15)", age_expr()), &today)?;
        let age_bands = (0..16)
            .map(|band| {
                let found = ages.iter().find(|b| b.key == band.to_string());
                Bucket {
                    key: if band == 15 {
                        "75+".into()
                    } else {
                        format!("{}-{}", band * 5, band * 5 + 4)
                    },
                    l: found.map_or(0, |b| b.l),
                    p: found.map_or(0, |b| b.p),
                }
            })
            .collect();
        let mut occupation =
            labelled(CodeKind::Pekerjaan, reports::group_living(c, "r.occupation", &today)?);
        occupation.sort_by_key(|b| std::cmp::Reverse(b.l + b.p));
        occupation.truncate(10);
        Ok(Demographics {
            total: reports::living_now(c)?,
            age_bands,
            regions: reports::group_living(c, "printf('RW %03d / RT %03d', r.rw, r.rt)", &today)?,
            religion: labelled(CodeKind::Agama, reports::group_living(c, "r.religion", &today)?),
            education: labelled(
                CodeKind::Pendidikan,
                reports::group_living(c, "r.education", &today)?,
            ),
            occupation,
        })
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    /// Write to this file (CLI); without it the CSV text is returned (UI download).
    #[serde(default)]
    pub path: Option<String>,
    /// Ask for full NIK and No. KK (admin and lurah only; others always get masked numbers).
    #[serde(default)]
    pub full: bool,
    /// `csv` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportOut {
    pub rows: usize,
    pub masked: bool,
    pub path: Option<String>,
    /// The CSV text when no path was given.
    pub content: Option<String>,
    /// The XLSX bytes in base64 when no path was given.
    pub content_base64: Option<String>,
}

const EXPORT_HEADER: &str = "nik;no_kk;nama;jenis_kelamin;tempat_lahir;tanggal_lahir;agama;status_kawin;hubungan_keluarga;pendidikan;pekerjaan;golongan_darah;kewarganegaraan;nama_ibu;nama_ayah;alamat;rt;rw;dusun;status";

fn mask16(s: &str) -> String {
    if s.len() == 16 {
        format!("{}********{}", &s[..4], &s[12..])
    } else {
        s.to_string()
    }
}

fn csv_cell(s: &str) -> String {
    // Leading = + - @ would run as formulas in Excel: neutralise them (CSV injection).
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A one-sheet workbook of text cells: the title in bold on the first row when there is one
/// (then a blank row), the bold header row, then `rows`, everything as text (NIKs keep their 16
/// digits, nothing is read as a formula); `widths` sets columns' widths.
pub(crate) fn text_xlsx(
    sheet_name: &str,
    title: Option<&str>,
    headers: &[&str],
    rows: &[Vec<String>],
    widths: &[(u16, f64)],
) -> Result<Vec<u8>, ApiError> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        ApiError::new(crate::error::ErrorCode::Internal, format!("XLSX: {e}"))
    };
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(sheet_name).map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let mut at = 0;
    if let Some(title) = title {
        sheet.write_string_with_format(0, 0, title, &bold).map_err(fail)?;
        at = 2;
    }
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(at, c as u16, *h, &bold).map_err(fail)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(at + 1 + r as u32, c as u16, v).map_err(fail)?;
        }
    }
    for (c, w) in widths {
        sheet.set_column_width(*c, *w).map_err(fail)?;
    }
    wb.save_to_buffer().map_err(fail)
}

pub fn export(app: &App, ctx: &Ctx, a: ExportArgs) -> Result<ExportOut, ApiError> {
    let actor = ctx.actor()?;
    let masked = !(a.full && matches!(actor.role, Role::Admin | Role::Lurah));
    let as_xlsx = match a.format.as_deref().unwrap_or("csv") {
        "csv" => false,
        "xlsx" => true,
        _ => {
            return Err(ApiError::field("format", "export_format", "Format ekspor: csv atau xlsx."))
        }
    };
    let mut rows = app.store.read(|c| Ok::<_, ApiError>(reports::export_rows(c)?))?;
    for r in rows.iter_mut() {
        if masked {
            r[0] = mask16(&r[0]);
            r[1] = mask16(&r[1]);
        }
        if let Ok(d) = NaiveDate::parse_from_str(&r[5], "%Y-%m-%d") {
            r[5] = d.format("%d-%m-%Y").to_string();
        }
    }
    // Semicolons and a BOM: what Indonesian-locale Excel opens directly; dates day first.
    let mut out = String::from("\u{feff}");
    out.push_str(EXPORT_HEADER);
    out.push_str("\r\n");
    for r in &rows {
        out.push_str(&r.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(";"));
        out.push_str("\r\n");
    }
    let bytes = if as_xlsx {
        let headers: Vec<&str> = EXPORT_HEADER.split(';').collect();
        text_xlsx("Penduduk", None, &headers, &rows, &[])?
    } else {
        out.clone().into_bytes()
    };
    let detail = format!(
        "rows={} masked={masked} format={}",
        rows.len(),
        if as_xlsx { "xlsx" } else { "csv" }
    );
    audit::record(app, actor, "residents.export", "register", "", &detail)?;
    let base =
        ExportOut { rows: rows.len(), masked, path: None, content: None, content_base64: None };
    match ctx.local_path("path", a.path)? {
        Some(p) => {
            std::fs::write(&p, bytes).map_err(|e| {
                ApiError::field("path", "unwritable", format!("Berkas tidak dapat ditulis: {e}"))
            })?;
            Ok(ExportOut { path: Some(p), ..base })
        }
        None if as_xlsx => {
            use base64::Engine;
            Ok(ExportOut {
                content_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                ..base
            })
        }
        None => Ok(ExportOut { content: Some(out), ..base }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthlyFileArgs {
    /// `YYYY-MM`
    pub month: String,
    /// Write here (CLI); without it the workbook is returned in base64 (UI download).
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileOut {
    pub path: Option<String>,
    pub content_base64: Option<String>,
}

/// The monthly report as an XLSX workbook, laid out as the report is printed.
pub fn monthly_xlsx(app: &App, ctx: &Ctx, a: MonthlyFileArgs) -> Result<FileOut, ApiError> {
    let r = monthly(app, ctx, MonthArgs { month: a.month })?;
    let office = app.store.read(|c| Ok::<_, ApiError>(balai_store::profile::get(c)?))?;
    let fail = |e: rust_xlsxwriter::XlsxError| {
        ApiError::new(crate::error::ErrorCode::Internal, format!("XLSX: {e}"))
    };
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Mutasi").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let title = match &office {
        Some(p) => format!(
            "LAPORAN MUTASI PENDUDUK KELURAHAN {} — {}",
            p.kelurahan_name.to_uppercase(),
            r.month
        ),
        None => format!("LAPORAN MUTASI PENDUDUK — {}", r.month),
    };
    sheet.write_string_with_format(0, 0, &title, &bold).map_err(fail)?;
    for (c, h) in ["Uraian", "L", "P", "Jumlah"].iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold).map_err(fail)?;
    }
    let rows = [
        ("Penduduk awal bulan", r.start),
        ("Lahir", r.births),
        ("Pindah masuk", r.moves_in),
        ("Meninggal", r.deaths),
        ("Pindah keluar", r.moves_out),
        ("Hilang / pergi", r.other_departures),
        ("Penduduk akhir bulan", r.end),
    ];
    for (i, (label, v)) in rows.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_string(row, 0, *label).map_err(fail)?;
        sheet.write_number(row, 1, v.l as f64).map_err(fail)?;
        sheet.write_number(row, 2, v.p as f64).map_err(fail)?;
        sheet.write_number(row, 3, v.total() as f64).map_err(fail)?;
    }
    sheet.set_column_width(0, 28).map_err(fail)?;
    let bytes = wb.save_to_buffer().map_err(fail)?;
    let actor = ctx.actor()?;
    audit::record(app, actor, "reports.monthly_xlsx", "report", &r.month, "")?;
    file_out(bytes, ctx.local_path("path", a.path)?)
}

/// The monthly report as a PDF on the office letterhead, laid out as it is printed.
pub fn monthly_pdf(app: &App, ctx: &Ctx, a: MonthlyFileArgs) -> Result<FileOut, ApiError> {
    let r = monthly(app, ctx, MonthArgs { month: a.month })?;
    let office = crate::areas::letters::report_office(app)?;
    let today = app.today();
    let row = |label: &str, v: &BySex| {
        vec![label.to_string(), v.l.to_string(), v.p.to_string(), v.total().to_string()]
    };
    let report = balai_letters::Report {
        title: "LAPORAN MUTASI PENDUDUK".into(),
        subtitle: format!("Bulan {}", r.month),
        headers: ["Uraian", "L", "P", "Jumlah"].map(String::from).to_vec(),
        weights: vec![4.0, 1.0, 1.0, 1.2],
        rows: vec![
            row("Penduduk awal bulan", &r.start),
            row("Lahir", &r.births),
            row("Pindah masuk", &r.moves_in),
            row("Meninggal", &r.deaths),
            row("Pindah keluar", &r.moves_out),
            row("Hilang / pergi", &r.other_departures),
            row("Penduduk akhir bulan", &r.end),
        ],
        place_date: format!("{}, {}", office.place, balai_letters::content::long_date(today)),
        office,
    };
    let bytes = balai_letters::pdf::render_report(&report, balai_letters::Paper::F4, today)
        .map_err(|e| ApiError::new(crate::error::ErrorCode::Internal, e.to_string()))?;
    audit::record(app, ctx.actor()?, "reports.monthly_pdf", "report", &r.month, "")?;
    file_out(bytes, ctx.local_path("path", a.path)?)
}

/// A generated file: written to `path` (CLI), or returned in base64 (UI download).
pub(crate) fn file_out(bytes: Vec<u8>, path: Option<String>) -> Result<FileOut, ApiError> {
    match path {
        Some(p) => {
            std::fs::write(&p, bytes).map_err(|e| {
                ApiError::field("path", "unwritable", format!("Berkas tidak dapat ditulis: {e}"))
            })?;
            Ok(FileOut { path: Some(p), content_base64: None })
        }
        None => {
            use base64::Engine;
            Ok(FileOut {
                path: None,
                content_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            })
        }
    }
}
