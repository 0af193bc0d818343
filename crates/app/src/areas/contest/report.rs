//! The jury's report: the two-year table on the letterhead (PDF) or as a workbook (XLSX).

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    pub ruleset: String,
    pub period: i32,
    /// `pdf` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
    /// Where to write the file (CLI); without it the file comes back in base64.
    #[serde(default)]
    pub path: Option<String>,
}

/// The rows of the jury's two-year table: per indicator the values of both years and the
/// evidence count, then each area's and the overall total.
fn report_rows(card: &Scorecard) -> (Vec<String>, Vec<Vec<String>>) {
    let p = card.period;
    let headers = vec![
        "Kode".into(),
        "Indikator".into(),
        format!("{}", p - 1),
        format!("{p}"),
        "Bukti".into(),
    ];
    let label = |i: &IndicatorView, v: Option<i64>| match v {
        Some(v) => {
            let l = i
                .options
                .iter()
                .position(|o| *o == v)
                .map(|k| i.labels[k].clone())
                .unwrap_or_default();
            if l == v.to_string() {
                l
            } else {
                format!("{v} ({l})")
            }
        }
        None => "—".into(),
    };
    let mut rows = Vec::new();
    for i in &card.indicators {
        rows.push(vec![
            i.id.clone(),
            i.name.clone(),
            label(i, i.previous),
            label(i, i.value),
            i.evidence.len().to_string(),
        ]);
    }
    let d = usize::from(card.ruleset.decimals);
    let shown = |x: f64| comma(x, d);
    for a in &card.score.areas {
        rows.push(vec![
            String::new(),
            format!("Jumlah {}", a.name),
            String::new(),
            shown(a.total),
            String::new(),
        ]);
    }
    let band = card.score.band.as_ref().map(|b| b.name.clone()).unwrap_or_default();
    rows.push(vec![
        String::new(),
        "NILAI AKHIR".into(),
        card.previous
            .as_ref()
            .filter(|x| x.period == p - 1)
            .map(|x| shown(x.total))
            .unwrap_or_default(),
        format!("{} — {band}", shown(card.score.total)),
        String::new(),
    ]);
    (headers, rows)
}

/// The report for the jury: the two-year table on the office letterhead (PDF) or as a
/// workbook (XLSX).
pub fn report(app: &App, ctx: &Ctx, a: ReportArgs) -> Result<FileOut, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let card = app.store.read(|c| scorecard_in(app, c, a.ruleset.trim(), period))?;
    let (headers, rows) = report_rows(&card);
    let title = format!(
        "{} {} — PERIODE {period}",
        card.ruleset.title.to_uppercase(),
        card.ruleset.edition
    );
    let format = a.format.as_deref().unwrap_or("pdf");
    let bytes = match format {
        "pdf" => {
            let office = crate::areas::letters::report_office(app)?;
            let today = app.today();
            let report = balai_letters::Report {
                title,
                subtitle: format!(
                    "{} · perbandingan {} dan {period}",
                    card.ruleset.regulation,
                    period - 1
                ),
                headers,
                weights: vec![1.2, 6.0, 1.6, 1.8, 0.9],
                rows,
                place_date: format!(
                    "{}, {}",
                    office.place,
                    balai_letters::content::long_date(today)
                ),
                office,
            };
            balai_letters::pdf::render_report(&report, balai_letters::Paper::F4, today)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        }
        "xlsx" => {
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            crate::areas::reports::text_xlsx(
                "Penilaian",
                Some(&title),
                &headers,
                &rows,
                &[(1, 70.0)],
            )?
        }
        other => {
            return Err(ApiError::field(
                "format",
                "unknown",
                format!("Format `{other}` tidak dikenal: pdf atau xlsx."),
            ))
        }
    };
    audit::record(
        app,
        actor,
        "contest.report",
        "contest_period",
        &format!("{}/{period}", card.ruleset.id),
        format,
    )?;
    file_out(bytes, ctx.local_path("path", a.path)?)
}
