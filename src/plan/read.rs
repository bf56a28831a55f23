//! Reading a plan's bytes into a [`SourceFile`]: a file with the size limit, or standard input
//! (`aepact validate -`), read once whatever asks for it again (the cross-plan diagnostics
//! re-read their files); UTF-8 checked, a BOM dropped, lone CRs made LFs.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::diags::{Code, Diagnostic};
use super::source::{CharSpan, SourceFile};

/// Plan files larger than this are refused without being read: a plan is a few KiB, so a file
/// this big is a mistake (a data dump, a binary) and reading it would only waste memory.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a plan file: refuses non-regular files, files over [`MAX_FILE_BYTES`] (checked before
/// reading and again while reading, in case the file grows) and invalid UTF-8. A leading BOM is
/// dropped.
///
/// Returns the source, or the diagnostic that explains why there is none.
pub fn read_source(path: &Path, display: &str) -> Result<SourceFile, Diagnostic> {
    if path.as_os_str() == STDIN {
        return read_stdin(display);
    }
    // Stat before opening: opening a FIFO would block until someone writes to it.
    let meta = std::fs::metadata(path).map_err(|err| unreadable(display, err))?;
    if !meta.is_file() {
        return Err(not_regular(display));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(display, meta.len()));
    }
    let file = File::open(path).map_err(|err| unreadable(display, err))?;
    read_open(file, meta.len(), display)
}

/// [`read_source`] for a file a directory walk saw as a regular file (not a symlink): opened
/// first and then asked what it is, which saves looking the path up twice (issue 13). A FIFO
/// put in its place after the walk could block the open, as it could between the stat and the
/// open of [`read_source`].
///
/// Returns the source, or the diagnostic that explains why there is none, as [`read_source`].
pub fn read_regular(path: &Path, display: &str) -> Result<SourceFile, Diagnostic> {
    let Ok(file) = File::open(path) else {
        // The usual path says what is wrong, in the usual order (a file both too large and
        // unreadable is too large).
        return read_source(path, display);
    };
    let meta = file.metadata().map_err(|err| unreadable(display, err))?;
    if !meta.is_file() {
        return Err(not_regular(display));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(display, meta.len()));
    }
    read_open(file, meta.len(), display)
}

/// Reads an open plan file of `len` bytes (as last seen), with the size limit.
fn read_open(file: File, len: u64, display: &str) -> Result<SourceFile, Diagnostic> {
    let mut bytes = super::source::text_buffer(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| unreadable(display, err))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(display, bytes.len() as u64));
    }
    source_from_bytes(display, bytes)
}

fn unreadable(display: &str, err: std::io::Error) -> Diagnostic {
    Diagnostic::error(
        Code::Unreadable,
        display,
        format!("cannot read `{display}`: {err}"),
    )
    .with_help("check that the file exists and that you may read it")
}

fn not_regular(display: &str) -> Diagnostic {
    Diagnostic::error(
        Code::Unreadable,
        display,
        format!("`{display}` is not a regular file"),
    )
    .with_help("plan paths must name YAML files or directories that contain them")
}

fn too_large(display: &str, len: u64) -> Diagnostic {
    Diagnostic::error(
        Code::FileTooLarge,
        display,
        format!(
            "`{display}` is {len} bytes, more than the {MAX_FILE_BYTES}-byte (1 MiB) limit for a plan file"
        ),
    )
    .with_help("a plan is a few KiB of YAML: split it into several plans, or check that this is the file you meant")
}

/// Checks that the bytes are UTF-8, drops a BOM and turns lone CRs (old Mac line endings) into
/// LFs.
pub fn source_from_bytes(display: &str, bytes: Vec<u8>) -> Result<SourceFile, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(SourceFile::new(display, lone_cr_to_lf(text)))
        }
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let bad = err.as_bytes()[at];
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            // The prefix is valid, so `at` is the same offset in the lossy text, where the bad
            // byte became one U+FFFD character.
            let char_at = text[..at].chars().count();
            let source = SourceFile::new(display, text);
            Err(Diagnostic::at(
                Code::NotUtf8,
                &source,
                CharSpan::new(char_at, char_at + 1),
                format!(
                    "`{display}` is not valid UTF-8: byte 0x{bad:02X} cannot start a character here"
                ),
            )
            .with_label_text("invalid byte")
            .with_help(
                "save the file as UTF-8 (plans may hold any Unicode text, but in UTF-8 only)",
            ))
        }
    }
}

/// YAML reads a lone CR as a line break (YAML 1.2, section 5.4) and folds every break to LF, but
/// positions are counted in LF-separated lines: a CR-only file would be "line 0" everywhere.
/// Each lone CR becomes an LF, which YAML reads the same and which keeps every byte and character
/// offset where it was; CRLF pairs stay as they are.
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only ASCII bytes changed, for ASCII bytes: still UTF-8.
    String::from_utf8(bytes).expect("invariant: swapping one ASCII byte for another keeps UTF-8")
}

/// The path that names standard input on the command line (`aepact validate -`).
pub const STDIN: &str = "-";
/// How a plan read from standard input is named in diagnostics and reports.
pub const STDIN_DISPLAY: &str = "<stdin>";

/// Standard input, read once (at most the size limit and one byte more): a plan given as `-`
/// is read by the checks and again for cross-plan diagnostics.
fn stdin_bytes() -> &'static Result<Vec<u8>, String> {
    static STDIN_BYTES: std::sync::OnceLock<Result<Vec<u8>, String>> = std::sync::OnceLock::new();
    STDIN_BYTES.get_or_init(|| {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map(|_| bytes)
            .map_err(|e| e.to_string())
    })
}

/// The plan on standard input as a source named `display`, with the limits of a plan file.
fn read_stdin(display: &str) -> Result<SourceFile, Diagnostic> {
    match stdin_bytes() {
        Ok(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => Err(Diagnostic::error(
            Code::FileTooLarge,
            display,
            format!(
                "`{display}` is more than the {MAX_FILE_BYTES}-byte (1 MiB) limit for a plan file"
            ),
        )
        .with_help("a plan is a few KiB of YAML: check that this is what you meant to pipe in")),
        Ok(bytes) => source_from_bytes(display, bytes.clone()),
        Err(err) => Err(Diagnostic::error(
            Code::Unreadable,
            display,
            format!("cannot read standard input: {err}"),
        )
        .with_help("pipe a plan into `aepact validate -`, or name the plan file")),
    }
}
