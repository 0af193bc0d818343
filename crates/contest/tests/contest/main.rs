//! balai-contest's one test binary: the shipped rule sets, what a broken file is told, scoring
//! and the planner (with property tests against exhaustive search on small rule sets).

mod planner;
mod rulesets;
mod scoring;

use balai_contest::RuleSet;

/// A shipped rule set by id.
pub fn shipped(id: &str) -> RuleSet {
    balai_contest::load_shipped()
        .expect("shipped rule sets")
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id} is shipped"))
}

/// A small weighted rule set: `indicators` as (weight, levels), levels 1..=n, one area per
/// indicator, bands at `bands` (from 0; the last ends at the maximum).
pub fn small(indicators: &[(u32, i64)], bands: &[f64]) -> String {
    let total: u32 = indicators.iter().map(|(w, _)| w).sum();
    let max_level = indicators.iter().map(|(_, n)| *n).max().unwrap_or(1);
    let mut s = format!(
        "ruleset = \"t\"\nedition = \"1\"\ntitle = \"T\"\nregulation = \"R\"\n\
         [total]\nmethod = \"weighted\"\ndivisor = {total}\nweight_total = {total}\ndecimals = 2\nsource = \"default\"\n"
    );
    for n in 2..=max_level.max(2) {
        s += &format!("[scale.l{n}]\nkind = \"levels\"\nlevels = [");
        for v in 1..=n {
            s += &format!("{{ value = {v}, label = \"L{v}\" }},");
        }
        s += "]\n";
    }
    let mut from = 0.0;
    for (k, b) in bands.iter().enumerate() {
        s += &format!(
            "[[band]]\nname = \"B{k}\"\nfrom = {from}\nbelow = {b}\nsource = \"default\"\n"
        );
        from = *b;
    }
    s += &format!(
        "[[band]]\nname = \"Top\"\nfrom = {from}\nto = {max_level}\nsource = \"default\"\n"
    );
    for (k, (w, n)) in indicators.iter().enumerate() {
        s += &format!(
            "[[area]]\nid = \"a{k}\"\nname = \"A{k}\"\nweight = {w}\n\
             [[area.aspect]]\nid = \"s{k}\"\nname = \"S{k}\"\nweight = {w}\n\
             [[area.aspect.indicator]]\nid = \"i{k}\"\nname = \"I{k}\"\nweight = {w}\nscale = \"l{}\"\n",
            (*n).max(2)
        );
    }
    s
}
