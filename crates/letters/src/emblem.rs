//! An SVG emblem (lambang daerah, as cities publish them) drawn to the PNG the letterhead
//! prints: sized for its 24 × 26 mm box at 300 dpi, text drawn with the letters' own DejaVu
//! Serif (never the machine's fonts, so every PC draws the same pixels), nothing fetched (an
//! SVG that points at outside files or images gets none of them).

use crate::layout::EMBLEM_BOX_MM as BOX_MM;
use crate::LetterError;
use resvg::{tiny_skia, usvg};

/// Print resolution of the drawn emblem.
const DPI: f32 = 300.0;

/// Draws `svg` to a PNG that fits the letterhead's emblem box at 300 dpi, keeping its shape.
pub fn svg_to_png(svg: &[u8]) -> Result<Vec<u8>, LetterError> {
    let mut options = usvg::Options {
        font_family: "DejaVu Serif".into(),
        // No `resources_dir`: relative hrefs resolve to nothing.
        resources_dir: None,
        ..usvg::Options::default()
    };
    options.fontdb_mut().load_font_data(crate::pdf::REGULAR_TTF.to_vec());
    options.fontdb_mut().load_font_data(crate::pdf::BOLD_TTF.to_vec());
    let tree = usvg::Tree::from_data(svg, &options)
        .map_err(|e| LetterError::Emblem(format!("SVG tidak terbaca: {e}")))?;
    let size = tree.size();
    if size.width() <= 0.0 || size.height() <= 0.0 {
        return Err(LetterError::Emblem("SVG tidak punya ukuran.".into()));
    }
    let max_px = |mm: f32| mm / 25.4 * DPI;
    let scale = (max_px(BOX_MM.0) / size.width()).min(max_px(BOX_MM.1) / size.height());
    let (w, h) =
        ((size.width() * scale).round().max(1.0), (size.height() * scale).round().max(1.0));
    let mut pixmap = tiny_skia::Pixmap::new(w as u32, h as u32)
        .ok_or_else(|| LetterError::Emblem("SVG terlalu kecil untuk digambar.".into()))?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    if pixmap.pixels().iter().all(|p| p.alpha() == 0) {
        return Err(LetterError::Emblem("SVG tidak menggambar apa pun.".into()));
    }
    // PNG wants straight (not premultiplied) alpha.
    let rgba: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().map_err(|e| LetterError::Emblem(e.to_string()))?;
    writer.write_image_data(&rgba).map_err(|e| LetterError::Emblem(e.to_string()))?;
    writer.finish().map_err(|e| LetterError::Emblem(e.to_string()))?;
    Ok(out)
}
