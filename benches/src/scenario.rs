//! The scenarios: what each side runs, on which copies, and how their outputs
//! are checked to be the same work.
//!
//! Every scenario works in its own directory of the temp dir: `input/` holds
//! the prepared inputs (made once; `modules-input/` beside it for the module
//! scenarios, which share theirs), and each run of a side starts from a fresh
//! copy of them in `upstream/` or `kbtf/`, since pahole 1.24 (without
//! `--btf_encode_detached`) and resolve_btfids rewrite their input in place.
//! Copying is not timed.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::elf::{copy_without_btf, section};
use crate::process::{run, Sample};
use crate::tools::Tools;

/// pahole's BTF options as Debian's 6.12 kbuild passes them (Makefile.btf),
/// without `-j`, whose output pahole 1.24 does not keep deterministic.
const PAHOLE_FLAGS: [&str; 3] = ["-J", "--btf_gen_floats", "--lang_exclude=rust"];

/// One side of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Upstream,
    Kbtf,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Upstream => "upstream",
            Side::Kbtf => "kbtf",
        }
    }
}

/// What a scenario measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `pahole -J ... -jN --btf_encode_detached` on the vmlinux, both sides at N threads.
    VmlinuxEncode { jobs: usize },
    /// Makefile.modfinal's per-module processes: pahole then resolve_btfids,
    /// against one `kbtf gen` per module.
    ModuleLoop,
    /// The same upstream loop against one `kbtf gen` over all modules.
    ModuleBatch,
    /// `resolve_btfids vmlinux` (link-vmlinux.sh).
    ResolveVmlinux,
    /// `resolve_btfids -b vmlinux nf_conntrack.ko` (Makefile.modfinal).
    ResolveModule,
}

/// A goal for kbtf's median relative to upstream's.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// kbtf's median wall time / upstream's, at most.
    pub wall: f64,
    /// kbtf's median peak RSS / upstream's, at most.
    pub rss: Option<f64>,
}

/// A named scenario.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub kind: Kind,
    pub target: Option<Target>,
}

/// Every scenario, in the order they run.
pub const ALL: [Scenario; 6] = [
    Scenario {
        name: "vmlinux-encode-j1",
        kind: Kind::VmlinuxEncode { jobs: 1 },
        target: None,
    },
    Scenario {
        name: "vmlinux-encode-j2",
        kind: Kind::VmlinuxEncode { jobs: 2 },
        target: Some(Target {
            wall: 0.25,
            rss: Some(0.5),
        }),
    },
    Scenario {
        name: "module-loop",
        kind: Kind::ModuleLoop,
        target: Some(Target {
            wall: 0.25,
            rss: None,
        }),
    },
    Scenario {
        name: "module-batch",
        kind: Kind::ModuleBatch,
        target: Some(Target {
            wall: 1.0 / 15.0,
            rss: None,
        }),
    },
    Scenario {
        name: "resolve-vmlinux",
        kind: Kind::ResolveVmlinux,
        target: Some(Target {
            wall: 0.25,
            rss: None,
        }),
    },
    Scenario {
        name: "resolve-nf_conntrack",
        kind: Kind::ResolveModule,
        target: None,
    },
];

/// The corpus files a run uses.
#[derive(Debug)]
pub struct Inputs {
    pub vmlinux: PathBuf,
    /// The module subset: (path in the corpus, path relative to the corpus).
    pub modules: Vec<(PathBuf, PathBuf)>,
    pub nf_conntrack: PathBuf,
}

/// Whether both sides produced the same output.
#[derive(Clone, Debug)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

/// Where and with what a scenario runs.
pub struct Ctx<'a> {
    pub tools: &'a Tools,
    pub inputs: &'a Inputs,
    /// This scenario's directory in the temp dir.
    pub dir: PathBuf,
}

impl Ctx<'_> {
    fn side_dir(&self, side: Side) -> PathBuf {
        self.dir.join(side.name())
    }
}

impl Scenario {
    /// Why this scenario cannot run with these tools, if it cannot.
    pub fn skip_reason(&self, tools: &Tools) -> Option<String> {
        match self.kind {
            Kind::ModuleLoop | Kind::ModuleBatch => tools.kbtf_gen_missing.clone(),
            _ => None,
        }
    }

    /// Each side's command, as the report shows it.
    pub fn commands(&self, inputs: &Inputs) -> (String, String) {
        let n = inputs.modules.len();
        let pahole_loop = format!(
            "{n} x (LLVM_OBJCOPY=objcopy pahole {} --btf_base vmlinux X.ko; \
             resolve_btfids -b vmlinux X.ko)",
            PAHOLE_FLAGS.join(" ")
        );
        match self.kind {
            Kind::VmlinuxEncode { jobs } => {
                let args = format!(
                    "{} -j{jobs} --btf_encode_detached=OUT vmlinux",
                    PAHOLE_FLAGS.join(" ")
                );
                (format!("pahole {args}"), format!("kbtf pahole {args}"))
            }
            Kind::ModuleLoop => (
                pahole_loop,
                format!("{n} x kbtf gen --btf_base vmlinux X.ko"),
            ),
            Kind::ModuleBatch => (
                pahole_loop,
                format!("kbtf gen --btf_base vmlinux <{n} modules>"),
            ),
            Kind::ResolveVmlinux => (
                "resolve_btfids vmlinux".into(),
                "kbtf resolve_btfids vmlinux".into(),
            ),
            Kind::ResolveModule => (
                "resolve_btfids -b vmlinux nf_conntrack.ko".into(),
                "kbtf resolve_btfids -b vmlinux nf_conntrack.ko".into(),
            ),
        }
    }

    /// Where the prepared inputs are: beside the scenario's directory for
    /// the module scenarios, which share them.
    fn input_dir(&self, ctx: &Ctx) -> PathBuf {
        match self.kind {
            Kind::ModuleLoop | Kind::ModuleBatch => ctx.dir.with_file_name("modules-input"),
            _ => ctx.dir.join("input"),
        }
    }

    /// Makes the inputs both sides start from (once per scenario, or once for
    /// the module scenarios).
    pub fn prepare(&self, ctx: &Ctx) -> Result<()> {
        let input = self.input_dir(ctx);
        let prepared = input.join(".prepared");
        if prepared.exists() {
            return Ok(());
        }
        eprintln!("{}: preparing inputs in {}", self.name, input.display());
        fs::create_dir_all(&input).with_context(|| format!("creating {}", input.display()))?;
        match self.kind {
            Kind::VmlinuxEncode { .. } => {} // read in place: the output is detached
            Kind::ModuleLoop | Kind::ModuleBatch => {
                for (src, rel) in &ctx.inputs.modules {
                    let dst = input.join(rel);
                    create_parent(&dst)?;
                    copy_without_btf(src, &dst)?;
                }
            }
            Kind::ResolveVmlinux => copy(&ctx.inputs.vmlinux, &input.join("vmlinux"))?,
            Kind::ResolveModule => copy(&ctx.inputs.nf_conntrack, &input.join("nf_conntrack.ko"))?,
        }
        fs::write(&prepared, "").with_context(|| format!("creating {}", prepared.display()))
    }

    /// Runs one side once on fresh copies of the inputs.
    pub fn run(&self, side: Side, ctx: &Ctx) -> Result<Sample> {
        let dir = ctx.side_dir(side);
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tools = ctx.tools;
        let vmlinux = ctx.inputs.vmlinux.as_path();
        let log = dir.join("log");
        let mut total = Sample::default();
        match (self.kind, side) {
            (Kind::VmlinuxEncode { jobs }, _) => {
                let mut cmd = match side {
                    Side::Upstream => Command::new(&tools.pahole),
                    Side::Kbtf => kbtf(tools, "pahole"),
                };
                cmd.args(PAHOLE_FLAGS)
                    .arg(format!("-j{jobs}"))
                    .arg(opt_eq("--btf_encode_detached", &dir.join("vmlinux.btf")))
                    .arg(vmlinux);
                total.add(run(&mut cmd, &log)?);
            }
            (Kind::ModuleLoop | Kind::ModuleBatch, _) => {
                let kos = self.copy_inputs(ctx, &dir)?;
                match (self.kind, side) {
                    (_, Side::Upstream) => {
                        for ko in &kos {
                            let mut pahole = Command::new(&tools.pahole);
                            pahole
                                .env("LLVM_OBJCOPY", "objcopy")
                                .args(PAHOLE_FLAGS)
                                .arg("--btf_base")
                                .arg(vmlinux)
                                .arg(ko);
                            total.add(run(&mut pahole, &log)?);
                            let mut ids = Command::new(&tools.resolve_btfids);
                            ids.arg("-b").arg(vmlinux).arg(ko);
                            total.add(run(&mut ids, &log)?);
                        }
                    }
                    (Kind::ModuleLoop, Side::Kbtf) => {
                        for ko in &kos {
                            let mut gen = kbtf(tools, "gen");
                            gen.arg("--btf_base").arg(vmlinux).arg(ko);
                            total.add(run(&mut gen, &log)?);
                        }
                    }
                    (_, Side::Kbtf) => {
                        let mut gen = kbtf(tools, "gen");
                        gen.arg("--btf_base").arg(vmlinux).args(&kos);
                        total.add(run(&mut gen, &log)?);
                    }
                }
            }
            (Kind::ResolveVmlinux | Kind::ResolveModule, _) => {
                let elf = self.copy_inputs(ctx, &dir)?.remove(0);
                let mut cmd = match side {
                    Side::Upstream => Command::new(&tools.resolve_btfids),
                    Side::Kbtf => kbtf(tools, "resolve_btfids"),
                };
                if self.kind == Kind::ResolveModule {
                    cmd.arg("-b").arg(vmlinux);
                }
                cmd.arg(elf);
                total.add(run(&mut cmd, &log)?);
            }
        }
        Ok(total)
    }

    /// Copies the prepared inputs into a side's directory; returns the copies.
    fn copy_inputs(&self, ctx: &Ctx, dir: &Path) -> Result<Vec<PathBuf>> {
        let rels: Vec<PathBuf> = match self.kind {
            Kind::VmlinuxEncode { .. } => Vec::new(),
            Kind::ModuleLoop | Kind::ModuleBatch => {
                ctx.inputs.modules.iter().map(|(_, r)| r.clone()).collect()
            }
            Kind::ResolveVmlinux => vec!["vmlinux".into()],
            Kind::ResolveModule => vec!["nf_conntrack.ko".into()],
        };
        let input = self.input_dir(ctx);
        rels.iter()
            .map(|rel| {
                let dst = dir.join(rel);
                create_parent(&dst)?;
                copy(&input.join(rel), &dst)?;
                Ok(dst)
            })
            .collect()
    }

    /// Compares the outputs of the last run of both sides.
    pub fn check(&self, ctx: &Ctx) -> Result<Check> {
        let (up, kb) = (ctx.side_dir(Side::Upstream), ctx.side_dir(Side::Kbtf));
        match self.kind {
            Kind::VmlinuxEncode { jobs } => {
                let a = read(&up.join("vmlinux.btf"))?;
                let b = read(&kb.join("vmlinux.btf"))?;
                if a == b {
                    return Ok(ok(format!(".BTF equal ({} bytes)", a.len())));
                }
                // pahole 1.24 -jN (N > 1) orders types differently run to run;
                // then hold kbtf to the shipped .BTF, which pahole -j1 reproduces.
                let shipped = section(&ctx.inputs.vmlinux, ".BTF")?;
                if jobs > 1 && shipped.as_deref() == Some(&b[..]) {
                    return Ok(ok(format!(
                        "kbtf's .BTF equals the shipped one ({} bytes); pahole -j{jobs}'s \
                         differs ({} bytes: pahole 1.24's -j output is not deterministic)",
                        b.len(),
                        a.len()
                    )));
                }
                Ok(mismatch(format!(
                    ".BTF differs: upstream {} bytes, kbtf {} bytes",
                    a.len(),
                    b.len()
                )))
            }
            Kind::ModuleLoop | Kind::ModuleBatch => {
                let mut ids = IdsTally::default();
                let mut no_btf = 0;
                for (_, rel) in &ctx.inputs.modules {
                    let (a, b) = (up.join(rel), kb.join(rel));
                    let (btf_a, btf_b) = (section(&a, ".BTF")?, section(&b, ".BTF")?);
                    if btf_a != btf_b {
                        return Ok(mismatch(format!(".BTF of {} differs", rel.display())));
                    }
                    // pahole adds none to a module without types of its own.
                    no_btf += usize::from(btf_a.is_none());
                    let input = section(&self.input_dir(ctx).join(rel), ".BTF_ids")?;
                    if let Some(bad) = ids.add(&a, &b, input.as_deref())? {
                        return Ok(mismatch(format!("{bad} of {}", rel.display())));
                    }
                }
                let n = ctx.inputs.modules.len();
                Ok(ok(format!(
                    ".BTF equal for {n} modules ({no_btf} without .BTF on both sides); {}",
                    ids.summary()
                )))
            }
            Kind::ResolveVmlinux | Kind::ResolveModule => {
                let (name, input) = match self.kind {
                    Kind::ResolveVmlinux => ("vmlinux", &ctx.inputs.vmlinux),
                    _ => ("nf_conntrack.ko", &ctx.inputs.nf_conntrack),
                };
                let mut ids = IdsTally::default();
                let shipped = section(input, ".BTF_ids")?;
                if shipped.is_none() {
                    bail!("{} has no .BTF_ids", input.display());
                }
                if let Some(bad) = ids.add(&up.join(name), &kb.join(name), shipped.as_deref())? {
                    return Ok(mismatch(bad));
                }
                Ok(ok(ids.summary()))
            }
        }
    }
}

/// Counts how the `.BTF_ids` sections of both sides compare.
///
/// The corpus files are already resolved, and resolve_btfids is not
/// idempotent on them: its BTF_SET8 sort moves entries but not the symbols,
/// so a second run pairs ids with other entries' flags. kbtf leaves a resolved
/// section as it is. Where the two differ, kbtf's output must equal the input.
#[derive(Default)]
struct IdsTally {
    equal: usize,
    upstream_resorted: usize,
    absent: usize,
}

impl IdsTally {
    /// Tallies one file; returns what is wrong if the outputs disagree otherwise.
    fn add(&mut self, up: &Path, kb: &Path, input: Option<&[u8]>) -> Result<Option<String>> {
        let (a, b) = (section(up, ".BTF_ids")?, section(kb, ".BTF_ids")?);
        if a == b {
            match a {
                Some(_) => self.equal += 1,
                None => self.absent += 1,
            }
            return Ok(None);
        }
        if b.is_some() && b.as_deref() == input {
            self.upstream_resorted += 1;
            return Ok(None);
        }
        Ok(Some(
            ".BTF_ids differs (and kbtf's is not the input's)".into(),
        ))
    }

    fn summary(&self) -> String {
        let mut s = format!(".BTF_ids equal for {}", self.equal);
        if self.upstream_resorted > 0 {
            s += &format!(
                ", {} where upstream re-sorted an already resolved BTF_SET8 and kbtf kept it",
                self.upstream_resorted
            );
        }
        if self.absent > 0 {
            s += &format!(", {} without .BTF_ids", self.absent);
        }
        s
    }
}

fn ok(detail: String) -> Check {
    Check { ok: true, detail }
}

fn mismatch(detail: String) -> Check {
    Check { ok: false, detail }
}

/// kbtf's `subcommand`, with the defaults gen-btf.sh's variables would
/// override (`kbtf gen` reads them, as gen-btf.sh passes them on) unset.
fn kbtf(tools: &Tools, subcommand: &str) -> Command {
    let mut cmd = Command::new(&tools.kbtf);
    cmd.arg(subcommand);
    for var in [
        "PAHOLE_FLAGS",
        "MODULE_PAHOLE_FLAGS",
        "RESOLVE_BTFIDS_FLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn opt_eq(opt: &str, path: &Path) -> OsString {
    let mut s = OsString::from(format!("{opt}="));
    s.push(path);
    s
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn copy(src: &Path, dst: &Path) -> Result<()> {
    fs::copy(src, dst)
        .map(drop)
        .with_context(|| format!("copying {} to {}", src.display(), dst.display()))
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) => fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display())),
        None => Ok(()),
    }
}
