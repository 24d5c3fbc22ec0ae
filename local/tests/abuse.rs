//! The local server under abuse, as a real process: idle connections up to and
//! past its descriptor limit, slow clients, and anonymous or oversized bodies.
//! None of them ends it, and what they cost it stays bounded.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{signed, start_with, Server};

const SCRIPTS: &str = "/v1/job/scripts";
/// The descriptor limit the server runs under in the connection tests.
const FD_LIMIT: u32 = 1024;
/// Idle connections opened against it: several times its descriptor limit.
const IDLE_CONNECTIONS: usize = 3000;

/// Lets this test process hold `wanted` descriptors (its soft limit may be 1024).
fn raise_own_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(limit.rlim_cur >= wanted, "this test needs {wanted} descriptors; the hard limit is {}", limit.rlim_max);
}

/// Opens up to `count` connections at once and keeps those that were
/// established within a few seconds (the rest found the backlog full).
async fn open_idle_connections(addr: &str, count: usize) -> Vec<TcpStream> {
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..count {
        let addr = addr.to_owned();
        attempts.spawn(async move { tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr)).await });
    }
    let mut open = Vec::new();
    while let Some(attempt) = attempts.join_next().await {
        if let Ok(Ok(Ok(stream))) = attempt {
            open.push(stream);
        }
    }
    open
}

fn assert_running(server: &mut Server) {
    assert!(server.child.try_wait().unwrap().is_none(), "coc-local exited");
}

/// A signed request must be answered within a second. A connection attempt
/// that finds the listen backlog still full of the dropped connections gets
/// no SYN-ACK (the kernel would retry only after a second), so the client
/// tries again with a fresh one, as a client with a connect timeout does.
async fn assert_answers_signed_request_at_once(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(1);
    let query = "limit=1";
    let head = head("GET", &format!("{SCRIPTS}?{query}"), &signed_headers(server, "GET", SCRIPTS, Some(query), None));
    let mut attempts = 0;
    let status = loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no answer to a signed request within a second ({attempts} connection attempts)");
        let Ok(Ok(mut stream)) =
            tokio::time::timeout(left.min(Duration::from_millis(200)), TcpStream::connect(&server.addr)).await
        else {
            continue;
        };
        if stream.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        if let Ok(Some(status)) = tokio::time::timeout(left, try_read_status(&mut stream)).await {
            break status;
        }
    };
    assert_eq!(status, 200);
}

/// Holds idle connections against a server under `ulimit -n 1024`, at least
/// `established` of them, drops them, and expects a signed request answered.
async fn idle_connections_then_a_signed_request(env: &[(&str, &str)], established: usize) {
    raise_own_fd_limit(IDLE_CONNECTIONS as u64 + 256);
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(dir.path(), env, Some(FD_LIMIT)).await;
    let idle = open_idle_connections(&server.addr, IDLE_CONNECTIONS).await;
    assert!(idle.len() > established, "only {} connections were established", idle.len());
    // Let the server take in all it will: accept, spawn, wait for a request head.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_running(&mut server);
    drop(idle);
    assert_answers_signed_request_at_once(&server).await;
    assert_running(&mut server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_and_the_server_answers_once_they_are_dropped() {
    // The default connection limit keeps the server below its descriptor limit;
    // connections beyond it wait in the listen backlog.
    idle_connections_then_a_signed_request(&[], coc_local::Limits::default().max_connections).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_descriptors_pauses_accepting_instead_of_ending_the_server() {
    // A connection limit above the descriptor limit: accept() fails with EMFILE.
    idle_connections_then_a_signed_request(&[("COC_MAX_CONNECTIONS", "100000")], FD_LIMIT as usize).await;
}

/// A request head as the wire carries it, with `headers` (and a Host header
/// if they have none).
fn head(method: &str, path: &str, headers: &[(String, String)]) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(name, _)| name == "host") {
        head.push_str("host: localhost\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head + "\r\n"
}

/// The SDK's signature headers over an empty body, and `length` as the
/// body's claimed length if given (the signature need not match it: these
/// requests must be answered before it could be checked).
fn signed_headers(
    server: &Server,
    method: &str,
    path: &str,
    query: Option<&str>,
    length: Option<u64>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = signed(method, &server.base, path, query, b"")
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    if let Some(length) = length {
        headers.push(("content-length".into(), length.to_string()));
    }
    headers
}

fn signed_claiming(server: &Server, method: &str, path: &str, length: u64) -> Vec<(String, String)> {
    signed_headers(server, method, path, None, Some(length))
}

fn claiming(length: u64) -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into()), ("content-length".into(), length.to_string())]
}

/// Reads a response head from `stream`; its status, or None if the
/// connection ended first.
async fn try_read_status(stream: &mut TcpStream) -> Option<u16> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&received);
    Some(text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a response: {text}")))
}

/// Reads a response head from `stream`; its status.
async fn read_status(stream: &mut TcpStream) -> u16 {
    try_read_status(stream).await.expect("the connection closed without an answer")
}

/// Sends only `head`, never the body it announces, and returns the status of
/// the answer, which must come at once.
async fn status_without_sending_the_body(server: &Server, head: &str) -> u16 {
    let mut stream = TcpStream::connect(&server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(3), read_status(&mut stream))
        .await
        .unwrap_or_else(|_| panic!("no answer before the body to {head:?}"))
}

#[tokio::test]
async fn bad_credentials_and_oversized_lengths_are_answered_before_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), &[], None).await;
    let eight_mib = 8 * 1024 * 1024;
    let cases = [
        ("no credentials", head("POST", SCRIPTS, &claiming(eight_mib)), 401),
        ("no credentials, a huge length", head("POST", SCRIPTS, &claiming(1_000_000_000_000)), 401),
        ("a malformed token", head("POST", SCRIPTS, &[("x-auth-token".into(), "forged".into())]), 401),
        (
            "a malformed signature",
            head("POST", SCRIPTS, &[("authorization".into(), "SDK-HMAC-SHA256 nonsense".into())]),
            401,
        ),
        (
            "signed, a huge length",
            head("POST", SCRIPTS, &signed_claiming(&server, "POST", SCRIPTS, 1_000_000_000_000)),
            413,
        ),
        (
            "signed, over the API's limit",
            head("POST", SCRIPTS, &signed_claiming(&server, "POST", SCRIPTS, 2 << 20)),
            413,
        ),
        ("public route, over its limit", head("POST", "/v1/auth/tokens", &claiming(eight_mib)), 413),
    ];
    for (case, head, status) in cases {
        assert_eq!(status_without_sending_the_body(&server, &head).await, status, "{case}");
    }
}

/// Sends `head` and then all of `body` (the send must not fail), and returns
/// the status of the answer.
async fn status_after_sending_the_body(server: &Server, head: &str, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(&server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap_or_else(|err| panic!("the body to {head:?} could not be sent whole: {err}"));
    tokio::time::timeout(Duration::from_secs(5), read_status(&mut stream))
        .await
        .unwrap_or_else(|_| panic!("no answer after the body to {head:?}"))
}

/// A body larger than the socket buffers, to a refused request: the client
/// that sends it whole, as SDKs do before they read, still gets its answer
/// and not a reset connection, because the server throws the rest away
/// instead of closing on unread bytes. Each case runs several times: the
/// reset was a race the client sometimes won.
#[tokio::test]
async fn refused_requests_whose_bodies_are_sent_whole_get_their_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), &[], None).await;
    let big = vec![b'x'; 8 << 20];
    let chunked = |bytes: &[u8]| [format!("{:x}\r\n", bytes.len()).as_bytes(), bytes, b"\r\n0\r\n\r\n"].concat();
    let mut chunked_headers = signed_headers(&server, "POST", SCRIPTS, None, None);
    chunked_headers.push(("transfer-encoding".into(), "chunked".into()));
    let cases = [
        ("no credentials", head("POST", SCRIPTS, &claiming(big.len() as u64)), big.clone(), 401),
        (
            "signed, over the limit",
            head("POST", SCRIPTS, &signed_claiming(&server, "POST", SCRIPTS, big.len() as u64)),
            big.clone(),
            413,
        ),
        ("signed, chunked, over the limit", head("POST", SCRIPTS, &chunked_headers), chunked(&big), 413),
    ];
    for (case, head, body, status) in cases {
        for round in 0..5 {
            assert_eq!(status_after_sending_the_body(&server, &head, &body).await, status, "{case}, round {round}");
        }
    }
}

#[tokio::test]
async fn agent_reports_keep_the_large_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), &[], None).await;
    let path = "/v1/agents/a1/jobs/SO1/i1";
    let body = serde_json::json!({"attempt": 1, "exit_code": 0, "log": "x".repeat(4 << 20)}).to_string().into_bytes();
    let reply = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .headers(signed("POST", &server.base, path, None, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_ne!(reply.status(), 413, "a 4 MiB report is within the agent route's limit");
    let bigger = "y".repeat(2 << 20).into_bytes();
    let reply = reqwest::Client::new()
        .post(format!("{}{SCRIPTS}", server.base))
        .headers(signed("POST", &server.base, SCRIPTS, None, &bigger))
        .body(bigger)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 413, "2 MiB is over an ordinary route's limit");
}

/// Sends what `trickle` gives every 200 ms until the server closes `stream`
/// (an answer it sends first is skipped), for at most `within`; how long that took.
async fn time_until_closed(
    stream: &mut TcpStream,
    within: Duration,
    mut trickle: impl FnMut() -> Option<Vec<u8>>,
) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        assert!(started.elapsed() < within, "the connection is still open after {within:?}");
        if let Some(bytes) = trickle() {
            if stream.write_all(&bytes).await.is_err() {
                return started.elapsed();
            }
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) | Err(_) => {}
        }
    }
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_by_the_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("COC_HEADER_TIMEOUT_SECS", "1"), ("COC_BODY_TIMEOUT_SECS", "1")];
    let server = start_with(dir.path(), &env, None).await;
    let within = Duration::from_secs(5);

    // Slowloris: a head that never ends, one header line every 200 ms.
    let mut slow = TcpStream::connect(&server.addr).await.unwrap();
    slow.write_all(format!("GET {SCRIPTS} HTTP/1.1\r\nhost: localhost\r\n").as_bytes()).await.unwrap();
    let mut line = 0;
    let closed = time_until_closed(&mut slow, within, || {
        line += 1;
        Some(format!("x-slow-{line}: 1\r\n").into_bytes())
    })
    .await;
    assert!(closed >= Duration::from_millis(800), "closed after {closed:?}, before the header timeout");

    // A kept-alive connection that sends nothing after its first request.
    let mut idle = TcpStream::connect(&server.addr).await.unwrap();
    idle.write_all(head("GET", SCRIPTS, &[]).as_bytes()).await.unwrap();
    assert_eq!(read_status(&mut idle).await, 401);
    let closed = time_until_closed(&mut idle, within, || None).await;
    assert!(closed >= Duration::from_millis(800), "closed after {closed:?}, before the idle timeout");

    // A body that stops arriving: 408, then the connection is closed.
    let mut stalled = TcpStream::connect(&server.addr).await.unwrap();
    let headers = signed_claiming(&server, "POST", SCRIPTS, 100);
    stalled.write_all(head("POST", SCRIPTS, &headers).as_bytes()).await.unwrap();
    stalled.write_all(b"{\"name\": ").await.unwrap();
    let status = tokio::time::timeout(within, read_status(&mut stalled)).await.expect("an answer to a stalled body");
    assert_eq!(status, 408);
}

/// The peak resident memory of process `pid` so far, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/PID/status");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_anonymous_large_bodies_keeps_memory_bounded() {
    const FLOOD: usize = 32;
    const BODY: usize = 8 * 1024 * 1024 - 1024;
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(dir.path(), &[], None).await;
    let before = peak_rss(server.child.id());
    let payload = Arc::new(vec![b'x'; BODY]);
    // Every sender holds back its last byte until all have sent the rest, so a
    // server that buffers bodies would hold all of them at once.
    let all_sent = Arc::new(tokio::sync::Barrier::new(FLOOD));
    let mut senders = tokio::task::JoinSet::new();
    for i in 0..FLOOD {
        let (addr, payload, all_sent) = (server.addr.clone(), payload.clone(), all_sent.clone());
        // Half to an authenticated route without credentials, half to a public one.
        let path = if i % 2 == 0 { SCRIPTS } else { "/v1/auth/tokens" };
        senders.spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(head("POST", path, &claiming(BODY as u64)).as_bytes()).await.unwrap();
            // Refused bodies make these writes fail once the server hangs up.
            let _ = stream.write_all(&payload[..BODY - 1]).await;
            all_sent.wait().await;
            let _ = stream.write_all(&payload[BODY - 1..]).await;
            let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut Vec::new())).await;
        });
    }
    while let Some(sender) = senders.join_next().await {
        sender.unwrap();
    }
    let grown = peak_rss(server.child.id()).saturating_sub(before);
    assert!(grown < 64 << 20, "{FLOOD} refused 8 MiB bodies grew the server's peak memory by {} MiB", grown >> 20);
    assert_running(&mut server);
    assert_answers_signed_request_at_once(&server).await;
}
