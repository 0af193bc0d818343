//! balai-letters: letter types as data → laid-out pages → PDF bytes, with the QR code.
//!
//! What it does: loads and checks the templates of `assets/letters` ([`template`]), validates a
//! letter's extra fields and fills its placeholders ([`content`]), lays the letter out on F4 or
//! A4 paper ([`layout`], pure), and renders it to a deterministic PDF with embedded subset fonts
//! and the signed payload as a QR code ([`pdf`]); and reports on the office letterhead (one
//! titled table: the monthly population report, the outgoing-letter register). It is the only user of printpdf.
//! It also finds the pictures embedded in a PDF ([`images`]), so a letter's QR code can be read
//! back from a PDF file, and draws an SVG emblem to the PNG its letterhead prints ([`emblem`]).
//!
//! What it does not do: no storage, numbering or workflow (balai-app and balai-store), no
//! signing (the payload is made and checked in `balai_domain::letter_payload`, so the city
//! server verifies with the same code), no decoding of pixels into QR text (balai-app).

pub mod content;
#[cfg(feature = "render")]
pub mod emblem;
#[cfg(feature = "render")]
pub mod images;
pub mod layout;
#[cfg(feature = "render")]
pub mod pdf;
pub mod template;

pub use content::{LetterContent, Office, Paper, Person, Signer};
pub use layout::Report;
pub use template::{load_shipped, Template};

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("the letter fonts could not be read")]
    Font,
    #[error("QR code: {0}")]
    Qr(String),
    #[error("PDF: {0}")]
    Pdf(String),
    /// An SVG emblem that cannot be drawn; the text is for the clerk (Indonesian).
    #[error("{0}")]
    Emblem(String),
}
