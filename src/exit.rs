//! Exit statuses, and the one place that decides which status an error ends a command with.
//!
//! 0 success; 1 for invalid input and for refusals by aepact or the platform; 2 only for
//! `plan --detailed-exitcode` with something to apply; 75 (`EX_TEMPFAIL`) for what clears by
//! itself and happened before anything was sent: the platform unreachable or timing out, 429 or
//! 5xx on reads after the retries, another aepact holding a plan's lock, and the refusals of
//! [`PlanSet::exit`](crate::planner::model::PlanSet::exit) (an export job processing, a run in
//! flight). Errors carry a [`Kind`]; [`Kind::exit`] is the mapping.

use std::process::ExitCode;

/// The exit statuses aepact uses (README "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything valid / done.
    Success,
    /// 1: invalid plans, a refused or failed operation, or a usage error.
    Failure,
    /// 2: `plan --detailed-exitcode` found something to apply.
    Changes,
    /// 75 (EX_TEMPFAIL): refused for a reason that clears by itself; try again later.
    TempFail,
    /// 130: stopped by Ctrl-C (SIGINT) while waiting, after recording what it had polled.
    Interrupted,
    /// 143: stopped by SIGTERM while waiting, after recording what it had polled.
    Terminated,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

impl Exit {
    /// The status as a number: 0, 1, 2 or 75.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Changes => 2,
            Exit::TempFail => 75,
            Exit::Interrupted => 130,
            Exit::Terminated => 143,
        }
    }

    /// The worse of two statuses, for a command that did several things: a failure outranks a
    /// temporary refusal, which outranks success.
    pub fn worse(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Success | Exit::Changes => 0,
            Exit::TempFail => 1,
            Exit::Failure => 2,
            Exit::Interrupted | Exit::Terminated => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// What kind of failure an error is: what decides its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The input or the configuration is wrong: a plan, a lockfile, a flag, a variable.
    User,
    /// The platform refused (4xx), or answered what aepact cannot read.
    Platform,
    /// It clears by itself: the network, the platform's load, another aepact's lock.
    Transient,
    /// aepact's own output or file system failed (a full disk), or a bug.
    Internal,
}

impl Kind {
    /// The exit status of an error of this kind: 75 when it clears by itself, else 1.
    pub fn exit(self) -> Exit {
        match self {
            Kind::Transient => Exit::TempFail,
            Kind::User | Kind::Platform | Kind::Internal => Exit::Failure,
        }
    }
}
