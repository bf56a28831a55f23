use std::process::ExitCode;

fn main() -> ExitCode {
    match aepact::cli::parse() {
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
