//! End-to-end tests of the server side: real `git push` to real bare repositories whose
//! `pre-receive` hook is `secretgate pre-receive`, with the real `secretgated` on a real socket.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use common::git::{git_command, stripe_key, Repo};

/// A bare server repository with the hook installed, its config, and (when started) the daemon.
struct Server {
    dir: tempfile::TempDir,
    daemon: Option<Child>,
}

impl Server {
    fn new(extra_config: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let server = Server { dir, daemon: None };
        let out = git_command(server.dir.path(), server.dir.path())
            .args(["init", "-q", "--bare", "-b", "main", "server.git"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let out = git_command(&server.repo(), server.dir.path())
            .args(["config", "receive.advertisePushOptions", "true"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let hook = server.repo().join("hooks/pre-receive");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\nTMPDIR='{}' exec '{}' pre-receive --config '{}'\n",
                server.tmp().display(),
                common::secretgate_bin().display(),
                server.config_path().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::create_dir(server.tmp()).unwrap();
        server.write_config(extra_config);
        server
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("server.git")
    }
    fn socket(&self) -> PathBuf {
        self.dir.path().join("sg.sock")
    }
    fn audit_log(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }
    fn config_path(&self) -> PathBuf {
        self.dir.path().join("server.toml")
    }
    /// The hook's and the daemon's temporary directory.
    fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }
    /// What the hook and the daemon left in their temporary directory.
    fn tmp_left(&self) -> Vec<String> {
        let entries = std::fs::read_dir(self.tmp()).unwrap();
        entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }

    fn write_config(&self, extra: &str) {
        let text = format!(
            "socket = \"{}\"\naudit_log = \"{}\"\n{extra}\n",
            self.socket().display(),
            self.audit_log().display()
        );
        // Write aside and rename: the daemon never reads a half-written file.
        let aside = self.dir.path().join("server.toml.new");
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(aside, self.config_path()).unwrap();
    }

    /// Starts the daemon and waits until its socket exists (it is then ready).
    fn start(&mut self) {
        let mut daemon = Command::new(common::secretgated_bin());
        daemon.arg("--config").arg(self.config_path());
        self.launch(daemon, |server| server.socket().exists());
    }

    /// Runs `command` (the daemon, or what starts it) with its stderr in `daemon.log`, and
    /// waits until `ready`.
    fn launch(&mut self, mut command: Command, ready: impl Fn(&Server) -> bool) {
        let log = std::fs::File::create(self.dir.path().join("daemon.log")).unwrap();
        let child = command
            .env_remove("SECRETGATE_SOCKET")
            .env("TMPDIR", self.tmp())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.daemon = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready(self) {
            assert!(Instant::now() < deadline, "the daemon did not start: {}", self.daemon_log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the daemon gracefully (SIGTERM) and waits for it.
    fn stop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let status = child.wait().unwrap();
            assert!(status.success(), "the daemon exited with {status}: {}", self.daemon_log());
        }
    }

    fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.audit_log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn rev(&self, name: &str) -> Option<String> {
        let out = git_command(&self.repo(), self.dir.path())
            .args(["rev-parse", "--verify", "-q", name])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A client repository whose `origin` is this server.
    fn client(&self) -> Repo {
        let repo = Repo::init();
        repo.git(&["remote", "add", "origin", self.repo().to_str().unwrap()]);
        repo
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn push(repo: &Repo, args: &[&str]) -> Output {
    let mut all = vec!["push", "origin"];
    all.extend(args);
    repo.git_output(&all)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn rejects_secrets_accepts_clean_pushes_and_handles_every_kind_of_ref_update() {
    let mut server = Server::new("");
    server.start();
    let client = server.client();
    client.write("README.md", "# demo\n");
    let clean = client.commit_all("clean");
    let out = push(&client, &["main"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let key = stripe_key();
    client.write("deploy/creds.env", &format!("A=1\nSTRIPE_KEY={key}\n"));
    let bad = client.commit_all("creds");
    let out = push(&client, &["main"]);
    assert!(!out.status.success(), "the secret was accepted");
    let text = stderr(&out);
    assert!(text.contains("remote: secretgate: push rejected: 1 secret"), "{text}");
    assert!(text.contains("deploy/creds.env:2") && text.contains("stripe-live-secret-key"), "{text}");
    assert!(text.contains(&bad[..12]), "commit not named: {text}");
    assert!(!text.contains(&key), "the secret was shown in full");
    assert_eq!(server.rev("refs/heads/main").as_deref(), Some(clean.as_str()), "the ref moved");

    // The same commits on a new branch: rejected too. A branch, a tag and an annotated tag
    // over accepted history: accepted. Deleting a branch: accepted.
    assert!(!push(&client, &["main:refs/heads/other"]).status.success());
    assert!(push(&client, &[&format!("{clean}:refs/heads/topic")]).status.success());
    client.git(&["tag", "-a", "-m", "v1", "v1", &clean]);
    assert!(push(&client, &["v1"]).status.success());
    assert!(push(&client, &[":refs/heads/topic"]).status.success());
    assert_eq!(server.rev("refs/heads/topic"), None);
    // A tag of the secret commit carries the secret in.
    client.git(&["tag", "v2", &bad]);
    assert!(!push(&client, &["v2"]).status.success());
    // So does a tag of a bare blob or tree that no commit holds; a tag of a tree the server
    // already has brings nothing new.
    let (blob, tree) =
        client.uncommitted_objects("deploy/prod.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    client.git(&["tag", "keyblob", &blob]);
    let out = push(&client, &["keyblob"]);
    assert!(!out.status.success(), "a blob tag carried a secret in");
    assert!(stderr(&out).contains("refs/tags/keyblob:1"), "{}", stderr(&out));
    client.git(&["tag", "-a", "-m", "snapshot", "snapshot", &tree]);
    let out = push(&client, &["snapshot"]);
    assert!(!out.status.success(), "a tree tag carried a secret in");
    assert!(stderr(&out).contains("refs/tags/snapshot:deploy/prod.env:1"), "{}", stderr(&out));
    client.git(&["tag", "-a", "-m", "old tree", "oldtree", &format!("{clean}^{{tree}}")]);
    let out = push(&client, &["oldtree"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // History rewritten without the secret: the force push scans the new commits only.
    client.git(&["reset", "-q", "--hard", &clean]);
    client.write("deploy/creds.env", "A=1\nSTRIPE_KEY=${STRIPE_KEY}\n");
    let fixed = client.commit_all("creds from the environment");
    let out = push(&client, &["--force", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.rev("refs/heads/main").as_deref(), Some(fixed.as_str()));

    // The audit log has a line per push, fingerprints, and never the secret.
    let audit = server.audit();
    assert!(audit.len() >= 7, "{audit:?}");
    let rejected: Vec<_> = audit.iter().filter(|a| a["verdict"] == "reject").collect();
    assert_eq!(rejected.len(), 5, "{audit:?}");
    assert!(rejected[0]["fingerprints"][0]
        .as_str()
        .unwrap()
        .starts_with("deploy/creds.env:stripe-live-secret-key:"));
    assert_eq!(rejected[0]["mode"], "daemon");
    assert!(!std::fs::read_to_string(server.audit_log()).unwrap().contains(&key));
    server.stop();
    assert!(!server.socket().exists(), "the socket was left behind");
}

/// A force-pushed rebase re-adds, against the new base, what the branch held on the server
/// before (here a secret from before secretgate was installed): accepted; a secret new to
/// the server is still rejected.
#[test]
fn a_force_pushed_rebase_is_judged_by_what_the_branch_did_not_hold() {
    let mut server = Server::new("");
    server.start();
    let client = server.client();
    client.write("app.txt", "one\n");
    client.commit_all("base");
    assert!(push(&client, &["main"]).status.success());
    client.git(&["checkout", "-q", "-b", "feat"]);
    client.write("legacy.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    client.commit_all("from before secretgate");
    // Onto the server without its hook, as history from before the hook was installed.
    let out = common::git::git_command(&server.repo(), &client.home)
        .args(["fetch", "-q", client.dir.to_str().unwrap(), "feat:refs/heads/feat"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    client.git(&["checkout", "-q", "main"]);
    client.write("app.txt", "one\ntwo\n");
    client.commit_all("main moves on");
    assert!(push(&client, &["main"]).status.success());
    client.git(&["checkout", "-q", "feat"]);
    client.git(&["rebase", "-q", "main"]);
    let out = push(&client, &["--force", "feat"]);
    assert!(out.status.success(), "a rebase of what the branch held was rejected: {}", stderr(&out));

    client.write("new.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    client.commit_all("a new secret");
    let out = push(&client, &["--force", "feat"]);
    assert!(!out.status.success(), "a new secret was accepted");
    assert!(stderr(&out).contains("new.env:1") && !stderr(&out).contains("legacy.env"), "{}", stderr(&out));
}

/// The server reads the pushed tip's `.secretgateignore`, as the rejection message advises.
#[test]
fn a_committed_ignore_entry_lets_a_reviewed_false_positive_in() {
    let mut server = Server::new("");
    server.start();
    let client = server.client();
    client.write("fixtures/fake.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("fixture");
    assert!(!push(&client, &["main"]).status.success());
    let out = client.secretgate(&["git", "--format", "json"]);
    let print = common::git::findings(&out.stdout)[0]["fingerprint"].as_str().unwrap().to_string();
    client.write(".secretgateignore", &format!("# reviewed: a test fixture\n{print}\n"));
    client.commit_all("ignore the fixture");
    let out = push(&client, &["main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let last = server.audit().pop().unwrap();
    assert_eq!(
        (last["verdict"].as_str(), last["suppressed_by_repository"].as_u64()),
        (Some("accept"), Some(1))
    );
}

#[test]
fn bypass_only_where_allowed_and_always_audited_and_config_reloads() {
    let mut server = Server::new("[bypass]\nallowed = false\n");
    server.start();
    let client = server.client();
    client.write("a.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("secret");
    let out = push(&client, &["-o", "secretgate.bypass=test fixture", "main"]);
    assert!(!out.status.success(), "bypassed where not allowed");
    assert!(stderr(&out).contains("bypasses are not allowed"), "{}", stderr(&out));
    // The attempt is audited.
    let last = server.audit().pop().unwrap();
    assert_eq!(
        (last["verdict"].as_str(), last["bypass_refused"].as_str()),
        (Some("reject"), Some("test fixture"))
    );

    // A broken config is refused and the old one stays in force.
    std::fs::write(server.config_path(), "socket = [not toml").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(!push(&client, &["-o", "secretgate.bypass=test fixture", "main"]).status.success());
    assert!(server.daemon_log().contains("refused"), "{}", server.daemon_log());

    // Allowed now (hot reload): the bypass needs a reason, and is audited with it.
    server.write_config("[bypass]\nallowed = true\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.daemon_log().contains("configuration reloaded") {
        assert!(Instant::now() < deadline, "no reload: {}", server.daemon_log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = push(&client, &["-o", "secretgate.bypass=", "main"]);
    assert!(!out.status.success(), "a bypass without a reason was granted");
    let out = push(&client, &["-o", "secretgate.bypass=test fixture", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ACCEPTED by bypass"), "{}", stderr(&out));
    let audit = server.audit();
    let last = audit.last().unwrap();
    assert_eq!((last["verdict"].as_str(), last["bypass"].as_str()), (Some("accept"), Some("test fixture")));
}

#[test]
fn fallback_policies_apply_when_the_daemon_is_down_and_no_verdict_is_lost_across_a_restart() {
    let mut server = Server::new("");
    let client = server.client();
    client.write("a.txt", "hello\n");
    client.commit_all("clean");
    client.write("b.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("secret");

    // Default fallback: scan in the hook.
    let out = push(&client, &["main"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("scanning in the hook instead"), "{}", stderr(&out));
    assert_eq!(server.audit().last().unwrap()["mode"], "fallback");

    // Restarted: the daemon gives the same verdict; stopped again: the fallback does.
    server.start();
    assert!(!push(&client, &["main"]).status.success());
    assert_eq!(server.audit().last().unwrap()["mode"], "daemon");
    server.stop();
    assert!(!push(&client, &["main"]).status.success());

    // `reject` refuses even a clean push; `accept` lets a secret in, saying so.
    server.write_config("fallback = \"reject\"\n");
    assert!(!push(&client, &["main~1:refs/heads/main"]).status.success());
    server.write_config("fallback = \"accept\"\n");
    let out = push(&client, &["main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ACCEPTED UNSCANNED"), "{}", stderr(&out));
}

/// A daemon that takes the connection but never answers (stopped, deadlocked) costs two
/// thirds of the budget: the hook's own scan then runs and its verdict stands, within the budget.
#[test]
fn a_stuck_daemon_leaves_the_fallback_scan_its_share_of_the_budget() {
    let mut server = Server::new("[budget]\ntimeout_ms = 3000\n");
    server.start();
    let pid = server.daemon.as_ref().unwrap().id().to_string();
    let signal = |name: &str| assert!(Command::new("kill").args([name, &pid]).status().unwrap().success());
    signal("-STOP");
    let client = server.client();
    client.write("a.txt", "hello\n");
    client.commit_all("clean");
    let begun = Instant::now();
    let out = push(&client, &["main"]);
    let took = begun.elapsed();
    assert!(out.status.success(), "a clean push was refused: {}", stderr(&out));
    assert!(stderr(&out).contains("scanning in the hook instead"), "{}", stderr(&out));
    assert!(took < Duration::from_millis(3000), "the push waited {took:?}");
    client.write("b.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("secret");
    let out = push(&client, &["main"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("b.env:1"), "{}", stderr(&out));
    assert_eq!(server.audit().last().unwrap()["mode"], "fallback");
    signal("-CONT");
    server.stop();
}

/// A hook that exits while its scan still runs (past the budget here; or the daemon answered
/// first) leaves no temporary object directory behind: a thread left running never drops it.
#[test]
fn a_scan_past_its_budget_is_refused_and_leaves_no_temporary_directory() {
    let server = Server::new("[budget]\ntimeout_ms = 1\n");
    let client = server.client();
    for n in 0..20 {
        client.write(&format!("f{n}.txt"), &"some text that takes a while to scan\n".repeat(2000));
        client.commit_all(&format!("commit {n}"));
    }
    let out = push(&client, &["main"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("within the server's budget"), "{}", stderr(&out));
    assert_eq!(server.tmp_left(), Vec::<String>::new());

    // Under budget, the daemon and the hook clean up after every push.
    let mut server = Server::new("");
    server.start();
    let client = server.client();
    client.write("a.txt", "hello\n");
    client.commit_all("clean");
    assert!(push(&client, &["main"]).status.success());
    server.stop();
    assert_eq!(server.tmp_left(), Vec::<String>::new());
}

#[test]
fn fifty_concurrent_pushes_each_get_their_verdict() {
    let mut server = Server::new("[budget]\ntimeout_ms = 20000\n");
    server.start();
    let base = server.client();
    base.write("README.md", "base\n");
    base.commit_all("base");
    assert!(push(&base, &["main"]).status.success());
    let clients: Vec<(Repo, bool)> = (0..50)
        .map(|i| {
            let client = server.client();
            client.git(&["fetch", "-q", "origin"]);
            client.git(&["checkout", "-q", "-b", &format!("b{i}"), "origin/main"]);
            let secret = i % 2 == 0;
            let content = if secret { format!("STRIPE={}\n", stripe_key()) } else { format!("n={i}\n") };
            client.write(&format!("f{i}.env"), &content);
            client.commit_all("change");
            (client, secret)
        })
        .collect();
    let results: Vec<(bool, bool, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(i, (client, secret))| {
                scope.spawn(move || {
                    let out = push(client, &[&format!("b{i}")]);
                    (*secret, out.status.success(), stderr(&out))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, (secret, accepted, text)) in results.iter().enumerate() {
        assert_eq!(*accepted, !secret, "push {i}: {text}");
        assert!(!text.contains("did not answer"), "push {i} fell back: {text}");
    }
    assert_eq!(server.audit().len(), 51);
}

#[test]
fn malformed_oversized_and_slow_requests_leave_the_daemon_serving() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let mut server = Server::new("");
    server.start();
    let answer = |bytes: &[u8]| -> String {
        let mut stream = UnixStream::connect(server.socket()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = stream.write_all(bytes);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    let frame = |body: &[u8]| [&(body.len() as u32).to_be_bytes()[..], body].concat();
    assert!(answer(&frame(b"{not json")).contains("bad request"));
    assert!(answer(&frame(b"{\"version\":99,\"repo\":\"/x\",\"quarantine\":{},\"updates\":[]}"))
        .contains("version"));
    assert!(answer(&u32::MAX.to_be_bytes()).contains("larger than the limit"));
    assert!(answer(&frame(br#"{"version":1,"repo":"/nonexistent","quarantine":{"objects":null,"alternates":[]},"updates":[{"old":"0000000000000000000000000000000000000000","new":"1111111111111111111111111111111111111111","name":"refs/heads/x"}]}"#)).contains("reject"));
    // Random garbage, and a client that connects and says nothing.
    let mut seed = 0x2545F4914F6CDD1Du64;
    for _ in 0..50 {
        let bytes: Vec<u8> = (0..64)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        answer(&bytes);
    }
    let _idle = UnixStream::connect(server.socket()).unwrap();

    let client = server.client();
    client.write("x.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("secret");
    let out = push(&client, &["main"]);
    assert!(!out.status.success());
    assert!(!stderr(&out).contains("did not answer"), "{}", stderr(&out));
}

#[test]
fn metrics_and_check_config() {
    let port = 20000 + (std::process::id() % 20000) as u16;
    let mut server = Server::new(&format!("metrics_address = \"127.0.0.1:{port}\"\n"));
    server.start();
    let client = server.client();
    client.write("a.txt", "hi\n");
    client.commit_all("clean");
    assert!(push(&client, &["main"]).status.success());
    let body = http_get(&format!("127.0.0.1:{port}"));
    assert!(body.contains("secretgate_pushes_total 1"), "{body}");
    assert!(body.contains("secretgate_scan_seconds_bucket{le=\"+Inf\"} 1"), "{body}");
    assert!(body.contains("secretgate_fallbacks_total 0"), "{body}");

    // A push while the daemon is down is scanned by the hook; the restarted daemon counts it
    // from the audit log.
    server.stop();
    client.write("b.txt", "still clean\n");
    client.commit_all("clean again");
    assert!(push(&client, &["main"]).status.success());
    server.start();
    let body = http_get(&format!("127.0.0.1:{port}"));
    assert!(body.contains("secretgate_pushes_total 0"), "{body}");
    assert!(body.contains("secretgate_fallbacks_total 1"), "{body}");

    let check = |path: &Path| {
        Command::new(common::secretgated_bin())
            .arg("--config")
            .arg(path)
            .arg("--check-config")
            .output()
            .unwrap()
    };
    assert_eq!(check(&server.config_path()).status.code(), Some(0));
    let bad = server.dir.path().join("bad.toml");
    std::fs::write(&bad, "[bypass]\nallowd = true\n").unwrap();
    let out = check(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("allowd"), "{}", stderr(&out));
}

fn http_get(address: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

/// Started the way systemd's `secretgated.socket` starts it (the socket opened by the service
/// manager and passed as descriptor 3 with `LISTEN_FDS`/`LISTEN_PID`), the daemon serves on
/// that socket and leaves it in place when it stops.
#[test]
fn socket_activation_serves_on_the_passed_socket() {
    let mut server = Server::new("");
    let activate = "import os, socket, sys\n\
s = socket.socket(socket.AF_UNIX)\n\
s.bind(sys.argv[1])\n\
s.listen(64)\n\
if s.fileno() == 3:\n    os.set_inheritable(3, True)\nelse:\n    os.dup2(s.fileno(), 3)\n\
os.environ['LISTEN_FDS'] = '1'\n\
os.environ['LISTEN_PID'] = str(os.getpid())\n\
os.execv(sys.argv[2], sys.argv[2:])\n";
    let mut activate_daemon = Command::new("python3");
    activate_daemon
        .arg("-c")
        .arg(activate)
        .arg(server.socket())
        .arg(common::secretgated_bin())
        .arg("--config")
        .arg(server.config_path());
    server.launch(activate_daemon, |server| server.daemon_log().contains("ready"));
    assert!(server.daemon_log().contains("passed by the service manager"), "{}", server.daemon_log());

    let client = server.client();
    client.write("config.env", &format!("STRIPE_KEY={}\n", stripe_key()));
    client.commit_all("add config");
    let out = push(&client, &["main"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("stripe"), "{}", stderr(&out));
    let audit = server.audit();
    assert_eq!(audit.last().unwrap()["mode"], "daemon", "{audit:?}");

    server.stop();
    assert!(server.socket().exists(), "the service manager's socket was removed");
}

/// A fork that shares its objects with the original through a relative alternate (as
/// object pools do): the pushed commits' parents live in the original's store.
#[test]
fn a_fork_reading_objects_through_a_relative_alternate_is_scanned() {
    let server = Server::new("");
    let client = server.client();
    client.write("a.txt", "hello\n");
    client.commit_all("clean");
    assert!(push(&client, &["main"]).status.success());
    let fork = server.dir.path().join("fork.git");
    let out = git_command(server.dir.path(), server.dir.path())
        .args(["clone", "-q", "--bare", "--shared", "server.git", "fork.git"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(fork.join("objects/info/alternates"), "../../server.git/objects\n").unwrap();
    std::fs::copy(server.repo().join("hooks/pre-receive"), fork.join("hooks/pre-receive")).unwrap();
    client.git(&["remote", "add", "fork", fork.to_str().unwrap()]);

    client.write("b.txt", "more\n");
    client.commit_all("clean again");
    let out = client.git_output(&["push", "fork", "main"]);
    assert!(out.status.success(), "a clean push to the fork was refused: {}", stderr(&out));
    client.write("c.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("secret");
    let out = client.git_output(&["push", "fork", "main"]);
    assert!(!out.status.success(), "the fork took a secret");
    assert!(stderr(&out).contains("c.env:1"), "{}", stderr(&out));
}

#[test]
fn an_object_no_ref_reached_is_scanned_when_a_tag_names_it() {
    // A pack may carry objects no ref reaches (a client other than git's can send them), so
    // the server holds content no scan saw. A later push that only names such a blob with a
    // tag sends nothing new: its quarantine is empty.
    let mut server = Server::new("");
    server.start();
    let mut hash = git_command(&server.repo(), server.dir.path())
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    hash.stdin.take().unwrap().write_all(format!("STRIPE={}\n", stripe_key()).as_bytes()).unwrap();
    let blob = String::from_utf8(hash.wait_with_output().unwrap().stdout).unwrap().trim().to_string();
    let quarantine = server.dir.path().join("quarantine");
    std::fs::create_dir_all(quarantine.join("pack")).unwrap();
    let mut hook = Command::new(common::secretgate_bin())
        .args(["pre-receive", "--config"])
        .arg(server.config_path())
        .current_dir(server.repo())
        .env("GIT_DIR", ".")
        .env("GIT_QUARANTINE_PATH", &quarantine)
        .env("GIT_OBJECT_DIRECTORY", &quarantine)
        .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", server.repo().join("objects"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let zero = "0".repeat(40);
    hook.stdin.take().unwrap().write_all(format!("{zero} {blob} refs/tags/key\n").as_bytes()).unwrap();
    let out = hook.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("refs/tags/key:1  stripe"), "{}", stderr(&out));
}

#[test]
fn a_bypass_is_refused_when_it_cannot_be_audited_and_check_config_says_why() {
    let mut server = Server::new("[bypass]\nallowed = true\n");
    let missing = server.dir.path().join("no-such-dir/audit.jsonl");
    std::fs::write(
        server.config_path(),
        format!(
            "socket = \"{}\"\naudit_log = \"{}\"\n[bypass]\nallowed = true\n",
            server.socket().display(),
            missing.display()
        ),
    )
    .unwrap();
    let check = |server: &Server| {
        Command::new(common::secretgated_bin())
            .arg("--config")
            .arg(server.config_path())
            .arg("--check-config")
            .output()
            .unwrap()
    };
    let out = check(&server);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-dir"), "{}", stderr(&out));
    server.start();
    let client = server.client();
    client.write("a.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("secret");
    let out = push(&client, &["-o", "secretgate.bypass=test fixture", "main"]);
    assert!(!out.status.success(), "a bypass was granted without its audit record");
    assert!(stderr(&out).contains("cannot write its audit log"), "{}", stderr(&out));
    assert_eq!(server.rev("refs/heads/main"), None);
    server.stop();

    // A file where the socket should be is refused, and kept.
    server.write_config("");
    std::fs::remove_file(server.socket()).ok();
    std::fs::write(server.socket(), "notes\n").unwrap();
    let out = check(&server);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a socket"), "{}", stderr(&out));
    let out =
        Command::new(common::secretgated_bin()).arg("--config").arg(server.config_path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(server.socket()).unwrap(), "notes\n");
}

#[test]
fn each_ref_of_a_push_is_judged_by_its_own_ignore_file_and_previous_value() {
    let mut server = Server::new("");
    server.start();
    let client = server.client();
    client.write("README", "hello\n");
    client.commit_all("init");
    assert!(push(&client, &["main"]).status.success());
    // Branch `a` adds a key; branch `b`, beside it, only lists the key's fingerprint.
    client.git(&["checkout", "-q", "-b", "a"]);
    client.write("fixtures/fake.env", &format!("STRIPE={}\n", stripe_key()));
    client.commit_all("fixture");
    let out = client.secretgate(&["git", "main..a", "--format", "json"]);
    let print = common::git::findings(&out.stdout)[0]["fingerprint"].as_str().unwrap().to_string();
    client.git(&["checkout", "-q", "-b", "b", "main"]);
    client.write(".secretgateignore", &format!("{print}\n"));
    client.commit_all("ignore it");
    for order in [["a", "b"], ["b", "a"]] {
        let out = push(&client, &order);
        assert!(!out.status.success(), "b's ignore file let a's key in ({order:?})");
    }
    // On `a` itself, the same entry lets it in.
    client.git(&["checkout", "-q", "a"]);
    client.write(".secretgateignore", &format!("{print}\n"));
    client.commit_all("ignore it here");
    assert!(push(&client, &["a", "b"]).status.success());
}
