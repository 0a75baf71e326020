//! `shelfd` command line. The library does the work; this file only parses arguments, sets up
//! logging and maps errors to exit codes (78 = EX_CONFIG for configuration errors, 65 =
//! EX_DATAERR for bad input data, 1 for anything else).

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const EX_DATAERR: u8 = 65;
const EX_CONFIG: u8 = 78;

#[derive(Parser)]
#[command(name = "shelfd", version, about = "Edge daemon for RFID smart shelves")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: readers, engine, store and MQTT publisher, until SIGTERM or SIGINT.
    Run {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Show what a running or stopped daemon is doing: readers and their links, tags per
    /// location, last seq, outbox depth, broker connection, version.
    Status {
        /// The daemon's config file (its state dir is read).
        #[arg(long, required_unless_present = "state_dir")]
        config: Option<PathBuf>,
        /// Read this state dir instead of the config's.
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Print the daemon's status document (JSON) instead of the screen.
        #[arg(long)]
        json: bool,
    },
    /// Check a state dir's store (`check`: read every record; exit 0 readable, 65 damaged), or
    /// move a damaged store aside (`reset`) so that the next start is a first start.
    State {
        #[command(subcommand)]
        action: StateAction,
    },
    /// Validate a config file as a running daemon would; exit 0 when valid, 78 when not.
    CheckConfig {
        /// The config file.
        file: PathBuf,
    },
    /// LLRP fixed readers (Impinj, Zebra, …): tools for installers.
    #[command(subcommand)]
    Llrp(LlrpCommand),
    /// Decode raw reader bytes from stdin (a capture) and print one JSON line per frame.
    Decode {
        /// Wire protocol: mercury, magicrf, r2000, line, shelf-link or llrp (both directions).
        #[arg(long)]
        protocol: String,
        /// Stdin is hex text (spaces, newlines, 0x prefixes and :,- separators allowed).
        #[arg(long)]
        hex: bool,
    },
    /// Decode EPCs (hex) and print one JSON object per EPC.
    Epc {
        /// EPCs in hex.
        #[arg(required = true)]
        hex: Vec<String>,
    },
    /// Replay a read log through the engine on a virtual clock; print events, then snapshots
    /// (or, with `--format epcis`, the EPCIS documents the daemon would publish).
    Replay {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
        /// The read log (JSON Lines); `-` for stdin.
        #[arg(long)]
        input: PathBuf,
        /// Keep state here across invocations, as across daemon restarts (in memory if absent).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// What to print: `json` (event payloads, then the retained snapshots) or `epcis` (one
        /// GS1 EPCIS 2.0 document per line for every event that has one, no snapshots; uses the
        /// config's [epcis] settings whether or not it is enabled).
        #[arg(long, value_enum, default_value_t = ReplayFormatArg::Json)]
        format: ReplayFormatArg,
    },
    /// Run the live demo store: simulated readers of every protocol on PTYs, the real
    /// pipeline, an embedded MQTT broker, and a live view of what central sees (built with
    /// `--features demo`).
    Demo(DemoArgs),
    /// Measure the engine, replay, store and reader-protocol throughput (figures for
    /// BENCHMARKS.md; built with `--features bench`).
    Bench(BenchArgs),
}

/// `shelfd llrp …`.
#[derive(Subcommand)]
enum LlrpCommand {
    /// Connect to a reader, print its identity, capabilities (antennas, power and mode
    /// tables) and a short inventory on every antenna (EPC, antenna, RSSI, reads/s per
    /// antenna), then stop it and close the connection. The reader is reset to factory
    /// defaults (as `shelfd run` does); it refuses the probe while another client is connected.
    Probe {
        /// The reader, host[:port] (port 5084 by default).
        address: String,
        /// How long to read tags, e.g. "5s".
        #[arg(long = "for", default_value = "5s")]
        duration: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `shelfd demo`'s arguments (parsed whether or not the demo is built in, so that `--help` and
/// argument errors do not depend on the build).
#[derive(clap::Args)]
struct DemoArgs {
    /// How long to run before stopping by itself, e.g. "10m" or "30s" (Ctrl-C stops
    /// earlier).
    #[arg(long = "for", default_value = "10m")]
    duration: String,
    /// Random seed of the simulation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print every MQTT message as `topic payload` (like `mosquitto_sub -v`) instead of
    /// the view; the opening lines and the summary go to stderr.
    #[arg(long, conflicts_with = "plain")]
    json: bool,
    /// One line per event and a final summary instead of the live screen (the default
    /// when stdout is not a terminal).
    #[arg(long)]
    plain: bool,
}

/// `shelfd bench`'s arguments.
#[derive(clap::Args)]
struct BenchArgs {
    /// Tags tracked by the engine benchmark.
    #[arg(long, default_value_t = 100_000)]
    tags: usize,
    /// Simulated seconds of reads.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Which benchmark: all, engine, replay, store, decode (reader protocol decoders),
    /// serial (CPU of live serial input over a PTY), llrp (LLRP decode and live TCP input),
    /// outbox.
    #[arg(long, default_value = "all")]
    only: String,
}

/// `shelfd state` actions.
#[derive(Subcommand)]
enum StateAction {
    /// Open the store and read every record.
    Check(StateDir),
    /// Move `<state dir>/db` aside to `db.damaged-<time>` and start a new store: the next start
    /// publishes a baseline snapshot, with seqs above the old store's (central resyncs). Refused
    /// while shelfd runs, and for a readable store unless `--force`.
    Reset {
        #[command(flatten)]
        dir: StateDir,
        /// Move the store aside even when it is readable (its unpublished events are dropped).
        #[arg(long)]
        force: bool,
    },
}

/// Which state dir `shelfd state` works on.
#[derive(clap::Args)]
struct StateDir {
    /// The daemon's config file (its state dir is used).
    #[arg(long, required_unless_present = "state_dir")]
    config: Option<PathBuf>,
    /// This state dir instead of the config's.
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

/// `shelfd replay --format`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReplayFormatArg {
    /// Event payloads, then retained snapshots.
    Json,
    /// GS1 EPCIS 2.0 documents.
    Epcis,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Run { .. } => "info",
        // rumqttd logs every client disconnect as an error: noise in a demo.
        Command::Demo(_) => "warn,rumqttd=off",
        _ => "warn",
    };
    let log = shelfd::ops::logging::init(default_level);
    match run(cli, log) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shelfd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: &std::path::Path) -> Result<shelfd::config::Config, ExitCode> {
    shelfd::config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        ExitCode::from(EX_CONFIG)
    })
}

fn run(cli: Cli, log: shelfd::ops::logging::LogHandle) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run { config: path } => {
            let config = match load_config(&path) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            // The config's level, unless RUST_LOG overrides it (validated by load_config).
            if let Err(e) = log.set_level(&config.log.level) {
                tracing::error!(error = %e, "[log] level not applied");
            }
            run_daemon(config, path, log)
        }
        Command::Status {
            config,
            state_dir,
            json,
        } => {
            let dir = match (state_dir, config) {
                (Some(dir), _) => dir,
                (None, Some(path)) => match load_config(&path) {
                    Ok(c) => c.gateway.state_dir,
                    Err(code) => return Ok(code),
                },
                (None, None) => unreachable!("clap requires --config or --state-dir"),
            };
            status(&dir, json)
        }
        Command::State { action } => state(action),
        Command::Decode { protocol, hex } => {
            let protocol: shelfd::config::Protocol = match protocol.parse() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("shelfd decode: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let result =
                shelfd_readers::decode::run(protocol, hex, &mut std::io::stdin().lock(), &mut out);
            out.flush().context("writing stdout")?;
            match result {
                Ok(summary) => {
                    eprintln!(
                        "{} bytes: {} frames ({} tag reads), {} bad",
                        summary.bytes, summary.frames, summary.tags, summary.bad_frames
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("shelfd decode: {e}");
                    Ok(ExitCode::from(EX_DATAERR))
                }
            }
        }
        Command::CheckConfig { file } => match load_config(&file) {
            Ok(config) => {
                println!(
                    "{}: ok ({} readers, {} locations, {} docks)",
                    file.display(),
                    config.readers.len(),
                    config.locations.len(),
                    config.docks.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(code) => Ok(code),
        },
        Command::Epc { hex } => {
            let mut failed = false;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for h in &hex {
                let v = shelfd_core::epc::describe_json(h);
                failed |= v.get("error").is_some();
                writeln!(out, "{v}")?;
            }
            Ok(if failed {
                ExitCode::from(EX_DATAERR)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Replay {
            config,
            input,
            state_dir,
            format,
        } => {
            let config = match load_config(&config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let format = match format {
                ReplayFormatArg::Json => shelfd::replay::ReplayFormat::Json,
                ReplayFormatArg::Epcis => {
                    match shelfd::publish::epcis::EpcisMapping::new(&config) {
                        Ok(mapping) => shelfd::replay::ReplayFormat::Epcis(mapping),
                        Err(e) => {
                            eprintln!("shelfd replay --format epcis: {e}");
                            return Ok(ExitCode::from(EX_CONFIG));
                        }
                    }
                }
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let name = input.display().to_string();
            let result = if input.as_os_str() == "-" {
                shelfd::replay::replay(
                    &config,
                    "stdin",
                    std::io::stdin().lock(),
                    state_dir.as_deref(),
                    &format,
                    &mut out,
                )
            } else {
                let file =
                    std::fs::File::open(&input).with_context(|| format!("read log {name}"))?;
                shelfd::replay::replay(
                    &config,
                    &name,
                    std::io::BufReader::with_capacity(1 << 20, file),
                    state_dir.as_deref(),
                    &format,
                    &mut out,
                )
            };
            out.flush()?;
            match result {
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(
                    e @ (shelfd::replay::ReplayError::Line { .. }
                    | shelfd::replay::ReplayError::Record { .. }),
                ) => {
                    eprintln!("shelfd: {e}");
                    Ok(ExitCode::from(EX_DATAERR))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Llrp(LlrpCommand::Probe {
            address,
            duration,
            json,
        }) => {
            let duration = match shelfd::config::parse_duration(&duration) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("shelfd llrp probe: --for: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?;
            match rt.block_on(shelfd_readers::llrp::probe::probe(&address, duration)) {
                Ok(report) if json => {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    Ok(ExitCode::SUCCESS)
                }
                Ok(report) => {
                    print!("{}", report.render_text());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("shelfd llrp probe: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Demo(args) => demo(args),
        Command::Bench(args) => bench(args),
    }
}

/// `shelfd run`: the pipeline on a multi-threaded runtime, stopped by SIGTERM or SIGINT and
/// reloaded by SIGHUP.
fn run_daemon(
    config: shelfd::config::Config,
    path: PathBuf,
    log: shelfd::ops::logging::LogHandle,
) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let cancel = cancel_on_stop_signals()?;
        let reloader = shelfd::run::reload::Reloader::new(&config, log);
        // SIGHUP (systemctl reload): validate the file; hot keys apply at once, the rest is
        // reported; an invalid file keeps the running config.
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("installing the SIGHUP handler")?;
        let on_hup = reloader.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match shelfd::config::load(&path) {
                    Ok(new) => {
                        on_hup.reload(&new);
                    }
                    Err(errors) => tracing::error!(
                        file = %path.display(),
                        "SIGHUP: the config file is invalid; keeping the running config:\n{errors}"
                    ),
                }
            }
        });
        let handles = shelfd::run::RunHandles {
            reloader: Some(reloader),
            ..shelfd::run::RunHandles::default()
        };
        shelfd::run::run_with(config, cancel, handles).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `shelfd state check|reset`.
fn state(action: StateAction) -> anyhow::Result<ExitCode> {
    use shelfd::store::state_reset;
    let (args, force) = match action {
        StateAction::Check(dir) => (dir, None),
        StateAction::Reset { dir, force } => (dir, Some(force)),
    };
    let dir = match (args.state_dir, args.config) {
        (Some(dir), _) => dir,
        (None, Some(path)) => match load_config(&path) {
            Ok(c) => c.gateway.state_dir,
            Err(code) => return Ok(code),
        },
        (None, None) => unreachable!("clap requires --config or --state-dir"),
    };
    let Some(force) = force else {
        return Ok(match state_reset::check(&dir) {
            Ok(c) => {
                println!(
                    "state dir {}: store readable ({} records, {} events waiting in the outbox, last seq {})",
                    dir.display(),
                    c.records,
                    c.outbox_entries,
                    c.last_seq
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("shelfd state check: {e}");
                ExitCode::from(EX_DATAERR)
            }
        });
    };
    let seen = shelfd::ops::status_view::StatusReport::read(&dir)
        .ok()
        .flatten()
        .map(|r| r.outbox.last_seq);
    match state_reset::reset(&dir, force, shelfd_core::timefmt::now_ms(), seen) {
        Ok(done) => {
            println!(
                "state dir {}: store moved aside to {}; a new store numbers events from seq {}. \
                 The next start publishes a baseline snapshot; central resyncs from it.",
                dir.display(),
                done.moved_to.display(),
                done.next_seq
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("shelfd state reset: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `shelfd status`: the screen (or the JSON document) for the daemon of `dir`.
fn status(dir: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    use shelfd::ops::status_view::{self, Liveness, StatusReport};
    let now = shelfd_core::timefmt::now_ms();
    let report = match StatusReport::read(dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shelfd status: {e}");
            None
        }
    };
    let live = report
        .as_ref()
        .map_or(Liveness::Stopped, |r| status_view::liveness(r, now));
    // A daemon that is not running leaves the store free: read the figures that matter from
    // it (they are right even after a kill -9, unlike the last status file).
    let mut store_failed = false;
    let figures = if live == Liveness::Stopped {
        match status_view::store_figures(dir) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("shelfd status: {e}");
                store_failed = true;
                None
            }
        }
    } else {
        None
    };
    if report.is_none() && figures.is_none() {
        if store_failed {
            return Ok(ExitCode::from(3));
        }
        eprintln!(
            "shelfd status: {}",
            status_view::StatusError::Empty(dir.to_owned())
        );
        return Ok(ExitCode::from(3));
    }
    if json {
        let doc = status_view::json_document(report.as_ref(), live, figures.as_ref());
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!(
            "{}",
            status_view::render(report.as_ref(), live, figures.as_ref(), now)
        );
    }
    // LSB convention: 0 running, 3 not running.
    Ok(if live == Liveness::Running {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// The multi-threaded runtime of `run` and `demo` (blocking threads capped for small boards).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
        .context("starting the async runtime")
}

/// A token cancelled by the first SIGTERM or SIGINT (call inside the runtime).
fn cancel_on_stop_signals() -> anyhow::Result<tokio_util::sync::CancellationToken> {
    let cancel = tokio_util::sync::CancellationToken::new();
    let signals = cancel.clone();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        }
        signals.cancel();
    });
    Ok(cancel)
}

/// `shelfd demo`: the live demo store on a multi-threaded runtime, stopped by `--for` or early
/// by SIGINT or SIGTERM.
#[cfg(feature = "demo")]
fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let duration = shelfd::config::parse_duration(&args.duration)
        .map_err(|e| anyhow::anyhow!("--for: {e}"))?;
    let mode = if args.json {
        shelfd::demo::ViewMode::Json
    } else if args.plain || !std::io::stdout().is_terminal() {
        shelfd::demo::ViewMode::Plain
    } else {
        shelfd::demo::ViewMode::Live
    };
    let options = shelfd::demo::DemoOptions {
        duration,
        seed: args.seed,
        mode,
        terminal_size: if mode == shelfd::demo::ViewMode::Live {
            terminal_size()
        } else {
            None
        },
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let cancel = cancel_on_stop_signals()?;
        // Unlocked handles: log lines from other threads must never wait for the demo.
        let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
        shelfd::demo::run(&options, cancel, &mut stdout, &mut stderr).await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(not(feature = "demo"))]
fn demo(_: DemoArgs) -> anyhow::Result<ExitCode> {
    Ok(not_built_in("demo"))
}

/// `shelfd bench`: prints the figures of BENCHMARKS.md.
#[cfg(feature = "bench")]
fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    shelfd::bench::run(args.tags, args.seconds, &args.only, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "bench"))]
fn bench(_: BenchArgs) -> anyhow::Result<ExitCode> {
    Ok(not_built_in("bench"))
}

/// A tooling subcommand this binary was built without (`feature` off): one line saying how to
/// get it, exit code 2.
#[cfg(not(all(feature = "demo", feature = "bench")))]
fn not_built_in(feature: &str) -> ExitCode {
    eprintln!(
        "shelfd {feature}: not built into this binary; run `cargo run --release -p shelfd \
         --features {feature} -- {feature}`"
    );
    ExitCode::from(2)
}

/// The terminal's (columns, rows) as `stty size` reports them for the terminal on stdin.
#[cfg(feature = "demo")]
fn terminal_size() -> Option<(usize, usize)> {
    let out = std::process::Command::new("stty")
        .arg("size")
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut fields = text.split_whitespace();
    let rows = fields.next()?.parse().ok()?;
    let cols = fields.next()?.parse().ok()?;
    Some((cols, rows))
}
