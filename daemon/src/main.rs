//! `secretgated`: the server-side daemon. It keeps the compiled rules warm and answers the
//! `pre-receive` hook's requests on a Unix socket: one request (a push) per connection, a
//! verdict back, an audit line per push. Configuration is hot-reloaded; SIGTERM finishes the
//! scans in flight before exiting.

mod metrics;
mod server;
mod state;

use std::{
    path::PathBuf,
    sync::{atomic::AtomicBool, Arc},
};

use anyhow::{Context, Result};
use clap::Parser;

/// Scans pushes for secrets on a git server; `secretgate pre-receive` is its client.
#[derive(Debug, Parser)]
#[command(name = "secretgated", version, about)]
struct Args {
    /// The server configuration (TOML).
    #[arg(long, value_name = "FILE", env = "SECRETGATE_CONFIG")]
    config: PathBuf,
    /// Check the configuration (and compile its rules), then exit: 0 when it is good.
    #[arg(long)]
    check_config: bool,
    /// The socket to listen on (default: the config's `socket`).
    #[arg(long, value_name = "PATH", env = "SECRETGATE_SOCKET")]
    socket: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SECRETGATE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    if let Err(err) = run(args) {
        eprintln!(
            "secretgated: error: {}",
            err.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
        );
        std::process::exit(2);
    }
}

/// What `--check-config` checks beyond the file itself: what the daemon would refuse at
/// start, and an audit log it could not write (bypasses would then be refused).
fn check_settings(
    settings: &secretgate_scanner::server::config::ServerSettings,
    socket: &std::path::Path,
) -> Result<()> {
    settings.socket_mode()?;
    if let Some(address) = &settings.metrics_address {
        metrics::check_address(address)?;
    }
    server::check_socket_path(socket)?;
    if let Some(log) = &settings.audit_log {
        let dir = log.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            anyhow::bail!("audit_log {}: the directory {} does not exist", log.display(), dir.display());
        }
    }
    Ok(())
}

fn run(args: Args) -> Result<()> {
    let loaded = state::Loaded::read(&args.config)?;
    if args.check_config {
        let socket = args.socket.clone().unwrap_or_else(|| loaded.config.settings.socket.clone());
        check_settings(&loaded.config.settings, &socket)?;
        println!(
            "secretgated: {} is valid ({} rules)",
            args.config.display(),
            loaded.scan.scanner.rules().rules().len()
        );
        return Ok(());
    }
    let socket = args.socket.clone().unwrap_or_else(|| loaded.config.settings.socket.clone());
    let mode = loaded.config.settings.socket_mode()?;
    let metrics_address = loaded.config.settings.metrics_address.clone();
    let live = Arc::new(state::Live::new(args.config.clone(), loaded));
    let _watcher = state::watch(Arc::clone(&live)).context("cannot watch the configuration for changes")?;

    let shutdown = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&shutdown)).context("cannot handle signals")?;
    }
    let metrics = Arc::new(metrics::Metrics::default());
    if let Some(address) = metrics_address {
        let live = Arc::clone(&live);
        metrics::serve(&address, Arc::clone(&metrics), move || {
            live.current().config.settings.audit_log.clone()
        })?;
    }
    // A socket that systemd (secretgated.socket) opened and passed, or one of our own.
    let passed = listenfd::ListenFd::from_env()
        .take_unix_listener(0)
        .context("cannot use the socket passed by the service manager")?;
    let (listener, own_socket) = match passed {
        Some(listener) => {
            tracing::info!("secretgated ready on the socket passed by the service manager");
            (listener, None)
        }
        None => {
            let listener = server::bind(&socket, mode)?;
            tracing::info!(socket = %socket.display(), "secretgated ready");
            (listener, Some(socket))
        }
    };
    server::serve(listener, live, metrics, &shutdown);
    // Scans past their budget were told to stop; one that has not yet leaves no trace.
    secretgate_scanner::source::git::receive::close_push_views();
    if let Some(socket) = own_socket {
        let _ = std::fs::remove_file(&socket);
    }
    tracing::info!("secretgated stopped");
    Ok(())
}
