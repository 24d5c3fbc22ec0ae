//! Lambda functions as `make lambda-build` builds them, but for this machine
//! (`scripts/bench-lambda-build.sh`: `target/bench-lambda/<fn>/bootstrap`):
//! each one's zipped size and its cold start, against `lambda-baseline` (a
//! minimal `lambda_http` function linking the same AWS SDK clients, built the
//! same way). Cold start = from starting the bootstrap to its answer to the
//! first event, served by a small implementation of the Lambda Runtime API in
//! this process (`AWS_LAMBDA_RUNTIME_API`): deterministic, no container.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::load::{median, ms};
use crate::procs::ChildGuard;
use crate::report::{ratio, Report};

const BASELINE: &str = "lambda-baseline";
const RUNS: usize = 3;
const RUNTIME_PREFIX: &str = "/2018-06-01/runtime";
/// Where the functions' AWS services "are": nothing listens on port 9 (discard) here.
const CLOSED_PORT: &str = "127.0.0.1:9";

/// Where the bootstraps are: `COC_BENCH_LAMBDA_DIR`, else `<target>/bench-lambda`.
fn lambda_dir() -> PathBuf {
    std::env::var_os("COC_BENCH_LAMBDA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::report::target_dir().join("bench-lambda"))
}

/// The event a function of this name takes: queue consumers get an empty SQS
/// batch, the sweep a scheduled event, every other one an API Gateway (HTTP API,
/// payload 2.0) request without credentials (it is answered, with a refusal).
/// Only fields of the request payload: `lambda_http` refuses a request that
/// carries the authorizer payload's (`identitySource` as a list).
fn event_for(function: &str) -> Value {
    match function {
        "job-engine" | "alarm-intake-queue" => json!({"Records": []}),
        "job-sweep" => json!({"version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
                             "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
                             "resources": [], "detail": {}}),
        _ => json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/v1/job/scripts", "rawQueryString": "limit=1",
            "headers": {"host": "bench.local", "content-type": "application/json"},
            "requestContext": {"accountId": "000000000000", "apiId": "bench", "domainName": "bench.local",
                "domainPrefix": "bench", "requestId": "bench", "routeKey": "$default", "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000_u64,
                "http": {"method": "GET", "path": "/v1/job/scripts", "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "coc-bench"}},
            "isBase64Encoded": false
        }),
    }
}

/// What the function answered: its response, or the error it reported.
type Answer = Result<String, String>;

/// One invocation's worth of the Runtime API: the first `next` gets `event`,
/// later ones wait forever (the process is killed after its answer).
struct RuntimeApi {
    event: Vec<u8>,
    handed_out: AtomicBool,
    answer: Mutex<Option<oneshot::Sender<Answer>>>,
}

async fn runtime_api(api: Arc<RuntimeApi>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let reply = |status: u16, body: Vec<u8>| {
        Response::builder().status(status).body(Full::new(Bytes::from(body))).expect("a response")
    };
    if path == format!("{RUNTIME_PREFIX}/invocation/next") {
        if api.handed_out.swap(true, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let deadline = coc_shared::clock::now_ms() + 60_000;
        let response = Response::builder()
            .status(200)
            .header("lambda-runtime-aws-request-id", "bench-request")
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(api.event.clone())))
            .expect("a response");
        return Ok(response);
    }
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let answer = if path.ends_with("/response") {
        Some(Ok(body))
    } else if path.ends_with("/error") {
        Some(Err(body))
    } else {
        None
    };
    match answer {
        Some(answer) => {
            if let Some(sender) = api.answer.lock().expect("answer lock").take() {
                let _ = sender.send(answer);
            }
            Ok(reply(202, b"{\"status\":\"OK\"}".to_vec()))
        }
        None => Ok(reply(404, Vec::new())),
    }
}

/// Starts `bootstrap` against a fresh Runtime API and returns the time to its first answer.
async fn cold_start(function: &str, bootstrap: &Path) -> (Duration, Answer) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("a local address");
    let (sender, answered) = oneshot::channel();
    let api = Arc::new(RuntimeApi {
        event: event_for(function).to_string().into_bytes(),
        handed_out: AtomicBool::new(false),
        answer: Mutex::new(Some(sender)),
    });
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let api = api.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| runtime_api(api.clone(), request));
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    let data = tempfile::tempdir().expect("a temporary directory");
    let mut command = Command::new(bootstrap);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        // Configured as deployed (template.yaml): every AWS client is built at
        // start. The services point at a closed port and are tried once, so a
        // call a first event makes (the sweep's read) fails at once instead
        // of timing out; the API events are refused before any call.
        .env("COC_TABLE_NAME", "bench")
        .env("COC_QUEUE_URL", format!("http://{CLOSED_PORT}/000000000000/jobs"))
        .env("COC_NOTIFY_QUEUE_URL", format!("http://{CLOSED_PORT}/000000000000/notify"))
        .env("COC_KMS_KEY_ID", "alias/bench")
        .env("COC_ATTACHMENTS_BUCKET", "bench")
        .env("COC_CLOUDWATCH_INTEGRATION_KEY", "bench")
        .env("AWS_ENDPOINT_URL", format!("http://{CLOSED_PORT}"))
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("COC_DATA_DIR", data.path());
    let started = Instant::now();
    let guard = ChildGuard::spawn(function, command, &data.path().join("function.log"));
    let answer = tokio::time::timeout(Duration::from_secs(30), answered).await;
    let elapsed = started.elapsed();
    drop(guard);
    server.abort();
    let log = std::fs::read_to_string(data.path().join("function.log")).unwrap_or_default();
    match answer {
        Ok(Ok(answer)) => (elapsed, answer),
        _ => panic!("{function} gave no answer within 30 s; its output:\n{log}"),
    }
}

/// The size of `bootstrap` zipped the way a deployment package is (`zip`, default level).
fn zipped_size(bootstrap: &Path) -> Option<u64> {
    let dir = tempfile::tempdir().ok()?;
    let archive = dir.path().join("function.zip");
    let status = Command::new("zip").arg("-q").arg("-j").arg(&archive).arg(bootstrap).status().ok()?;
    if !status.success() {
        return None;
    }
    std::fs::metadata(&archive).ok().map(|m| m.len())
}

struct Measured {
    name: String,
    size: Option<u64>,
    cold_start: Duration,
    answered: &'static str,
}

async fn measure(name: &str, bootstrap: &Path) -> Measured {
    let mut times = Vec::new();
    let mut answered = "response";
    for _ in 0..RUNS {
        let (time, answer) = cold_start(name, bootstrap).await;
        if answer.is_err() {
            answered = "error";
        }
        times.push(time);
    }
    Measured { name: name.to_owned(), size: zipped_size(bootstrap), cold_start: median(times), answered }
}

pub async fn run(report: &mut Report) {
    report.heading("Lambda functions: zipped size and cold start");
    let dir = lambda_dir();
    let mut functions: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().join("bootstrap")))
                .filter(|(_, bootstrap)| bootstrap.is_file())
                .collect()
        })
        .unwrap_or_default();
    functions.sort();
    let Some(baseline_at) = functions.iter().position(|(name, _)| name == BASELINE) else {
        report.paragraph(&format!(
            "Skipped: no `{BASELINE}/bootstrap` under `{}` (run `scripts/bench-lambda-build.sh` first, as \
             `make bench` does, or point `COC_BENCH_LAMBDA_DIR` at a directory of `<function>/bootstrap`).",
            dir.display()
        ));
        return;
    };
    let (_, baseline_path) = functions.remove(baseline_at);
    let baseline = measure(BASELINE, &baseline_path).await;
    let mb = |bytes: Option<u64>| bytes.map(|b| format!("{:.2}", b as f64 / 1e6)).unwrap_or_else(|| "n/a".into());
    let size_ratio = |m: &Measured| match (m.size, baseline.size) {
        (Some(a), Some(b)) => ratio(a as f64, b as f64),
        _ => "n/a".into(),
    };
    let mut rows = vec![vec![
        format!("baseline: `{BASELINE}`"),
        mb(baseline.size),
        "1.00".into(),
        format!("{:.1}", ms(baseline.cold_start)),
        "1.00".into(),
        baseline.answered.into(),
    ]];
    for (name, bootstrap) in &functions {
        let m = measure(name, bootstrap).await;
        rows.push(vec![
            m.name.clone(),
            mb(m.size),
            size_ratio(&m),
            format!("{:.1}", ms(m.cold_start)),
            ratio(m.cold_start.as_secs_f64(), baseline.cold_start.as_secs_f64()),
            m.answered.into(),
        ]);
    }
    report.paragraph(&format!(
        "Bootstraps under `{}`. Size: the bootstrap zipped as a deployment package (`zip`, default level). \
         Cold start: median of {RUNS} starts, from process start to its answer to the first event, served by \
         the bench's own Runtime API endpoint; HTTP functions get an API Gateway (payload 2.0) request without \
         credentials, queue consumers an empty SQS batch, the sweep a scheduled event; the functions are configured as deployed \
         (table, queues, KMS key, bucket), their AWS endpoints a closed local port tried once. Ratios are to `{BASELINE}` (a `lambda_http` hello \
         function that builds DynamoDB and SQS clients at start), built the same way.",
        dir.display()
    ));
    report.table(&["function", "zipped MB", "size ratio", "cold start ms", "cold start ratio", "answered with"], &rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event `lambda_http` cannot read makes every function answer with an
    /// error before its handler runs, and the bench would time that instead.
    #[test]
    fn the_api_event_is_an_http_api_request_lambda_http_reads() {
        let request = lambda_http::request::from_str(&event_for("list-scripts").to_string()).expect("a request");
        assert_eq!(request.method(), "GET");
        assert_eq!(request.uri().path(), "/v1/job/scripts");
        assert_eq!(request.uri().query(), Some("limit=1"));
    }
}
