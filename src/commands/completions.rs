//! `aepact completions SHELL` and `aepact man`: generated from the clap definitions, so they
//! never drift from the real arguments.

use clap::CommandFactory;

use crate::Exit;
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::{Error, Result};
use crate::output;

pub(crate) fn completions(args: &CompletionsArgs) -> Result<Exit> {
    let mut command = Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(args.shell, &mut command, "aepact", &mut bytes);
    output::write_stdout(&String::from_utf8_lossy(&bytes))?;
    Ok(Exit::Success)
}

pub(crate) fn man(args: &ManArgs) -> Result<Exit> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    match &args.out_dir {
        None => {
            output::write_stdout(&String::from_utf8_lossy(&page(&command)?))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
                path: dir.display().to_string(),
                source,
            })?;
            write_pages(&command, dir)?;
            output::write_stdout(&format!("Wrote the manual pages to `{}`.\n", dir.display()))?;
        }
    }
    Ok(Exit::Success)
}

/// Writes the page of `command` and of each of its subcommands (`aepact-plan.1`, ...).
fn write_pages(command: &clap::Command, dir: &std::path::Path) -> Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let man = clap_mangen::Man::new(command.clone());
    let path = dir.join(man.get_filename());
    std::fs::write(&path, page(command)?).map_err(|source| Error::WriteFile {
        path: path.display().to_string(),
        source,
    })
}

/// One manual page: clap_mangen's sections, with EXIT STATUS and ENVIRONMENT before VERSION
/// (the order of man-pages(7)).
pub(crate) fn page(command: &clap::Command) -> Result<Vec<u8>> {
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    let has_args = command.get_arguments().any(|a| !a.is_hide_set());
    (|| -> std::io::Result<()> {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        if has_args {
            man.render_options_section(&mut out)?;
        }
        if command.get_subcommands().any(|s| !s.is_hide_set()) {
            man.render_subcommands_section(&mut out)?;
        }
        out.extend_from_slice(EXIT_STATUS_AND_ENVIRONMENT.as_bytes());
        if command.get_version().is_some() {
            man.render_version_section(&mut out)?;
        }
        Ok(())
    })()
    .map_err(Error::Output)?;
    Ok(out)
}

/// The sections clap cannot generate, in roff. Every variable aepact reads is listed here
/// (`tests/it/gitops.rs` checks the list against the source).
const EXIT_STATUS_AND_ENVIRONMENT: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success: every plan valid (warnings allowed), applied, or final.
.TP
\fB1\fR
Invalid plans, a refused or failed operation, or a command\-line usage error.
.TP
\fB2\fR
\fBplan \-\-detailed\-exitcode\fR only: there is something to apply.
.TP
\fB75\fR
Refused or stopped for a reason that clears by itself, before anything was sent (EX_TEMPFAIL): an export job processing, a run in flight, outside the policy's send windows or within its \fBminInterval\fR, the platform unreachable or answering 429/5xx, another aepact holding a plan's lock, \fBstatus \-\-wait\fR or \fBapply \-\-wait\-for\-clear\fR timed out. Retry later.
.TP
\fB130\fR, \fB143\fR
\fBstatus \-\-wait\fR or \fBapply \-\-wait\-for\-clear\fR stopped by Ctrl\-C (SIGINT) or SIGTERM while waiting, after recording what it had polled or sent.
.SH ENVIRONMENT
.TP
\fBAEP_ORG_ID\fR
The IMS organisation, sent as \fBx\-gw\-ims\-org\-id\fR.
.TP
\fBAEP_CLIENT_ID\fR, \fBAEP_CLIENT_SECRET\fR, \fBAEP_SCOPES\fR
OAuth server\-to\-server credentials: a token is fetched from IMS once per process.
.TP
\fBAEP_ACCESS_TOKEN\fR, \fBAEP_API_KEY\fR
Or a token issued elsewhere, with its API key.
.TP
\fBAEP_SANDBOX\fR
The sandbox of plans that name none (else \fBprod\fR).
.TP
\fBAEP_PLATFORM_URL\fR, \fBAEP_IMS_URL\fR
The endpoints (default https://platform.adobe.io and https://ims\-na1.adobelogin.com).
.TP
\fBAEP_ADHOC_API_VERSION\fR
The ad\-hoc API version, \fB1\fR (default) or \fB2\fR, as \fB\-\-api\-version\fR.
.TP
\fBAEPACT_HTTP_TIMEOUT\fR
The per\-request timeout (\fB500ms\fR, \fB5s\fR, \fB2m\fR) instead of 60 seconds.
.TP
\fBAEPACT_NOT_RECEIVED_AFTER_MS\fR
How long \fBstatus\fR waits after a job was sent before it settles a job in doubt with no run as not received (default 120000).
.TP
\fBAEPACT_POLL_DELAY_MS\fR
The first pause of \fBstatus \-\-wait\fR and \fBapply \-\-wait\-for\-clear\fR between two checks, in milliseconds (default 2000; it doubles up to a minute).
.TP
\fBAEPACT_CONCURRENCY\fR
The most requests to the platform in flight at once, as \fB\-\-concurrency\fR (default 8).
.TP
\fBAEPACT_POLICY\fR
The policy file for every plan, as \fB\-\-policy\fR (default: the nearest \fBaepact.policy.yaml\fR).
.TP
\fBHTTPS_PROXY\fR, \fBHTTP_PROXY\fR, \fBALL_PROXY\fR, \fBNO_PROXY\fR
The proxy for https and http URLs, and the hosts reached directly (with a proxy set, add 127.0.0.1 for the emulator).
.TP
\fBSSL_CERT_FILE\fR, \fBSSL_CERT_DIR\fR
On Linux, the certificate authorities to trust instead of the system's (include the public roots).
.TP
\fBNO_COLOR\fR
Set to a non\-empty value: no colour, unless \fB\-\-color always\fR.
.TP
\fBCOLUMNS\fR
The width diagnostics are wrapped at (default 100).
.TP
\fBRUST_LOG\fR
A log filter (for example \fBaepact=debug\fR) instead of the level \fB\-v\fR sets; logs go to stderr and never show a secret.
"#;
