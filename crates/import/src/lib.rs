//! balai-import: reads a register file — CSV (comma, semicolon or tab; with or without a BOM;
//! UTF-8 or Windows-1252) or the first sheet of an XLSX/XLS/ODS workbook — into rows of cells,
//! and names the resident field each column fills (the headers OpenSID and SIAK exports use).
//!
//! What it does not do: validate a value (balai-domain's `ResidentInput::validate` does), or
//! write anything (balai-app imports the rows in one transaction). It never panics on a file,
//! whatever its bytes: the fuzz target `fuzz/fuzz_targets/import_file.rs` holds it to that.

use balai_domain::resident::ResidentInput;
use chrono::NaiveDate;

/// Why a file could not be read at all (a row that cannot be read is a [`Row::Broken`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    /// `not_a_spreadsheet`, `file_empty` or `csv_syntax`.
    pub code: &'static str,
    /// In Indonesian, for the clerk.
    pub message: String,
}

fn file_error(code: &'static str, message: impl Into<String>) -> ReadError {
    ReadError { code, message: message.into() }
}

/// Header spellings (letters and digits only, lower-case) → field.
pub const HEADERS: &[(&str, &[&str])] = &[
    ("nik", &["nik", "noinduk", "nomorindukkependudukan", "noinduckependudukan"]),
    ("no_kk", &["nokk", "nomorkk", "kk", "nokartukeluarga", "nomorkartukeluarga"]),
    ("full_name", &["nama", "namalengkap", "namapenduduk", "fullname"]),
    ("sex", &["sex", "jeniskelamin", "jk", "lp", "kelamin", "jeniskelaminid"]),
    ("birth_place", &["tempatlahir", "tmptlahir", "tempatlhr", "tmplahir"]),
    ("birth_date", &["tanggallahir", "tgllahir", "tgllhr", "tanggallhr", "tgl_lahir"]),
    ("religion", &["agama", "agamaid"]),
    ("marital_status", &["statuskawin", "statusperkawinan", "statuskawinid", "kawin", "stskawin"]),
    (
        "shdk",
        &[
            "shdk",
            "kklevel",
            "hubungankeluarga",
            "hubungandalamkeluarga",
            "statushubungandalamkeluarga",
            "hubungan",
            "stathbkel",
        ],
    ),
    (
        "education",
        &[
            "pendidikan",
            "pendidikankk",
            "pendidikankkid",
            "pendidikanterakhir",
            "pendidikandalamkk",
        ],
    ),
    ("occupation", &["pekerjaan", "pekerjaanid", "jenispekerjaan"]),
    ("blood_type", &["golongandarah", "goldarah", "golongandarahid", "goldrh"]),
    ("citizenship", &["kewarganegaraan", "warganegara", "warganegaraid"]),
    ("disability", &["cacat", "cacatid", "penyandangcacat", "disabilitas"]),
    ("mother_nik", &["nikibu", "ibunik"]),
    ("mother_name", &["namaibu", "ibukandung", "namaibukandung", "namaibu_kandung"]),
    ("father_nik", &["nikayah", "ayahnik"]),
    ("father_name", &["namaayah"]),
    ("address", &["alamat", "alamatsekarang", "alamatlengkap"]),
    ("rt", &["rt", "nort"]),
    ("rw", &["rw", "norw"]),
    ("lingkungan", &["dusun", "lingkungan"]),
    ("birth_cert_no", &["aktalahir", "noaktalahir", "noaktakelahiran"]),
    ("marriage_cert_no", &["aktaperkawinan", "noaktaperkawinan", "aktanikah"]),
    ("marriage_date", &["tanggalperkawinan", "tglperkawinan", "tanggalnikah"]),
    ("divorce_cert_no", &["aktaperceraian", "noaktaperceraian"]),
    ("divorce_date", &["tanggalperceraian", "tglperceraian"]),
];

/// Columns Balai's own export writes for reading, which an import does not set (a status
/// changes only through a recorded life event).
pub const IGNORED_HEADERS: &[&str] = &["status"];

/// Columns a file must have.
pub const REQUIRED: &[&str] = &[
    "nik",
    "no_kk",
    "full_name",
    "sex",
    "birth_place",
    "birth_date",
    "religion",
    "marital_status",
    "shdk",
    "rt",
    "rw",
];

/// The field a column header names, whatever its case, spaces or punctuation.
pub fn field_for(header: &str) -> Option<&'static str> {
    let key: String =
        header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    HEADERS
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.replace('_', "") == key))
        .map(|(f, _)| *f)
}

/// The text field of `input` that `field` names.
pub fn slot<'a>(input: &'a mut ResidentInput, field: &str) -> Option<&'a mut String> {
    Some(match field {
        "nik" => &mut input.nik,
        "no_kk" => &mut input.no_kk,
        "full_name" => &mut input.full_name,
        "sex" => &mut input.sex,
        "birth_place" => &mut input.birth_place,
        "birth_date" => &mut input.birth_date,
        "religion" => &mut input.religion,
        "marital_status" => &mut input.marital_status,
        "shdk" => &mut input.shdk,
        "education" => &mut input.education,
        "occupation" => &mut input.occupation,
        "blood_type" => &mut input.blood_type,
        "citizenship" => &mut input.citizenship,
        "disability" => &mut input.disability,
        "mother_nik" => &mut input.mother_nik,
        "mother_name" => &mut input.mother_name,
        "father_nik" => &mut input.father_nik,
        "father_name" => &mut input.father_name,
        "address" => &mut input.address,
        "rt" => &mut input.rt,
        "rw" => &mut input.rw,
        "lingkungan" => &mut input.lingkungan,
        "birth_cert_no" => &mut input.birth_cert_no,
        "marriage_cert_no" => &mut input.marriage_cert_no,
        "marriage_date" => &mut input.marriage_date,
        "divorce_cert_no" => &mut input.divorce_cert_no,
        "divorce_date" => &mut input.divorce_date,
        _ => return None,
    })
}

/// Text of the file: UTF-8 (BOM stripped), else Windows-1252 as Excel writes it.
fn decode(bytes: &[u8]) -> Result<String, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().take(4096).any(|b| *b == 0) {
        return Err(file_error(
            "not_a_spreadsheet",
            "Berkas ini bukan lembar kerja CSV (berisi data biner).",
        ));
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
    })
}

/// A file read into rows, whatever its format; lines are numbered as the office sees them
/// (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// (line, cells)
    Cells(u64, Vec<String>),
    /// (line, why it could not be read)
    Broken(u64, String),
}

pub fn read_table(bytes: &[u8]) -> Result<Table, ReadError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    let text = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(file_error("file_empty", "Berkas kosong: tidak ada baris judul maupun data."));
    }
    let first = text.lines().next().unwrap_or("");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(first))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| file_error("csv_syntax", format!("Baris judul tidak terbaca: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line_hint = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(line_hint);
                rows.push(Row::Cells(line, record.iter().map(str::to_string).collect()));
            }
            Err(e) => rows.push(Row::Broken(
                e.position().map(|p| p.line()).unwrap_or(line_hint),
                e.to_string(),
            )),
        }
    }
    Ok(Table { headers, rows })
}

/// The first worksheet of an XLSX (or XLS/ODS) workbook. Numbers that are whole print without a
/// decimal point (a NIK stored as a number stays 16 digits); date cells print as ISO dates.
fn read_xlsx(bytes: &[u8]) -> Result<Table, ReadError> {
    check_workbook(bytes)?;
    // calamine is a parser of untrusted files too: a panic inside it (a case the check above
    // does not know yet) refuses the file instead of ending the import's thread.
    std::panic::catch_unwind(|| read_xlsx_checked(bytes)).unwrap_or_else(|_| {
        Err(file_error("not_a_spreadsheet", "Berkas Excel rusak: isinya tidak dapat dibaca."))
    })
}

/// The most a part of a workbook may hold unpacked (a sheet of 100,000 residents is ~60 MB):
/// more is a damaged file or a zip bomb.
const MAX_PART_BYTES: u64 = 512 * 1024 * 1024;

/// Excel's own limits: columns to XFD (16,384), rows to 1,048,576. calamine reads a cell or
/// range reference into 32-bit numbers that overflow on longer ones (found by the fuzz target:
/// a panic in a debug build, a wrapped — possibly enormous — sheet size in a release one), so a
/// workbook is looked into first: every part of it bounded in size, every `r`/`ref`/`sqref`
/// attribute within the limits.
fn check_workbook(bytes: &[u8]) -> Result<(), ReadError> {
    use std::io::Read;
    let damaged =
        |what: &str| file_error("not_a_spreadsheet", format!("Berkas Excel rusak: {what}."));
    // Not a zip (an old .xls), or not readable as one: calamine decides.
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return Ok(()) };
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index(i) else { return Err(damaged("bagian berkas tidak terbaca")) };
        if !part.name().is_ok_and(|n| n.ends_with(".xml")) {
            continue;
        }
        let mut text = Vec::new();
        if part.take(MAX_PART_BYTES + 1).read_to_end(&mut text).is_err() {
            return Err(damaged("bagian berkas tidak terbaca"));
        }
        if text.len() as u64 > MAX_PART_BYTES {
            return Err(damaged("isinya terlalu besar"));
        }
        if !references_within_limits(&text) {
            return Err(damaged("alamat sel di luar batas lembar kerja"));
        }
    }
    Ok(())
}

/// Whether every cell reference in the `r`, `ref` and `sqref` attributes of `xml` is within
/// Excel's limits (3 column letters up to XFD, 7 row digits up to 1,048,576).
fn references_within_limits(xml: &[u8]) -> bool {
    let mut at = 0;
    while let Some(pos) = xml[at..].windows(2).position(|w| w == b"=\"") {
        let eq = at + pos;
        let name_start =
            xml[..eq].iter().rposition(|b| b.is_ascii_whitespace()).map_or(0, |p| p + 1);
        let name = &xml[name_start..eq];
        let value_start = eq + 2;
        let Some(len) = xml[value_start..].iter().position(|b| *b == b'"') else { return true };
        let value = &xml[value_start..value_start + len];
        at = value_start + len + 1;
        if !matches!(name, b"r" | b"ref" | b"sqref") {
            continue;
        }
        for cell in value.split(|b| *b == b':' || *b == b' ') {
            let cell: Vec<u8> = cell.iter().copied().filter(|b| *b != b'$').collect();
            let letters = cell.iter().take_while(|b| b.is_ascii_alphabetic()).count();
            let digits = &cell[letters..];
            if letters > 3 || digits.len() > 7 {
                return false;
            }
            let column = cell[..letters]
                .iter()
                .fold(0u32, |n, b| n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1);
            let row = digits
                .iter()
                .try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')));
            if column > 16_384 || row.is_some_and(|r| r > 1_048_576) {
                return false;
            }
        }
    }
    true
}

fn read_xlsx_checked(bytes: &[u8]) -> Result<Table, ReadError> {
    use calamine::{open_workbook_auto_from_rs, Data, Reader};
    let not_a_workbook = |e: &dyn std::fmt::Display| {
        file_error("not_a_spreadsheet", format!("Berkas Excel tidak terbaca: {e}"))
    };
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| not_a_workbook(&e))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| file_error("file_empty", "Berkas Excel tidak punya lembar kerja."))?
        .map_err(|e| not_a_workbook(&e))?;
    let cell = |d: &Data| -> String {
        match d {
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{f:.0}"),
            Data::DateTime(dt) => {
                // Days since 1899-12-30. A cell far outside the calendar (a damaged or hostile
                // file) is shown as its number, for the row to be refused with it.
                let base = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
                chrono::TimeDelta::try_days(dt.as_f64().floor() as i64)
                    .and_then(|d| base.checked_add_signed(d))
                    .map_or_else(|| dt.as_f64().to_string(), |d| d.format("%Y-%m-%d").to_string())
            }
            other => other.to_string(),
        }
    };
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let headers = rows.next().map(|r| r.iter().map(cell).collect()).unwrap_or_default();
    let rows = rows
        .enumerate()
        .map(|(i, r)| Row::Cells(first_row as u64 + i as u64 + 2, r.iter().map(cell).collect()))
        .collect();
    Ok(Table { headers, rows })
}

fn delimiter(first_line: &str) -> u8 {
    let count = |c: char| first_line.matches(c).count();
    let (semi, comma, tab) = (count(';'), count(','), count('\t'));
    if tab > semi && tab > comma {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::references_within_limits;

    #[test]
    fn cell_references_past_excel_s_limits_are_found() {
        for ok in [
            &b"<c r=\"A1\"/>"[..],
            b"<c r=\"XFD1048576\"/>",
            b"<dimension ref=\"A1:Z50\"/>",
            b"<x sqref=\"A1 $B$2:C3\"/>",
            b"<x name=\"AAAAAAAAAA\"/>",
        ] {
            assert!(references_within_limits(ok), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"<c r=\"XFE1\"/>"[..],
            b"<c r=\"AAAAAAAAAAAAAAA1\"/>",
            b"<dimension ref=\"A1:B1048577\"/>",
            b"<c r=\"A99999999999\"/>",
        ] {
            assert!(!references_within_limits(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
