//! What the `dedup` target's generator makes of a corpus directory: how many
//! inputs give BTF, how many of those dedup accepts, and how much it merges.
//! `cargo run --release --example gen_stats -- corpus/dedup`
use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::Kind;

fn main() {
    let dir = std::env::args().nth(1).expect("a corpus directory");
    let (mut inputs, mut split, mut ok, mut before, mut after) = (0, 0, 0, 0u64, 0u64);
    let mut errors = std::collections::BTreeMap::<String, u32>::new();
    let mut kinds = [0u32; 20];
    for e in std::fs::read_dir(dir).expect("readable") {
        let data = std::fs::read(e.expect("entry").path()).expect("readable");
        inputs += 1;
        let Some(g) = kbtf_fuzz::gen::generate(&data) else {
            continue;
        };
        split += u32::from(g.base.is_some());
        for t in g.btf.own_ids().filter_map(|id| g.btf.type_by_id(id)) {
            if let Kind::Unknown(_) = t.kind() {
                continue;
            }
            kinds[t.info().raw_kind() as usize] += 1;
        }
        let mut btf = g.btf.clone();
        match dedup(&mut btf, &DedupOptions::default()) {
            Ok(s) => {
                ok += 1;
                before += u64::from(s.types_before);
                after += u64::from(s.types_after);
            }
            Err(e) => {
                let msg = e.to_string();
                let key = msg
                    .split(':')
                    .next_back()
                    .unwrap_or(&msg)
                    .trim()
                    .to_string();
                *errors.entry(key.chars().take(60).collect()).or_default() += 1;
            }
        }
    }
    println!("{inputs} inputs, {split} split, dedup ok on {ok}: {before} types -> {after}");
    println!("records by kind (1..=19): {:?}", &kinds[1..]);
    for (e, n) in errors {
        println!("{n:6}  {e}");
    }
}
