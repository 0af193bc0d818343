//! Pages of items → PDF bytes with printpdf: DejaVu Serif embedded as subsets, the QR as a
//! grey image, the emblem (PNG) when the office has one. The same letter gives the same bytes.

use crate::content::{LetterContent, Paper};
use crate::layout::{self, Item, Metrics, Picture};
use crate::template::Template;
use crate::LetterError;
use printpdf::font::PdfFont;
use printpdf::{
    FontId, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, RawImage, RawImageData, RawImageFormat, TextItem, XObject,
    XObjectId, XObjectTransform,
};
use std::sync::LazyLock;

pub(crate) static REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif.ttf");
pub(crate) static BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif-Bold.ttf");

struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    let mut warnings = Vec::new();
    Some(Fonts {
        regular: ParsedFont::from_bytes(REGULAR_TTF, 0, &mut warnings)?,
        bold: ParsedFont::from_bytes(BOLD_TTF, 0, &mut warnings)?,
    })
});

fn fonts() -> Result<&'static Fonts, LetterError> {
    FONTS.as_ref().ok_or(LetterError::Font)
}

impl Metrics for Fonts {
    fn width_mm(&self, text: &str, size_pt: f32, bold: bool) -> f32 {
        let f = if bold { &self.bold } else { &self.regular };
        let upem = f.font_metrics.units_per_em.max(1) as f32;
        let units: u32 = text
            .chars()
            .map(|ch| {
                f.lookup_glyph_index(ch as u32)
                    .map(|g| f.get_horizontal_advance(g) as u32)
                    .unwrap_or(0)
            })
            .sum();
        units as f32 / upem * size_pt * layout::PT_TO_MM
    }
}

/// The text widths the PDF will have (for callers that lay out without rendering).
pub fn metrics() -> Result<&'static dyn Metrics, LetterError> {
    Ok(fonts()?)
}

fn pt(mm: f32) -> Pt {
    Mm(mm).into_pt()
}

/// The QR code of `text` as an 8-bit grey image, 4 px per module, with a 4-module quiet zone.
fn qr_image(text: &str) -> Result<RawImage, LetterError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| LetterError::Qr(e.to_string()))?;
    let n = code.width();
    let colors = code.to_colors();
    let (quiet, scale) = (4usize, 4usize);
    let side = (n + 2 * quiet) * scale;
    let mut px = vec![255u8; side * side];
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == qrcode::Color::Dark {
                for dy in 0..scale {
                    let row = (y + quiet) * scale + dy;
                    let start = row * side + (x + quiet) * scale;
                    px[start..start + scale].fill(0);
                }
            }
        }
    }
    Ok(RawImage {
        pixels: RawImageData::U8(px),
        width: side,
        height: side,
        data_format: RawImageFormat::R8,
        tag: Vec::new(),
    })
}

/// A PNG decoded to RGB(A) 8-bit, for the emblem.
fn png_image(bytes: &[u8]) -> Option<RawImage> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    let format = match info.color_type {
        png::ColorType::Rgb => RawImageFormat::RGB8,
        png::ColorType::Rgba => RawImageFormat::RGBA8,
        png::ColorType::Grayscale => RawImageFormat::R8,
        png::ColorType::GrayscaleAlpha => RawImageFormat::RG8,
        png::ColorType::Indexed => return None,
    };
    Some(RawImage {
        pixels: RawImageData::U8(buf),
        width: info.width as usize,
        height: info.height as usize,
        data_format: format,
        tag: Vec::new(),
    })
}

/// Renders the letter; `qr_text` is the signed payload the QR carries.
pub fn render(
    t: &Template,
    c: &LetterContent,
    paper: Paper,
    qr_text: &str,
) -> Result<Vec<u8>, LetterError> {
    let fonts = fonts()?;
    let emblem = c.office.emblem_png.as_deref().and_then(png_image);
    let pages = layout::layout(t, c, paper, emblem.is_some(), fonts);
    let title = format!("{} {}", c.title, c.number);
    write(pages, paper, &title, c.issued, Some(qr_text), emblem, &c.canonical_bytes())
}

/// Renders a report (letterhead, title, one table) dated `date`.
pub fn render_report(
    r: &layout::Report,
    paper: Paper,
    date: chrono::NaiveDate,
) -> Result<Vec<u8>, LetterError> {
    let fonts = fonts()?;
    let emblem = r.office.emblem_png.as_deref().and_then(png_image);
    let pages = layout::layout_report(r, paper, emblem.is_some(), fonts);
    let seed = format!("{}|{}|{:?}", r.title, r.subtitle, r.rows);
    write(pages, paper, &r.title, date, None, emblem, seed.as_bytes())
}

/// Pages → PDF bytes; the file ids derive from `seed`, so the same input gives the same bytes.
fn write(
    pages: Vec<layout::Page>,
    paper: Paper,
    title: &str,
    date: chrono::NaiveDate,
    qr_text: Option<&str>,
    emblem: Option<RawImage>,
    seed: &[u8],
) -> Result<Vec<u8>, LetterError> {
    let fonts = fonts()?;
    // The QR is encoded once: its pixel width sizes it on the page.
    let qr_img = qr_text.map(qr_image).transpose()?;
    let qr_side = qr_img.as_ref().map_or(0, |i| i.width);
    let mut doc = PdfDocument::new(title);
    // Fixed resource ids, not printpdf's random ones: the subset tag is the id's first six
    // letters, and the same letter must give the same bytes.
    let regular = FontId("BALAIR-regular".into());
    let bold = FontId("BALAIB-bold".into());
    doc.resources.fonts.map.insert(regular.clone(), PdfFont::new(fonts.regular.clone()));
    doc.resources.fonts.map.insert(bold.clone(), PdfFont::new(fonts.bold.clone()));
    let qr = XObjectId("qr".into());
    if let Some(img) = qr_img {
        doc.resources.xobjects.map.insert(qr.clone(), XObject::Image(img));
    }
    let emblem_id = emblem.map(|e| {
        let id = XObjectId("emblem".into());
        let (w, h) = (e.width, e.height);
        doc.resources.xobjects.map.insert(id.clone(), XObject::Image(e));
        (id, w, h)
    });
    let (w, h) = paper.size_mm();
    let mut pdf_pages = Vec::new();
    for page in pages {
        let mut ops = Vec::new();
        for item in page.items {
            match item {
                Item::Text { x, y, size, bold: b, text } => {
                    ops.push(Op::StartTextSection);
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(if b {
                            bold.clone()
                        } else {
                            regular.clone()
                        }),
                        size: Pt(size),
                    });
                    ops.push(Op::SetTextCursor { pos: Point { x: pt(x), y: pt(y) } });
                    ops.push(Op::ShowText { items: vec![TextItem::Text(text)] });
                    ops.push(Op::EndTextSection);
                }
                Item::Line { x1, y1, x2, y2, width_pt } => {
                    ops.push(Op::SetOutlineThickness { pt: Pt(width_pt) });
                    ops.push(Op::DrawLine {
                        line: Line {
                            points: vec![
                                LinePoint { p: Point { x: pt(x1), y: pt(y1) }, bezier: false },
                                LinePoint { p: Point { x: pt(x2), y: pt(y2) }, bezier: false },
                            ],
                            is_closed: false,
                        },
                    });
                }
                Item::Picture { x, y, w: pw, h: ph, which } => {
                    let (id, px_w, px_h) = match which {
                        Picture::Qr if qr_side > 0 => (qr.clone(), qr_side, qr_side),
                        Picture::Qr => continue,
                        Picture::Emblem => match &emblem_id {
                            Some((id, ew, eh)) => (id.clone(), *ew, *eh),
                            None => continue,
                        },
                    };
                    // Fit inside (pw, ph), keeping the aspect ratio; size follows from dpi.
                    let scale_mm = (pw / px_w as f32).min(ph / px_h as f32);
                    let dpi = 25.4 / scale_mm;
                    let (dw, dh) = (px_w as f32 * scale_mm, px_h as f32 * scale_mm);
                    ops.push(Op::UseXobject {
                        id,
                        transform: XObjectTransform {
                            translate_x: Some(pt(x + (pw - dw) / 2.0)),
                            translate_y: Some(pt(y + (ph - dh) / 2.0)),
                            dpi: Some(dpi),
                            ..Default::default()
                        },
                    });
                }
            }
        }
        pdf_pages.push(PdfPage::new(Mm(w), Mm(h), ops));
    }
    let date = printpdf::DateTime::from_unix_timestamp(
        date.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp()).unwrap_or(0),
    )
    .map_err(|e| LetterError::Pdf(e.to_string()))?;
    doc.metadata.info.creation_date = date.clone();
    doc.metadata.info.modification_date = date.clone();
    doc.metadata.info.metadata_date = date;
    doc.metadata.info.creator = "Balai".into();
    doc.metadata.info.producer = "Balai (printpdf)".into();
    let mut warnings = Vec::new();
    let bytes = doc.with_pages(pdf_pages).save(&PdfSaveOptions::default(), &mut warnings);
    Ok(deterministic_ids(bytes, seed))
}

/// printpdf writes two random 32-character file ids into the trailer; replace them (same
/// length, so no offset moves) with ones derived from the letter, so the same letter always
/// gives the same bytes.
fn deterministic_ids(mut bytes: Vec<u8>, seed: &[u8]) -> Vec<u8> {
    let Some(pos) = find_last(&bytes, b"/ID") else { return bytes };
    let digest = balai_domain::sha256_hex(seed);
    let id: Vec<u8> = digest.bytes().take(32).collect();
    let mut i = pos;
    let mut replaced = 0;
    while i < bytes.len() && replaced < 2 {
        if bytes[i] == b'(' {
            let start = i + 1;
            if let Some(len) = bytes[start..].iter().position(|b| *b == b')') {
                if len == 32 {
                    bytes[start..start + 32].copy_from_slice(&id);
                }
                replaced += 1;
                i = start + len;
            }
        }
        i += 1;
    }
    bytes
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
