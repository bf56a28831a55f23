//! Checks across the plans of one invocation: unique names, and no segment in two plans.
//!
//! Apart from the single-plan guardrails (`guardrails.rs`) because these run once, after every
//! file, over what each plan left behind: its name and 8 bytes per distinct segment
//! ([`SegmentUses`]). That is all `validate` keeps of a valid plan, so it is kept small (issue
//! 13): a use holds bits of a key of the segment ID rather than the ID, and the few keys that
//! more than one plan holds are resolved to IDs by reading those plans again, which the
//! diagnostics need anyway to point at the segments.

use std::borrow::Cow;
use std::collections::HashMap;

use super::diags::{Code, Diagnostic};
use super::guardrails::{segment_key, segment_span, uuid_bits};
use super::load::Document;
use super::source::{CharSpan, SourceFile};
use super::spill::{self, Spill, Written};

/// The distinct segments of every plan, as the cross-plan checks keep them: 4 bytes a use,
/// the top 31 bits of the ID's [`segment_key`], and after each plan's uses a mark with the
/// plan's index (top bit set), so that the segments of 100,000 plans take little memory (issue
/// 13). Kept in fixed-size chunks: the list never holds much more room than it uses, and is
/// never copied to grow. Past the spill budget (256 KiB) of chunks, a spilling list (the kind
/// `validate` makes) writes each chunk it fills to the run's temporary file, so that its memory
/// stays flat however many plans the run holds.
///
/// 31 bits tell apart the IDs of a repository but for a few pairs in 100,000 plans; two plans
/// whose uses share a key are read again, and their IDs compared, before anything is said.
#[derive(Debug, Clone, Default)]
pub struct SegmentUses<'s> {
    chunks: Vec<Chunk>,
    /// Uses held, marks left out.
    uses: usize,
    /// Chunks of `chunks` held in memory.
    held: usize,
    spill: Option<&'s Spill>,
}

/// Entries of a [`SegmentUses`], in memory or written to the temporary file.
#[derive(Debug, Clone)]
enum Chunk {
    Held(Vec<u32>),
    Written(Written),
}

/// Pairs of one part of a [`SegmentUses::each_sorted`] that spills, in memory or written.
enum Block {
    Held(Vec<u64>),
    Written(Written),
}

/// Entries per chunk (64 KiB).
const CHUNK: usize = 16_384;

/// Set in a plan's mark, never in a use.
const MARK: u32 = 1 << 31;

/// The bits of a key a use keeps.
fn kept(key: u64) -> u32 {
    (key >> 33) as u32
}

/// About as many uses as one round of [`SegmentUses::each_sorted`] sorts at a time (128 KiB
/// of pairs): more rounds, each a scan of 4 bytes a use, rather than a copy of every use.
const ROUND: usize = 16_384;

/// At most this many rounds: past 8 × [`ROUND`] uses a round holds more pairs (at 100,000 plans
/// about 100,000, 0.8 MB beside the uses' 3.3) rather than the list being scanned more often
/// (64 scans took about 700 M instructions there, 3 % of the run). A list that spilled is
/// scanned once instead, into parts ([`MAX_PARTS`]).
const MAX_ROUNDS: usize = 8;

/// At most this many parts when a list that spilled is sorted: each part's open block takes
/// [`BLOCK`] pairs (4 KiB), and a part holds about [`ROUND`] pairs up to 2 million uses.
const MAX_PARTS: usize = 128;

/// Pairs per block of a part, written when full.
const BLOCK: usize = 512;

impl<'s> SegmentUses<'s> {
    /// An empty list that writes its chunks to `spill` past the spill's budget.
    pub(super) fn spilling(spill: &'s Spill) -> Self {
        Self {
            spill: Some(spill),
            ..Self::default()
        }
    }

    /// Records that plan `plan` lists segments whose IDs have the keys `keys`, each once.
    ///
    /// Plans are numbered below 2^31, which no list of files reaches.
    pub fn push_plan(&mut self, plan: usize, keys: impl IntoIterator<Item = u64>) {
        let before = self.uses;
        for key in keys {
            self.push_entry(kept(key));
            self.uses += 1;
        }
        if self.uses > before {
            // A plan index that does not fit would name another plan's file.
            assert!(plan < MARK as usize, "plan index {plan} above 2^31");
            self.push_entry(MARK | plan as u32);
        }
    }

    fn push_entry(&mut self, entry: u32) {
        if let Some(Chunk::Held(chunk)) = self.chunks.last_mut()
            && chunk.len() < CHUNK
        {
            return chunk.push(entry);
        }
        self.spill_last();
        let mut chunk = Vec::with_capacity(CHUNK);
        chunk.push(entry);
        self.chunks.push(Chunk::Held(chunk));
        self.held += 1;
    }

    /// Writes the last chunk (a full one) to the temporary file, past the budget.
    fn spill_last(&mut self) {
        let Some(spill) = self.spill else {
            return;
        };
        // The full chunks held besides the one just filled.
        if self.held == 0 || !spill.past_budget((self.held - 1) * CHUNK * 4) {
            return;
        }
        if let Some(last) = self.chunks.last_mut()
            && let Chunk::Held(entries) = last
        {
            let mut bytes = Vec::new();
            spill::u32_bytes(entries, &mut bytes);
            if let Some(written) = spill.write(&bytes) {
                *last = Chunk::Written(written);
                self.held -= 1;
            }
        }
    }

    /// Takes over the uses of `other` (another worker's plans).
    pub fn append(&mut self, other: SegmentUses<'s>) {
        self.chunks.extend(other.chunks);
        self.uses += other.uses;
        self.held += other.held;
        self.spill = self.spill.or(other.spill);
    }

    /// Calls `f(kept key bits, plan)` for every use, ordered by key bits, then plan. Fails
    /// only when what was written to the temporary file cannot be read back.
    fn each_sorted(&self, f: impl FnMut(u32, usize)) -> std::io::Result<()> {
        let written = self.chunks.iter().any(|c| matches!(c, Chunk::Written(_)));
        match self.spill {
            Some(spill) if written => self.each_sorted_in_parts(spill, f),
            _ => {
                self.each_sorted_in_rounds(f);
                Ok(())
            }
        }
    }

    /// [`SegmentUses::each_sorted`] of a list held in memory: in rounds, one per range of the
    /// top key bits. Each round scans the list, sorts the pairs of its range and hands them
    /// out, so that no more than about [`ROUND`] pairs are held at once, or an eighth of the
    /// uses past [`MAX_ROUNDS`] rounds (keys are hashes, spread evenly over the ranges).
    fn each_sorted_in_rounds(&self, mut f: impl FnMut(u32, usize)) {
        let rounds = self
            .uses
            .div_ceil(ROUND)
            .next_power_of_two()
            .min(MAX_ROUNDS);
        let shift = 31 - rounds.trailing_zeros();
        let mut pairs: Vec<u64> = Vec::new();
        let mut pending: Vec<u32> = Vec::new();
        for round in 0..rounds {
            pairs.clear();
            pending.clear();
            for chunk in &self.chunks {
                let Chunk::Held(entries) = chunk else {
                    unreachable!("a list with a chunk written is sorted in parts");
                };
                for &entry in entries {
                    if entry & MARK == 0 {
                        // A 31-bit value shifted by 31 or more is 0: one round takes every use.
                        if (u64::from(entry) >> shift) as usize == round {
                            pending.push(entry);
                        }
                    } else {
                        let plan = u64::from(entry & !MARK);
                        pairs.extend(pending.drain(..).map(|key| u64::from(key) << 32 | plan));
                    }
                }
            }
            pairs.sort_unstable();
            for &pair in &pairs {
                f((pair >> 32) as u32, (pair & u64::from(u32::MAX)) as usize);
            }
        }
    }

    /// [`SegmentUses::each_sorted`] of a list that spilled: one scan (reading the written
    /// chunks back) deals the pairs into parts by the top key bits, writing each part's
    /// blocks as they fill; then each part is read back, sorted and handed out. Held at once:
    /// a chunk, a block a part, and one part's pairs.
    fn each_sorted_in_parts(
        &self,
        spill: &Spill,
        mut f: impl FnMut(u32, usize),
    ) -> std::io::Result<()> {
        let parts = self
            .uses
            .div_ceil(ROUND)
            .next_power_of_two()
            .clamp(2, MAX_PARTS);
        let shift = 31 - parts.trailing_zeros();
        let mut open: Vec<Vec<u64>> = (0..parts).map(|_| Vec::new()).collect();
        let mut blocks: Vec<Vec<Block>> = (0..parts).map(|_| Vec::new()).collect();
        let (mut bytes, mut read, mut pending) = (Vec::new(), Vec::new(), Vec::new());
        for chunk in &self.chunks {
            let entries: &[u32] = match chunk {
                Chunk::Held(entries) => entries,
                Chunk::Written(written) => {
                    spill.read(*written, &mut bytes)?;
                    read.clear();
                    spill::extend_u32(&bytes, &mut read);
                    &read
                }
            };
            for &entry in entries {
                if entry & MARK == 0 {
                    pending.push(entry);
                    continue;
                }
                let plan = u64::from(entry & !MARK);
                for key in pending.drain(..) {
                    let part = (key >> shift) as usize;
                    let block = &mut open[part];
                    if block.capacity() == 0 {
                        block.reserve_exact(BLOCK);
                    }
                    block.push(u64::from(key) << 32 | plan);
                    if block.len() == BLOCK {
                        spill::u64_bytes(block, &mut bytes);
                        match spill.write(&bytes) {
                            Some(written) => {
                                blocks[part].push(Block::Written(written));
                                block.clear();
                            }
                            None => blocks[part].push(Block::Held(std::mem::take(block))),
                        }
                    }
                }
            }
        }
        drop(read);
        let mut pairs: Vec<u64> = Vec::new();
        for (blocks, open) in blocks.into_iter().zip(open) {
            pairs.clear();
            for block in blocks {
                match block {
                    Block::Held(held) => pairs.extend_from_slice(&held),
                    Block::Written(written) => {
                        spill.read(written, &mut bytes)?;
                        spill::extend_u64(&bytes, &mut pairs);
                    }
                }
            }
            pairs.extend_from_slice(&open);
            drop(open);
            pairs.sort_unstable();
            for &pair in &pairs {
                f((pair >> 32) as u32, (pair & u64::from(u32::MAX)) as usize);
            }
        }
        Ok(())
    }
}

/// A name key's (kept bits, plan), for names packed with `plan_bits` bits of plan index.
fn split(plan_bits: u32, packed: u64) -> (u64, usize) {
    let plan = packed & ((1u64 << plan_bits) - 1);
    (packed >> plan_bits, plan as usize)
}

/// A plan file as the cross-plan checks see it.
#[derive(Debug, Clone)]
pub struct CrossPlan<'a> {
    pub path: Cow<'a, str>,
    /// The plan's name, when the caller still holds it; `validate` keeps only the key of a
    /// valid plan's name (8 bytes), and the few names the checks show are read again.
    pub name: Option<&'a str>,
}

/// The key a plan's name is kept by for the cross-plan checks: never 0 (callers may keep 0 for
/// "no name"), equal for equal names.
pub fn name_key(name: &str) -> u64 {
    segment_key(name) | 1
}

/// Checks across the plans of one invocation: unique names, and no segment in two plans (they
/// would be separate ad-hoc jobs, which the platform forbids running concurrently per segment).
///
/// `names[i]` is the [`name_key`] of the `i`-th plan file's name, 0 for a file that held no
/// schema-valid plan (it then takes no part); the list is sorted in place, and dropped once
/// read. `plan(i)` is that file; `uses` holds the distinct segments of every plan, and is
/// dropped once read. `load` reads a plan's source again, to find the IDs behind
/// keys that several plans hold and to point at the clash. A plan that changed since it was
/// checked is judged as read again. Returns each diagnostic with the index of the plan it
/// belongs to; fails only when the uses a run wrote to its temporary file cannot be read
/// back (the checks across plans are then not done).
pub fn check_across<'a>(
    names: Vec<u64>,
    plan: &dyn Fn(usize) -> CrossPlan<'a>,
    uses: SegmentUses<'_>,
    load: &dyn Fn(usize) -> Option<SourceFile>,
) -> std::io::Result<Vec<(usize, Diagnostic)>> {
    check_across_with(names, plan, uses, load, segment_key)
}

/// [`check_across`] with the function that made the uses' keys (tests make keys collide).
fn check_across_with<'a>(
    mut names: Vec<u64>,
    plan: &dyn Fn(usize) -> CrossPlan<'a>,
    uses: SegmentUses<'_>,
    load: &dyn Fn(usize) -> Option<SourceFile>,
    key_of: fn(&str) -> u64,
) -> std::io::Result<Vec<(usize, Diagnostic)>> {
    let mut out = Vec::new();
    let mut sites = Sites {
        load,
        key_of,
        cache: HashMap::new(),
    };

    // Names, by key (8 bytes a plan: in place, the key's top bits above the plan's index,
    // sorted, rather than a map of 10,000 names); names whose keys meet are told apart by the
    // names themselves, earliest plan first.
    let plan_bits = (usize::BITS - names.len().leading_zeros()).clamp(1, 32);
    let mut named = 0;
    for i in 0..names.len() {
        let key = names[i];
        if key != 0 {
            names[named] = ((key >> plan_bits) << plan_bits) | i as u64;
            named += 1;
        }
    }
    names.truncate(named);
    names.sort_unstable();
    let mut repeated: Vec<(usize, usize)> = Vec::new();
    for run in names
        .chunk_by(|a, b| a >> plan_bits == b >> plan_bits)
        .filter(|run| run.len() > 1)
    {
        let mut same: Vec<(String, usize)> = run
            .iter()
            .filter_map(|&packed| {
                let i = split(plan_bits, packed).1;
                Some((sites.plan_name(i, plan)?, i))
            })
            .collect();
        same.sort_unstable();
        for group in same.chunk_by(|a, b| a.0 == b.0) {
            let first = group[0].1;
            repeated.extend(group[1..].iter().map(|&(_, i)| (i, first)));
        }
    }
    drop(names);
    repeated.sort_unstable();
    for (i, j) in repeated {
        let name = sites.plan_name(i, plan).unwrap_or_default();
        let related = sites
            .name(j, plan, format!("plan `{name}` is first named here"))
            .with_label_text("first used here");
        out.push((
            i,
            sites
                .name(
                    i,
                    plan,
                    format!("plan name `{name}` is already used by `{}`", plan(j).path),
                )
                .with_label_text("used again here")
                .with_help("give each plan a unique `name`: it keys the plan's lockfile records")
                .with_related(related),
        ));
    }

    // Sorted, each key's uses sit together. A key held by several plans is resolved to the IDs
    // behind it (one, unless two IDs' keys collide); each ID's uses, earliest plan first, make
    // every later plan share it with that first one. Then one warning per pair of plans.
    let mut pairs: Vec<(usize, usize, u128)> = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut run_key = None;
    let mut ids: Vec<(u128, usize)> = Vec::new();
    let mut flush = |key: Option<u32>, run: &[usize], sites: &mut Sites<'_>| {
        let Some(key) = key.filter(|_| run.len() > 1) else {
            return;
        };
        ids.clear();
        for &plan in run {
            ids.extend(
                sites
                    .ids_with_key(plan, key)
                    .into_iter()
                    .map(|id| (id, plan)),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        for group in ids.chunk_by(|a, b| a.0 == b.0) {
            let first = group[0].1;
            pairs.extend(group[1..].iter().map(|&(id, plan)| (plan, first, id)));
        }
    };
    uses.each_sorted(|key, plan| {
        if run_key != Some(key) {
            flush(run_key, &run, &mut sites);
            run.clear();
            run_key = Some(key);
        }
        run.push(plan);
    })?;
    flush(run_key, &run, &mut sites);
    drop(uses);
    pairs.sort_unstable();
    for group in pairs.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (i, j, _) = group[0];
        // Point at the shared segments in the order the plan lists them.
        let mut ids: Vec<u128> = group.iter().map(|&(_, _, id)| id).collect();
        ids.sort_by_cached_key(|&id| sites.position(i, id));
        let id = ids[0];
        let plan_j = plan(j);
        let unknown = || "?".to_owned();
        let name_i = sites.plan_name(i, plan).unwrap_or_else(unknown);
        let name_j = sites.plan_name(j, plan).unwrap_or_else(unknown);
        let count = group.len();
        let first_id = format_uuid(id);
        let what = if count == 1 {
            format!("segment `{first_id}`")
        } else {
            format!("{count} segments (`{first_id}` and {} more)", count - 1)
        };
        let mut diag = sites
            .segment(
                i,
                plan,
                id,
                format!(
                    "plan `{name_i}` activates {what} that plan `{name_j}` (`{}`) activates too",
                    plan_j.path
                ),
            )
            .warning()
            .with_label_text("also in another plan")
            .with_help(format!(
                "the platform refuses two ad-hoc jobs for one segment at the same time: apply `{name_j}` and `{name_i}` one after the other, or merge them"
            ));
        for &other in ids.iter().skip(1).take(4) {
            if let Some(span) = sites.segment_span(i, other) {
                diag = diag.with_label(span, "also in another plan");
            }
        }
        let related = sites
            .segment(j, plan, id, format!("plan `{name_j}` activates it here"))
            .warning()
            .with_label_text("first activated here");
        out.push((i, diag.with_related(related)));
    }
    Ok(out)
}

/// Finds where names and segments are in plan files read again, reading each file once.
struct Sites<'l> {
    load: &'l dyn Fn(usize) -> Option<SourceFile>,
    key_of: fn(&str) -> u64,
    cache: HashMap<usize, Option<(SourceFile, Document)>>,
}

impl Sites<'_> {
    fn get(&mut self, plan: usize) -> Option<&(SourceFile, Document)> {
        let load = self.load;
        self.cache
            .entry(plan)
            .or_insert_with(|| read(load, plan))
            .as_ref()
    }

    /// The plan's name: as the caller holds it, else as its file reads now.
    fn plan_name<'a>(
        &mut self,
        plan: usize,
        plans: &dyn Fn(usize) -> CrossPlan<'a>,
    ) -> Option<String> {
        if let Some(name) = plans(plan).name {
            return Some(name.to_owned());
        }
        let (_, doc) = self.get(plan)?;
        doc.value.get("name")?.as_str().map(str::to_owned)
    }

    /// A diagnostic at the plan's `name`.
    fn name<'a>(
        &mut self,
        plan: usize,
        plans: &dyn Fn(usize) -> CrossPlan<'a>,
        message: String,
    ) -> Diagnostic {
        match self.get(plan) {
            Some((source, doc)) => Diagnostic::at(
                Code::DuplicateName,
                source,
                doc.spans.node("/name"),
                message,
            )
            .with_pointer("/name"),
            None => Diagnostic::error(Code::DuplicateName, &*plans(plan).path, message),
        }
    }

    /// A diagnostic at the first listing of segment `id` in the plan.
    fn segment<'a>(
        &mut self,
        plan: usize,
        plans: &dyn Fn(usize) -> CrossPlan<'a>,
        id: u128,
        message: String,
    ) -> Diagnostic {
        let found = self.get(plan).and_then(|(source, doc)| {
            let (d, s) = find_segment(doc, id)?;
            Some(
                Diagnostic::at(
                    Code::SegmentInSeveralPlans,
                    source,
                    segment_span(doc, d, s),
                    message.clone(),
                )
                .with_pointer(format!("/destinations/{d}/segments/{s}")),
            )
        });
        found.unwrap_or_else(|| {
            Diagnostic::error(Code::SegmentInSeveralPlans, &*plans(plan).path, message)
        })
    }

    /// The IDs of the plan's segments whose key's kept bits are `key`.
    ///
    /// A plan read for this alone is not kept: most plans met here only share a key by chance
    /// (a few hundred in 100,000 plans), and hold nothing to point at.
    fn ids_with_key(&mut self, plan: usize, key: u32) -> Vec<u128> {
        let key_of = self.key_of;
        let unkept;
        let site = match self.cache.get(&plan) {
            Some(known) => known.as_ref(),
            None => {
                unkept = read(self.load, plan);
                unkept.as_ref()
            }
        };
        let Some((_, doc)) = site else {
            return Vec::new();
        };
        let mut ids: Vec<u128> = segment_ids(doc)
            .filter(|id| kept(key_of(id)) == key)
            .map(uuid_bits)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Where segment `id` is first listed, as (destination, segment) indices.
    fn position(&mut self, plan: usize, id: u128) -> Option<(usize, usize)> {
        find_segment(&self.get(plan)?.1, id)
    }

    fn segment_span(&mut self, plan: usize, id: u128) -> Option<CharSpan> {
        let (_, doc) = self.get(plan)?;
        let (d, s) = find_segment(doc, id)?;
        Some(segment_span(doc, d, s))
    }
}

/// A plan's source read again, and parsed.
fn read(load: &dyn Fn(usize) -> Option<SourceFile>, plan: usize) -> Option<(SourceFile, Document)> {
    let source = load(plan)?;
    let doc = super::load::parse(&source).ok()?;
    Some((source, doc))
}

/// Every segment ID a (schema-valid) plan document lists, in order.
fn segment_ids(doc: &Document) -> impl Iterator<Item = &str> {
    let destinations = doc.value.get("destinations").and_then(|d| d.as_array());
    destinations.into_iter().flatten().flat_map(|dest| {
        let segments = dest.get("segments").and_then(|s| s.as_array());
        segments
            .into_iter()
            .flatten()
            .filter_map(|seg| seg.as_str().or_else(|| seg.get("id")?.as_str()))
    })
}

/// Where a segment is first listed in a (schema-valid) plan document.
fn find_segment(doc: &Document, id: u128) -> Option<(usize, usize)> {
    let destinations = doc.value.get("destinations")?.as_array()?;
    destinations.iter().enumerate().find_map(|(d, dest)| {
        let segments = dest.get("segments")?.as_array()?;
        segments
            .iter()
            .position(|seg| {
                let text = seg.as_str().or_else(|| seg.get("id")?.as_str());
                text.is_some_and(|t| uuid_bits(t) == id)
            })
            .map(|s| (d, s))
    })
}

fn format_uuid(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::check_source;
    use crate::plan::diags::Severity;
    use crate::plan::guardrails::CheckOptions;

    const DEST_A: &str = "0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";

    fn seg(n: usize) -> String {
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    /// A valid plan named `name` with the given segment numbers under one destination.
    fn yaml(name: &str, segments: &[usize]) -> String {
        let mut text = format!(
            "apiVersion: aepact/v1\nname: {name}\nexports: latest\ndestinations:\n  - id: {DEST_A}\n    segments:\n"
        );
        for n in segments {
            text.push_str(&format!("      - {}\n", seg(*n)));
        }
        text
    }

    /// Runs the cross-plan checks over in-memory plans, each a name and its segments.
    fn across(plans: &[(&str, &[usize])]) -> Vec<(usize, Diagnostic)> {
        let sources: Vec<SourceFile> = plans
            .iter()
            .enumerate()
            .map(|(i, (name, segments))| {
                let text = yaml(name, segments);
                SourceFile::new(format!("{i}.yaml"), text)
            })
            .collect();
        let mut uses = SegmentUses::default();
        let mut names = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            let (report, distinct) = check_source(
                source,
                source.name().into(),
                &CheckOptions::default(),
                false,
            );
            uses.push_plan(i, distinct);
            names.push(report.plan_name);
        }
        let cross = |held: bool| -> Vec<CrossPlan<'_>> {
            sources
                .iter()
                .zip(&names)
                .map(|(source, name)| CrossPlan {
                    path: Cow::Borrowed(source.name()),
                    name: name.as_deref().filter(|_| held),
                })
                .collect()
        };
        let keys: Vec<u64> = names
            .iter()
            .map(|name| name.as_deref().map_or(0, name_key))
            .collect();
        let reload = |i: usize| Some(sources[i].clone());
        let (held, keyed) = (cross(true), cross(false));
        let found =
            check_across(keys.clone(), &|i| held[i].clone(), uses.clone(), &reload).unwrap();
        // Names kept only by their keys (as `validate` keeps them) are read again: the same
        // findings, word for word.
        let again = check_across(keys, &|i| keyed[i].clone(), uses, &reload).unwrap();
        let text = |found: &[(usize, Diagnostic)]| format!("{found:?}");
        assert_eq!(text(&found), text(&again));
        found
    }

    #[test]
    fn plans_of_one_invocation_need_unique_names() {
        let found = across(&[("same", &[1]), ("other", &[2]), ("same", &[3])]);
        assert_eq!(found.len(), 1);
        let (i, diag) = &found[0];
        assert_eq!(*i, 2);
        assert_eq!(diag.code, Code::DuplicateName);
        assert_eq!(diag.severity, Severity::Error);
        assert_eq!(diag.position().unwrap().line, 2);
        assert_eq!(&*diag.related[0].path, "0.yaml");
    }

    #[test]
    fn a_segment_in_two_plans_is_one_warning_per_pair_of_plans() {
        let found = across(&[("a", &[1, 2, 3]), ("b", &[4, 5]), ("c", &[3, 2, 5, 9])]);
        let seen: Vec<(usize, &str, Severity, Option<&str>)> = found
            .iter()
            .map(|(i, d)| (*i, &*d.related[0].path, d.severity, d.pointer.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    2,
                    "0.yaml",
                    Severity::Warning,
                    Some("/destinations/0/segments/0")
                ),
                (
                    2,
                    "1.yaml",
                    Severity::Warning,
                    Some("/destinations/0/segments/2")
                ),
            ]
        );
        assert!(
            found[0].1.message.contains("2 segments"),
            "{}",
            found[0].1.message
        );
        assert_eq!(found[0].1.labels.len(), 2);
    }

    #[test]
    fn colliding_keys_are_told_apart_by_the_ids_behind_them() {
        let plans_of = [("a", &[1][..]), ("b", &[2]), ("c", &[2]), ("d", &[1, 3])];
        let sources: Vec<SourceFile> = plans_of
            .iter()
            .enumerate()
            .map(|(i, (name, n))| SourceFile::new(format!("{i}.yaml"), yaml(name, n)))
            .collect();
        let plans: Vec<CrossPlan<'_>> = sources
            .iter()
            .zip(plans_of)
            .map(|(source, (name, _))| CrossPlan {
                path: Cow::Borrowed(source.name()),
                name: Some(name),
            })
            .collect();
        let keys: Vec<u64> = plans_of.iter().map(|(name, _)| name_key(name)).collect();
        let reload = |i: usize| Some(sources[i].clone());
        let run = |key: fn(&str) -> u64| {
            let mut uses = SegmentUses::default();
            for (i, (_, segments)) in plans_of.iter().enumerate() {
                uses.push_plan(i, segments.iter().map(|&n| key(&seg(n))));
            }
            let found =
                check_across_with(keys.clone(), &|i| plans[i].clone(), uses, &reload, key).unwrap();
            found
                .iter()
                .map(|(i, d)| (*i, d.message.clone(), d.related[0].path.to_string()))
                .collect::<Vec<_>>()
        };
        // Every ID under one key: the plans are still paired by the IDs behind it.
        let collided = run(|_| 0);
        assert_eq!(collided, run(segment_key));
        let pairs: Vec<(usize, &str)> = collided.iter().map(|(i, _, p)| (*i, &**p)).collect();
        assert_eq!(pairs, [(2, "1.yaml"), (3, "0.yaml")]);
    }

    #[test]
    fn uses_come_out_by_key_then_plan_across_chunks_workers_and_rounds() {
        // 0 to 3 uses a plan (a plan's uses then straddle chunks), from two workers, in as
        // many rounds as 120,000 uses need; then all under one key, in one round. Held in
        // memory, then written to the temporary file past a budget of none or of a chunk
        // (sorted in parts, all under one key in one part).
        let plans = 70_000;
        let spills = [
            None,
            Some(Spill::new(Some(0))),
            Some(Spill::new(Some(CHUNK * 4))),
        ];
        for (key_of, spill) in [segment_key, |_: &str| 0]
            .into_iter()
            .flat_map(|key_of| spills.iter().map(move |spill| (key_of, spill.as_ref())))
        {
            let new = || spill.map_or_else(SegmentUses::default, SegmentUses::spilling);
            let (mut even, mut odd) = (new(), new());
            let mut expected = Vec::new();
            for plan in 0..plans {
                let keys: Vec<u64> = (0..plan % 4)
                    .map(|s| key_of(&seg(plan * 7 % 5_000 + s)))
                    .collect();
                expected.extend(keys.iter().map(|&key| (kept(key), plan)));
                let part = if plan % 2 == 0 { &mut even } else { &mut odd };
                part.push_plan(plan, keys);
            }
            even.append(odd);
            assert_eq!(even.uses, expected.len());
            let written = even
                .chunks
                .iter()
                .filter(|c| matches!(c, Chunk::Written(_)));
            // 105,000 uses and 52,500 marks: 4 chunks from the even plans, 7 from the odd. A
            // worker keeps the chunk it fills, and with a budget of one chunk, one more.
            let expect_written = spill.map_or(0, |s| if s.past_budget(0) { 3 + 6 } else { 2 + 5 });
            assert_eq!(written.count(), expect_written);
            expected.sort_unstable();
            let mut got = Vec::new();
            even.each_sorted(|key, plan| got.push((key, plan))).unwrap();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn uses_that_cannot_be_read_back_fail_the_checks_rather_than_pass_them() {
        let spill = Spill::new(Some(0));
        let mut uses = SegmentUses::spilling(&spill);
        for plan in 0..CHUNK {
            uses.push_plan(plan, [segment_key(&seg(plan % 7))]);
        }
        spill.truncate();
        let plan = |_| CrossPlan {
            path: Cow::Borrowed("p.yaml"),
            name: None,
        };
        let err = check_across(vec![0; CHUNK], &plan, uses, &|_| None).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn uuid_bits_round_trip() {
        let id = "db8961e9-d52f-45bc-b3fb-76d0382a6851";
        assert_eq!(format_uuid(uuid_bits(id)), id);
    }
}
