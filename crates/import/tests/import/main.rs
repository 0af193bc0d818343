//! balai-import on files as offices have them, and on files that are not what they claim.

use balai_import::{field_for, read_table, Row};

fn cells(t: &balai_import::Table) -> Vec<Vec<String>> {
    t.rows
        .iter()
        .map(|r| match r {
            Row::Cells(_, c) => c.clone(),
            Row::Broken(line, why) => vec![format!("broken {line}: {why}")],
        })
        .collect()
}

#[test]
fn a_semicolon_file_with_a_bom_in_windows_1252_reads_with_its_headers_named() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(b"NIK;Nama Lengkap;Tgl. Lahir\n1872040101800002;Wiryo;01-01-1980\n");
    let t = read_table(&bytes).unwrap();
    assert_eq!(t.headers, ["NIK", "Nama Lengkap", "Tgl. Lahir"]);
    let named: Vec<_> = t.headers.iter().map(|h| field_for(h)).collect();
    assert_eq!(named, [Some("nik"), Some("full_name"), Some("birth_date")]);
    assert_eq!(cells(&t), [["1872040101800002", "Wiryo", "01-01-1980"]]);
    // Windows-1252 (Excel's "CSV"): é is one byte, read as the letter.
    let t = read_table(b"nama,alamat\nJos\xE9,Jl. Mawar\n").unwrap();
    assert_eq!(cells(&t), [["Jos\u{e9}", "Jl. Mawar"]]);
}

#[test]
fn what_is_not_a_spreadsheet_is_refused_with_a_code_and_never_panics() {
    assert_eq!(read_table(b"").unwrap_err().code, "file_empty");
    assert_eq!(read_table(b"\x00\x01\x02binary").unwrap_err().code, "not_a_spreadsheet");
    // A zip that is not a workbook.
    assert_eq!(read_table(b"PK\x03\x04garbage").unwrap_err().code, "not_a_spreadsheet");
    // A quote never closed: the row is reported broken with its line, the file still read.
    let t = read_table(b"nik,nama\n1,\"unclosed\n2,b\n").unwrap();
    assert_eq!(t.headers, ["nik", "nama"]);
}

#[test]
fn the_fuzz_seed_corpus_reads_without_panicking() {
    // The seeds committed for the fuzz target, read here too so a plain `cargo test` keeps them
    // honest (the target itself runs in `cargo xtask test`).
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/import_file");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let _ = read_table(&bytes);
        n += 1;
    }
    assert!(n >= 3, "seed corpus in {}", dir.display());
}

#[test]
fn a_workbook_reads_its_first_sheet_and_a_date_cell_outside_the_calendar_is_kept_as_its_number() {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    let date = Format::new().set_num_format("dd-mm-yyyy");
    sheet.write_string(0, 0, "NIK").unwrap();
    sheet.write_string(0, 1, "Tanggal Lahir").unwrap();
    // A NIK stored as a number stays 16 digits; a date cell prints as an ISO date.
    sheet.write_number(1, 0, 1872040101800002.0).unwrap();
    sheet.write_number_with_format(1, 1, 29221.0, &date).unwrap();
    // Days since 1899 far beyond any calendar (a damaged or hostile file): once a panic.
    sheet.write_number(2, 0, 1872045508900001.0).unwrap();
    sheet.write_number_with_format(2, 1, 1e15, &date).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let t = read_table(&bytes).unwrap();
    assert_eq!(t.headers, ["NIK", "Tanggal Lahir"]);
    assert_eq!(
        cells(&t),
        [["1872040101800002", "1980-01-01"], ["1872045508900001", "1000000000000000"]]
    );
}

#[test]
fn a_workbook_whose_cell_references_overflow_is_refused_not_a_panic() {
    // Found by the fuzz target `import_file` (a mutation of a seed export): a cell reference
    // past Excel's limits overflowed calamine's 32-bit arithmetic — a panic in a debug build,
    // a wrapped sheet size in a release one.
    let bytes = include_bytes!("cell-reference-overflow.xlsx");
    let e = read_table(bytes).unwrap_err();
    assert_eq!(e.code, "not_a_spreadsheet", "{e}");
    // Refused by the look inside, before calamine runs (not merely caught after its panic).
    assert!(!e.message.contains("isinya tidak dapat dibaca"), "{e}");
}
