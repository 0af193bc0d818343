//! The pictures embedded in a PDF, so that a letter's QR code can be read back from a PDF file:
//! one Balai rendered (its QR is a raw 8-bit grey image behind FlateDecode) or a scanner's
//! (pages as JPEG, DCTDecode). Decoding pixels into QR text is balai-app's job; this module only
//! finds the pictures and undoes the PDF's own compression.
//!
//! A PDF comes from anywhere, so everything is bounded: the file size is the caller's, each
//! picture is decompressed to at most [`MAX_PIXELS`] bytes and at most [`MAX_IMAGES`] are read.

use crate::LetterError;
use lopdf::{Document, Object};

/// Pictures larger than this (in decompressed bytes) are skipped: a page scanned at 600 dpi in
/// colour is ~100 MB; a QR code is a few KB.
pub const MAX_PIXELS: usize = 64 * 1024 * 1024;
/// At most this many pictures are returned (a letter has one or two; a scan, one per page).
pub const MAX_IMAGES: usize = 64;

/// One embedded picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfImage {
    /// Raw pixels turned into one grey byte each (DeviceGray, or DeviceRGB averaged).
    Grey { width: usize, height: usize, pixels: Vec<u8> },
    /// A JPEG stream as it is stored (decoded by the caller).
    Jpeg(Vec<u8>),
}

fn unreadable(why: impl std::fmt::Display) -> LetterError {
    LetterError::Pdf(why.to_string())
}

/// Every picture of `pdf` that can be turned into pixels, largest kinds first in file order.
/// Pictures in other encodings (CCITT fax, JBIG2, JPEG 2000, indexed colours, 1-bit masks) are
/// skipped, not refused: a file with none readable gives an empty list.
pub fn pdf_images(pdf: &[u8]) -> Result<Vec<PdfImage>, LetterError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(unreadable("not a PDF file"));
    }
    let doc = Document::load_mem(pdf).map_err(unreadable)?;
    if doc.is_encrypted() {
        return Err(unreadable("the PDF is encrypted"));
    }
    let mut out = Vec::new();
    for object in doc.objects.values() {
        if out.len() >= MAX_IMAGES {
            break;
        }
        let Object::Stream(stream) = object else { continue };
        let is_image =
            stream.dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Image");
        if !is_image {
            continue;
        }
        let filters: Vec<Vec<u8>> = stream
            .filters()
            .map(|fs| fs.into_iter().map(<[u8]>::to_vec).collect())
            .unwrap_or_default();
        if filters.iter().any(|f| f == b"DCTDecode") {
            if filters.len() == 1 && stream.content.len() <= MAX_PIXELS {
                out.push(PdfImage::Jpeg(stream.content.clone()));
            }
            continue;
        }
        if let Some(img) = raw_image(&doc, stream) {
            out.push(img);
        }
    }
    Ok(out)
}

fn int(doc: &Document, dict: &lopdf::Dictionary, key: &[u8]) -> Option<usize> {
    let o = dict.get_deref(key, doc).ok()?;
    usize::try_from(o.as_i64().ok()?).ok()
}

/// A raw bitmap (no filter or FlateDecode without a predictor), 8 bits per component, grey or
/// RGB.
fn raw_image(doc: &Document, stream: &lopdf::Stream) -> Option<PdfImage> {
    let (width, height) = (int(doc, &stream.dict, b"Width")?, int(doc, &stream.dict, b"Height")?);
    if width == 0 || height == 0 || width.checked_mul(height)? > MAX_PIXELS / 3 {
        return None;
    }
    if int(doc, &stream.dict, b"BitsPerComponent").unwrap_or(8) != 8 {
        return None;
    }
    if stream.dict.get(b"DecodeParms").is_ok() {
        return None; // predictors are not undone here
    }
    let components = match stream.dict.get_deref(b"ColorSpace", doc).ok()?.as_name().ok()? {
        b"DeviceGray" | b"CalGray" => 1,
        b"DeviceRGB" | b"CalRGB" => 3,
        _ => return None,
    };
    let data = if stream.filters().map(|f| f.is_empty()).unwrap_or(true) {
        stream.content.clone()
    } else {
        stream.decompressed_content_with_limit(MAX_PIXELS).ok()?
    };
    if data.len() < width * height * components {
        return None;
    }
    let pixels = match components {
        1 => data[..width * height].to_vec(),
        _ => data
            .chunks_exact(3)
            .take(width * height)
            .map(|p| ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8)
            .collect(),
    };
    Some(PdfImage::Grey { width, height, pixels })
}
