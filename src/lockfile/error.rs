//! [`LockfileError`]: everything that can go wrong reading, checking, changing, writing or
//! locking a lockfile.
//!
//! Its codes (`aepact::lockfile::<kind>`) and the problem kinds of `lock verify` are one
//! vocabulary: a problem that mirrors an error is named as its code
//! ([`super::verify::ProblemKind`]).

use std::io;

use miette::{NamedSource, SourceSpan};

/// Everything that can go wrong reading, writing or locking a lockfile.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LockfileError {
    #[error("cannot read `{path}`")]
    #[diagnostic(
        code(aepact::lockfile::read),
        help("check that the file exists and is readable")
    )]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("the lockfile `{path}` is not valid JSON: {message} at line {line}, column {column}")]
    #[diagnostic(
        code(aepact::lockfile::syntax),
        help(
            "aepact never overwrites a lockfile it cannot read. It is a committed record: restore \
             it from git (`git checkout -- {path}`) or fix the JSON by hand, then run the command \
             again"
        )
    )]
    Syntax {
        path: String,
        message: String,
        line: usize,
        column: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        at: SourceSpan,
    },

    #[error(
        "the lockfile `{path}` has an unresolved merge conflict: `{marker}` at line {line}, column 1"
    )]
    #[diagnostic(
        code(aepact::lockfile::merge_conflict),
        help(
            "resolve the conflict keeping both sides' runs: every run and order on either side \
             really happened. Put the runs of both sides in `runs`, oldest first, keep each \
             side's jobs and orders as they are, remove the `<<<<<<<`, `=======` and `>>>>>>>` \
             lines, check the result with `aepact lock verify {path}`, then run `aepact status`. \
             aepact never overwrites a lockfile it cannot read"
        )
    )]
    MergeConflict {
        path: String,
        marker: String,
        line: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("conflict marker")]
        at: SourceSpan,
    },

    #[error(
        "the lockfile `{path}` does not match the lockfile format: {message} at line {line}, column {column}"
    )]
    #[diagnostic(
        code(aepact::lockfile::invalid),
        help(
            "a hand edit probably left a typo, an unknown key or a missing field: compare with \
             docs/lockfile.md, or restore the file from git (`git checkout -- {path}`); aepact \
             never overwrites a lockfile it cannot read"
        )
    )]
    Invalid {
        path: String,
        message: String,
        line: usize,
        column: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        at: SourceSpan,
    },

    #[error(
        "the lockfile `{path}` has `lockfileVersion` {found}; this aepact reads versions 1 to 3"
    )]
    #[diagnostic(
        code(aepact::lockfile::version),
        help(
            "a newer version of aepact probably wrote it: upgrade aepact; if it was edited by \
             hand, restore it from git (`git checkout -- {path}`). aepact never overwrites a \
             lockfile it cannot read"
        )
    )]
    UnsupportedVersion {
        path: String,
        found: String,
        /// Where `lockfileVersion` is, 1-based, as for the other parse errors.
        line: usize,
        column: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("this version")]
        at: SourceSpan,
    },

    #[error("the lockfile `{path}` is inconsistent: {message}")]
    #[diagnostic(
        code(aepact::lockfile::inconsistent),
        help(
            "a hand edit probably broke it: restore it from git (`git checkout -- {path}`); \
             aepact never overwrites a lockfile it cannot read"
        )
    )]
    Inconsistent { path: String, message: String },

    #[error("the lockfile `{path}` records plan `{found}`, not `{expected}`")]
    #[diagnostic(
        code(aepact::lockfile::wrong_plan),
        help(
            "a lockfile belongs to the plan whose `name` it records: if the plan was renamed, \
             rename it back; if it is a different plan, move the old lockfile out of the way (it \
             is the record of real activations: keep it in git history)"
        )
    )]
    WrongPlan {
        path: String,
        expected: String,
        found: String,
    },

    #[error("cannot write the lockfile `{path}`")]
    #[diagnostic(
        code(aepact::lockfile::write),
        help(
            "check that the directory is writable and the disk is not full; the previous \
             lockfile, if there was one, is unchanged"
        )
    )]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("cannot lock the plan `{path}`")]
    #[diagnostic(
        code(aepact::lockfile::lock),
        help(
            "check that the plan file exists and is readable: `apply` and `status` lock the plan \
             file itself while they work on its lockfile"
        )
    )]
    Lock {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "another `aepact apply` or `aepact status` is working on `{path}`: its lock was still held after {waited}"
    )]
    #[diagnostic(
        code(aepact::lockfile::busy),
        help(
            "wait for the other command to finish and run this one again, or let it wait longer \
             with `--lock-timeout` (for example `--lock-timeout 10m`)"
        )
    )]
    LockTimeout { path: String, waited: String },

    #[error("the lockfile `{path}` changed on disk while aepact held the plan's lock")]
    #[diagnostic(
        code(aepact::lockfile::changed),
        help(
            "something else wrote it meanwhile (an `aepact` run on a replaced plan file, a `git \
             checkout` or `git pull`, an editor). aepact did not overwrite it and wrote its own \
             record to `{ours}`: merge the runs of both by hand (keep every run and order), \
             delete that file, then run `aepact status`"
        )
    )]
    ChangedOnDisk { path: String, ours: String },

    #[error(
        "the lockfile `{path}` records activations for org `{found}` (run {run}), but aepact is configured for org `{expected}`"
    )]
    #[diagnostic(
        code(aepact::lockfile::other_org),
        help(
            "a lockfile is the record of one organisation's activations, and another org's runs \
             never count as applied here: check `AEP_ORG_ID`. To activate the plan in another \
             organisation as well, copy it to a plan of its own (another file and `name`)"
        )
    )]
    OtherOrg {
        path: String,
        run: u64,
        found: String,
        expected: String,
    },

    #[error(
        "the lockfile `{path}` records run {run} sent to `{found}`, but aepact is configured for `{expected}`"
    )]
    #[diagnostic(code(aepact::lockfile::other_endpoint), help("{help}"))]
    OtherEndpoint {
        path: String,
        run: u64,
        found: String,
        expected: String,
        help: String,
    },

    #[error(
        "the lockfile `{path}` is inconsistent: `intentDigest` of run {run} (`{pointer}`) is `{found}`, but what the run records digests to `{expected}`"
    )]
    #[diagnostic(
        code(aepact::lockfile::digest_mismatch),
        help(
            "the digest is what makes `apply` skip an intent already sent, so aepact will not \
             guess which intent this run was: restore the lockfile from git (`git checkout -- \
             {path}`), or, if the run's record is right, set `intentDigest` to the value above. \
             `aepact lock verify {path}` lists every mismatch"
        )
    )]
    DigestMismatch {
        path: String,
        run: u64,
        pointer: String,
        found: String,
        expected: String,
    },

    #[error("job {job} of run {run} cannot go from `{from}` to `{to}`")]
    #[diagnostic(
        code(aepact::lockfile::transition),
        help("this is a bug in aepact: please report it with the lockfile")
    )]
    Transition {
        run: u64,
        job: usize,
        from: String,
        to: String,
    },

    #[error("the lockfile has no {what}")]
    #[diagnostic(
        code(aepact::lockfile::no_entry),
        help("this is a bug in aepact: please report it with the lockfile")
    )]
    NoEntry { what: String },
}

pub(crate) type Result<T, E = LockfileError> = std::result::Result<T, E>;
