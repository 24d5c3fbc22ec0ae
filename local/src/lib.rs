//! The local mode: every route of the API in one process, on the embedded store
//! and queue. Routing is the same code the Lambda functions run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coc_shared::error::ApiError;
use coc_shared::http::{ApiResponse, MAX_BODY_BYTES};
use coc_shared::ids;
use coc_shared::App;
use coc_shared::{engine, handlers};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The address `make run` listens on when `COC_LISTEN` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

async fn answer(app: Arc<App>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let request_id = ids::request_id();
    let (parts, body) = request.into_parts();
    let response = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => {
            handlers::handle(
                &app,
                parts.method,
                parts.uri.path(),
                parts.uri.query(),
                parts.headers,
                collected.to_bytes(),
                &request_id,
            )
            .await
        }
        Err(err) if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            ApiResponse::error(&ApiError::PayloadTooLarge(MAX_BODY_BYTES))
        }
        Err(err) => ApiResponse::error(&ApiError::InvalidParameter(format!("cannot read request body: {err}"))),
    };
    Ok(response.into_http(&request_id).map(|body| Full::new(Bytes::from(body))))
}

/// Serves the API on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, app: App) -> std::io::Result<()> {
    let app = Arc::new(app);
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(app.clone(), request));
            if let Err(err) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
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

/// Binds `addr`, serves the API and runs the engine in the background; returns
/// the bound address (port 0 picks one).
pub async fn spawn(addr: &str, app: App) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    start_engine(app.clone());
    tokio::spawn(serve(listener, app));
    Ok(bound)
}
