//! The results: a plain-text table and the same as JSON.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::process::Sample;
use crate::scenario::{Check, Scenario, Target};
use crate::stats::{summarize, Summary};

/// How a scenario ended.
#[derive(Debug)]
pub enum Outcome {
    /// Both sides ran `samples.len()` times; `check` compares their outputs.
    Ran {
        upstream: Vec<Sample>,
        kbtf: Vec<Sample>,
        check: Check,
    },
    /// Not run, and why (e.g. kbtf has no `gen` yet).
    Skipped(String),
    /// A tool failed or the setup went wrong.
    Failed(String),
}

/// One scenario's result.
#[derive(Debug)]
pub struct ScenarioReport {
    pub scenario: Scenario,
    pub upstream_cmd: String,
    pub kbtf_cmd: String,
    pub outcome: Outcome,
}

/// kbtf's medians relative to upstream's, and whether they meet the target.
struct Ratios {
    wall: f64,
    rss: f64,
    met: Option<bool>,
}

fn ratios(up: &Summary, kb: &Summary, target: Option<Target>) -> Ratios {
    let wall = kb.wall_median.as_secs_f64() / up.wall_median.as_secs_f64();
    let rss = kb.rss_median_kib as f64 / up.rss_median_kib as f64;
    let met = target.map(|t| {
        wall <= t.wall
            && match t.rss {
                None => true,
                Some(r) => rss <= r,
            }
    });
    Ratios { wall, rss, met }
}

fn target_text(t: Option<Target>) -> String {
    match t {
        None => "none".into(),
        Some(t) => {
            let mut s = format!("wall <= {:.3}", t.wall);
            if let Some(r) = t.rss {
                s += &format!(", RSS <= {r:.2}");
            }
            s
        }
    }
}

/// The table printed to stdout.
pub fn table(env: &[(String, String)], reps: usize, reports: &[ScenarioReport]) -> String {
    let mut out = String::new();
    let floor = reports
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Ran { upstream, kbtf, .. } => {
                upstream.iter().chain(kbtf).map(|s| s.floor_kib).max()
            }
            _ => None,
        })
        .max()
        .unwrap_or(0);
    for (k, v) in env {
        let _ = writeln!(out, "{k:>18}: {v}");
    }
    let _ = writeln!(
        out,
        "{:>18}: {reps} per side, alternating upstream/kbtf",
        "repetitions"
    );
    let _ = writeln!(
        out,
        "{:>18}: a loop's wall time is the sum over its processes, its RSS the max; \
         a peak RSS below {:.1} MiB (the harness's own at spawn) is not measurable",
        "note",
        floor as f64 / 1024.0
    );
    let _ = writeln!(
        out,
        "\n{:<28} {:<8} {:>10} {:>10} {:>10} {:>12} {:>6}",
        "scenario", "side", "median s", "min s", "max s", "peak RSS MiB", "procs"
    );
    for r in reports {
        let name = r.scenario.name;
        match &r.outcome {
            Outcome::Skipped(why) => {
                let _ = writeln!(out, "{name:<28} skipped: {why}");
            }
            Outcome::Failed(why) => {
                let _ = writeln!(out, "{name:<28} FAILED: {why}");
            }
            Outcome::Ran {
                upstream,
                kbtf,
                check,
            } => {
                let (Some(up), Some(kb)) = (summarize(upstream), summarize(kbtf)) else {
                    let _ = writeln!(out, "{name:<28} no samples");
                    continue;
                };
                for (label, s, cmd) in [
                    ("upstream", &up, &r.upstream_cmd),
                    ("kbtf", &kb, &r.kbtf_cmd),
                ] {
                    let _ = writeln!(
                        out,
                        "{:<28} {label:<8} {:>10.3} {:>10.3} {:>10.3} {:>12.1} {:>6}   {cmd}",
                        if label == "upstream" { name } else { "" },
                        s.wall_median.as_secs_f64(),
                        s.wall_min.as_secs_f64(),
                        s.wall_max.as_secs_f64(),
                        s.rss_median_kib as f64 / 1024.0,
                        s.processes,
                    );
                }
                let q = ratios(&up, &kb, r.scenario.target);
                let verdict = match (check.ok, q.met) {
                    (false, _) => "NOT COMPARABLE (outputs differ)",
                    (true, Some(true)) => "target met",
                    (true, Some(false)) => "target missed",
                    (true, None) => "no target",
                };
                let _ = writeln!(
                    out,
                    "{:<28} {:<8} wall x{:.3}, RSS x{:.3} (target: {}): {verdict}\n{:<30} check: {}{}",
                    "",
                    "ratio",
                    q.wall,
                    q.rss,
                    target_text(r.scenario.target),
                    "",
                    if check.ok { "" } else { "MISMATCH: " },
                    check.detail
                );
            }
        }
    }
    out
}

fn summary_json(samples: &[Sample]) -> Value {
    let Some(s) = summarize(samples) else {
        return Value::Null;
    };
    json!({
        "wall_s": {
            "median": s.wall_median.as_secs_f64(),
            "min": s.wall_min.as_secs_f64(),
            "max": s.wall_max.as_secs_f64(),
            "runs": samples.iter().map(|x| x.wall.as_secs_f64()).collect::<Vec<_>>(),
        },
        "peak_rss_kib": {
            "median": s.rss_median_kib,
            "max": s.rss_max_kib,
            "runs": samples.iter().map(|x| x.max_rss_kib).collect::<Vec<_>>(),
        },
        "processes_per_run": s.processes,
        "rss_floor_kib": s.floor_kib,
    })
}

/// The same results as JSON.
pub fn json(
    env: &[(String, String)],
    reps: usize,
    modules: usize,
    sid_modules: usize,
    reports: &[ScenarioReport],
) -> Value {
    let environment: serde_json::Map<String, Value> = env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let scenarios: Vec<Value> = reports
        .iter()
        .map(|r| {
            let target = r
                .scenario
                .target
                .map(|t| json!({"wall": t.wall, "rss": t.rss}));
            let mut v = json!({
                "name": r.scenario.name,
                "upstream_command": r.upstream_cmd,
                "kbtf_command": r.kbtf_cmd,
                "target": target,
            });
            match &r.outcome {
                Outcome::Skipped(why) => {
                    v["status"] = "skipped".into();
                    v["reason"] = why.as_str().into();
                }
                Outcome::Failed(why) => {
                    v["status"] = "failed".into();
                    v["reason"] = why.as_str().into();
                }
                Outcome::Ran {
                    upstream,
                    kbtf,
                    check,
                } => {
                    v["status"] = "ran".into();
                    v["upstream"] = summary_json(upstream);
                    v["kbtf"] = summary_json(kbtf);
                    v["check"] = json!({"ok": check.ok, "detail": check.detail});
                    if let (Some(up), Some(kb)) = (summarize(upstream), summarize(kbtf)) {
                        let q = ratios(&up, &kb, r.scenario.target);
                        v["ratio"] = json!({"wall": q.wall, "rss": q.rss});
                        v["target_met"] = json!(q.met.filter(|_| check.ok));
                    }
                }
            }
            v
        })
        .collect();
    json!({
        "environment": environment,
        "repetitions": reps,
        "modules": modules,
        "sid_modules": sid_modules,
        "scenarios": scenarios,
    })
}
