//! What the process tests share: a `coc-local` process on a free port with a
//! known bootstrap key, and the SDK's signature on requests to it.

#![allow(dead_code)] // each test binary uses its own part of it

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const AK: &str = "PROCESSTESTAK0000000";
pub const SK: &str = "PROCESSTESTSK000000000000000000000000000";

/// The headers the SDK would send, signed with the bootstrap key.
pub fn signed(method: &str, base: &str, path: &str, query: Option<&str>, body: &[u8]) -> reqwest::header::HeaderMap {
    use coc_shared::auth::signature::{sign_headers, AccessKey};
    let mut headers = http::HeaderMap::new();
    headers.insert("host", base.trim_start_matches("http://").parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("x-project-id", "p1".parse().unwrap());
    let key = AccessKey { id: AK, secret: SK };
    sign_headers(&mut headers, key, method, path, query, body, coc_shared::clock::now_ms());
    headers
}

pub struct Server {
    pub child: Child,
    pub base: String,
    /// host:port
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn start(data_dir: &Path) -> Server {
    start_with(data_dir, &[], None).await
}

/// Starts coc-local with extra environment variables and, if given, a limit on
/// its open file descriptors (`ulimit -n`), and waits until it listens.
pub async fn start_with(data_dir: &Path, env: &[(&str, &str)], fd_limit: Option<u32>) -> Server {
    let port = free_port();
    let binary = env!("CARGO_BIN_EXE_coc-local");
    let mut command = match fd_limit {
        // exec keeps the pid: it is coc-local's own.
        Some(limit) => {
            let mut shell = Command::new("bash");
            shell.arg("-c").arg(format!("ulimit -n {limit} && exec \"$0\"")).arg(binary);
            shell
        }
        None => Command::new(binary),
    };
    command
        .env("COC_LISTEN", format!("127.0.0.1:{port}"))
        .env("COC_DATA_DIR", data_dir)
        .env("COC_BOOTSTRAP_PROJECT_ID", "p1")
        .env("COC_BOOTSTRAP_AK", AK)
        .env("COC_BOOTSTRAP_SK", SK)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = command.spawn().expect("start coc-local");
    let addr = format!("127.0.0.1:{port}");
    let server = Server { child, base: format!("http://{addr}"), addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{}/v1/job/scripts", server.base)).await.is_err() {
        assert!(Instant::now() < deadline, "coc-local did not start listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}
