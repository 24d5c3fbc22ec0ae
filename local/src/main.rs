//! `coc-local`: every route of the API in one process, with the job engine.
//! `coc-local --engine-only`: the job engine alone (queue consumer and sweeps),
//! for when the functions serve the API one by one (`cargo lambda watch`): there
//! no event source hands the queue's messages to the `job-engine` function.
//!
//! Store, queue and master key are chosen from the environment as the functions
//! choose them ([`app_from_env`]): DynamoDB with `COC_TABLE_NAME`, SQS with
//! `COC_QUEUE_URL`, KMS with `COC_KMS_KEY_ID`, else the embedded ones.

use coc_local::{serve, start_engine, start_notifications, start_scheduler, Limits, DEFAULT_LISTEN};
use coc_runtime::environment::{app_from_env, deliverer_from_env};
use coc_shared::auth::{bootstrap, BootstrapConfig};
use coc_shared::clock::now_ms;
use coc_shared::App;

const USAGE: &str = "usage: coc-local [--engine-only]";

enum Mode {
    /// The API on COC_LISTEN, and the engine.
    Serve,
    /// Only the engine.
    EngineOnly,
}

fn mode_from_args() -> Result<Mode, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => Ok(Mode::Serve),
        ["--engine-only"] => Ok(Mode::EngineOnly),
        _ => Err(format!("{USAGE} (got {})", args.join(" "))),
    }
}

/// What [`app_from_env`] chose, in words for the start-up log (never a secret:
/// a table name, a queue URL, a key id or a path).
struct Backends {
    store: String,
    queue: String,
    master_key: String,
    attachments: String,
}

impl Backends {
    fn from_env() -> Self {
        let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let data_dir = App::data_dir_from_env();
        let embedded = || format!("embedded SQLite in {}", data_dir.display());
        Backends {
            store: set("COC_TABLE_NAME").map_or_else(embedded, |table| format!("DynamoDB table {table}")),
            queue: set("COC_QUEUE_URL").map_or_else(embedded, |url| format!("SQS queue {url}")),
            master_key: match (set("COC_KMS_KEY_ID"), set("COC_KEY_FILE")) {
                (Some(key_id), _) => format!("KMS key {key_id}"),
                (None, Some(path)) => format!("key file {path}"),
                (None, None) => format!("key file in {}", data_dir.display()),
            },
            attachments: set(coc_shared::app::ATTACHMENTS_BUCKET_VAR).map_or_else(
                || format!("files in {}", data_dir.join(coc_shared::app::EMBEDDED_BLOBS_DIR).display()),
                |bucket| format!("S3 bucket {bucket}"),
            ),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    coc_shared::logging::init();
    let mode = mode_from_args()?;
    let limits = Limits::from_env()?;
    let backends = Backends::from_env();
    let app = app_from_env().await?;
    match mode {
        Mode::EngineOnly => {
            tracing::info!(
                store = backends.store,
                queue = backends.queue,
                master_key = backends.master_key,
                attachments = backends.attachments,
                "COC job engine running"
            );
            start_engine(app.clone());
            start_scheduler(app.clone());
            start_notifications(app.clone(), deliverer_from_env(&app).await?);
            tokio::signal::ctrl_c().await?;
            tracing::info!("shutting down");
            return Ok(());
        }
        Mode::Serve => {}
    }
    if let Some(created) = bootstrap(app.store.as_ref(), &app.secrets, &BootstrapConfig::from_env(), now_ms()).await? {
        // Printed once, on stdout and not through the log: there is no other way to learn it.
        println!("First start: created a tenant and an access key for it. Keep them; they are not shown again.");
        println!("  project_id: {}", created.project_id);
        println!("  access key (AK): {}", created.access_key);
        println!("  secret key (SK): {}", created.secret_key);
    }
    let listen = std::env::var("COC_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    // Links in notifications (subscription confirmations) point here unless COC_PUBLIC_URL says otherwise.
    let app = match app.public_url {
        Some(_) => app,
        None => {
            let url = format!("http://{}", listener.local_addr()?);
            app.with_public_url(Some(url))
        }
    };
    tracing::info!(
        listen = %listener.local_addr()?,
        store = backends.store,
        queue = backends.queue,
        master_key = backends.master_key,
        max_connections = limits.max_connections,
        header_timeout_secs = limits.header_timeout.as_secs(),
        body_timeout_secs = limits.body_timeout.as_secs(),
        "COC API serving every route"
    );
    start_engine(app.clone());
    start_scheduler(app.clone());
    start_notifications(app.clone(), deliverer_from_env(&app).await?);
    tokio::select! {
        () = serve(listener, app, limits) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
    }
    Ok(())
}
