//! Every script of the public library run for real: the local server, one
//! `coc-agent` process on this machine, each script executed through
//! `POST /v1/job/public-scripts/{script_uuid}` with parameters that make its
//! outcome known, and its exit code and output checked. Scripts that write do
//! so in temporary folders; where this host lacks what a script needs
//! (systemd, a time service) the script must say so and exit with its code.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use coc_agent::client::ApiClient;
use coc_agent::Config;
use coc_shared::auth::Credential;
use coc_shared::domain::public_script;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::credentials;
use coc_shared::App;
use serde_json::{json, Value};

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Api {
    client: ApiClient,
    /// The scripts run so far, by name.
    ran: std::sync::Mutex<BTreeSet<String>>,
}

/// How a run ended.
struct Run {
    exit_code: i64,
    log: String,
}

impl Run {
    fn expect(&self, what: &str, exit_code: i64, says: &[&str]) -> &Self {
        assert_eq!(self.exit_code, exit_code, "{what}: exit code; log:\n{}", self.log);
        for text in says {
            assert!(self.log.contains(text), "{what}: the log lacks {text:?}:\n{}", self.log);
        }
        self
    }
}

impl Api {
    async fn call(&self, method: &str, path_and_query: &str, body: Option<Value>) -> Value {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        self.client.call(method, path, query, body).await.unwrap_or_else(|e| panic!("{method} {path_and_query}: {e}"))
    }

    /// Runs public script `name` on agent p1 with `params` (name, value) and waits for its end.
    async fn run(&self, name: &str, params: &[(&str, &str)]) -> Run {
        let script = public_script::all().iter().find(|p| p.script.name.as_str() == name).expect("a public script");
        let params: Vec<Value> = params
            .iter()
            .enumerate()
            .map(|(i, (n, v))| json!({"param_name": n, "param_value": v, "param_order": i + 1}))
            .collect();
        let body = json!({
            "execute_param": {"timeout": 120, "success_rate": 100, "execute_user": "root", "script_params": params},
            "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": "p1", "agent_sn": "p1", "project_id": "pub", "region_id": "local"}]}]
        });
        let path = format!("/v1/job/public-scripts/{}", script.script.script_uuid);
        let uuid = self.call("POST", &path, Some(body)).await.as_str().unwrap().to_owned();
        self.ran.lock().unwrap().insert(name.to_owned());
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let order = self.call("GET", &format!("/v1/job/script/orders/{uuid}"), None).await;
            if order["status"] == "FINISHED" || order["status"] == "ABNORMAL" {
                break;
            }
            assert!(Instant::now() < deadline, "{name}: ticket {uuid} never ended: {order}");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let batch = self.call("GET", &format!("/v1/job/script/orders/{uuid}/batches/1?limit=10"), None).await;
        let instance = &batch["execute_instances"][0];
        Run {
            exit_code: instance["exit_code"].as_i64().unwrap_or_else(|| panic!("{name}: no exit code: {instance}")),
            log: instance["message"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

fn start_agent(base: &str, state_dir: &Path, credential: &Credential) -> Agent {
    let child = Command::new(env!("CARGO_BIN_EXE_coc-agent"))
        .env("COC_ENDPOINT", base)
        .env("COC_AGENT_SN", "p1")
        .env("COC_AGENT_STATE_DIR", state_dir)
        .env("COC_HOST_NAME", "host-p1")
        .env("COC_HEARTBEAT_SECS", "1")
        .env("RUST_LOG", "warn")
        .env("COC_AK", &credential.access_key)
        .env("COC_SK", &credential.secret_key)
        .env("COC_PROJECT_ID", credential.project_id.as_str())
        .stdout(Stdio::null())
        .spawn()
        .expect("start coc-agent");
    Agent(child)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A port nobody listens on (bound, then let go).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn sh(command: &str) {
    let status = Command::new("sh").args(["-c", command]).status().unwrap();
    assert!(status.success(), "{command}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_public_script_runs_on_a_real_agent() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::embedded(&dir.path().join("server")).unwrap();
    let credential = Credential::generate(ProjectId::parse("pub").unwrap(), "ops".into(), "ops".into(), 0);
    credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
    let addr = coc_local::spawn("127.0.0.1:0", app).await.unwrap();
    let base = format!("http://{addr}");
    let mut config = Config::new(&base, &credential.access_key, &credential.secret_key, "pub", "test-client");
    config.heartbeat = Duration::from_secs(1);
    let api = Api { client: ApiClient::new(config).unwrap(), ran: Default::default() };
    let _agent = start_agent(&base, &dir.path().join("agent"), &credential);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let hosts = api.call("GET", "/v1/resources?provider=ecs&type=cloudservers&limit=10", None).await;
        if hosts.as_array().unwrap().iter().any(|h| h["agent_state"] == "ONLINE") {
            break;
        }
        assert!(Instant::now() < deadline, "the agent never registered: {hosts}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let port = addr.port().to_string();

    // disk_usage_report
    let usage = work.join("usage");
    std::fs::create_dir_all(usage.join("bigdir")).unwrap();
    std::fs::write(usage.join("bigdir/data"), vec![0u8; 300_000]).unwrap();
    api.run("disk_usage_report", &[("target_dir", path(&usage)), ("top", "5")]).await.expect(
        "disk usage",
        0,
        &["== filesystems ==", &format!("largest entries under {}", path(&usage)), "bigdir"],
    );
    api.run("disk_usage_report", &[("top", "x")]).await.expect("bad top", 2, &["top must be a whole number"]);

    // clean_old_logs: a dry run by default, then for real; never a system directory.
    let logs = work.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let forty_days_ago = SystemTime::now() - Duration::from_secs(40 * 86_400);
    for (file, old) in [("old.gz", true), ("new.gz", false), ("old.txt", true)] {
        let f = std::fs::File::create(logs.join(file)).unwrap();
        f.set_len(1000).unwrap();
        if old {
            f.set_modified(forty_days_ago).unwrap();
        }
    }
    let old = format!("{}/old.gz", path(&logs));
    api.run("clean_old_logs", &[("log_dir", path(&logs))]).await.expect(
        "dry run",
        0,
        &[&format!("would delete {old} (1000 bytes)"), "dry run: 1 file(s) older than 30 days, 1000 bytes"],
    );
    assert!(logs.join("old.gz").exists(), "a dry run deletes nothing");
    api.run("clean_old_logs", &[("log_dir", path(&logs)), ("dry_run", "false")]).await.expect(
        "clean",
        0,
        &[&format!("deleted {old}"), "deleted 1 file(s) older than 30 days, 1000 bytes freed"],
    );
    assert!(!logs.join("old.gz").exists() && logs.join("new.gz").exists() && logs.join("old.txt").exists());
    api.run("clean_old_logs", &[("log_dir", "/etc"), ("dry_run", "false")]).await.expect(
        "system directory",
        2,
        &["refusing to clean under /etc"],
    );

    // restart_systemd_service: fails cleanly where systemd does not run.
    let restart = api.run("restart_systemd_service", &[("service_name", "coc-no-such-unit")]).await;
    if Path::new("/run/systemd/system").exists() {
        restart.expect("unknown unit", 2, &["there is no systemd unit named coc-no-such-unit"]);
    } else {
        restart.expect("no systemd", 3, &["systemd is not running on this host", "cannot restart coc-no-such-unit"]);
    }
    api.run("restart_systemd_service", &[("service_name", "-x")]).await.expect(
        "bad unit name",
        2,
        &["service_name must be a unit name"],
    );

    // collect_diagnostics
    let diagnostics = work.join("diagnostics");
    std::fs::create_dir(&diagnostics).unwrap();
    let run = api.run("collect_diagnostics", &[("output_dir", path(&diagnostics))]).await;
    run.expect("diagnostics", 0, &[&format!("collected 12 reports into {}/diagnostics-", path(&diagnostics))]);
    let archives: Vec<_> = std::fs::read_dir(&diagnostics).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(archives.len(), 1, "one archive and no work folder left: {archives:?}");
    let listing = Command::new("tar").arg("-tzf").arg(&archives[0]).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("/uname.txt") && listing.contains("/listening.txt"), "{listing}");
    api.run("collect_diagnostics", &[("output_dir", "/nonexistent")]).await.expect(
        "no such dir",
        2,
        &["not a writable directory"],
    );

    // check_ntp_sync: this host's answer.
    let has = |tool: &str| Command::new("sh").args(["-c", &format!("command -v {tool}")]).status().unwrap().success();
    let ntp = api.run("check_ntp_sync", &[]).await;
    if !has("chronyc") && !has("ntpq") && !Path::new("/run/systemd/system").exists() {
        ntp.expect("no time service", 1, &["no time synchronization service found"]);
    } else {
        assert!([0, 1].contains(&ntp.exit_code) && ntp.log.contains("synchronized"), "{}", ntp.log);
    }
    api.run("check_ntp_sync", &[("max_offset_ms", "soon")]).await.expect("bad offset", 2, &["max_offset_ms"]);

    // list_listening_ports: the local server is among them.
    api.run("list_listening_ports", &[("protocol", "tcp")]).await.expect("ports", 0, &[&format!(":{port}")]);
    api.run("list_listening_ports", &[("protocol", "icmp")]).await.expect("bad protocol", 2, &["protocol must be"]);

    // rotate_log: three rotations keeping two.
    let log = work.join("app.log");
    for round in 1..=3 {
        std::fs::write(&log, format!("round {round}\n")).unwrap();
        api.run("rotate_log", &[("log_file", path(&log)), ("keep", "2")]).await.expect(
            "rotate",
            0,
            &[&format!("rotated {0} to {0}.1.gz, keeping 2", path(&log))],
        );
    }
    assert_eq!(std::fs::read(&log).unwrap(), b"", "truncated in place");
    let unzip = |n: u32| {
        let out = Command::new("gzip").arg("-dc").arg(work.join(format!("app.log.{n}.gz"))).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!((unzip(1), unzip(2)), ("round 3\n".to_owned(), "round 2\n".to_owned()));
    assert!(!work.join("app.log.3.gz").exists(), "only two are kept");
    api.run("rotate_log", &[("log_file", "/nonexistent/app.log")]).await.expect("no file", 2, &["not a regular file"]);

    // check_memory and check_disk_space: thresholds that cannot and must trip.
    api.run("check_memory", &[("warn_percent", "100")]).await.expect("memory", 0, &["OK: memory use", "MiB total"]);
    api.run("check_memory", &[("warn_percent", "0")]).await.expect("memory over", 1, &["WARNING: memory use"]);
    let disk = [("threshold_percent", "100"), ("mount_point", "/")];
    api.run("check_disk_space", &disk).await.expect("disk", 0, &["ok: / space is", "ok: / inodes is"]);
    let full = [("threshold_percent", "0"), ("mount_point", "/")];
    api.run("check_disk_space", &full).await.expect("disk over", 1, &["FULL: / space is"]);
    api.run("check_disk_space", &[("mount_point", "/nonexistent")]).await.expect("bad mount", 2, &["does not exist"]);

    // check_process: the agent itself runs.
    api.run("check_process", &[("process_name", "coc-agent")]).await.expect(
        "process",
        0,
        &["OK: ", "process(es) named coc-agent run", "coc-agent"],
    );
    api.run("check_process", &[("process_name", "coc-no-such-proc")]).await.expect(
        "no process",
        1,
        &["PROBLEM: 0 process(es) named coc-no-such-proc run, at least 1 expected"],
    );

    // system_info
    let kernel = String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout).unwrap();
    api.run("system_info", &[("include_packages", "true")]).await.expect(
        "system info",
        0,
        &[&format!("kernel: Linux {}", kernel.trim()), "cpus: ", "packages: "],
    );
    api.run("system_info", &[("include_packages", "yes")]).await.expect("bad flag", 2, &["include_packages"]);

    // find_large_files
    let big = work.join("big");
    std::fs::create_dir(&big).unwrap();
    std::fs::write(big.join("big.bin"), vec![1u8; 2 * 1024 * 1024]).unwrap();
    std::fs::write(big.join("small.txt"), b"small").unwrap();
    let run = api.run("find_large_files", &[("search_dir", path(&big)), ("min_size_mb", "1")]).await;
    run.expect("large files", 0, &["2.0 MiB", "big.bin", &format!("1 file(s) of at least 1 MiB under {}", path(&big))]);
    assert!(!run.log.contains("small.txt"), "{}", run.log);

    // check_port_open
    api.run("check_port_open", &[("port", &port)]).await.expect("open", 0, &[&format!("OPEN: 127.0.0.1:{port}")]);
    let closed = closed_port().to_string();
    api.run("check_port_open", &[("port", &closed)]).await.expect("closed", 1, &["CLOSED: "]);
    api.run("check_port_open", &[("port", "70000")]).await.expect("bad port", 2, &["port must be a number"]);

    // tail_log
    let tailed = work.join("tailed.log");
    let lines: Vec<String> =
        (1..=10).map(|i| if i % 4 == 0 { format!("ERROR {i}") } else { format!("line {i}") }).collect();
    std::fs::write(&tailed, lines.join("\n") + "\n").unwrap();
    let run = api.run("tail_log", &[("log_file", path(&tailed)), ("lines", "3")]).await;
    run.expect("tail", 0, &["line 9\nline 10\n"]);
    assert!(run.log.contains("ERROR 8\nline 9") && !run.log.contains("line 7"), "{}", run.log);
    let run = api.run("tail_log", &[("log_file", path(&tailed)), ("grep_pattern", "ERROR")]).await;
    run.expect("grep", 0, &["2 line(s) of", "ERROR 4\nERROR 8"]);
    assert!(!run.log.contains("line 1"), "{}", run.log);
    api.run("tail_log", &[("log_file", "/nonexistent.log")]).await.expect("no log", 2, &["cannot read"]);

    // check_cert_expiry: a certificate valid for 10 days.
    let cert = work.join("cert.pem");
    sh(&format!(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 10 -subj /CN=coc-test -keyout {0}/key.pem -out {1} 2>/dev/null",
        path(&work),
        path(&cert)
    ));
    api.run("check_cert_expiry", &[("cert_file", path(&cert)), ("warn_days", "30")]).await.expect(
        "expiring",
        1,
        &["CN = coc-test", "EXPIRING: "],
    );
    api.run("check_cert_expiry", &[("cert_file", path(&cert)), ("warn_days", "5")]).await.expect(
        "valid",
        0,
        &["OK: ", "more than 5 days"],
    );
    api.run("check_cert_expiry", &[("cert_file", path(&tailed))]).await.expect("not a cert", 2, &["not a PEM"]);

    // check_http_endpoint: the local server refuses an unsigned request; the token never shows.
    let url = format!("{base}/v1/job/scripts");
    api.run("check_http_endpoint", &[("url", &url), ("expected_status", "401")]).await.expect(
        "http",
        0,
        &[&format!("OK: {url} answered 401")],
    );
    let with_token = [("url", url.as_str()), ("bearer_token", "tok-s3cr3t")];
    let run = api.run("check_http_endpoint", &with_token).await;
    run.expect("http status", 1, &["answered 401, 200 expected"]);
    assert!(!run.log.contains("tok-s3cr3t"));
    let closed_url = format!("http://127.0.0.1:{closed}/");
    api.run("check_http_endpoint", &[("url", &closed_url), ("timeout_secs", "2")]).await.expect(
        "no answer",
        1,
        &["did not answer"],
    );
    api.run("check_http_endpoint", &[("url", "ftp://x")]).await.expect("bad url", 2, &["url must start with"]);

    let every: BTreeSet<String> = public_script::all().iter().map(|p| p.script.name.to_string()).collect();
    assert_eq!(*api.ran.lock().unwrap(), every, "every script of the library ran");
}
