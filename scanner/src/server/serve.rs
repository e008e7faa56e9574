//! Serving one push request within its time budget: the daemon's work, and the hook's when
//! it falls back to scanning in its own process.

use std::{
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};

use super::{
    config::ServerSettings,
    protocol::Request,
    verdict::{decide, Decision, Outcome},
};
use crate::{
    source::git::{
        history::Progress,
        receive::{open_push, scan_push},
    },
    suppress::allowlist::PathAllowlist,
    Scanner,
};

/// What a scan needs: the compiled rules, the path allowlist and the server settings.
#[derive(Debug, Clone)]
pub struct ScanState {
    /// The engine, shared by concurrent scans.
    pub scanner: Arc<Scanner>,
    /// Paths never reported.
    pub allowlist: Arc<PathAllowlist>,
    /// Budget, bypass and fallback settings.
    pub settings: ServerSettings,
}

/// Scans the push `request` describes and decides on it. The scan runs on its own thread; if
/// it does not finish within the budget (counted from `started`), the over-budget policy
/// decides instead. `mode` names who scans in the audit record.
pub fn handle(request: &Request, state: &ScanState, mode: &str, started: Instant) -> Decision {
    handle_scan(request, state, mode, started).0
}

/// [`handle`], and the scan's thread: one past its budget was told to stop, and stops at its
/// next object. The daemon answers, then waits for it before giving its slot to another
/// push, so that pushes over budget cannot run more scans than `max_concurrent_scans`.
pub fn handle_scan(
    request: &Request,
    state: &ScanState,
    mode: &str,
    started: Instant,
) -> (Decision, Option<std::thread::JoinHandle<()>>) {
    let budget = Duration::from_millis(state.settings.budget.timeout_ms);
    let (send, receive) = mpsc::channel();
    let (scanner, allowlist, owned) =
        (Arc::clone(&state.scanner), Arc::clone(&state.allowlist), request.clone());
    let threads = state.settings.scan_threads();
    let progress = Arc::new(Progress::default());
    let scan_progress = Arc::clone(&progress);
    let spawned = std::thread::Builder::new().name("secretgate-scan".into()).spawn(move || {
        let result = open_push(&owned.repo, &owned.quarantine)
            .and_then(|view| scan_push(&view, &owned.updates, &scanner, &allowlist, threads, &scan_progress));
        let _ = send.send(result);
    });
    let scan_thread = match spawned {
        Ok(thread) => thread,
        Err(err) => {
            let outcome = Outcome::Failed(format!("cannot start a scan thread: {err}"));
            return (
                decide(&state.settings, request, outcome, mode, started.elapsed().as_millis() as u64),
                None,
            );
        }
    };
    let outcome = match receive.recv_timeout(budget.saturating_sub(started.elapsed())) {
        Ok(Ok(scan)) if scan.summary.bytes > state.settings.budget.max_push_bytes => {
            Outcome::OverBudget(format!(
                "it brings {} bytes of new content, more than the limit of {}",
                scan.summary.bytes, state.settings.budget.max_push_bytes
            ))
        }
        Ok(Ok(scan)) => Outcome::Scanned(scan),
        Ok(Err(err)) => Outcome::Failed(err.to_string()),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Stop the scan: its verdict no longer counts, and its cores serve other pushes.
            progress.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            Outcome::OverBudget(format!("the scan did not finish within {} ms", budget.as_millis()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Outcome::Failed("the scan stopped unexpectedly".into()),
    };
    (decide(&state.settings, request, outcome, mode, started.elapsed().as_millis() as u64), Some(scan_thread))
}
