//! What the register and the letter log answer for computed indicators and the profile's
//! figures, each with how it was computed.

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub measure: String,
    /// `None`: nothing to measure yet (no letter issued in the period, say).
    pub figure: Option<f64>,
    /// How it was computed, in Indonesian.
    pub explanation: String,
}

pub(super) fn measure(
    app: &App,
    c: &ReadConn,
    m: Measure,
    period: i32,
) -> Result<Measured, ApiError> {
    let from = format!("{period}-01-01");
    let to = format!("{period}-12-31");
    let before = format!("{}-12-31", period - 1);
    let far = "9999-12-31";
    let today = app.today();
    let past = today.format("%Y-%m-%d").to_string() > to;
    let events = |kinds: &[&str]| -> Result<i64, ApiError> {
        Ok(balai_store::reports::events_between(c, kinds, &before, &to)?.total())
    };
    let count = |n: i64, what: &str| Measured {
        measure: m.key().into(),
        figure: Some(n as f64),
        explanation: format!(
            "{n} {what} tercatat di register dengan tanggal peristiwa tahun {period}."
        ),
    };
    Ok(match m {
        Measure::Population => {
            let now = balai_store::reports::living_now(c)?.total();
            let (n, how) = if past {
                let arrivals =
                    balai_store::reports::events_between(c, &["lahir", "pindah_masuk"], &to, far)?
                        .total();
                let departures = balai_store::reports::events_between(
                    c,
                    &["mati", "pindah_keluar", "hilang", "pergi"],
                    &to,
                    far,
                )?
                .total();
                (
                    now - arrivals + departures,
                    format!(
                        "penduduk hidup hari ini ({now}) dikurangi {arrivals} kelahiran/kedatangan dan ditambah {departures} kematian/kepindahan sesudah 31-12-{period}"
                    ),
                )
            } else {
                (now, "penduduk berstatus hidup di register hari ini".into())
            };
            Measured {
                measure: m.key().into(),
                figure: Some(n as f64),
                explanation: format!("{n}: {how}."),
            }
        }
        Measure::Families => {
            let n = store::families_now(c)?;
            Measured {
                measure: m.key().into(),
                figure: Some(n as f64),
                explanation: format!(
                    "{n} KK dengan sedikitnya satu anggota hidup di register hari ini."
                ),
            }
        }
        Measure::Births => count(events(&["lahir"])?, "kelahiran"),
        Measure::Deaths => count(events(&["mati"])?, "kematian"),
        Measure::MovesIn => count(events(&["pindah_masuk"])?, "kedatangan"),
        Measure::MovesOut => count(events(&["pindah_keluar"])?, "kepindahan"),
        Measure::LettersIssued => {
            let n = store::letters_issued(c, &from, &to)?;
            Measured {
                measure: m.key().into(),
                figure: Some(n as f64),
                explanation: format!("{n} surat terbit bernomor di buku agenda tahun {period}."),
            }
        }
        Measure::MedianRequestToIssueHours => {
            let mut hours = store::request_to_issue_hours(c, &from, &to)?;
            hours.sort_by(f64::total_cmp);
            let n = hours.len();
            let median = match n {
                0 => None,
                _ if n % 2 == 1 => Some(hours[n / 2]),
                _ => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
            };
            let median = median.map(|h| (h * 10.0).round() / 10.0);
            Measured {
                measure: m.key().into(),
                figure: median,
                explanation: match median {
                    Some(h) => format!(
                        "Median {} jam dari permohonan dicatat sampai surat terbit, dari {n} surat terbit tahun {period}.",
                        id_number(h)
                    ),
                    None => format!("Belum ada surat terbit tahun {period}."),
                },
            }
        }
        Measure::OnlineRequestSharePercent => {
            let offset = i64::from(app.utc_offset_s.load(std::sync::atomic::Ordering::Relaxed));
            let start = |y: i32| {
                chrono::NaiveDate::from_ymd_opt(y, 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(0, |t| t.and_utc().timestamp_millis() - offset * 1000)
            };
            let (online, letters) =
                store::requests_by_channel(c, start(period), start(period + 1), &from, &to)?;
            let share = (online + letters > 0).then(|| {
                (100.0 * online as f64 / letters.max(online) as f64 * 10.0).round() / 10.0
            });
            Measured {
                measure: m.key().into(),
                figure: share,
                explanation: match share {
                    Some(s) => format!(
                        "{} %: {online} permohonan daring dari {} permohonan surat tahun {period}.",
                        id_number(s),
                        letters.max(online)
                    ),
                    None => format!("Belum ada permohonan surat tahun {period}."),
                },
            }
        }
    })
}

/// A measured figure as Indonesians write it: whole, or with one decimal after a comma.
fn id_number(x: f64) -> String {
    comma(x, if x.fract() == 0.0 { 0 } else { 1 })
}
