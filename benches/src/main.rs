//! `kbtf-benches compare`: kbtf against Debian's pahole and the kernel's
//! resolve_btfids on the corpus, and against trixie's and sid's tools in their
//! chroots on those suites' kernels; see benches/README.md.

use kbtf_testsupport::corpus;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use kbtf_benches::modern::Modern;
use kbtf_benches::report::{self, Outcome, ScenarioReport};
use kbtf_benches::scenario::{Ctx, Inputs, Scenario, Side, ALL};
use kbtf_benches::tools::{find_kbtf, Tools, DEBIAN_RESOLVE_BTFIDS};

#[derive(Parser)]
#[command(about = "kbtf's benches beyond criterion")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run kbtf and the upstream tools alternately on the corpus; print medians,
    /// min/max, ratios and peak RSS per scenario, as a table and as JSON
    Compare(CompareArgs),
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Runs per side and scenario (upstream and kbtf alternate)
    #[arg(short = 'n', long, default_value_t = 3)]
    reps: usize,
    /// Run only these scenarios (repeatable; default: all)
    #[arg(short, long = "scenario", value_parser = scenario_names())]
    scenarios: Vec<String>,
    /// Use this many modules, evenly spread over the sorted list of the bookworm corpus
    /// (and of the sid corpus for the sid-* scenarios; default: all)
    #[arg(short, long)]
    modules: Option<usize>,
    /// Where to write the JSON results
    #[arg(long, default_value = "target/kbtf-compare.json")]
    json: PathBuf,
    /// kbtf binary to run (default: build it with cargo, then target/release/kbtf)
    #[arg(long)]
    kbtf: Option<PathBuf>,
    /// Do not run `cargo build --release -p kbtf-cli` first
    #[arg(long)]
    no_build: bool,
    /// Upstream pahole
    #[arg(long, default_value = "pahole")]
    pahole: PathBuf,
    /// Upstream resolve_btfids
    #[arg(long, default_value = DEBIAN_RESOLVE_BTFIDS)]
    resolve_btfids: PathBuf,
    /// Keep the temp dir (its path is printed) to look at both sides' outputs
    #[arg(long)]
    keep: bool,
}

fn scenario_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(ALL.map(|s| s.name))
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Compare(args) => compare(args),
    }
}

fn compare(args: CompareArgs) -> Result<()> {
    if args.reps == 0 {
        bail!("--reps must be at least 1");
    }
    // Each corpus that is absent makes its scenarios skipped.
    let inputs = match corpus::Corpus::find() {
        Some(corpus) => Some(inputs(&corpus, args.modules)?),
        None => None,
    };
    let modern = Modern::find(args.modules);
    let kbtf = find_kbtf(args.kbtf.clone(), !args.no_build)?;
    let tools = Tools::new(args.pahole.clone(), args.resolve_btfids.clone(), kbtf)?;
    let mut env = tools.environment();
    env.extend(modern.environment());
    let selected: Vec<Scenario> = ALL
        .into_iter()
        .filter(|s| args.scenarios.is_empty() || args.scenarios.iter().any(|n| n == s.name))
        .collect();

    let tmp = tempfile::Builder::new()
        .prefix("kbtf-compare-")
        .tempdir()
        .context("creating the temp dir")?;
    eprintln!("working in {}", tmp.path().display());
    let mut reports = Vec::new();
    for scenario in selected {
        let dir = tmp.path().join(scenario.name);
        let ctx = Ctx {
            tools: &tools,
            inputs: inputs.as_ref(),
            modern: &modern,
            mounts: None,
            dir: dir.clone(),
        };
        let (upstream_cmd, kbtf_cmd) = scenario.commands(&ctx);
        let outcome = match scenario.skip_reason(&ctx) {
            Some(why) => Outcome::Skipped(why),
            // The chroot's bind mounts live as long as the scenario runs and
            // are unmounted when `mounts` drops, whatever happened.
            None => match scenario.mounts(&modern, tmp.path(), &tools.kbtf) {
                Err(e) => Outcome::Failed(format!("bind mounts: {e:#}")),
                Ok(mounts) => {
                    let ctx = Ctx {
                        mounts: mounts.as_ref(),
                        ..ctx
                    };
                    run_scenario(&scenario, &ctx, args.reps)
                        .unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")))
                }
            },
        };
        // Free the disk before the next scenario (the module copies are large).
        let _ = std::fs::remove_dir_all(&dir);
        reports.push(ScenarioReport {
            scenario,
            upstream_cmd,
            kbtf_cmd,
            outcome,
        });
    }
    if args.keep {
        eprintln!("kept {}", tmp.keep().display());
    }

    print!("{}", report::table(&env, args.reps, &reports));
    let modules = inputs.as_ref().map_or(0, |i| i.modules.len());
    let sid_modules = modern.sid.as_ref().map_or(0, |s| s.modules.len());
    let json = report::json(&env, args.reps, modules, sid_modules, &reports);
    if let Some(dir) = args.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.json, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", args.json.display()))?;
    eprintln!("JSON written to {}", args.json.display());
    Ok(())
}

/// Runs both sides `reps` times, alternating, and checks their outputs after the first round.
fn run_scenario(scenario: &Scenario, ctx: &Ctx, reps: usize) -> Result<Outcome> {
    scenario.prepare(ctx)?;
    let (mut upstream, mut kbtf) = (Vec::new(), Vec::new());
    let mut check = None;
    for rep in 0..reps {
        for side in [Side::Upstream, Side::Kbtf] {
            let sample = scenario
                .run(side, ctx)
                .with_context(|| format!("{} side", side.name()))?;
            eprintln!(
                "{}: run {}/{reps} {:<8} {:>9.3} s {:>8.1} MiB",
                scenario.name,
                rep + 1,
                side.name(),
                sample.wall.as_secs_f64(),
                sample.max_rss_kib as f64 / 1024.0
            );
            match side {
                Side::Upstream => upstream.push(sample),
                Side::Kbtf => kbtf.push(sample),
            }
        }
        if check.is_none() {
            let c = scenario.check(ctx)?;
            eprintln!("{}: check: {}", scenario.name, c.detail);
            let stop = !c.ok;
            check = Some(c);
            if stop {
                break; // different work: more runs would not compare anything
            }
        }
    }
    let check = check.context("no runs")?;
    Ok(Outcome::Ran {
        upstream,
        kbtf,
        check,
    })
}

/// The corpus files, with `limit` modules spread evenly over the sorted list.
fn inputs(corpus: &corpus::Corpus, limit: Option<usize>) -> Result<Inputs> {
    let all = corpus.modules();
    let n = limit.unwrap_or(all.len()).min(all.len());
    let picked = (0..n).map(|i| &all[i * all.len() / n.max(1)]);
    let modules = picked
        .map(|p| {
            let rel = p.strip_prefix(&corpus.dir).unwrap_or(p).to_path_buf();
            (p.clone(), rel)
        })
        .collect();
    let nf_conntrack = all
        .iter()
        .find(|p| p.file_name().is_some_and(|f| f == "nf_conntrack.ko"))
        .context("nf_conntrack.ko is not in the corpus")?
        .clone();
    Ok(Inputs {
        vmlinux: corpus.vmlinux(),
        modules,
        nf_conntrack,
    })
}
