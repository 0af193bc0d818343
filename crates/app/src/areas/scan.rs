//! Reading QR codes from a photo or scan of a letter (PNG or JPEG) or from a PDF of it, for
//! verification.

use crate::error::ApiError;
use balai_letters::images::PdfImage;

fn unreadable(why: &str) -> ApiError {
    ApiError::field("image", "image_unreadable", format!("Gambar tidak terbaca: {why}"))
}

/// (width, height, one grey byte per pixel).
fn grey(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), ApiError> {
    if bytes.starts_with(b"\x89PNG") {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().map_err(|e| unreadable(&e.to_string()))?;
        let size = reader.output_buffer_size().ok_or_else(|| unreadable("terlalu besar"))?;
        let mut buf = vec![0; size];
        let info = reader.next_frame(&mut buf).map_err(|e| unreadable(&e.to_string()))?;
        let channels = match info.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            png::ColorType::Indexed => return Err(unreadable("PNG berpalet")),
        };
        let (w, h) = (info.width as usize, info.height as usize);
        let stride = info.line_size;
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            let row = &buf[y * stride..y * stride + w * channels];
            for px in row.chunks(channels) {
                out.push(match channels {
                    1 | 2 => px[0],
                    _ => {
                        ((px[0] as u32 * 299 + px[1] as u32 * 587 + px[2] as u32 * 114) / 1000)
                            as u8
                    }
                });
            }
        }
        Ok((w, h, out))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
        let px = d.decode().map_err(|e| unreadable(&e.to_string()))?;
        let info = d.info().ok_or_else(|| unreadable("JPEG tanpa ukuran"))?;
        let (w, h) = (info.width as usize, info.height as usize);
        let out = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => px,
            jpeg_decoder::PixelFormat::RGB24 => px
                .chunks(3)
                .map(|p| ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8)
                .collect(),
            _ => return Err(unreadable("format JPEG tidak didukung")),
        };
        Ok((w, h, out))
    } else {
        Err(unreadable("bukan PNG atau JPEG"))
    }
}

/// A small grey PNG of a photo (PNG or JPEG), at most 160 pixels on its longer side: what the
/// scorecard shows of an evidence photo.
pub(crate) fn thumbnail_png(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    let (w, h, px) = grey(bytes)?;
    thumbnail_of(w, h, &px)
}

/// The longer side, in pixels, a PDF's first page is rendered at before it is shrunk to a
/// thumbnail: twice the thumbnail, so the shrinking smooths the text a little.
const PDF_RENDER_SIDE: f32 = 320.0;

/// A thumbnail of a PDF's first page as it prints — a letter of text or a scanner's page
/// alike; `None` when the file does not open as a PDF or has no page.
///
/// The renderer is pure Rust and runs on whatever file an office was handed, so a panic inside
/// it is caught: a file it cannot draw keeps the PDF badge instead of failing the upload.
pub(crate) fn pdf_thumbnail(bytes: &[u8]) -> Option<Vec<u8>> {
    let bytes = bytes.to_vec();
    let rendered = std::panic::catch_unwind(move || {
        let pdf = hayro::hayro_syntax::Pdf::new(bytes).ok()?;
        let page = pdf.pages().first()?;
        let (w, h) = page.render_dimensions();
        if w < 1.0 || h < 1.0 {
            return None;
        }
        let scale = PDF_RENDER_SIDE / w.max(h);
        let pixmap = hayro::render(
            page,
            &hayro::RenderCache::new(),
            &hayro::hayro_interpret::InterpreterSettings::default(),
            &hayro::RenderSettings::default(),
            &hayro::PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: hayro::vello_cpu::color::palette::css::WHITE,
            },
        );
        let (pw, ph) = (usize::from(pixmap.width()), usize::from(pixmap.height()));
        // The background is opaque white, so premultiplied colour is the colour.
        let grey = pixmap
            .data()
            .iter()
            .map(|p| ((p.r as u32 * 299 + p.g as u32 * 587 + p.b as u32 * 114) / 1000) as u8)
            .collect::<Vec<u8>>();
        Some((pw, ph, grey))
    })
    .ok()
    .flatten()?;
    let (w, h, px) = rendered;
    thumbnail_of(w, h, &px).ok()
}

/// Grey pixels shrunk to at most 160 pixels on the longer side, as PNG.
fn thumbnail_of(w: usize, h: usize, px: &[u8]) -> Result<Vec<u8>, ApiError> {
    const SIDE: usize = 160;
    if w == 0 || h == 0 || px.len() < w * h {
        return Err(unreadable("gambar kosong"));
    }
    let scale = (w.max(h) as f64 / SIDE as f64).max(1.0);
    let (tw, th) = (((w as f64 / scale) as usize).max(1), ((h as f64 / scale) as usize).max(1));
    // Each thumbnail pixel is the mean of the block of source pixels it covers.
    let mut out = Vec::with_capacity(tw * th);
    for ty in 0..th {
        let (y0, y1) = (ty * h / th, ((ty + 1) * h / th).max(ty * h / th + 1));
        for tx in 0..tw {
            let (x0, x1) = (tx * w / tw, ((tx + 1) * w / tw).max(tx * w / tw + 1));
            let mut sum = 0u64;
            for y in y0..y1 {
                sum += px[y * w + x0..y * w + x1].iter().map(|p| u64::from(*p)).sum::<u64>();
            }
            out.push((sum / ((y1 - y0) * (x1 - x0)) as u64) as u8);
        }
    }
    let mut png_bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut png_bytes, tw as u32, th as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let fail = |e: png::EncodingError| unreadable(&e.to_string());
    let mut writer = enc.write_header().map_err(fail)?;
    writer.write_image_data(&out).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(png_bytes)
}

/// The texts of every QR code found in the picture (PNG or JPEG), or in the pictures embedded
/// in a PDF (a letter Balai rendered, or a scanner's PDF).
pub(crate) fn qr_texts(bytes: &[u8]) -> Result<Vec<String>, ApiError> {
    if bytes.starts_with(b"%PDF-") {
        let images = balai_letters::images::pdf_images(bytes).map_err(|e| {
            ApiError::field("image", "image_unreadable", format!("PDF tidak terbaca: {e}"))
        })?;
        let mut found = Vec::new();
        for image in images {
            let (w, h, px) = match image {
                PdfImage::Grey { width, height, pixels } => (width, height, pixels),
                // A JPEG the PDF holds that does not decode is skipped like any other picture.
                PdfImage::Jpeg(jpeg) => match grey(&jpeg) {
                    Ok(g) => g,
                    Err(_) => continue,
                },
            };
            found.extend(texts_in(w, h, &px));
        }
        return Ok(found);
    }
    let (w, h, px) = grey(bytes)?;
    if w * h > 80_000_000 {
        return Err(unreadable("terlalu besar"));
    }
    Ok(texts_in(w, h, &px))
}

/// Tries rqrr's own adaptive threshold first, then a global (Otsu) threshold, which reads
/// JPEG scans whose compression noise confuses the adaptive one, each at 1×, 2× and 3× size
/// (a 150 dpi scan has only 2–3 pixels per module of our QR).
fn texts_in(w: usize, h: usize, px: &[u8]) -> Vec<String> {
    // Otsu's cut costs a pass over the picture: taken only once rqrr's own threshold failed.
    let cut = std::cell::OnceCell::new();
    for k in [1, 2, 3] {
        if k > 1 && w * h * k * k > 60_000_000 {
            break;
        }
        let at = |x: usize, y: usize| px[(y / k) * w + x / k];
        let found = decode(w * k, h * k, at);
        if !found.is_empty() {
            return found;
        }
        let cut = *cut.get_or_init(|| otsu_threshold(px));
        let found = decode(w * k, h * k, |x, y| if at(x, y) > cut { 255 } else { 0 });
        if !found.is_empty() {
            return found;
        }
        if k > 1 {
            // Enlarged smoothly (bilinear) rather than by repeating pixels: the module edges of a
            // JPEG scan with 3–4 pixels per module fall between pixels.
            let smooth =
                |x: usize, y: usize| bilinear(px, w, h, x as f32 / k as f32, y as f32 / k as f32);
            let found = decode(w * k, h * k, smooth);
            if !found.is_empty() {
                return found;
            }
            let found = decode(w * k, h * k, |x, y| if smooth(x, y) > cut { 255 } else { 0 });
            if !found.is_empty() {
                return found;
            }
        }
    }
    Vec::new()
}

/// The grey level at (`x`, `y`) in pixel units, interpolated between the four pixels around it.
fn bilinear(px: &[u8], w: usize, h: usize, x: f32, y: f32) -> u8 {
    let (x, y) = ((x - 0.5).max(0.0), (y - 0.5).max(0.0));
    let (x0, y0) = ((x as usize).min(w - 1), (y as usize).min(h - 1));
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |x: usize, y: usize| px[y * w + x] as f32;
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    (top * (1.0 - fy) + bottom * fy).round() as u8
}

/// The grey level that best splits `px` into ink and paper (Otsu's method).
fn otsu_threshold(px: &[u8]) -> u8 {
    let mut hist = [0u64; 256];
    for &p in px {
        hist[p as usize] += 1;
    }
    let total = px.len() as f64;
    let sum: f64 = hist.iter().enumerate().map(|(i, &c)| i as f64 * c as f64).sum();
    let (mut below, mut below_sum, mut best, mut cut) = (0.0, 0.0, 0.0, 127u8);
    for (i, &c) in hist.iter().enumerate() {
        below += c as f64;
        let above = total - below;
        if below == 0.0 || above == 0.0 {
            continue;
        }
        below_sum += i as f64 * c as f64;
        let (m0, m1) = (below_sum / below, (sum - below_sum) / above);
        let between = below * above * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            cut = i as u8;
        }
    }
    cut
}

fn decode(w: usize, h: usize, pixel: impl FnMut(usize, usize) -> u8) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    img.detect_grids().iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}
