//! What [`check_each`](super::check_each) keeps of each target until every file is checked
//! and the cross-plan checks are done.
//!
//! Apart from `check.rs` because it is what `validate` holds per file (issue 13): a bit for
//! a valid plan (its name's key goes to the cross-plan checks), a boxed slot only for a file
//! that leaves more.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::report::{FileReport, Rendered, Rendering};
use super::spill::{Spill, Written};

/// What checking one target gave, as kept until every file is checked, besides whether it
/// held a schema-valid plan ([`Slots::new`]): nothing at all for a valid plan with nothing to
/// report when the caller renders reports (most files of a `validate` run).
pub(super) enum Slot {
    Report(Box<FileReport>),
    /// A report rendered as soon as its file was checked.
    Rendered(Box<Rendered>),
    /// A rendered report whose text went to the run's temporary file, past the budget of
    /// text held ([`spill`](super::spill)); its text is left empty here.
    Written(Box<(Written, Rendered)>),
    /// A plan with nothing to report and nothing kept, for a caller that shows plans by name
    /// (without a `render`: the JSON report names every plan).
    Named(Box<str>),
    /// A walked file that is not a plan.
    Skipped,
    /// A directory's verdict, decided after its files (see [`DirTarget`](super::discover::DirTarget)).
    Dir,
}

impl Slot {
    /// The slot of a checked plan file: none for a valid plan with nothing to report when
    /// rendering without names (its name's key is all that is kept), its name when not, a report with
    /// diagnostics (and nothing else kept) rendered by `render` when given, else the report.
    pub(super) fn of(report: FileReport, rendering: Option<Rendering<'_>>) -> Option<Self> {
        // Nothing kept but what the report says (no plan, file or jobs for `plan`/`--split`).
        let bare = report.file.is_none() && report.plan.is_none() && report.jobs.is_none();
        if bare && report.diagnostics.is_empty() && report.plan_name.is_some() {
            return match rendering {
                Some(Rendering { names: false, .. }) => None,
                _ => report.plan_name.map(Slot::Named),
            };
        }
        Some(match rendering {
            Some(Rendering { render, .. }) if bare => Slot::Rendered(Box::new(Rendered {
                text: render(&report).into_boxed_str(),
                errors: report.errors(),
                warnings: report.warnings(),
                policy: report.policy,
            })),
            _ => Slot::Report(Box::new(report)),
        })
    }

    /// This slot, its rendered text written to `spill` when the texts held so far (`held`,
    /// bytes, counted across workers) are past the spill's budget.
    pub(super) fn spilled(self, spill: &Spill, held: &AtomicUsize) -> Self {
        let Slot::Rendered(mut rendered) = self else {
            return self;
        };
        let len = rendered.text.len();
        if !spill.past_budget(held.load(Ordering::Relaxed)) {
            held.fetch_add(len, Ordering::Relaxed);
            return Slot::Rendered(rendered);
        }
        match spill.write(rendered.text.as_bytes()) {
            Some(written) => {
                rendered.text = Box::default();
                Slot::Written(Box::new((written, *rendered)))
            }
            None => Slot::Rendered(rendered),
        }
    }

    pub(super) fn name(&self) -> Option<&str> {
        match self {
            Slot::Report(report) => report.plan_name.as_deref(),
            Slot::Named(name) => Some(name),
            Slot::Rendered(_) | Slot::Written(_) | Slot::Skipped | Slot::Dir => None,
        }
    }
}

/// What every target gave, in target order: a bit a target, and a [`Slot`] for those that
/// left more than a name (issue 13: a valid plan costs `validate` a bit here, and its name's
/// key until the cross-plan checks are done).
pub(super) struct Slots {
    /// Bit `i`: target `i` held a schema-valid plan.
    valid: Vec<u64>,
    count: usize,
    /// The other slots, by target index.
    others: Vec<(u32, Slot)>,
}

impl Slots {
    /// The slots of targets whose plans' names have the keys `keys` (0: no schema-valid plan),
    /// and `others`, sorted by target index.
    pub(super) fn new(keys: &[u64], others: Vec<(u32, Slot)>) -> Self {
        let mut valid = vec![0u64; keys.len().div_ceil(64)];
        for (i, _) in keys.iter().enumerate().filter(|(_, key)| **key != 0) {
            valid[i / 64] |= 1 << (i % 64);
        }
        debug_assert!(others.is_sorted_by_key(|(i, _)| *i));
        Self {
            valid,
            count: keys.len(),
            others,
        }
    }

    pub(super) fn get(&self, i: usize) -> Option<&Slot> {
        let at = self
            .others
            .binary_search_by_key(&i, |(j, _)| *j as usize)
            .ok()?;
        Some(&self.others[at].1)
    }

    /// Whether target `i` is a plan file that was read (with or without problems).
    pub(super) fn is_plan_file(&self, i: usize) -> bool {
        bit(&self.valid, i)
            || matches!(
                self.get(i),
                Some(Slot::Report(_) | Slot::Rendered(_) | Slot::Written(_) | Slot::Named(_))
            )
    }

    pub(super) fn is_skipped(&self, i: usize) -> bool {
        matches!(self.get(i), Some(Slot::Skipped))
    }

    /// Every target's slot in target order, with whether it held a schema-valid plan (a
    /// valid plan that left only its key comes with no slot).
    pub(super) fn into_ordered(self) -> impl Iterator<Item = (usize, Option<Slot>, bool)> {
        let valid = self.valid;
        let mut others = self.others.into_iter().peekable();
        (0..self.count).map(move |i| {
            let slot = others
                .next_if(|(j, _)| *j as usize == i)
                .map(|(_, slot)| slot);
            (i, slot, bit(&valid, i))
        })
    }
}

/// Bit `i` of a bit set kept in words.
fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] & (1 << (i % 64)) != 0
}
