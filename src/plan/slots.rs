//! What [`check_each`](super::check_each) keeps of each target until every file is checked
//! and the cross-plan checks are done.
//!
//! Apart from `check.rs` because it is what `validate` holds per file (issue 13): 8 bytes for
//! a valid plan (the key of its name), a boxed slot only for a file that leaves more.

use super::report::{FileReport, Render, Rendered};

/// What checking one target gave, as kept until every file is checked, besides the key of its
/// plan's name ([`Slots::keys`]): nothing at all for a valid plan with nothing to report when
/// the caller renders reports (most files of a `validate` run).
pub(super) enum Slot {
    Report(Box<FileReport>),
    /// A report rendered as soon as its file was checked.
    Rendered(Box<Rendered>),
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
    /// rendering (its name's key is all that is kept), its name when not, a report with
    /// diagnostics (and nothing else kept) rendered by `render` when given, else the report.
    pub(super) fn of(report: FileReport, render: Option<Render<'_>>) -> Option<Self> {
        // Nothing kept but what the report says (no plan, file or jobs for `plan`/`--split`).
        let bare = report.file.is_none() && report.plan.is_none() && report.jobs.is_none();
        if bare && report.diagnostics.is_empty() && report.plan_name.is_some() {
            return match render {
                Some(_) => None,
                None => report.plan_name.map(Slot::Named),
            };
        }
        Some(match render {
            Some(render) if bare => Slot::Rendered(Box::new(Rendered {
                text: render(&report).into_boxed_str(),
                errors: report.errors(),
                warnings: report.warnings(),
                policy: report.policy,
            })),
            _ => Slot::Report(Box::new(report)),
        })
    }

    pub(super) fn name(&self) -> Option<&str> {
        match self {
            Slot::Report(report) => report.plan_name.as_deref(),
            Slot::Named(name) => Some(name),
            Slot::Rendered(_) | Slot::Skipped | Slot::Dir => None,
        }
    }
}

/// What every target gave, in target order: 8 bytes a target, and a [`Slot`] for those that
/// left more than a name (issue 13: a valid plan costs `validate` its name's key alone).
pub(super) struct Slots {
    /// The [`across::name_key`] of each target's plan name; 0 for a target without a
    /// schema-valid plan.
    pub(super) keys: Vec<u64>,
    /// The other slots, by target index.
    pub(super) others: Vec<(u32, Slot)>,
}

impl Slots {
    pub(super) fn get(&self, i: usize) -> Option<&Slot> {
        let at = self
            .others
            .binary_search_by_key(&i, |(j, _)| *j as usize)
            .ok()?;
        Some(&self.others[at].1)
    }

    /// Whether target `i` is a plan file that was read (with or without problems).
    pub(super) fn is_plan_file(&self, i: usize) -> bool {
        self.keys[i] != 0
            || matches!(
                self.get(i),
                Some(Slot::Report(_) | Slot::Rendered(_) | Slot::Named(_))
            )
    }

    pub(super) fn is_skipped(&self, i: usize) -> bool {
        matches!(self.get(i), Some(Slot::Skipped))
    }

    /// Every target's slot in target order, with whether it held a schema-valid plan (a
    /// valid plan that left only its key comes with no slot).
    pub(super) fn into_ordered(self) -> impl Iterator<Item = (usize, Option<Slot>, bool)> {
        let mut others = self.others.into_iter().peekable();
        self.keys.into_iter().enumerate().map(move |(i, key)| {
            let slot = others
                .next_if(|(j, _)| *j as usize == i)
                .map(|(_, slot)| slot);
            (i, slot, key != 0)
        })
    }
}
