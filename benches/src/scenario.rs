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

use anyhow::{anyhow, bail, Context, Result};

use crate::elf::{copy_without_btf, section};
use crate::modern::{pahole_args, Modern, Mounts, Sid, Suite, Trixie};
use crate::process::{run, run_concurrently, Sample};
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
    /// The suite's pahole in its chroot, with its kbuild's flags at `-jN`, on
    /// its own vmlinux (detached `.BTF`), against `kbtf pahole` emulating that
    /// version with the same arguments.
    ModernVmlinux { suite: Suite, jobs: usize },
    /// gen-btf.sh's first step per sid module: pahole 1.32 in the chroot
    /// writing `X.ko.BTF.1`, against `kbtf pahole` 1.32 writing the same.
    SidModulePahole,
    /// 7.2's module step the upstream way, one process per module:
    /// `scripts/gen-btf.sh --btf_base vmlinux X.ko` with sid's tools (pahole
    /// 1.32, resolve_btfids 7.2 `--btf`, objcopy, `--patch_btfids`), against
    /// kbtf's side as [`Kbtf7x`] says.
    GenBtf(Kbtf7x),
}

/// What kbtf runs against 7.2's gen-btf.sh loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kbtf7x {
    /// The same gen-btf.sh in the chroot with `PAHOLE="kbtf pahole"` (1.32):
    /// only pahole's step is kbtf's, until `kbtf gen` does the 7.x flow.
    PaholeInGenBtf,
    /// One `kbtf gen --btf_base vmlinux X.ko` per module, with 7.2's
    /// `PAHOLE_FLAGS` (kbtf gen's 7.x flow).
    GenLoop,
    /// One `kbtf gen --btf_base vmlinux <all modules>`.
    GenBatch,
    /// [`Kbtf7x::GenLoop`] with both sides running two modules at a time,
    /// as `make -j2` does: the peak is of the memory they use together.
    GenLoopJ2,
}

impl Kbtf7x {
    /// How many module steps run at once.
    fn jobs(self) -> usize {
        match self {
            Kbtf7x::GenLoopJ2 => 2,
            _ => 1,
        }
    }
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

/// Every scenario, in the order they run; the targets are issue 15's.
pub const ALL: [Scenario; 15] = [
    Scenario {
        name: "vmlinux-encode-j1",
        kind: Kind::VmlinuxEncode { jobs: 1 },
        target: None,
    },
    Scenario {
        name: "vmlinux-encode-j2",
        kind: Kind::VmlinuxEncode { jobs: 2 },
        target: Some(Target {
            wall: 0.5,
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
            // No slower than upstream, which patches in place (not atomically).
            wall: 1.0,
            rss: None,
        }),
    },
    Scenario {
        name: "resolve-nf_conntrack",
        kind: Kind::ResolveModule,
        target: None,
    },
    Scenario {
        name: "trixie-vmlinux-encode-j1",
        kind: Kind::ModernVmlinux {
            suite: Suite::Trixie,
            jobs: 1,
        },
        target: None,
    },
    Scenario {
        name: "trixie-vmlinux-encode-j2",
        kind: Kind::ModernVmlinux {
            suite: Suite::Trixie,
            jobs: 2,
        },
        target: Some(Target {
            wall: 1.0 / 3.0,
            rss: Some(0.5),
        }),
    },
    Scenario {
        name: "sid-vmlinux-encode-j1",
        kind: Kind::ModernVmlinux {
            suite: Suite::Sid,
            jobs: 1,
        },
        target: None,
    },
    Scenario {
        name: "sid-vmlinux-encode-j2",
        kind: Kind::ModernVmlinux {
            suite: Suite::Sid,
            jobs: 2,
        },
        target: Some(Target {
            wall: 1.0 / 3.0,
            rss: Some(0.5),
        }),
    },
    Scenario {
        name: "sid-module-pahole-btf1",
        kind: Kind::SidModulePahole,
        target: None,
    },
    Scenario {
        name: "sid-genbtf-loop-kbtf-pahole",
        kind: Kind::GenBtf(Kbtf7x::PaholeInGenBtf),
        target: None,
    },
    Scenario {
        name: "sid-genbtf-loop",
        kind: Kind::GenBtf(Kbtf7x::GenLoop),
        target: Some(Target {
            wall: 0.1,
            rss: None,
        }),
    },
    Scenario {
        name: "sid-genbtf-batch",
        kind: Kind::GenBtf(Kbtf7x::GenBatch),
        target: Some(Target {
            wall: 1.0 / 40.0,
            rss: None,
        }),
    },
    Scenario {
        name: "sid-genbtf-make-j2",
        kind: Kind::GenBtf(Kbtf7x::GenLoopJ2),
        target: Some(Target {
            wall: 0.1,
            rss: Some(1.0),
        }),
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
    /// The bookworm corpus, when it is there.
    pub inputs: Option<&'a Inputs>,
    /// The trixie and sid corpora and chroots, or why they are not there.
    pub modern: &'a Modern,
    /// The bind mounts into the chroot a modern scenario runs its upstream side in.
    pub mounts: Option<&'a Mounts>,
    /// This scenario's directory in the temp dir.
    pub dir: PathBuf,
}

impl Ctx<'_> {
    /// The bookworm corpus ([`Scenario::skip_reason`] says when it is absent).
    fn bw(&self) -> Result<&Inputs> {
        self.inputs.context("the bookworm corpus is absent")
    }

    fn trixie(&self) -> Result<&Trixie> {
        self.modern.trixie.as_ref().map_err(|e| anyhow!("{e}"))
    }

    fn sid(&self) -> Result<&Sid> {
        self.modern.sid.as_ref().map_err(|e| anyhow!("{e}"))
    }

    fn mounts(&self) -> Result<&Mounts> {
        self.mounts
            .context("the chroot's bind mounts are not set up")
    }

    fn side_dir(&self, side: Side) -> PathBuf {
        self.dir.join(side.name())
    }
}

impl Scenario {
    /// Why this scenario cannot run with these tools, if it cannot.
    pub fn skip_reason(&self, ctx: &Ctx) -> Option<String> {
        let suite = match self.kind {
            Kind::ModernVmlinux { suite, .. } => suite,
            Kind::SidModulePahole | Kind::GenBtf(_) => Suite::Sid,
            _ if ctx.inputs.is_none() => {
                return Some("the bookworm corpus is absent (testdata/fetch-corpus.sh)".into())
            }
            Kind::ModuleLoop | Kind::ModuleBatch => return ctx.tools.kbtf_gen_missing.clone(),
            _ => return None,
        };
        let missing = match suite {
            Suite::Trixie => ctx.modern.trixie.as_ref().err(),
            Suite::Sid => ctx.modern.sid.as_ref().err(),
        };
        if let Some(why) = missing {
            return Some(why.clone());
        }
        match self.kind {
            Kind::GenBtf(Kbtf7x::GenLoop | Kbtf7x::GenBatch | Kbtf7x::GenLoopJ2) => {
                ctx.tools.kbtf_gen_missing.clone()
            }
            _ => None,
        }
    }

    /// Each side's command, as the report shows it.
    pub fn commands(&self, ctx: &Ctx) -> (String, String) {
        if let Some(cmds) = self.modern_commands(ctx) {
            return cmds;
        }
        let n = ctx.inputs.map_or(0, |i| i.modules.len());
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
            Kind::ModernVmlinux { .. } | Kind::SidModulePahole | Kind::GenBtf(_) => {
                (String::new(), String::new()) // modern_commands answered
            }
        }
    }

    /// Where the prepared inputs are: beside the scenario's directory for
    /// the module scenarios, which share them.
    fn input_dir(&self, ctx: &Ctx) -> PathBuf {
        match self.kind {
            Kind::ModuleLoop | Kind::ModuleBatch => ctx.dir.with_file_name("modules-input"),
            Kind::GenBtf(_) => ctx.dir.with_file_name("sid-modules-input"),
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
                for (src, rel) in &ctx.bw()?.modules {
                    let dst = input.join(rel);
                    create_parent(&dst)?;
                    copy_without_btf(src, &dst)?;
                }
            }
            Kind::ResolveVmlinux => copy(&ctx.bw()?.vmlinux, &input.join("vmlinux"))?,
            Kind::ResolveModule => copy(&ctx.bw()?.nf_conntrack, &input.join("nf_conntrack.ko"))?,
            // Read in place: the outputs are detached files.
            Kind::ModernVmlinux { .. } | Kind::SidModulePahole => {}
            Kind::GenBtf(_) => prepare_genbtf(ctx, &input)?,
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
        if let Kind::ModernVmlinux { .. } | Kind::SidModulePahole | Kind::GenBtf(_) = self.kind {
            return self.run_modern(side, ctx, &dir);
        }
        let tools = ctx.tools;
        let vmlinux = ctx.bw()?.vmlinux.as_path();
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
            (Kind::ModernVmlinux { .. } | Kind::SidModulePahole | Kind::GenBtf(_), _) => {
                bail!("run_modern runs {}", self.name)
            }
        }
        Ok(total)
    }

    /// Copies the prepared inputs into a side's directory; returns the copies.
    fn copy_inputs(&self, ctx: &Ctx, dir: &Path) -> Result<Vec<PathBuf>> {
        let rels: Vec<PathBuf> = match self.kind {
            Kind::VmlinuxEncode { .. } => Vec::new(),
            Kind::ModuleLoop | Kind::ModuleBatch => {
                ctx.bw()?.modules.iter().map(|(_, r)| r.clone()).collect()
            }
            Kind::ResolveVmlinux => vec!["vmlinux".into()],
            Kind::ResolveModule => vec!["nf_conntrack.ko".into()],
            Kind::ModernVmlinux { .. } | Kind::SidModulePahole => Vec::new(),
            Kind::GenBtf(_) => {
                let sid = ctx.sid()?;
                sid.modules
                    .iter()
                    .enumerate()
                    .map(|(i, m)| flat_name(i, m).into())
                    .collect()
            }
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
            Kind::ModernVmlinux { .. } | Kind::SidModulePahole | Kind::GenBtf(_) => {
                self.check_modern(ctx, &up, &kb)
            }
            Kind::VmlinuxEncode { jobs } => {
                let a = read(&up.join("vmlinux.btf"))?;
                let b = read(&kb.join("vmlinux.btf"))?;
                if a == b {
                    return Ok(ok(format!(".BTF equal ({} bytes)", a.len())));
                }
                // pahole 1.24 -jN (N > 1) orders types differently run to run;
                // then hold kbtf to the shipped .BTF, which pahole -j1 reproduces.
                let shipped = section(&ctx.bw()?.vmlinux, ".BTF")?;
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
                for (_, rel) in &ctx.bw()?.modules {
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
                let n = ctx.bw()?.modules.len();
                Ok(ok(format!(
                    ".BTF equal for {n} modules ({no_btf} without .BTF on both sides); {}",
                    ids.summary()
                )))
            }
            Kind::ResolveVmlinux | Kind::ResolveModule => {
                let (name, input) = match self.kind {
                    Kind::ResolveVmlinux => ("vmlinux", &ctx.bw()?.vmlinux),
                    _ => ("nf_conntrack.ko", &ctx.bw()?.nf_conntrack),
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
/// override (`kbtf gen` reads them, as gen-btf.sh passes them on) unset,
/// emulating pahole 1.24 as the 6.12 scenarios need (the modern ones set
/// their version).
fn kbtf(tools: &Tools, subcommand: &str) -> Command {
    let mut cmd = Command::new(&tools.kbtf);
    cmd.arg(subcommand).env("KBTF_PAHOLE_VERSION", "1.24");
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

/// The modern scenarios: the upstream side in the suite's chroot.
impl Scenario {
    /// The directories the upstream side needs bind-mounted into its chroot:
    /// the corpus and references read-only, the temp dir `tmp` read-write,
    /// and kbtf's directory read-only (gen-btf.sh runs it as its pahole).
    /// `None` for the bookworm scenarios, which run Debian's tools directly.
    pub fn mounts(&self, modern: &Modern, tmp: &Path, kbtf: &Path) -> Result<Option<Mounts>> {
        let mut m = match self.kind {
            Kind::ModernVmlinux {
                suite: Suite::Trixie,
                ..
            } => {
                let t = modern.trixie.as_ref().map_err(|e| anyhow!("{e}"))?;
                let mut m = Mounts::new(&t.chroot);
                m.bind(&t.corpus, "corpus", false)?;
                m
            }
            Kind::ModernVmlinux { .. } | Kind::SidModulePahole | Kind::GenBtf(_) => {
                let s = modern.sid.as_ref().map_err(|e| anyhow!("{e}"))?;
                let mut m = Mounts::new(&s.chroot);
                m.bind(&s.corpus, "corpus", false)?;
                m.bind(&s.references, "ref", false)?;
                if let Kind::GenBtf(Kbtf7x::PaholeInGenBtf) = self.kind {
                    let kbtf = fs::canonicalize(kbtf)?;
                    m.bind(kbtf.parent().context("kbtf's directory")?, "bin", false)?;
                }
                m
            }
            _ => return Ok(None),
        };
        m.bind(tmp, "work", true)?;
        Ok(Some(m))
    }

    fn modern_commands(&self, ctx: &Ctx) -> Option<(String, String)> {
        let n = ctx.sid().map_or(0, |s| s.modules.len());
        let genbtf = format!(
            "{n} x chroot sid: PAHOLE=pahole PAHOLE_FLAGS='{}' RESOLVE_BTFIDS=resolve_btfids(7.2) \
             OBJCOPY=objcopy sh scripts/gen-btf.sh --btf_base vmlinux X.ko",
            pahole_args(Suite::Sid, 1)[1..].join(" ")
        );
        Some(match self.kind {
            Kind::ModernVmlinux { suite, jobs } => {
                let input = match suite {
                    Suite::Trixie => "vmlinux",
                    Suite::Sid => "vmlinux.fresh",
                };
                let args = format!(
                    "{} --btf_encode_detached=OUT {input}",
                    pahole_args(suite, jobs).join(" ")
                );
                (
                    format!("chroot {}: pahole {args}", suite.name()),
                    format!(
                        "KBTF_PAHOLE_VERSION={} kbtf pahole {args}",
                        suite.pahole_version()
                    ),
                )
            }
            Kind::SidModulePahole => {
                let args = format!(
                    "{} --btf_base vmlinux --btf_encode_detached=X.ko.BTF.1 X.ko",
                    pahole_args(Suite::Sid, 1).join(" ")
                );
                (
                    format!("{n} x chroot sid: pahole {args}"),
                    format!("{n} x KBTF_PAHOLE_VERSION=1.32 kbtf pahole {args}"),
                )
            }
            Kind::GenBtf(Kbtf7x::PaholeInGenBtf) => (
                genbtf,
                "the same loop with PAHOLE='kbtf pahole' KBTF_PAHOLE_VERSION=1.32 \
                 (only the pahole step is kbtf's)"
                    .to_string(),
            ),
            Kind::GenBtf(Kbtf7x::GenLoop) => (
                genbtf,
                format!(
                    "{n} x KBTF_PAHOLE_VERSION=1.32 PAHOLE_FLAGS=(7.2's) kbtf gen --btf_base vmlinux X.ko"
                ),
            ),
            Kind::GenBtf(Kbtf7x::GenLoopJ2) => (
                format!("{genbtf}, two at a time (as make -j2; peak: summed PSS)"),
                format!(
                    "{n} x KBTF_PAHOLE_VERSION=1.32 PAHOLE_FLAGS=(7.2's) kbtf gen --btf_base vmlinux X.ko, \
                     two at a time"
                ),
            ),
            Kind::GenBtf(Kbtf7x::GenBatch) => (
                genbtf,
                format!(
                    "KBTF_PAHOLE_VERSION=1.32 PAHOLE_FLAGS=(7.2's) kbtf gen --btf_base vmlinux <{n} modules>"
                ),
            ),
            _ => return None,
        })
    }

    fn run_modern(&self, side: Side, ctx: &Ctx, dir: &Path) -> Result<Sample> {
        let log = dir.join("log");
        let mut total = Sample::default();
        match (self.kind, side) {
            (Kind::ModernVmlinux { suite, jobs }, _) => {
                let (input, version) = match suite {
                    Suite::Trixie => (&ctx.trixie()?.vmlinux, "1.30"),
                    Suite::Sid => (&ctx.sid()?.vmlinux_fresh, "1.32"),
                };
                let out = dir.join("vmlinux.btf");
                let mut cmd = match side {
                    Side::Upstream => {
                        let m = ctx.mounts()?;
                        let mut cmd = m.command("pahole");
                        cmd.args(pahole_args(suite, jobs))
                            .arg(m.inner_opt("--btf_encode_detached", &out)?)
                            .arg(m.inner(input)?);
                        cmd
                    }
                    Side::Kbtf => {
                        let mut cmd = kbtf(ctx.tools, "pahole");
                        cmd.env("KBTF_PAHOLE_VERSION", version)
                            .args(pahole_args(suite, jobs))
                            .arg(opt_eq("--btf_encode_detached", &out))
                            .arg(input);
                        cmd
                    }
                };
                total.add(run(&mut cmd, &log)?);
            }
            (Kind::SidModulePahole, _) => {
                let sid = ctx.sid()?;
                for (i, module) in sid.modules.iter().enumerate() {
                    let out = dir.join(format!("{}.BTF.1", flat_name(i, module)));
                    let mut cmd = match side {
                        Side::Upstream => {
                            let m = ctx.mounts()?;
                            let mut cmd = m.command("pahole");
                            cmd.args(pahole_args(Suite::Sid, 1))
                                .arg("--btf_base")
                                .arg(m.inner(&sid.vmlinux)?)
                                .arg(m.inner_opt("--btf_encode_detached", &out)?)
                                .arg(m.inner(&module.input)?);
                            cmd
                        }
                        Side::Kbtf => {
                            let mut cmd = kbtf(ctx.tools, "pahole");
                            cmd.env("KBTF_PAHOLE_VERSION", "1.32")
                                .args(pahole_args(Suite::Sid, 1))
                                .arg("--btf_base")
                                .arg(&sid.vmlinux)
                                .arg(opt_eq("--btf_encode_detached", &out))
                                .arg(&module.input);
                            cmd
                        }
                    };
                    total.add(run(&mut cmd, &log)?);
                }
            }
            (Kind::GenBtf(how), _) => {
                let sid = ctx.sid()?;
                let kos = self.copy_inputs(ctx, dir)?;
                let flags = pahole_args(Suite::Sid, 1)[1..].join(" ");
                let mut cmds = Vec::new();
                match (side, how) {
                    (Side::Upstream, _) | (Side::Kbtf, Kbtf7x::PaholeInGenBtf) => {
                        let m = ctx.mounts()?;
                        let pahole = match side {
                            Side::Upstream => "pahole".to_string(),
                            Side::Kbtf => {
                                let kbtf = fs::canonicalize(&ctx.tools.kbtf)?;
                                format!("{} pahole", m.inner(&kbtf)?.display())
                            }
                        };
                        for ko in &kos {
                            let mut cmd = m.command("sh");
                            cmd.arg(sid.gen_btf())
                                .arg("--btf_base")
                                .arg(m.inner(&sid.vmlinux)?)
                                .arg(m.inner(ko)?)
                                .env("PAHOLE", &pahole)
                                .env("PAHOLE_FLAGS", &flags)
                                .env("RESOLVE_BTFIDS", sid.resolve_btfids())
                                .env("RESOLVE_BTFIDS_FLAGS", "")
                                .env("OBJCOPY", "objcopy")
                                .env("KBTF_PAHOLE_VERSION", "1.32")
                                .env_remove("KBUILD_VERBOSE");
                            cmds.push(cmd);
                        }
                    }
                    (Side::Kbtf, Kbtf7x::GenLoop | Kbtf7x::GenLoopJ2) => {
                        for ko in &kos {
                            let mut gen = kbtf_gen_7x(ctx.tools, &flags);
                            gen.arg("--btf_base").arg(&sid.vmlinux).arg(ko);
                            cmds.push(gen);
                        }
                    }
                    (Side::Kbtf, Kbtf7x::GenBatch) => {
                        let mut gen = kbtf_gen_7x(ctx.tools, &flags);
                        gen.arg("--btf_base").arg(&sid.vmlinux).args(&kos);
                        cmds.push(gen);
                    }
                }
                if how.jobs() > 1 {
                    total.add(run_concurrently(cmds, how.jobs(), &log)?);
                } else {
                    for mut cmd in cmds {
                        total.add(run(&mut cmd, &log)?);
                    }
                }
            }
            _ => bail!("{} is not a modern scenario", self.name),
        }
        Ok(total)
    }

    fn check_modern(&self, ctx: &Ctx, up: &Path, kb: &Path) -> Result<Check> {
        match self.kind {
            Kind::ModernVmlinux { suite, .. } => {
                let a = read(&up.join("vmlinux.btf"))?;
                let b = read(&kb.join("vmlinux.btf"))?;
                // pahole 1.30's output is the shipped .BTF; 1.32's is what
                // testdata/ref-sid.sh keeps (gen-btf.sh's resolve_btfids rewrites it).
                let (oracle, what) = match suite {
                    Suite::Trixie => (section(&ctx.trixie()?.vmlinux, ".BTF")?, "shipped .BTF"),
                    Suite::Sid => (
                        fs::read(ctx.sid()?.references.join("vmlinux.BTF.1")).ok(),
                        "ref-sid.sh's vmlinux.BTF.1",
                    ),
                };
                let upstream_is_oracle = oracle.as_deref() == Some(&a[..]);
                let note = format!(
                    "upstream's {} the {what}",
                    if upstream_is_oracle {
                        "equals"
                    } else {
                        "differs from"
                    }
                );
                if a == b {
                    return Ok(ok(format!(".BTF equal ({} bytes); {note}", a.len())));
                }
                Ok(mismatch(format!(
                    ".BTF differs: upstream {} bytes, kbtf {} bytes; {note}",
                    a.len(),
                    b.len()
                )))
            }
            Kind::SidModulePahole => {
                let sid = ctx.sid()?;
                let (mut equal, mut none, mut reference_equal, mut differ) = (0, 0, 0, Vec::new());
                for (i, module) in sid.modules.iter().enumerate() {
                    let name = format!("{}.BTF.1", flat_name(i, module));
                    let a = fs::read(up.join(&name)).ok().filter(|b| !b.is_empty());
                    let b = fs::read(kb.join(&name)).ok().filter(|b| !b.is_empty());
                    // ref-sid.sh leaves an empty file where pahole wrote none.
                    let r = fs::read(&module.reference)
                        .ok()
                        .map(|b| (!b.is_empty()).then_some(b));
                    reference_equal += usize::from(r.is_some_and(|r| r == a));
                    if a == b {
                        equal += 1;
                        none += usize::from(a.is_none());
                    } else {
                        differ.push(module.rel.display().to_string());
                    }
                }
                let n = sid.modules.len();
                let detail = format!(
                    ".BTF.1 equal for {equal}/{n} modules ({none} without .BTF.1 on both sides); \
                     upstream's equals ref-sid.sh's for {reference_equal}/{n}"
                );
                if differ.is_empty() {
                    return Ok(ok(detail));
                }
                let first: Vec<&str> = differ.iter().take(5).map(String::as_str).collect();
                Ok(mismatch(format!("{detail}; differ: {}", first.join(", "))))
            }
            Kind::GenBtf(_) => {
                let sid = ctx.sid()?;
                let (mut equal, mut ids, mut shipped_btf, mut shipped_ids) = (0, 0, 0, 0);
                let mut differ = Vec::new();
                for (i, module) in sid.modules.iter().enumerate() {
                    let name = flat_name(i, module);
                    let (a, b) = (up.join(&name), kb.join(&name));
                    let (btf_a, btf_b) = (section(&a, ".BTF")?, section(&b, ".BTF")?);
                    let (ids_a, ids_b) = (section(&a, ".BTF_ids")?, section(&b, ".BTF_ids")?);
                    let btf_s = section(&module.shipped, ".BTF")?;
                    let ids_s = section(&module.shipped, ".BTF_ids")?;
                    shipped_btf += usize::from(btf_a == btf_s);
                    shipped_ids += usize::from(ids_a == ids_s);
                    if btf_a == btf_b && ids_a == ids_b {
                        equal += 1;
                        ids += usize::from(ids_a.is_some());
                    } else {
                        differ.push(module.rel.display().to_string());
                    }
                }
                let n = sid.modules.len();
                let detail = format!(
                    ".BTF and .BTF_ids equal for {equal}/{n} modules ({ids} with .BTF_ids); \
                     upstream's equal the shipped ones: .BTF {shipped_btf}/{n}, .BTF_ids {shipped_ids}/{n} \
                     (absent in both counts as equal)"
                );
                if differ.is_empty() {
                    return Ok(ok(detail));
                }
                let first: Vec<&str> = differ.iter().take(5).map(String::as_str).collect();
                Ok(mismatch(format!("{detail}; differ: {}", first.join(", "))))
            }
            _ => bail!("{} is not a modern scenario", self.name),
        }
    }
}

/// A sid module's file name in the scenario's directories: its index and
/// base name, so that the directories stay flat.
fn flat_name(i: usize, module: &crate::modern::SidModule) -> String {
    let base = module.rel.file_name().unwrap_or_default().to_string_lossy();
    format!("{i:04}-{base}")
}

/// Makes gen-btf.sh's inputs: each module as the linker left it, i.e. its
/// `.BTF` removed by sid's own objcopy (bookworm's lays the file out so that
/// sid's objcopy can't add `.BTF` back; see modern-kernels.md), from the
/// as-linked copy of those with `.BTF_ids`.
fn prepare_genbtf(ctx: &Ctx, input: &Path) -> Result<()> {
    let sid = ctx.sid()?;
    let m = ctx.mounts()?;
    let mut list = String::new();
    for (i, module) in sid.modules.iter().enumerate() {
        let out = input.join(flat_name(i, module));
        list += &format!(
            "{} {}\n",
            m.inner(&module.input)?.display(),
            m.inner(&out)?.display()
        );
    }
    let list_path = input.join("list");
    fs::write(&list_path, list).with_context(|| format!("writing {}", list_path.display()))?;
    let mut cmd = m.command("sh");
    cmd.arg("-c")
        .arg(r#"while read -r i o; do objcopy --remove-section=.BTF "$i" "$o" || exit 1; done < "$1""#)
        .arg("sh")
        .arg(m.inner(&list_path)?);
    run(&mut cmd, &input.join("log")).map(drop)
}

/// `kbtf gen` as the 7.x flow would run it: kbuild's variables set as
/// gen-btf.sh sees them, the 1.32 emulation.
fn kbtf_gen_7x(tools: &Tools, flags: &str) -> Command {
    let mut cmd = kbtf(tools, "gen");
    cmd.env("KBTF_PAHOLE_VERSION", "1.32")
        .env("PAHOLE_FLAGS", flags)
        .env("RESOLVE_BTFIDS_FLAGS", "");
    cmd
}
