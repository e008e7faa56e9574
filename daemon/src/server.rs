//! The socket: binding it privately, accepting connections, and serving each request on a
//! thread of its own within the concurrency bound.

use std::{
    os::unix::{fs::PermissionsExt, net::UnixListener, net::UnixStream},
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Condvar, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use secretgate_scanner::server::{
    protocol::{self, Response},
    serve,
    verdict::{decide, Outcome},
};

use crate::{metrics::Metrics, state::Live};

/// How long a client has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Refuses a socket path that something other than a socket holds: only a socket is ours to
/// replace, and a config that names a file by mistake must not cost that file.
pub fn check_socket_path(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(found) if !found.file_type().is_socket() => {
            bail!("{} exists and is not a socket; choose another `socket` path", path.display())
        }
        _ => Ok(()),
    }
}

/// Binds the socket with permission bits `mode`. A stale socket (no daemon behind it) is
/// replaced; a live one is an error.
pub fn bind(path: &Path, mode: u32) -> Result<UnixListener> {
    check_socket_path(path)?;
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            bail!("another daemon is listening on {}", path.display());
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    Ok(listener)
}

/// A counting semaphore: at most `max` scans at once.
struct Slots {
    busy: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    /// Takes a slot, waiting until `deadline`; `false` if none came free in time.
    fn acquire(&self, max: usize, deadline: Instant) -> bool {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= max {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            busy = self.freed.wait_timeout(busy, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        *busy += 1;
        true
    }

    fn release(&self) {
        *self.busy.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.freed.notify_one();
    }
}

/// Sleeps until a connection is waiting, or 200 ms at most so that a shutdown is noticed:
/// an idle daemon wakes five times a second, and a push is accepted at once.
fn wait_for_connection(listener: &UnixListener) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(listener, PollFlags::IN)];
    let timeout = Timespec { tv_sec: 0, tv_nsec: 200_000_000 };
    if poll(&mut fds, Some(&timeout)).is_err() {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Accepts connections until `shutdown` is set, then waits for the requests in flight.
pub fn serve(listener: UnixListener, live: Arc<Live>, metrics: Arc<Metrics>, shutdown: &AtomicBool) {
    let slots = Arc::new(Slots { busy: Mutex::new(0), freed: Condvar::new() });
    let in_flight = Arc::new(AtomicUsize::new(0));
    if let Err(err) = listener.set_nonblocking(true) {
        tracing::error!("cannot poll the socket: {err}");
        return;
    }
    while !shutdown.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                in_flight.fetch_add(1, Ordering::SeqCst);
                let (live, metrics, slots, counter) =
                    (Arc::clone(&live), Arc::clone(&metrics), Arc::clone(&slots), Arc::clone(&in_flight));
                let spawned =
                    std::thread::Builder::new().name("secretgated-request".into()).spawn(move || {
                        handle(stream, &live, &metrics, &slots);
                        counter.fetch_sub(1, Ordering::SeqCst);
                    });
                if let Err(err) = spawned {
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    tracing::error!("cannot start a request thread: {err}");
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => wait_for_connection(&listener),
            Err(err) => {
                tracing::warn!("accept failed: {err}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    tracing::info!(
        in_flight = in_flight.load(Ordering::SeqCst),
        "shutting down: finishing the scans in flight"
    );
    while in_flight.load(Ordering::SeqCst) > 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Serves one connection: read the request, scan within budget, audit, answer.
fn handle(mut stream: UnixStream, live: &Live, metrics: &Metrics, slots: &Slots) {
    let started = Instant::now();
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    let _ = stream.set_write_timeout(Some(REQUEST_TIMEOUT));
    let request = match protocol::read_request(&mut stream) {
        Ok(request) => request,
        Err(err) => {
            metrics.bad_requests.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("bad request: {err}");
            let _ = protocol::write_message(&mut stream, &Response::error(format!("bad request: {err}")));
            return;
        }
    };
    let loaded = live.current();
    let settings = &loaded.config.settings;
    let deadline = started + Duration::from_millis(settings.budget.timeout_ms);
    let slot = slots.acquire(settings.budget.max_concurrent_scans, deadline);
    let (mut decision, scan_thread) = if slot {
        serve::handle_scan(&request, &loaded.scan, "daemon", started)
    } else {
        let why = format!("{} scans were already running", settings.budget.max_concurrent_scans);
        let elapsed = started.elapsed().as_millis() as u64;
        (decide(settings, &request, Outcome::OverBudget(why), "daemon", elapsed), None)
    };
    metrics.record(&decision.audit, started.elapsed());
    if let Some(log) = &settings.audit_log {
        if let Err(err) = decision.audit_to(log) {
            tracing::error!(audit_log = %log.display(), "cannot write the audit log: {err}");
        }
    }
    tracing::info!(
        repo = %decision.audit.repo,
        pusher = decision.audit.pusher.as_deref().unwrap_or("-"),
        verdict = ?decision.audit.verdict,
        reason = %decision.audit.reason,
        commits = decision.audit.commits,
        findings = decision.audit.findings,
        ms = decision.audit.duration_ms,
        "push"
    );
    if let Err(err) = protocol::write_message(&mut stream, &decision.response) {
        tracing::warn!("cannot answer the hook: {err}");
    }
    drop(stream);
    // A scan past its budget was told to stop; its slot is free only once it has.
    if let Some(scan) = scan_thread {
        let _ = scan.join();
    }
    if slot {
        slots.release();
    }
}
