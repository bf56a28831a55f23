//! What a large run holds until every file is checked, kept in an unnamed temporary file past
//! a budget, so that `validate`'s memory does not grow with the number of plans (issue 13).
//!
//! Apart from `check.rs` and `across.rs` because both spill: the cross-plan checks' segment
//! uses ([`SegmentUses`](super::across::SegmentUses)) and the rendered reports of files with
//! problems ([`Slot`](super::slots::Slot)). Held in memory they cost about 60 bytes a plan;
//! written here, a few hundred kilobytes whatever the count.
//!
//! The file is made on the first write, in the system's temporary directory (`TMPDIR` on
//! Unix), by [`tempfile::tempfile`]: it has no name (or loses it at once), so the system
//! removes it when the run ends, however it ends. When it cannot be made or written (no
//! temporary directory, a full disk), what was to be written stays in memory: a run never
//! fails for want of the file, it only holds more. A read back that fails (the file is the
//! run's own, in the page cache: that takes a failing disk) is reported by the caller.

use std::fs::File;
use std::io;
use std::sync::Mutex;

/// The temporary file, shared by the workers of a run; reads and writes give their offsets,
/// so that no file position is shared.
#[derive(Debug, Default)]
pub(crate) struct Spill {
    state: Mutex<State>,
    /// Bytes a caller may hold before writing here; `None`: nothing is ever written.
    budget: Option<usize>,
    /// Every read back fails, as on a failing disk ([`with_lost_reads`]).
    #[cfg(test)]
    lose: bool,
}

#[derive(Debug, Default)]
struct State {
    file: Option<File>,
    /// Bytes written (the offset of the next write).
    len: u64,
    /// The file could not be made, or a write failed: write nothing more.
    broken: bool,
}

/// Where [`Spill::write`] put bytes: what [`Spill::read`] reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) at: u64,
    pub(crate) len: usize,
}

/// What a run holds of each kind before it writes the rest to the file: about the state of
/// 10,000 plans, so that a run of that size writes nothing, or little.
pub(crate) const BUDGET: usize = 256 * 1024;

/// The budget of a run: [`BUDGET`], or what a test set with [`with_budget`].
pub(crate) fn budget() -> Option<usize> {
    #[cfg(test)]
    if let Some(budget) = TEST_BUDGET.get() {
        return budget;
    }
    Some(BUDGET)
}

#[cfg(test)]
thread_local! {
    static TEST_BUDGET: std::cell::Cell<Option<Option<usize>>> = const { std::cell::Cell::new(None) };
    static TEST_LOSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every read back of the spills made on this thread failing.
#[cfg(test)]
pub(crate) fn with_lost_reads<R>(f: impl FnOnce() -> R) -> R {
    TEST_LOSE.set(true);
    let out = f();
    TEST_LOSE.set(false);
    out
}

/// Runs `f` with runs started on this thread spilling past `budget` (`None`: never).
#[cfg(test)]
pub(crate) fn with_budget<R>(budget: Option<usize>, f: impl FnOnce() -> R) -> R {
    TEST_BUDGET.set(Some(budget));
    let out = f();
    TEST_BUDGET.set(None);
    out
}

impl Spill {
    /// A spill that writes what is held past `budget` bytes of each kind; `None` never writes.
    pub(crate) fn new(budget: Option<usize>) -> Self {
        Self {
            state: Mutex::default(),
            budget,
            #[cfg(test)]
            lose: TEST_LOSE.get(),
        }
    }

    /// Whether a caller that holds `held` bytes should write the next ones here.
    pub(crate) fn past_budget(&self, held: usize) -> bool {
        self.budget.is_some_and(|budget| held >= budget)
    }

    /// Writes `bytes` at the end of the file, making it first. `None` when the file cannot be
    /// made or written: the caller keeps the bytes.
    pub(crate) fn write(&self, bytes: &[u8]) -> Option<Written> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.broken {
            return None;
        }
        if state.file.is_none() {
            match tempfile::tempfile() {
                Ok(file) => state.file = Some(file),
                Err(err) => {
                    tracing::debug!("no temporary file, holding everything in memory: {err}");
                    state.broken = true;
                    return None;
                }
            }
        }
        let at = state.len;
        let file = state.file.as_ref()?;
        match write_at(file, bytes, at) {
            Ok(()) => {
                state.len += bytes.len() as u64;
                Some(Written {
                    at,
                    len: bytes.len(),
                })
            }
            Err(err) => {
                // What was written of these bytes is past `len`: never read.
                tracing::debug!(
                    "cannot write the temporary file, holding the rest in memory: {err}"
                );
                state.broken = true;
                None
            }
        }
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).len
    }

    /// Reads back what [`Spill::write`] wrote at `written`, into `buf` (cleared first).
    pub(crate) fn read(&self, written: Written, buf: &mut Vec<u8>) -> io::Result<()> {
        #[cfg(test)]
        if self.lose {
            return Err(io::Error::other("lost for a test"));
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let file = state
            .file
            .as_ref()
            .ok_or_else(|| io::Error::other("nothing was written"))?;
        buf.clear();
        buf.resize(written.len, 0);
        read_at(file, buf, written.at)
    }
}

#[cfg(test)]
impl Spill {
    /// Empties the file, as a failing disk would lose it: reads back fail.
    pub(super) fn truncate(&self) {
        let state = self.state.lock().unwrap();
        state.file.as_ref().unwrap().set_len(0).unwrap();
    }
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn write_at(file: &File, mut bytes: &[u8], mut at: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !bytes.is_empty() {
        match file.seek_write(bytes, at)? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => {
                bytes = &bytes[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, at)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// `values` as little-endian bytes, into `out` (cleared first).
pub(super) fn u32_bytes(values: &[u32], out: &mut Vec<u8>) {
    out.clear();
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
}

/// `values` as little-endian bytes, into `out` (cleared first).
pub(super) fn u64_bytes(values: &[u64], out: &mut Vec<u8>) {
    out.clear();
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
}

/// The `u32`s that [`u32_bytes`] wrote as `bytes`, appended to `out`.
pub(super) fn extend_u32(bytes: &[u8], out: &mut Vec<u32>) {
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    );
}

/// The `u64`s that [`u64_bytes`] wrote as `bytes`, appended to `out`.
pub(super) fn extend_u64(bytes: &[u8], out: &mut Vec<u64>) {
    out.extend(
        bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CheckOptions, FileReport, Outcome, check_each};
    use crate::policy::find::PolicyChoice;

    #[test]
    fn what_is_written_reads_back_at_its_offset() {
        let spill = Spill::new(Some(0));
        let a = spill.write(b"first").unwrap();
        let b = spill.write(b"second, longer").unwrap();
        assert_eq!((a.at, b.at), (0, 5));
        let mut buf = Vec::new();
        spill.read(b, &mut buf).unwrap();
        assert_eq!(buf, b"second, longer");
        spill.read(a, &mut buf).unwrap();
        assert_eq!(buf, b"first");
    }

    #[test]
    fn numbers_round_trip_through_bytes() {
        let (mut bytes, mut small, mut big) = (Vec::new(), Vec::new(), Vec::new());
        u32_bytes(&[0, 1, u32::MAX, 0x8000_0001], &mut bytes);
        extend_u32(&bytes, &mut small);
        assert_eq!(small, [0, 1, u32::MAX, 0x8000_0001]);
        u64_bytes(&[7, u64::MAX, 1 << 40], &mut bytes);
        extend_u64(&bytes, &mut big);
        assert_eq!(big, [7, u64::MAX, 1 << 40]);
    }

    /// Every outcome of checking `dir`, as a caller that renders reports sees them, and the
    /// bytes the run wrote to its temporary file.
    fn outcomes(dir: &std::path::Path, budget: Option<usize>) -> (Vec<String>, u64) {
        let render: &(dyn Fn(&FileReport) -> String + Sync) = &|report: &FileReport| {
            let lines: Vec<String> = report
                .diagnostics
                .iter()
                .map(|d| format!("{d:?}"))
                .collect();
            format!("{}: {}", report.path, lines.join("\n"))
        };
        let mut seen = Vec::new();
        let checked = with_budget(budget, || {
            check_each(
                &[dir.to_path_buf()],
                &CheckOptions::default(),
                false,
                PolicyChoice::Off,
                Some(crate::plan::Rendering {
                    render,
                    names: false,
                }),
                &mut |outcome| {
                    seen.push(match outcome {
                        Outcome::Valid => "valid".to_owned(),
                        Outcome::Rendered(r) => {
                            format!("rendered {} {} {}", r.errors, r.warnings, r.text)
                        }
                        Outcome::Report(report) => format!("report {}", render(&report)),
                    });
                },
            )
        });
        (seen, checked.spilled)
    }

    /// 4,000 plans: enough for each of two workers to fill a chunk of segment uses (9 entries
    /// a plan), a file in 40 invalid, segments shared by pairs of plans, and a name used twice.
    fn corpus() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..4_000usize {
            let name = if i == 3_998 { 7 } else { i };
            let mut text = format!(
                "apiVersion: aepact/v1\nname: plan-{name}\nexports: latest\ndestinations:\n  - id: 0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\n    segments:\n"
            );
            for s in 0..8 {
                let n = if s == 0 && i % 100 < 2 {
                    999_999 + i / 100
                } else {
                    i * 8 + s
                };
                text.push_str(&format!("      - 00000000-0000-4000-8000-{n:012x}\n"));
            }
            if i % 40 == 39 {
                text.push_str("unknown: true\n");
            }
            std::fs::write(dir.path().join(format!("p{i:05}.yaml")), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_run_that_spills_reports_what_a_run_that_holds_reports() {
        let dir = corpus();
        let (held, none) = outcomes(dir.path(), None);
        let (spilled, written) = outcomes(dir.path(), Some(0));
        assert_eq!(none, 0);
        // The uses of both workers' first chunks (64 KiB each), less what they were filling,
        // and the rendered reports.
        assert!(written > 64 * 1024, "{written} bytes written");
        assert_eq!(held.len(), 4_000);
        let count = |what: &str| held.iter().filter(|o| o.starts_with(what)).count();
        assert_eq!(count("rendered"), 100, "{:?}", &held[..3]);
        // The name used twice, and the 40 plans that share a segment with another.
        assert_eq!(count("report"), 1 + 40);
        assert_eq!(held, spilled);
    }

    #[test]
    fn a_run_whose_temporary_file_cannot_be_read_back_says_so_and_passes_nothing_unchecked() {
        let dir = corpus();
        let (held, _) = outcomes(dir.path(), None);
        let (lost, written) = with_lost_reads(|| outcomes(dir.path(), Some(0)));
        assert!(written > 0);
        // The checks across plans were not done, and the run says so last, as an error.
        let last = lost.last().unwrap();
        assert!(last.starts_with("report (temporary file): "), "{last}");
        assert!(last.contains("Unreadable"), "{last}");
        assert!(
            last.contains(
                "the checks across plans (unique names, a segment in two plans) were not done"
            ),
            "{last}"
        );
        assert_eq!(lost.len(), held.len() + 1);
        for (held, lost) in held.iter().zip(&lost) {
            match held.strip_prefix("rendered ") {
                // A report whose text was written is checked again, and says the same.
                Some(rendered) => {
                    let text = rendered.splitn(3, ' ').nth(2).unwrap();
                    assert_eq!(lost, &format!("report {text}"));
                }
                // A finding across plans is what was not done.
                None if held.starts_with("report ") => assert_eq!(lost, "valid", "{held}"),
                None => assert_eq!(lost, held),
            }
        }
    }

    #[test]
    fn a_spill_without_a_budget_is_never_past_it() {
        assert!(!Spill::new(None).past_budget(usize::MAX));
        assert!(Spill::new(Some(10)).past_budget(10));
        assert!(!Spill::new(Some(10)).past_budget(9));
    }
}
