//! Reading QR codes from a photo or scan of a letter (PNG or JPEG), for verification.

use crate::error::ApiError;

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

/// The texts of every QR code found in the image.
pub(crate) fn qr_texts(bytes: &[u8]) -> Result<Vec<String>, ApiError> {
    let (w, h, px) = grey(bytes)?;
    if w * h > 80_000_000 {
        return Err(unreadable("terlalu besar"));
    }
    let found = decode(w, h, |x, y| px[y * w + x]);
    if !found.is_empty() || w * h > 20_000_000 {
        return Ok(found);
    }
    // A low-resolution scan (about 2 pixels per module) is read after doubling its size.
    Ok(decode(w * 2, h * 2, |x, y| px[(y / 2) * w + x / 2]))
}

fn decode(w: usize, h: usize, pixel: impl FnMut(usize, usize) -> u8) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    img.detect_grids().iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}
