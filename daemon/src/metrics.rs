//! Prometheus metrics in the text format, served on a loopback address.

use std::{
    io::{BufRead, BufReader, Read, Seek, SeekFrom, Write},
    net::TcpListener,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::Duration,
};

use anyhow::{bail, Context, Result};
use secretgate_scanner::server::{audit::AuditRecord, protocol::Verdict};

/// Upper bounds of the scan-time histogram's buckets, in seconds.
const BUCKETS: [f64; 9] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The daemon's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    pushes: AtomicU64,
    rejections: AtomicU64,
    bypasses: AtomicU64,
    over_budget: AtomicU64,
    errors: AtomicU64,
    pub bad_requests: AtomicU64,
    bytes_scanned: AtomicU64,
    findings: AtomicU64,
    /// Cumulative counts per bucket, then the +Inf bucket.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Total scan time, in microseconds.
    time_us: AtomicU64,
    /// Pushes the hook handled without the daemon, read from the audit log.
    fallbacks: Mutex<FallbackCount>,
}

/// How many `"mode": "fallback"` records the audit log holds. The hook writes them when the
/// daemon is down or silent, so only the log knows; it is read on from where the last count
/// stopped, and from its start again when it was rotated (a new file, or a shorter one).
#[derive(Debug, Default)]
struct FallbackCount {
    file: Option<(u64, u64)>,
    read_to: u64,
    count: u64,
}

impl FallbackCount {
    fn update(&mut self, log: &Path) -> std::io::Result<u64> {
        let mut file = std::fs::File::open(log)?;
        let meta = file.metadata()?;
        let identity = (meta.dev(), meta.ino());
        if self.file != Some(identity) || meta.len() < self.read_to {
            *self = FallbackCount { file: Some(identity), ..FallbackCount::default() };
        }
        file.seek(SeekFrom::Start(self.read_to))?;
        // Line by line: a first read of a long-kept log must not be held in memory at once.
        let mut reader = BufReader::new(file.take(meta.len() - self.read_to));
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader.read_until(b'\n', &mut line)?;
            // Only whole lines: the last one may still be being written.
            if read == 0 || line.last() != Some(&b'\n') {
                break;
            }
            self.read_to += read as u64;
            let record: Option<serde_json::Value> = serde_json::from_slice(&line).ok();
            if record.is_some_and(|r| r["mode"] == "fallback") {
                self.count += 1;
            }
        }
        Ok(self.count)
    }
}

impl Metrics {
    /// Counts one push.
    pub fn record(&self, audit: &AuditRecord, elapsed: Duration) {
        self.pushes.fetch_add(1, Relaxed);
        if audit.verdict == Verdict::Reject {
            self.rejections.fetch_add(1, Relaxed);
        }
        if audit.bypass.is_some() {
            self.bypasses.fetch_add(1, Relaxed);
        }
        if audit.reason.starts_with("over budget") {
            self.over_budget.fetch_add(1, Relaxed);
        }
        if audit.reason.starts_with("error") {
            self.errors.fetch_add(1, Relaxed);
        }
        self.bytes_scanned.fetch_add(audit.bytes, Relaxed);
        self.findings.fetch_add(audit.findings, Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.iter().position(|&b| seconds <= b).unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.time_us.fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    /// The metrics in Prometheus' text format; fallbacks are counted in `audit_log`.
    pub fn render(&self, audit_log: Option<&Path>) -> String {
        let fallbacks = audit_log.map(|log| {
            let mut count = self.fallbacks.lock().unwrap_or_else(|e| e.into_inner());
            count.update(log).unwrap_or(count.count)
        });
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"));
        };
        counter("secretgate_pushes_total", "Pushes answered.", self.pushes.load(Relaxed));
        counter("secretgate_rejections_total", "Pushes rejected.", self.rejections.load(Relaxed));
        counter(
            "secretgate_bypasses_total",
            "Pushes accepted by a bypass despite findings.",
            self.bypasses.load(Relaxed),
        );
        counter(
            "secretgate_over_budget_total",
            "Pushes not scanned within the budget.",
            self.over_budget.load(Relaxed),
        );
        counter("secretgate_scan_errors_total", "Scans that failed.", self.errors.load(Relaxed));
        counter(
            "secretgate_bad_requests_total",
            "Malformed, oversized or slow requests.",
            self.bad_requests.load(Relaxed),
        );
        counter(
            "secretgate_bytes_scanned_total",
            "Bytes of new blobs scanned.",
            self.bytes_scanned.load(Relaxed),
        );
        counter("secretgate_findings_total", "Secrets found in pushes.", self.findings.load(Relaxed));
        counter(
            "secretgate_fallbacks_total",
            "Pushes the hook handled without the daemon (down or out of time), from the audit log.",
            fallbacks.unwrap_or(0),
        );
        out.push_str("# HELP secretgate_scan_seconds Time to answer a push.\n# TYPE secretgate_scan_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().map(|b| b.to_string()).chain(["+Inf".to_string()]).enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            out.push_str(&format!("secretgate_scan_seconds_bucket{{le=\"{bound}\"}} {cumulative}\n"));
        }
        out.push_str(&format!(
            "secretgate_scan_seconds_sum {}\nsecretgate_scan_seconds_count {cumulative}\n",
            self.time_us.load(Relaxed) as f64 / 1e6
        ));
        out
    }
}

/// Refuses a metrics address that is not a loopback one (what `--check-config` checks too).
pub fn check_address(address: &str) -> Result<()> {
    use std::net::ToSocketAddrs;
    let resolved: Vec<_> = address
        .to_socket_addrs()
        .with_context(|| format!("metrics_address {address} is not an address (host:port)"))?
        .collect();
    if resolved.is_empty() || !resolved.iter().all(|a| a.ip().is_loopback()) {
        bail!("metrics_address {address} is not a loopback address; metrics are served only locally");
    }
    Ok(())
}

/// Serves the metrics over HTTP on `address`, which must be a loopback address;
/// `audit_log` says where the audit log is now (it may change on reload).
pub fn serve(
    address: &str,
    metrics: Arc<Metrics>,
    audit_log: impl Fn() -> Option<PathBuf> + Send + 'static,
) -> Result<()> {
    check_address(address)?;
    let listener =
        TcpListener::bind(address).with_context(|| format!("cannot serve metrics on {address}"))?;
    std::thread::Builder::new().name("secretgated-metrics".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let body = metrics.render(audit_log().as_deref());
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    })?;
    Ok(())
}
