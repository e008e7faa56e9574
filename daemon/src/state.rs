//! The configuration in force and its hot reload: a changed file is read and compiled aside;
//! only if that succeeds does it replace the one in force (a broken file is logged and the
//! old configuration stays).

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::{Context, Result};
use secretgate_scanner::server::{config::ServerConfig, serve::ScanState};

/// A configuration read and compiled.
pub struct Loaded {
    /// The file's contents.
    pub config: ServerConfig,
    /// What scans need.
    pub scan: ScanState,
}

impl Loaded {
    /// Reads `path` and compiles every rule (a warm daemon compiles nothing per push).
    pub fn read(path: &Path) -> Result<Self> {
        let config = ServerConfig::read(path)?;
        let scanner = secretgate_scanner::build::build_scanner(&config.scan, None, false, &mut |warning| {
            tracing::warn!("{warning}")
        })
        .with_context(|| format!("{}", path.display()))?;
        scanner.rules().compile_all().with_context(|| format!("{}", path.display()))?;
        let scan = ScanState {
            scanner: Arc::new(scanner),
            allowlist: Arc::new(config.scan.path_allowlist()?),
            settings: config.settings.clone(),
        };
        Ok(Loaded { config, scan })
    }
}

/// The configuration in force, swapped whole on reload.
pub struct Live {
    path: PathBuf,
    current: RwLock<Arc<Loaded>>,
}

impl Live {
    pub fn new(path: PathBuf, loaded: Loaded) -> Self {
        Live { path, current: RwLock::new(Arc::new(loaded)) }
    }

    /// The configuration for one request (a reload does not change it mid-scan).
    pub fn current(&self) -> Arc<Loaded> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Re-reads the file; keeps the old configuration if the new one is broken.
    pub fn reload(&self) {
        match Loaded::read(&self.path) {
            Ok(loaded) => {
                let old_socket = self.current().config.settings.socket.clone();
                if loaded.config.settings.socket != old_socket {
                    tracing::warn!("the socket path changed; it takes effect when secretgated restarts");
                }
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
                tracing::info!(config = %self.path.display(), "configuration reloaded");
            }
            Err(err) => tracing::error!(
                config = %self.path.display(),
                "new configuration refused, the previous one stays in force: {}",
                err.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
            ),
        }
    }
}

/// Watches the configuration file (through its directory, so that editors that replace the
/// file are seen) and reloads on change.
pub fn watch(live: Arc<Live>) -> Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let file = std::fs::canonicalize(&live.path).unwrap_or_else(|_| live.path.clone());
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let name = file.file_name().map(|n| n.to_owned());
    let (send, receive) = std::sync::mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if event.paths.iter().any(|p| p.file_name() == name.as_deref()) && !event.kind.is_access() {
                let _ = send.send(());
            }
        }
    })?;
    watcher.watch(&dir, notify::RecursiveMode::NonRecursive)?;
    std::thread::Builder::new().name("secretgated-reload".into()).spawn(move || {
        while receive.recv().is_ok() {
            // Let the writer finish; fold a burst of events into one reload.
            std::thread::sleep(Duration::from_millis(150));
            while receive.try_recv().is_ok() {}
            live.reload();
        }
    })?;
    Ok(watcher)
}
