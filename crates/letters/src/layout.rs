//! Pure layout: a [`LetterContent`] and its [`Template`] → pages of positioned items (mm from
//! the bottom-left corner). No PDF here; text widths come from a [`Metrics`].

use crate::content::{LetterContent, Paper};
use crate::template::{Block, Template, PERSON_KEYS};

/// Text widths of the fonts the PDF will use.
pub trait Metrics {
    fn width_mm(&self, text: &str, size_pt: f32, bold: bool) -> f32;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    Emblem,
    Qr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Text { x: f32, y: f32, size: f32, bold: bool, text: String },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, width_pt: f32 },
    Picture { x: f32, y: f32, w: f32, h: f32, which: Picture },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
}

pub const PT_TO_MM: f32 = 25.4 / 72.0;
pub const QR_MM: f32 = 27.0;

struct Flow<'a> {
    m: &'a dyn Metrics,
    pages: Vec<Page>,
    y: f32,
    top: f32,
    bottom: f32,
    left: f32,
    right: f32,
    size: f32,
}

impl<'a> Flow<'a> {
    /// One empty page of `paper` with the margins of `s`, text in `size` pt.
    fn new(
        m: &'a dyn Metrics,
        paper: Paper,
        s: &crate::template::PageStyle,
        size: f32,
    ) -> Flow<'a> {
        let (w, h) = paper.size_mm();
        Flow {
            m,
            pages: vec![Page::default()],
            y: h - s.margin_top_mm,
            top: h - s.margin_top_mm,
            bottom: s.margin_bottom_mm,
            left: s.margin_left_mm,
            right: w - s.margin_right_mm,
            size,
        }
    }
    fn line_h(&self, size: f32) -> f32 {
        size * PT_TO_MM * 1.45
    }
    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("a page")
    }
    fn ensure(&mut self, h: f32) {
        if self.y - h < self.bottom {
            self.pages.push(Page::default());
            self.y = self.top;
        }
    }
    fn text(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        let y = self.y;
        self.page().items.push(Item::Text { x, y, size, bold, text: text.to_string() });
    }
    fn centered(&mut self, size: f32, bold: bool, text: &str) -> (f32, f32) {
        let w = self.m.width_mm(text, size, bold);
        let x = self.left + (self.right - self.left - w) / 2.0;
        self.text(x, size, bold, text);
        (x, w)
    }
    /// Lines of `text` that fit in `width` (words never split unless longer than a line).
    fn wrap(
        &self,
        text: &str,
        width: f32,
        size: f32,
        bold: bool,
        first_indent: f32,
    ) -> Vec<Vec<String>> {
        let mut lines: Vec<Vec<String>> = Vec::new();
        let mut cur: Vec<String> = Vec::new();
        let space = self.m.width_mm(" ", size, bold);
        let mut cur_w = 0.0;
        for word in text.split_whitespace() {
            let avail = if lines.is_empty() { width - first_indent } else { width };
            let w = self.m.width_mm(word, size, bold);
            let extra = if cur.is_empty() { w } else { space + w };
            if !cur.is_empty() && cur_w + extra > avail {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
            }
            cur_w += if cur.is_empty() { w } else { space + w };
            cur.push(word.to_string());
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
        lines
    }
    /// A justified paragraph between x0 and the right margin.
    fn paragraph(&mut self, x0: f32, text: &str, indent: f32, bold: bool) {
        let size = self.size;
        let width = self.right - x0;
        let lines = self.wrap(text, width, size, bold, indent);
        let n = lines.len();
        let lh = self.line_h(size);
        for (i, words) in lines.into_iter().enumerate() {
            self.ensure(lh);
            let start = if i == 0 { x0 + indent } else { x0 };
            let avail = self.right - start;
            if i + 1 == n || words.len() == 1 {
                self.text(start, size, bold, &words.join(" "));
            } else {
                let total: f32 = words.iter().map(|w| self.m.width_mm(w, size, bold)).sum();
                let gap = (avail - total) / (words.len() - 1) as f32;
                let mut x = start;
                for w in &words {
                    self.text(x, size, bold, w);
                    x += self.m.width_mm(w, size, bold) + gap;
                }
            }
            self.y -= lh;
        }
    }
    /// `label : value` with the value wrapping in its column.
    fn row(&mut self, label: &str, value: &str) {
        let size = self.size;
        let lx = self.left + 8.0;
        let cx = self.left + 55.0;
        let vx = cx + 4.0;
        let lines = self.wrap(value, self.right - vx, size, false, 0.0);
        let lh = self.line_h(size);
        self.ensure(lh * lines.len().max(1) as f32);
        self.text(lx, size, false, label);
        self.text(cx, size, false, ":");
        if lines.is_empty() {
            self.y -= lh;
        }
        for words in lines {
            self.text(vx, size, false, &words.join(" "));
            self.y -= lh;
        }
    }
}

/// The emblem's box in the letterhead, width × height in mm (an SVG emblem is drawn to fit it).
pub const EMBLEM_BOX_MM: (f32, f32) = (24.0, 26.0);

/// The letterhead (kop surat) of page one; leaves `f.y` below its rule.
fn letterhead(f: &mut Flow, office: &crate::content::Office, has_emblem: bool) {
    let top = f.top;
    if has_emblem {
        let x = f.left;
        f.page().items.push(Item::Picture {
            x,
            y: top - EMBLEM_BOX_MM.1,
            w: EMBLEM_BOX_MM.0,
            h: EMBLEM_BOX_MM.1,
            which: Picture::Emblem,
        });
    }
    let lines = [
        (14.0, true, format!("PEMERINTAH {}", office.kota.to_uppercase())),
        (14.0, true, format!("KECAMATAN {}", office.kecamatan.to_uppercase())),
        (16.0, true, format!("KELURAHAN {}", office.kelurahan.to_uppercase())),
        (10.0, false, office.alamat.clone()),
    ];
    f.y = top - 6.0;
    for (size, bold, text) in lines {
        f.centered(size, bold, &text);
        f.y -= f.line_h(size) * 0.95;
    }
    let y = (top - 28.0).min(f.y + 1.0);
    let (l, r) = (f.left, f.right);
    f.page().items.push(Item::Line { x1: l, y1: y, x2: r, y2: y, width_pt: 2.2 });
    f.page().items.push(Item::Line { x1: l, y1: y - 1.0, x2: r, y2: y - 1.0, width_pt: 0.6 });
    f.y = y - 9.0;
}

fn person_label(key: &str) -> &'static str {
    PERSON_KEYS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("")
}

/// Lays out `c` on `paper`.
pub fn layout(
    t: &Template,
    c: &LetterContent,
    paper: Paper,
    has_emblem: bool,
    m: &dyn Metrics,
) -> Vec<Page> {
    let s = &t.page;
    let mut f = Flow::new(m, paper, s, s.font_size);
    letterhead(&mut f, &c.office, has_emblem);

    // Title, underlined, and the number under it.
    let size = f.size;
    let (x, tw) = f.centered(size + 1.0, true, &c.title);
    let uy = f.y - 1.2;
    f.page().items.push(Item::Line { x1: x, y1: uy, x2: x + tw, y2: uy, width_pt: 0.8 });
    f.y -= f.line_h(size);
    f.centered(size, false, &format!("Nomor: {}", c.number));
    f.y -= f.line_h(size) * 1.8;

    for b in &t.blocks {
        match b {
            Block::Paragraph { text, indent_mm } => {
                let filled = c.fill(t, text);
                let left = f.left;
                f.paragraph(left, &filled, *indent_mm, false);
                f.y -= f.line_h(size) * 0.4;
            }
            Block::Identity { person, rows } => {
                let p = c.people.get(person).and_then(|ps| ps.first());
                for r in rows {
                    let v = p.and_then(|p| p.get(r)).cloned().unwrap_or_else(|| "-".into());
                    f.row(person_label(r), &v);
                }
                f.y -= f.line_h(size) * 0.4;
            }
            Block::Details { rows } => {
                for r in rows {
                    let (l, v) = (c.fill(t, &r.label), c.fill(t, &r.value));
                    f.row(&l, &v);
                }
                f.y -= f.line_h(size) * 0.4;
            }
            Block::PeopleTable { person, columns } => {
                let people = c.people.get(person).cloned().unwrap_or_default();
                table(&mut f, columns, &people);
                f.y -= f.line_h(size) * 0.6;
            }
            Block::Spacer { mm } => f.y -= mm,
        }
    }
    signature(&mut f, t, c);

    number_pages(&mut f.pages, m, f.right, s.margin_bottom_mm / 2.0);
    f.pages
}

/// "Halaman i dari n" at the foot of every page, when there is more than one.
fn number_pages(pages: &mut [Page], m: &dyn Metrics, right: f32, y: f32) {
    let n = pages.len();
    if n < 2 {
        return;
    }
    for (i, p) in pages.iter_mut().enumerate() {
        let text = format!("Halaman {} dari {n}", i + 1);
        let tw = m.width_mm(&text, 9.0, false);
        p.items.push(Item::Text { x: right - tw, y, size: 9.0, bold: false, text });
    }
}

fn table(f: &mut Flow, columns: &[String], people: &[crate::content::Person]) {
    let size = f.size - 1.0;
    let no_w = 10.0;
    // A NIK never wraps: its column is at least as wide as 16 digits; the rest is shared by weight.
    let weight = |c: &str| match c {
        "nama" | "alamat" => 1.6,
        "ttl" => 1.4,
        "nik" | "no_kk" => 0.0,
        _ => 1.0,
    };
    let fixed = f.m.width_mm("0000000000000000", size, false) + 3.0;
    let fixed_total: f32 = columns.iter().filter(|c| weight(c) == 0.0).count() as f32 * fixed;
    let weights: f32 = columns.iter().map(|c| weight(c)).sum::<f32>().max(0.1);
    let free = (f.right - f.left - no_w - fixed_total).max(10.0);
    let widths: Vec<f32> = columns
        .iter()
        .map(|c| if weight(c) == 0.0 { fixed } else { free * weight(c) / weights })
        .collect();
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("No".to_string())
        .chain(columns.iter().map(|c| person_label(c).to_string()))
        .collect()];
    for (i, p) in people.iter().enumerate() {
        rows.push(
            std::iter::once(format!("{}.", i + 1))
                .chain(columns.iter().map(|c| p.get(c).cloned().unwrap_or_else(|| "-".into())))
                .collect(),
        );
    }
    if people.is_empty() {
        rows.push(vec!["-".into()]);
    }
    let mut all = vec![no_w];
    all.extend(widths);
    grid(f, size, &all, &rows);
}

/// A table with a bold header row: `widths` in mm, one per column; rows wrap within their cells
/// and move to the next page whole.
fn grid(f: &mut Flow, size: f32, widths: &[f32], rows: &[Vec<String>]) {
    let lh = f.line_h(size);
    let mut xs = vec![f.left];
    for w in widths {
        xs.push(xs[xs.len() - 1] + w);
    }
    for (ri, row) in rows.iter().enumerate() {
        let bold = ri == 0;
        let cells: Vec<Vec<Vec<String>>> = row
            .iter()
            .enumerate()
            .map(|(ci, v)| {
                f.wrap(v, widths.get(ci).copied().unwrap_or(10.0) - 2.0, size, bold, 0.0)
            })
            .collect();
        let height = cells.iter().map(|c| c.len().max(1)).max().unwrap_or(1) as f32 * lh + 1.5;
        f.ensure(height);
        let top = f.y + lh * 0.75;
        let (l, r) = (xs[0], xs[xs.len() - 1]);
        f.page().items.push(Item::Line { x1: l, y1: top, x2: r, y2: top, width_pt: 0.5 });
        for (ci, lines) in cells.iter().enumerate() {
            let x = xs[ci] + 1.0;
            let mut y = f.y;
            for words in lines {
                let text = words.join(" ");
                f.page().items.push(Item::Text { x, y, size, bold, text });
                y -= lh;
            }
        }
        let bottom = top - height;
        for x in xs.iter().copied() {
            f.page().items.push(Item::Line { x1: x, y1: top, x2: x, y2: bottom, width_pt: 0.5 });
        }
        f.page().items.push(Item::Line { x1: l, y1: bottom, x2: r, y2: bottom, width_pt: 0.5 });
        f.y -= height;
    }
}

/// Place and date, the signer's block on the right, the QR on the left (or in the middle when a
/// co-signature takes the left).
fn signature(f: &mut Flow, t: &Template, c: &LetterContent) {
    let size = f.size;
    let lh = f.line_h(size);
    let lines_above = 1 + c.signer.position_lines.len();
    let height = lh * (lines_above as f32 + 3.0) + 22.0;
    f.ensure(height.max(QR_MM + 8.0));
    f.y -= lh * 0.5;
    let x = f.left + (f.right - f.left) * 0.55;
    let top = f.y;
    f.text(x, size, false, &format!("{}, {}", c.office.place, crate::content::long_date(c.issued)));
    f.y -= lh;
    for l in &c.signer.position_lines {
        f.text(x, size, false, l);
        f.y -= lh;
    }
    f.y -= 22.0;
    let name_y = f.y;
    let name_w = f.m.width_mm(&c.signer.name, size, true);
    f.text(x, size, true, &c.signer.name);
    let uy = f.y - 1.0;
    f.page().items.push(Item::Line { x1: x, y1: uy, x2: x + name_w, y2: uy, width_pt: 0.6 });
    f.y -= lh;
    if !c.signer.rank.is_empty() {
        f.text(x, size, false, &c.signer.rank);
        f.y -= lh;
    }
    f.text(x, size, false, &format!("NIP. {}", c.signer.nip));
    let end = f.y - lh;

    let qr_x = if let Some(co) = &t.cosign {
        f.y = top;
        let cx = f.left;
        f.text(cx, size, false, &co.heading);
        f.y -= lh;
        let position = c.fill(t, &co.position);
        f.text(cx, size, false, &position);
        f.y = name_y;
        f.text(cx, size, false, "(.................................)");
        f.y -= lh;
        f.text(cx, size, false, "NIP.");
        f.left + (f.right - f.left) * 0.34
    } else {
        f.left
    };
    let qy = top - QR_MM - 2.0;
    f.page().items.push(Item::Picture { x: qr_x, y: qy, w: QR_MM, h: QR_MM, which: Picture::Qr });
    f.y = qy - 3.0;
    let caption = "Pindai untuk verifikasi keaslian";
    let cw = f.m.width_mm(caption, 6.5, false);
    let cx = (qr_x + (QR_MM - cw) / 2.0).max(f.left);
    f.text(cx, 6.5, false, caption);
    f.y = end.min(qy - 6.0);
}

/// A report on the office's letterhead: a title, a subtitle and one table (the monthly
/// population report, the outgoing-letter register).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub title: String,
    pub subtitle: String,
    pub headers: Vec<String>,
    /// Relative column widths.
    pub weights: Vec<f32>,
    pub rows: Vec<Vec<String>>,
    pub office: crate::content::Office,
    /// "Metro, 1 Juli 2026" under the table.
    pub place_date: String,
}

pub fn layout_report(r: &Report, paper: Paper, has_emblem: bool, m: &dyn Metrics) -> Vec<Page> {
    let s = crate::template::PageStyle::default();
    let mut f = Flow::new(m, paper, &s, 10.0);
    letterhead(&mut f, &r.office, has_emblem);
    f.centered(12.0, true, &r.title);
    f.y -= f.line_h(12.0);
    if !r.subtitle.is_empty() {
        f.centered(11.0, false, &r.subtitle);
        f.y -= f.line_h(11.0);
    }
    f.y -= 4.0;
    let total: f32 = r.weights.iter().sum::<f32>().max(0.1);
    let widths: Vec<f32> = r.weights.iter().map(|x| (f.right - f.left) * x / total).collect();
    let mut rows = vec![r.headers.clone()];
    rows.extend(r.rows.iter().cloned());
    grid(&mut f, 9.5, &widths, &rows);
    f.y -= 8.0;
    f.ensure(10.0);
    let x = f.left + (f.right - f.left) * 0.6;
    f.text(x, 10.0, false, &r.place_date);
    number_pages(&mut f.pages, m, f.right, s.margin_bottom_mm / 2.0);
    f.pages
}
