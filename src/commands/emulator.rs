//! `aepact emulator`: serves the local AEP emulator until interrupted.
//!
//! The one place this command goes async: it builds the tokio runtime, binds, prints where the
//! emulator listens and how to point aepact at it, and serves until Ctrl-C or SIGTERM.

use crate::Exit;
use crate::cli::EmulatorArgs;
use crate::emulator::{EmulatorBuilder, EmulatorError, EmulatorInfo};
use crate::error::Result;
use crate::output;

pub(crate) fn run(args: &EmulatorArgs) -> Result<Exit> {
    let mut builder = EmulatorBuilder::new()
        .port(args.port)
        .run_duration(args.run_duration);
    if let Some(seed) = &args.seed {
        builder = builder.seed_file(seed)?;
    }
    if let Some(state) = &args.state {
        builder = builder.state_file(state);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(EmulatorError::Runtime)?;
    runtime.block_on(async {
        let server = builder.bind().await?;
        output::write_stdout(&banner(&server.info()))?;
        server.run_until(shutdown_signal()).await;
        Ok(Exit::Success)
    })
}

/// What `aepact emulator` prints on start: the base URL first, on its own line, so scripts can
/// read it, then the environment for aepact.
pub(crate) fn banner(info: &EmulatorInfo) -> String {
    // The demo world's secret is public (docs/emulator.md); a seeded world's is not printed.
    let secret = if info.is_demo {
        info.client_secret.clone()
    } else {
        "<the secret from your seed file>".to_owned()
    };
    format!(
        "aepact emulator listening on {url}\n\
         \n\
         Point aepact at it with:\n\
         \x20 export AEP_PLATFORM_URL={url}\n\
         \x20 export AEP_IMS_URL={ims}\n\
         \x20 export AEP_ORG_ID={org}\n\
         \x20 export AEP_CLIENT_ID={client}\n\
         \x20 export AEP_CLIENT_SECRET={secret}\n\
         \x20 export AEP_SCOPES=openid,AdobeID,read_organizations\n\
         \n\
         Sandboxes: {sandboxes}. Control endpoints: {url}/_emulator/ (docs/emulator.md). Ctrl-C stops.\n",
        url = info.platform_url,
        ims = info.ims_url,
        org = info.org_id,
        client = info.client_id,
        sandboxes = info.sandboxes.join(", "),
    )
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
