//! Arbitrary text as a lockfile: `Lockfile::parse`, then the error rendered the way the CLI
//! shows it (with its source snippet), or the parsed lockfile written back and read again.

#![no_main]

use std::path::Path;

use aepact::lockfile::Lockfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("plans/fuzz.lock.json");
    match Lockfile::parse(text, path) {
        Ok(lockfile) => {
            // What we write we must read back, unchanged.
            let json = lockfile.to_json();
            let again = Lockfile::parse(&json, path).expect("a written lockfile parses");
            assert_eq!(again.to_json(), json);
        }
        Err(err) => {
            // The CLI prints errors through miette, which slices the source at the error's span.
            let _ = format!("{:?}", miette::Report::new(err));
        }
    }
});
