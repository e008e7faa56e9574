//! `secretgate pre-receive`: the server-side hook. It sends the push to `secretgated` and
//! turns the verdict into git's behaviour (exit 0 accepts, 1 rejects; what it prints reaches
//! the pusher as `remote:` lines). When the daemon cannot answer, the server config's fallback
//! applies: scan in this process (default), reject, or accept; the hook says which it did.

use std::{
    io::{Read, Write},
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use secretgate_scanner::{
    server::{
        config::{Fallback, ServerConfig},
        protocol::{self, Request, Response, Verdict, VERSION},
        serve::{self, ScanState},
        verdict::{decide, Decision, Outcome},
    },
    source::git::receive::{parse_pre_receive, Quarantine},
};

use crate::{cli::PreReceiveArgs, ExitStatus};

/// Extra time the hook waits past the scan budget for the daemon's answer to arrive.
const ANSWER_GRACE: Duration = Duration::from_millis(500);

/// The share of the budget after which a daemon that took the push but has not answered may
/// be stuck (stopped, deadlocked): with `fallback = "scan"` the hook then starts its own scan
/// beside it and takes whichever verdict comes first, so that a stuck daemon does not spend
/// the whole budget and leave the fallback none. Late rather than early: a daemon that is
/// only busy (pushes queued for its scan slots) answers first, and few hooks duplicate its
/// work; the third left is seconds, and a typical push scans in milliseconds.
const HEDGE_AFTER: f64 = 2.0 / 3.0;

pub fn run(args: PreReceiveArgs) -> Result<ExitStatus> {
    let status = decide_push(args);
    // A scan may still run on a thread left behind (the daemon answered first, or it ran
    // past the budget); the process exits without dropping its view of the push.
    secretgate_scanner::source::git::receive::close_push_views();
    status
}

fn decide_push(args: PreReceiveArgs) -> Result<ExitStatus> {
    let started = Instant::now();
    let config_path =
        args.config.clone().or_else(|| std::env::var_os("SECRETGATE_CONFIG").map(PathBuf::from));
    let config = match &config_path {
        Some(path) => ServerConfig::read(path)?,
        None => ServerConfig::default_config(),
    };
    let socket = args
        .socket
        .clone()
        .or_else(|| std::env::var_os("SECRETGATE_SOCKET").filter(|s| !s.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| config.settings.socket.clone());

    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read git's pre-receive input")?;
    let request = Request {
        version: VERSION,
        repo: repository_dir()?,
        quarantine: absolute_quarantine(Quarantine::from_env()),
        updates: parse_pre_receive(&input)?,
        push_options: push_options(),
        pusher: pusher(),
    };

    let budget = Duration::from_millis(config.settings.budget.timeout_ms);
    let mut decision = match ask_daemon_hedged(&config, &socket, &request, budget, started)? {
        Answer::Daemon(response) => return Ok(report(&response)),
        Answer::Fallback(decision) => *decision,
    };
    if let Some(log) = &config.settings.audit_log {
        if let Err(err) = decision.audit_to(log) {
            eprintln!("secretgate: warning: cannot write the audit log {}: {err}", log.display());
        }
    }
    Ok(report(&decision.response))
}

/// Who gave the verdict.
enum Answer {
    /// The daemon (which audited the push itself).
    Daemon(Response),
    /// This process, by the fallback policy.
    Fallback(Box<Decision>),
}

/// What the waiting thread hears: the daemon's answer, or the hook's own verdict.
enum Heard {
    Daemon(Result<Response, String>),
    Own(Result<Box<Decision>>),
}

/// Asks the daemon, and falls back when it cannot answer. When the fallback is to scan and
/// the daemon has said nothing by [`HEDGE_AFTER`] of the budget, the hook's own scan starts
/// beside the wait (the first verdict wins), so a stuck daemon costs two thirds of the
/// budget, not all of it. A daemon that refuses the connection or errs is not waited for
/// at all. Each runs on a thread of its own; the one that loses is left behind (the process
/// exits).
fn ask_daemon_hedged(
    config: &ServerConfig,
    socket: &Path,
    request: &Request,
    budget: Duration,
    started: Instant,
) -> Result<Answer> {
    use std::sync::mpsc::{self, RecvTimeoutError};
    let (send, heard) = mpsc::channel::<Heard>();
    let (to_daemon, owned_socket, owned_request) = (send.clone(), socket.to_path_buf(), request.clone());
    std::thread::Builder::new()
        .name("secretgate-ask".into())
        .spawn(move || {
            let answer = ask_daemon(&owned_socket, &owned_request, budget + ANSWER_GRACE);
            let _ = to_daemon.send(Heard::Daemon(answer));
        })
        .context("cannot start a thread to ask the daemon")?;
    let hedging = config.settings.fallback == Fallback::Scan;
    let hedge = if hedging { budget.mul_f64(HEDGE_AFTER) } else { budget + ANSWER_GRACE * 2 };
    let why = match heard.recv_timeout(hedge.saturating_sub(started.elapsed())) {
        Ok(Heard::Daemon(Ok(response))) => return Ok(Answer::Daemon(response)),
        Ok(Heard::Daemon(Err(why))) => why,
        Ok(Heard::Own(_)) | Err(RecvTimeoutError::Disconnected) => "the daemon gave no verdict".into(),
        Err(RecvTimeoutError::Timeout) if !hedging => {
            format!("no answer within {} ms", (budget + ANSWER_GRACE).as_millis())
        }
        Err(RecvTimeoutError::Timeout) => {
            let why = format!("no answer after {} ms", started.elapsed().as_millis());
            let (config, request) = (config.clone(), request.clone());
            std::thread::Builder::new()
                .name("secretgate-fallback".into())
                .spawn(move || {
                    let _ = send.send(Heard::Own(fall_back(&config, &request, &why, started).map(Box::new)));
                })
                .context("cannot start the hook's own scan")?;
            // The first verdict stands; a daemon that fails now leaves it to ours.
            loop {
                match heard.recv() {
                    Ok(Heard::Daemon(Ok(response))) => return Ok(Answer::Daemon(response)),
                    Ok(Heard::Daemon(Err(_))) => continue,
                    Ok(Heard::Own(decision)) => return Ok(Answer::Fallback(decision?)),
                    Err(_) => anyhow::bail!("the hook's own scan stopped without a verdict"),
                }
            }
        }
    };
    Ok(Answer::Fallback(Box::new(fall_back(config, request, &why, started)?)))
}

/// Sends the request and waits for the verdict, at most `wait`.
fn ask_daemon(socket: &Path, request: &Request, wait: Duration) -> Result<Response, String> {
    let mut stream = UnixStream::connect(socket)
        .map_err(|err| format!("cannot connect to {}: {err}", socket.display()))?;
    stream
        .set_write_timeout(Some(wait))
        .and_then(|()| stream.set_read_timeout(Some(wait)))
        .map_err(|e| e.to_string())?;
    protocol::write_message(&mut stream, request).map_err(|err| err.to_string())?;
    let response: Response = protocol::read_message(&mut stream).map_err(|err| match err {
        protocol::ProtocolError::Io(io)
            if matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
        {
            format!("no answer within {} ms", wait.as_millis())
        }
        other => other.to_string(),
    })?;
    match (response.verdict, &response.error) {
        (Some(_), _) => Ok(response),
        (None, Some(error)) => Err(format!("the daemon could not scan the push: {error}")),
        (None, None) => Err("the daemon gave no verdict".into()),
    }
}

/// The server's fallback policy, applied and said.
fn fall_back(config: &ServerConfig, request: &Request, why: &str, started: Instant) -> Result<Decision> {
    let settings = &config.settings;
    Ok(match settings.fallback {
        Fallback::Scan => {
            eprintln!(
                "secretgate: the scanning daemon did not answer ({why}); scanning in the hook instead."
            );
            let scanner = secretgate_scanner::build::build_scanner(&config.scan, None, false, &mut |w| {
                eprintln!("secretgate: warning: {w}")
            })?;
            let state = ScanState {
                scanner: Arc::new(scanner),
                allowlist: Arc::new(config.scan.path_allowlist()?),
                settings: settings.clone(),
            };
            serve::handle(request, &state, "fallback", started)
        }
        Fallback::Reject => {
            let mut decision = decide(
                settings,
                request,
                Outcome::Failed(format!("the scanning daemon did not answer ({why})")),
                "fallback",
                0,
            );
            decision
                .response
                .message
                .push("secretgate: the server's policy rejects pushes it cannot scan.".into());
            decision
        }
        Fallback::Accept => decide(
            settings,
            request,
            Outcome::Unscanned(format!("the scanning daemon did not answer ({why})")),
            "fallback",
            started.elapsed().as_millis() as u64,
        ),
    })
}

/// Prints the verdict's lines (git shows them to the pusher) and maps it to an exit code.
fn report(response: &Response) -> ExitStatus {
    let mut stderr = std::io::stderr().lock();
    for line in &response.message {
        let _ = writeln!(stderr, "{line}");
    }
    match response.verdict {
        Some(Verdict::Accept) => ExitStatus::Clean,
        _ => ExitStatus::Findings,
    }
}

/// The repository's git directory: `$GIT_DIR` (git sets `.` in a bare repository's hooks),
/// made absolute.
fn repository_dir() -> Result<PathBuf> {
    let dir = std::env::var_os("GIT_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    std::fs::canonicalize(&dir).with_context(|| format!("cannot find the repository at {}", dir.display()))
}

fn absolute_quarantine(quarantine: Quarantine) -> Quarantine {
    let absolute = |p: PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
    Quarantine {
        objects: quarantine.objects.map(absolute),
        alternates: quarantine.alternates.into_iter().map(absolute).collect(),
    }
}

/// `git push -o` options: `GIT_PUSH_OPTION_COUNT` and `GIT_PUSH_OPTION_<n>`.
fn push_options() -> Vec<String> {
    let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT").ok().and_then(|c| c.parse().ok()).unwrap_or(0);
    (0..count.min(1000)).filter_map(|n| std::env::var(format!("GIT_PUSH_OPTION_{n}")).ok()).collect()
}

/// Who pushes, from what GitLab, Gitea/Forgejo, an HTTP server or ssh set.
fn pusher() -> Option<String> {
    ["GL_USERNAME", "GITEA_PUSHER_NAME", "REMOTE_USER", "USER"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}
