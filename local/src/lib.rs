//! The local mode: every route of the API in one process, on the embedded store
//! and queue. Routing is the same code the Lambda functions run.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coc_runtime::environment::deliverer_from_env;
use coc_shared::engine;
use coc_shared::error::ApiError;
use coc_shared::handlers::{self, Admitted};
use coc_shared::ids;
use coc_shared::notify::consumer;
use coc_shared::notify::deliver::Deliverer;
use coc_shared::App;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub mod console;
mod limits;

pub use limits::Limits;

/// The address `make run` listens on when `COC_LISTEN` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// How long accepting pauses after an error such as running out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How much of a refused body is read and thrown away before the connection
/// is closed, and for how long at most. A client that is still sending when
/// the refusal is written must be able to finish and read it: closing a
/// socket with unread bytes resets it, and the client then sees a broken pipe
/// instead of the 413 or 401 (the "lingering close" of nginx and Apache).
/// Beyond these bounds the connection is closed anyway.
const LINGER_BYTES: usize = 16 << 20;
const LINGER_TIME: Duration = Duration::from_secs(5);

/// One request: its head is admitted first, and only then is its body read,
/// under the route's size limit and the body timeout. A refused request's body
/// is never parsed: it is thrown away while the answer is written (bounded by
/// `LINGER_BYTES` and `LINGER_TIME`), and hyper closes the connection if it
/// does not end within them.
async fn answer(
    app: Arc<App>,
    limits: Limits,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, mut body) = request.into_parts();
    // Reading the body of a request that waits for "100 Continue" would tell
    // its client to send what was just refused; it never sends it otherwise.
    let lingers = !parts.headers.contains_key(hyper::header::EXPECT);
    if console::serves(parts.uri.path()) {
        // The console's files are read with GET; any body is thrown away as a refused one is.
        if lingers {
            tokio::spawn(discard(body));
        }
        return Ok(console::answer(&console::Embedded, &parts.method, parts.uri.path(), &parts.headers));
    }
    let request_id = ids::request_id();
    let admitted =
        handlers::admit(&app, parts.method, parts.uri.path(), parts.uri.query(), parts.headers, &request_id).await;
    let response = match admitted {
        Err(refused) => {
            if lingers {
                tokio::spawn(discard(body));
            }
            refused
        }
        Ok(Admitted { route, mut request }) => {
            match read_body(&mut body, route.body_limit, limits.body_timeout).await {
                Ok(bytes) => {
                    request.body = bytes;
                    handlers::handle_route(&app, route, request, &request_id).await
                }
                Err(err) => {
                    tracing::info!(request_id, path = request.path, status = err.status().as_u16(), reason = %err, "request body refused");
                    if lingers && matches!(err, ApiError::PayloadTooLarge(_)) {
                        tokio::spawn(discard(body));
                    }
                    handlers::error_response(&err, &request_id)
                }
            }
        }
    };
    Ok(response.into_http(&request_id).map(Full::new))
}

/// The body, if it is at most `limit` bytes and arrives whole within `timeout`.
/// What was read of a longer body is gone; the rest is still in `body`.
async fn read_body(body: &mut Incoming, limit: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::PayloadTooLarge(limit)),
        Ok(Err(err)) => Err(ApiError::InvalidParameter(format!("cannot read request body: {err}"))),
        Err(_) => Err(ApiError::RequestTimeout(format!(
            "the request body did not arrive within {} seconds",
            timeout.as_secs()
        ))),
    }
}

/// Reads what is left of a refused body and drops it, chunk by chunk, up to
/// `LINGER_BYTES` and `LINGER_TIME`; dropping `body` then lets hyper close.
async fn discard(mut body: Incoming) {
    let drained = async {
        let mut read = 0;
        while read <= LINGER_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                Some(Err(_)) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drained).await;
}

/// Serves the API on `listener` until the future is dropped. Nothing a client
/// does ends it: at most `limits.max_connections` are served at once, each
/// request's head and body have their timeouts, and a failed accept is retried.
pub async fn serve(listener: TcpListener, app: App, limits: Limits) {
    let app = Arc::new(app);
    let slots = Arc::new(Semaphore::new(limits.max_connections.min(Semaphore::MAX_PERMITS)));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    loop {
        // A slot is taken before accepting: while all are busy, new connections
        // wait in the kernel's backlog and cost this process no descriptor.
        let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                accept_failed(&err).await;
                continue;
            }
        };
        let (app, http) = (app.clone(), http.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(app.clone(), limits, request));
            if let Err(err) = http.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(slot);
        });
    }
}

/// An accept error never ends the server. Running out of descriptors (EMFILE,
/// ENFILE) or memory passes as connections close, so accepting pauses briefly
/// (at once again would spin: the listener stays readable); a connection that
/// was reset before it was accepted concerns only itself.
async fn accept_failed(err: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::debug!(error = %err, "a connection was lost before it was accepted");
        return;
    }
    tracing::warn!(error = %err, "cannot accept connections; trying again shortly");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// How often unfinished tickets are kicked again, in case a kick was lost.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Runs the job engine in the background: the queue consumer, and a sweep of
/// unfinished tickets now (resuming them after a restart) and every minute.
pub fn start_engine(app: App) {
    tokio::spawn(engine::run_consumer(app.clone()));
    tokio::spawn(async move {
        loop {
            match engine::resume_active(&app).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "kicked unfinished tickets"),
                Err(err) => tracing::warn!(error = %err, "could not sweep unfinished tickets"),
            }
            tokio::time::sleep(SWEEP_INTERVAL).await;
        }
    });
}

/// How often the local scheduler looks for due tasks: runs start within this
/// of their due time (on AWS, within the minute of the EventBridge rule).
const SCHEDULE_SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Runs the scheduler in the background: a sweep of due tasks now (catching
/// up after a restart, once per task) and every few seconds. Several
/// processes on one data directory may all run it: each due time is claimed once.
pub fn start_scheduler(app: App) {
    tokio::spawn(async move {
        loop {
            match coc_shared::scheduler::sweep(&app).await {
                Ok(swept) if swept.fired > 0 => tracing::info!(fired = swept.fired, "started scheduled tasks"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not sweep scheduled tasks"),
            }
            tokio::time::sleep(SCHEDULE_SWEEP_EVERY).await;
        }
    });
}

/// Runs notification delivery in the background: the consumer of the
/// notification queue, and a sweep for lost messages now (re-queueing what
/// was pending before a restart) and every minute.
pub fn start_notifications(app: App, deliverer: Deliverer) {
    tokio::spawn(consumer::run_consumer(app.clone(), deliverer.clone()));
    tokio::spawn(consumer::run_sweeper(app, deliverer, consumer::SWEEP_EVERY));
}

/// Binds `addr`, serves the API with the default limits and runs the engine
/// and notification delivery (senders from the environment) in the
/// background; returns the bound address (port 0 picks one).
pub async fn spawn(addr: &str, app: App) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    start_engine(app.clone());
    start_scheduler(app.clone());
    start_notifications(app.clone(), deliverer_from_env(&app).await.map_err(std::io::Error::other)?);
    tokio::spawn(serve(listener, app, Limits::default()));
    Ok(bound)
}
