//! `shelfd-central`: wires the CLI to the library ([`shelfd_central::run::run`]).

use clap::{Parser, Subcommand};
use shelfd_central::auth::{Role, new_token};
use shelfd_central::config::CentralConfig;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version,
    about = "shelfd's central inventory: MQTT consumer, database, API"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Consume the gateways and serve the API.
    Run {
        /// central.toml
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a config (and its tokens and products files) and exit.
    CheckConfig {
        /// central.toml
        #[arg(long)]
        config: PathBuf,
    },
    /// Make an API token: prints the token (hand it out) on stdout and the `[[token]]` entry
    /// for the tokens file on stderr.
    Token {
        /// The token's name.
        #[arg(long)]
        name: String,
        /// customer, staff, fulfilment or admin.
        #[arg(long)]
        role: Role,
        /// The stores of a staff token (repeat).
        #[arg(long = "store")]
        stores: Vec<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Cmd::Run { config } => {
            let config = match CentralConfig::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("shelfd-central: {e}");
                    return ExitCode::from(78);
                }
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("shelfd-central: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let cancel = tokio_util::sync::CancellationToken::new();
            let stop = cancel.clone();
            runtime.spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stop.cancel();
            });
            let term = cancel.clone();
            runtime.spawn(async move {
                if let Ok(mut s) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    s.recv().await;
                    term.cancel();
                }
            });
            match runtime.block_on(shelfd_central::run::run(config, cancel)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("shelfd-central: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::CheckConfig { config } => {
            let checked = CentralConfig::load(&config)
                .map_err(|e| e.to_string())
                .and_then(|c| {
                    shelfd_central::auth::Tokens::load(&c.api.tokens_file)
                        .map_err(|e| e.to_string())?;
                    if let Some(p) = &c.api.products_file {
                        shelfd_central::products::Products::load(p).map_err(|e| e.to_string())?;
                    }
                    Ok(())
                });
            match checked {
                Ok(()) => {
                    println!("{}: ok", config.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("shelfd-central: {e}");
                    ExitCode::from(78)
                }
            }
        }
        Cmd::Token { name, role, stores } => match new_token(&name, role, &stores) {
            Ok((token, entry)) => {
                println!("{token}");
                eprint!("{entry}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("shelfd-central: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
