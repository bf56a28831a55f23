//! `--help` of every command is golden, and every flag has a one-line description.

use clap::CommandFactory;

use crate::common::TestEnv;

/// Every command path: `[]`, `["plan"]`, `["lock", "verify"]`, ...
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.clone();
            path.push(sub.get_name().to_owned());
            walk(sub, path, out);
        }
    }
    let mut out = Vec::new();
    walk(&aepact::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn help_of_every_command() {
    let env = TestEnv::new();
    let mut all = String::new();
    for path in command_paths() {
        let mut args = path.clone();
        args.push("--help".into());
        let out = env.run(&args);
        assert_eq!(out.status, 0, "{args:?}: {out}");
        all.push_str(&format!(
            "===== aepact {}\n{}\n",
            path.join(" "),
            out.stdout
        ));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn every_argument_has_a_one_line_description() {
    fn check(cmd: &clap::Command, name: &str) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(
                !help.trim().is_empty(),
                "`{name}` argument `{id}` has no description"
            );
            assert!(
                !help.contains('\n'),
                "`{name}` argument `{id}`: the first line is the summary"
            );
        }
        for sub in cmd.get_subcommands() {
            assert!(
                sub.get_about().is_some(),
                "`{name} {}` has no description",
                sub.get_name()
            );
            check(sub, &format!("{name} {}", sub.get_name()));
        }
    }
    check(&aepact::cli::Cli::command(), "aepact");
}
