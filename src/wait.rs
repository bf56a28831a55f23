//! Waiting, the one way `status --wait` and `apply --wait-for-clear` do it: pauses that start
//! short and double up to a minute ([`Backoff`]), and Ctrl-C or SIGTERM ending a pause so the
//! command can say what it recorded and exit 130 or 143 ([`Signals`]).
//!
//! Separate from both commands so that the two waits cannot drift apart: the same backoff, the
//! same knob, the same signals.

use std::time::Duration;

use crate::Exit;
use crate::planner::decide::Clearing;

/// The first pause of a wait; it doubles after each check.
const FIRST_DELAY: Duration = Duration::from_secs(2);
/// The longest pause between two checks.
const LONGEST_DELAY: Duration = Duration::from_secs(60);

/// How often a wait says it is still waiting when nothing changed (on anything but a terminal).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(60);

/// The pauses between the checks of a wait: frequent at first, then slower, 2 s doubling to
/// a minute. `AEPACT_POLL_DELAY_MS` sets the first pause (a test knob, `docs/workflow.md`):
/// tests set it low instead of waiting seconds per check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    next: Duration,
    longest: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        let first = std::env::var("AEPACT_POLL_DELAY_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map_or(FIRST_DELAY, Duration::from_millis);
        Backoff {
            next: first,
            longest: LONGEST_DELAY.max(first),
        }
    }

    /// The pause before the next check (without moving on).
    pub(crate) fn peek(&self) -> Duration {
        self.next
    }

    /// Moves on: the pause after the next check is twice as long, up to a minute.
    pub(crate) fn advance(&mut self) {
        self.next = (self.next * 2).min(self.longest);
    }
}

/// The signals that stop a wait: Ctrl-C (SIGINT) and, on Unix, SIGTERM.
pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::sync::Mutex<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: tokio::sync::Mutex<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers (inside the runtime): from here on these signals no longer end
    /// the process at once.
    pub(crate) async fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: tokio::sync::Mutex::new(signal(SignalKind::interrupt())?),
                terminate: tokio::sync::Mutex::new(signal(SignalKind::terminate())?),
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Sleeps for `pause`, or until a signal: the exit status it calls for (130 for Ctrl-C,
    /// 143 for SIGTERM).
    pub(crate) async fn sleep(&self, pause: Duration) -> Option<Exit> {
        #[cfg(unix)]
        {
            let mut interrupt = self.interrupt.lock().await;
            let mut terminate = self.terminate.lock().await;
            tokio::select! {
                () = tokio::time::sleep(pause) => None,
                _ = interrupt.recv() => Some(Exit::Interrupted),
                _ = terminate.recv() => Some(Exit::Terminated),
            }
        }
        #[cfg(not(unix))]
        tokio::select! {
            () = tokio::time::sleep(pause) => None,
            _ = tokio::signal::ctrl_c() => Some(Exit::Interrupted),
        }
    }
}

/// Sleeps for `pause` on `runtime`, or until a signal when `signals` could be installed.
/// Returns the exit status a signal calls for.
pub(crate) fn pause(
    runtime: &tokio::runtime::Runtime,
    signals: Option<&std::io::Result<Signals>>,
    pause: Duration,
) -> Option<Exit> {
    match signals {
        Some(Ok(signals)) => runtime.block_on(signals.sleep(pause)),
        _ => {
            std::thread::sleep(pause);
            None
        }
    }
}

/// The deadline and the pauses of `apply --wait-for-clear`: when to check again, given how the
/// plans still refused clear ([`Clearing`]).
///
/// The deadline is real time from the start (sleeping is real time); instants the platform
/// gives (a policy window opening) are compared with the platform's clock, its `Date` header
/// at the last check, so a machine whose clock is off still wakes when the platform says.
#[derive(Debug)]
pub(crate) struct ClearWait {
    started: std::time::Instant,
    limit: Duration,
    backoff: Backoff,
}

/// What to do after a check that left plans refused for reasons that clear by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Check again after `pause`, at `at` on the platform's clock (epoch ms); `known` when a
    /// plan clears at that instant (a window opening), rather than maybe (an export running).
    Check {
        pause: Duration,
        at: i64,
        known: bool,
    },
    /// The deadline has passed, or no plan can clear before it.
    GiveUp,
}

impl ClearWait {
    pub(crate) fn new(limit: Duration) -> Self {
        ClearWait {
            started: std::time::Instant::now(),
            limit,
            backoff: Backoff::new(),
        }
    }

    /// How long it waits in all (`--wait-for-clear=DURATION`).
    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// The time left before it gives up.
    pub(crate) fn remaining(&self) -> Duration {
        self.limit.saturating_sub(self.started.elapsed())
    }

    /// When to check again: the earliest instant a plan clears at, when every reason of it
    /// has a known instant, else the next step of the backoff (not before the latest instant
    /// known of it); never past the deadline. A plan that cannot clear before the deadline is
    /// not waited for, and when no plan can, it gives up at once.
    pub(crate) fn next(&mut self, clearings: &[Clearing], platform_now: i64) -> Next {
        let remaining = self.remaining();
        if remaining.is_zero() {
            return Next::GiveUp;
        }
        let until = |t: i64| Duration::from_millis(u64::try_from(t - platform_now).unwrap_or(0));
        let step = self.backoff.peek();
        let soonest = clearings
            .iter()
            .filter_map(|c| {
                let not_before = c.not_before.map(until);
                if not_before.is_some_and(|d| d > remaining) {
                    return None;
                }
                Some(match (c.known, not_before) {
                    (true, Some(d)) => (d, true),
                    (_, d) => (d.unwrap_or_default().max(step), false),
                })
            })
            .min();
        let Some((pause, known)) = soonest else {
            return Next::GiveUp;
        };
        self.backoff.advance();
        let pause = pause.min(remaining);
        Next::Check {
            pause,
            at: platform_now.saturating_add(i64::try_from(pause.as_millis()).unwrap_or(i64::MAX)),
            known,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn wait(limit_s: u64) -> ClearWait {
        ClearWait {
            started: std::time::Instant::now(),
            limit: Duration::from_secs(limit_s),
            backoff: Backoff {
                next: Duration::from_secs(2),
                longest: Duration::from_secs(60),
            },
        }
    }

    fn maybe() -> Clearing {
        Clearing {
            not_before: None,
            known: false,
        }
    }

    fn at(secs: i64) -> Clearing {
        Clearing {
            not_before: Some(NOW + secs * 1000),
            known: true,
        }
    }

    fn pause(next: Next) -> Option<(u64, bool)> {
        match next {
            Next::Check { pause, known, .. } => Some((pause.as_secs(), known)),
            Next::GiveUp => None,
        }
    }

    #[test]
    fn reasons_without_an_instant_are_checked_with_a_doubling_backoff() {
        let mut w = wait(3600);
        let steps: Vec<_> = (0..7).map(|_| pause(w.next(&[maybe()], NOW))).collect();
        let want = [2, 4, 8, 16, 32, 60, 60].map(|s| Some((s, false)));
        assert_eq!(steps, want);
    }

    #[test]
    fn a_known_instant_is_slept_to_and_the_earliest_plan_wins() {
        let mut w = wait(3600);
        assert_eq!(pause(w.next(&[at(600)], NOW)), Some((600, true)));
        // An export (checked in 4 s) beside a window opening in 10 minutes.
        assert_eq!(pause(w.next(&[at(600), maybe()], NOW)), Some((4, false)));
    }

    #[test]
    fn a_plan_also_waiting_for_a_window_is_not_checked_before_it_opens() {
        let mut w = wait(3600);
        let both = Clearing {
            not_before: Some(NOW + 300_000),
            known: false,
        };
        assert_eq!(pause(w.next(&[both], NOW)), Some((300, false)));
    }

    #[test]
    fn it_never_sleeps_past_the_deadline_and_gives_up_when_nothing_can_clear_in_time() {
        let mut w = wait(10);
        assert_eq!(
            pause(w.next(&[at(3600)], NOW)),
            None,
            "opens after the deadline"
        );
        let mut w = wait(3);
        assert_eq!(pause(w.next(&[maybe()], NOW)), Some((2, false)));
        let Some((left, false)) = pause(w.next(&[maybe()], NOW)) else {
            panic!("checks once more");
        };
        assert!(left <= 3);
        let mut w = wait(0);
        assert_eq!(w.next(&[maybe()], NOW), Next::GiveUp);
    }
}
