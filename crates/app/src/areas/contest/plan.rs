//! The what-if planner over a period's values and the office's efforts, and its plan as the
//! period's task list.

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortArgs {
    pub ruleset: String,
    pub indicator: String,
    pub effort: u32,
}

/// Sets the effort of raising an indicator by one step (for the planner).
pub fn set_effort(app: &App, ctx: &Ctx, a: EffortArgs) -> Result<(), ApiError> {
    let actor = ctx.actor()?;
    let all = app.store.read(known)?;
    let rs = edition_of(&all, a.ruleset.trim(), None, None)?;
    let indicator = a.indicator.trim();
    if rs.indicator(indicator).is_none() {
        return Err(ApiError::field(
            "indicator",
            "unknown",
            format!("Indikator `{indicator}` tidak ada di {}.", rs.title),
        ));
    }
    if a.effort > balai_contest::plan::MAX_EFFORT {
        return Err(ApiError::field(
            "effort",
            "range",
            format!("Upaya per langkah 0–{}.", balai_contest::plan::MAX_EFFORT),
        ));
    }
    app.write(actor, |tx| {
        store::set_effort(tx, &rs.id, indicator, a.effort)?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.set_effort",
            "contest_effort",
            &format!("{}/{indicator}", rs.id),
            &a.effort.to_string(),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    /// Optional when only one rule set has the target band.
    #[serde(default)]
    pub ruleset: Option<String>,
    pub period: i32,
    /// The band to reach at least effort; or
    #[serde(default)]
    pub target: Option<String>,
    /// the most effort to spend for the best total.
    #[serde(default)]
    pub budget: Option<u64>,
}

fn plan_error(e: PlanError) -> ApiError {
    match e {
        PlanError::UnknownBand(b) => ApiError::field("target", "unknown", format!("Predikat `{b}` tidak ada pada penilaian ini.")),
        PlanError::Unreachable { band, best } => ApiError::field(
            "target",
            "band_unreachable",
            format!("Predikat {band} tidak tercapai: dengan semua indikator di tingkat tertinggi nilainya {best}."),
        ),
        PlanError::UnknownIndicator(i) => ApiError::field(
            "indicator",
            "unknown",
            format!("Indikator `{i}` tidak ada pada penilaian ini."),
        ),
        PlanError::EffortTooHigh { indicator, effort } => ApiError::field(
            "effort",
            "range",
            format!(
                "Upaya {effort} per langkah untuk {indicator} melebihi {}.",
                balai_contest::plan::MAX_EFFORT
            ),
        ),
        PlanError::TooLarge(total) => ApiError::field(
            "effort",
            "too_large",
            format!("Jumlah upaya ({total}) terlalu besar untuk dihitung; kecilkan angka upaya."),
        ),
    }
}

fn plan_ruleset(c: &ReadConn, a: &PlanArgs, period: i32) -> Result<String, ApiError> {
    let target = a.target.clone().unwrap_or_default();
    let all = known(c)?;
    infer_ruleset(&all, a.ruleset.as_deref(), period, &format!("predikat {target}"), |r| {
        r.band_index(&target).is_some()
    })
}

fn plan_in(app: &App, c: &ReadConn, a: &PlanArgs) -> Result<Plan, ApiError> {
    let period = check_period(a.period)?;
    let rs = period_edition(c, &plan_ruleset(c, a, period)?, period)?;
    let values = period_values(app, c, rs, period)?.values;
    let efforts: Efforts = store::efforts(c, &rs.id)?.into_iter().collect();
    match (&a.target, a.budget) {
        (Some(t), None) => balai_contest::cheapest(rs, &values, &efforts, t).map_err(plan_error),
        (None, Some(b)) => balai_contest::best_within(rs, &values, &efforts, b).map_err(plan_error),
        _ => Err(ApiError::field(
            "target",
            "required",
            "Pilih predikat yang dituju atau batas upaya (salah satu).",
        )),
    }
}

/// The cheapest raises to a band, or the best total within an effort budget.
pub fn plan(app: &App, ctx: &Ctx, a: PlanArgs) -> Result<Plan, ApiError> {
    ctx.actor()?;
    app.store.read(|c| plan_in(app, c, &a))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    pub indicator: String,
    pub target: i64,
    pub effort: u64,
    pub created_by: String,
    pub created_at_ms: u64,
    pub done_at_ms: Option<u64>,
}

fn task_view(t: TaskRow) -> TaskView {
    TaskView {
        id: t.id.to_string(),
        indicator: t.indicator,
        target: t.target,
        effort: t.effort,
        created_by: t.created_by,
        created_at_ms: t.created_at_ms,
        done_at_ms: t.done_at_ms,
    }
}

/// Accepts a plan as the period's task list (replacing the open tasks); a task closes itself
/// once its indicator reaches the target.
pub fn accept_plan(app: &App, ctx: &Ctx, a: PlanArgs) -> Result<Vec<TaskView>, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let now_ms = app.now().timestamp_millis().max(0) as u64;
    let id = app.store.read(|c| plan_ruleset(c, &a, period))?;
    app.write(actor, |tx| {
        refuse_if_submitted(tx, &id, period)?;
        let plan = plan_in(app, tx, &a)?;
        let rs = period_edition(tx, &id, period)?;
        let tasks: Vec<TaskRow> = plan
            .steps
            .iter()
            .map(|s| TaskRow {
                id: app.new_id(),
                indicator: s.indicator.clone(),
                target: s.to,
                effort: s.effort,
                created_by: actor.name.clone(),
                created_at_ms: now_ms,
                done_at_ms: None,
            })
            .collect();
        store::replace_tasks(tx, &rs.id, period, &tasks)?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.accept_plan",
            "contest_period",
            &format!("{}/{period}", rs.id),
            &format!("{} langkah, upaya {}", plan.steps.len(), plan.effort),
        )?;
        Ok(store::tasks(tx, &rs.id, period)?.into_iter().map(task_view).collect())
    })
}

/// The period's task list.
pub fn tasks(app: &App, ctx: &Ctx, a: PeriodArgs) -> Result<Vec<TaskView>, ApiError> {
    ctx.actor()?;
    let period = check_period(a.period)?;
    app.store.read(|c| {
        let rs = edition_of(&known(c)?, a.ruleset.trim(), None, None)?;
        Ok(store::tasks(c, &rs.id, period)?.into_iter().map(task_view).collect())
    })
}
