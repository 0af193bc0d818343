//! Printing an issued letter on the office printer, so that the clerk presses one key and the
//! letter comes out at its true size (F4 or A4, never scaled to the printer's margins).
//!
//! The PDF printed is the one stored when the letter was issued, byte for byte: what the
//! preview showed and what the QR signs. It goes to CUPS with `lp` (every Linux desktop with a
//! printer has it; `CUPS_SERVER` picks another scheduler, as in the tests). Windows has no `lp`:
//! there the clerk prints from the PDF preview, and this command says so.
//!
//! Every print is audited like a download (UU PDP), with the queue's job name.

use crate::areas::letters::{parse_letter_id, show_id};
use crate::error::{ApiError, ErrorCode};
use crate::{areas::audit, App, Ctx};
use balai_store::letters as store_letters;
use serde::{Deserialize, Serialize};
use std::process::{Command, Stdio};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintArgs {
    pub id: String,
    /// A printer (CUPS queue) by name; the default printer when absent.
    #[serde(default)]
    pub printer: Option<String>,
}

/// What printing answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Printed {
    /// The print queue's job name, e.g. `Kantor-12`.
    pub job: String,
    /// The printer it went to (empty: the default printer).
    pub printer: String,
    /// `f4` or `a4`.
    pub paper: String,
}

/// The printers this PC can print to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Printers {
    pub printers: Vec<String>,
    pub default: Option<String>,
}

fn unavailable(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::NotAvailable, message)
}

/// The CUPS media name of the paper: F4 (215 × 330 mm) has no standard PWG name.
fn media(paper: &str) -> &'static str {
    if paper.eq_ignore_ascii_case("a4") {
        "A4"
    } else {
        "Custom.215x330mm"
    }
}

fn lp_command(program: &str) -> Result<Command, ApiError> {
    if cfg!(windows) {
        return Err(unavailable(
            "Cetak langsung belum tersedia di Windows: buka pratinjau PDF lalu cetak dari sana.",
        ));
    }
    let mut c = Command::new(program);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    Ok(c)
}

fn printer_name(name: &str) -> Result<&str, ApiError> {
    // A queue name is a CUPS identifier; anything else is refused before reaching `lp`.
    let ok = !name.is_empty()
        && name.len() <= 127
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::field("printer", "printer_name", "Nama printer tidak dikenal."))
    }
}

pub fn print(app: &App, ctx: &Ctx, a: PrintArgs) -> Result<Printed, ApiError> {
    let actor = ctx.actor()?;
    let id = parse_letter_id(&a.id)?;
    let letter = show_id(app, id)?;
    let pdf =
        app.store.read(|c| Ok::<_, ApiError>(store_letters::pdf(c, id)?))?.unwrap_or_default();
    if pdf.is_empty() {
        return Err(ApiError::new(ErrorCode::Conflict, "Surat ini belum terbit, belum ada PDF."));
    }
    let printer = a.printer.as_deref().filter(|p| !p.is_empty()).map(printer_name).transpose()?;
    let paper = letter.paper.clone().unwrap_or_else(|| "f4".into());
    let mut cmd = lp_command("lp")?;
    if let Some(p) = printer {
        cmd.args(["-d", p]);
    }
    // print-scaling=none: a letter prints at 100 %, never shrunk to fit the printer's margins.
    cmd.args(["-o", &format!("media={}", media(&paper)), "-o", "print-scaling=none"]);
    cmd.args(["-o", "sides=one-sided", "-t", letter.number.as_deref().unwrap_or("surat"), "-"]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        unavailable(format!("Perintah cetak (lp, CUPS) tidak tersedia di komputer ini: {e}"))
    })?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().ok_or_else(|| unavailable("Antrean cetak tertutup."))?;
        stdin
            .write_all(&pdf)
            .map_err(|e| unavailable(format!("PDF tidak terkirim ke antrean cetak: {e}")))?;
    }
    let out = child.wait_with_output().map_err(|e| unavailable(format!("Cetak gagal: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let message = if why.contains("does not exist") {
            format!("Printer {} tidak ada di komputer ini.", printer.unwrap_or("bawaan"))
        } else if why.contains("no default destination") {
            "Belum ada printer bawaan: pilih printer, atau atur printer bawaan di sistem.".into()
        } else {
            format!("Printer menolak pekerjaan cetak: {}", why.trim())
        };
        return Err(unavailable(message));
    }
    // "request id is Kantor-12 (1 file(s))"
    let said = String::from_utf8_lossy(&out.stdout);
    let job = said.split_whitespace().skip_while(|w| *w != "is").nth(1).unwrap_or("").to_string();
    let detail = format!("{} {}", printer.unwrap_or("(bawaan)"), job);
    audit::record(app, actor, "letters.print", "letter", &id.to_string(), &detail)?;
    Ok(Printed { job, printer: printer.unwrap_or_default().to_string(), paper })
}

/// The CUPS queues (`lpstat -e`) and the default one (`lpstat -d`).
pub fn printers(_app: &App, ctx: &Ctx, _: crate::areas::NoArgs) -> Result<Printers, ApiError> {
    ctx.actor()?;
    let run = |args: &[&str]| -> Result<String, ApiError> {
        let out = lp_command("lpstat")?.args(args).output().map_err(|e| {
            unavailable(format!("Daftar printer (lpstat, CUPS) tidak tersedia: {e}"))
        })?;
        // lpstat fails when no scheduler runs: that is "no printers", not an error.
        Ok(if out.status.success() {
            String::from_utf8_lossy(&out.stdout).into_owned()
        } else {
            String::new()
        })
    };
    let printers =
        run(&["-e"])?.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    // "system default destination: Kantor"
    let default = run(&["-d"])?
        .split_once(": ")
        .map(|(_, name)| name.trim().to_string())
        .filter(|n| !n.is_empty());
    Ok(Printers { printers, default })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f4_is_a_custom_cups_size_and_a4_is_named() {
        assert_eq!(media("f4"), "Custom.215x330mm");
        assert_eq!(media("A4"), "A4");
    }

    #[test]
    fn printer_names_that_are_not_queue_names_are_refused() {
        assert!(printer_name("Kantor_Lt-2").is_ok());
        for bad in ["", "-d x", "a;rm", "a b", "../x"] {
            let e = printer_name(bad).unwrap_err();
            assert_eq!(e.fields[0].code, "printer_name", "{bad}");
        }
    }
}
