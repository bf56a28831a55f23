use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match aepact::cli::Cli::try_parse() {
        Ok(cli) => aepact::run(cli),
        // `--help` and `--version` print to stdout and succeed. Usage errors exit 1, not clap's
        // 2: under `plan --detailed-exitcode` 2 means "changes to apply", and a mistyped flag in
        // a pipeline must never read as that.
        Err(err) => {
            let _ = err.print();
            if err.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
