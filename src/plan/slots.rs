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
        Some(match (report, render) {
            (
                FileReport {
                    file: None,
                    diagnostics,
                    plan: None,
                    plan_name: Some(name),
                    jobs: None,
                    ..
                },
                render,
            ) if diagnostics.is_empty() => match render {
                Some(_) => return None,
                None => Slot::Named(name),
            },
            (
                report @ FileReport {
                    file: None,
                    plan: None,
                    jobs: None,
                    ..
                },
                Some(render),
            ) => Slot::Rendered(Box::new(Rendered {
                text: render(&report).into_boxed_str(),
                errors: report.errors(),
                warnings: report.warnings(),
                policy: report.policy,
            })),
            (report, _) => Slot::Report(Box::new(report)),
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
}
