//! balai-contest: the scorecards a lurah is judged on, as data, and the arithmetic on them.
//!
//! What it does: reads and checks the rule sets of `assets/contest/<ruleset>/<edition>.toml`
//! ([`ruleset`]: areas → aspects → indicators with weights, scales, expected evidence and the
//! bands of the total; SPBE, the kelurahan development evaluation, the Lomba Kelurahan and the
//! Smart City assessment ship with this build), scores a period's values per area and overall
//! with its band and what it still lacks ([`score`]), and plans exactly the cheapest raises to
//! reach a band or the best total within an effort budget ([`plan`]). Totals are exact
//! integers; the band always matches the total as shown.
//!
//! What it does not do: no storage, evidence files, periods or locking (balai-store and
//! balai-app), and no counting of the register: computed indicators get their measure from
//! balai-app and only map it to a value here ([`ruleset::Indicator::value_for`]). No IO, no
//! clock.

pub mod plan;
pub mod ruleset;
pub mod score;

pub use plan::{best_within, cheapest, Efforts, Plan, PlanError};
pub use ruleset::{load_shipped, Measure, RuleSet, RuleSetError};
pub use score::{band_of, check_value, readiness, score, Score, ScoreError, Values};
