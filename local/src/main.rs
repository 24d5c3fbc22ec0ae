use coc_local::{serve, start_engine, Limits, DEFAULT_LISTEN};
use coc_shared::auth::{bootstrap, BootstrapConfig, PublicHosts};
use coc_shared::clock::now_ms;
use coc_shared::App;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    coc_shared::logging::init();
    let listen = std::env::var("COC_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.to_owned());
    let limits = Limits::from_env()?;
    let data_dir = App::data_dir_from_env();
    let app = App::embedded(&data_dir)?.with_public_hosts(PublicHosts::from_env()?);
    if let Some(created) = bootstrap(app.store.as_ref(), &BootstrapConfig::from_env(), now_ms()).await? {
        // Printed once, on stdout and not through the log: there is no other way to learn it.
        println!("First start: created a tenant and an access key for it. Keep them; they are not shown again.");
        println!("  project_id: {}", created.project_id);
        println!("  access key (AK): {}", created.access_key);
        println!("  secret key (SK): {}", created.secret_key);
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        data_dir = %data_dir.display(),
        max_connections = limits.max_connections,
        header_timeout_secs = limits.header_timeout.as_secs(),
        body_timeout_secs = limits.body_timeout.as_secs(),
        "COC API serving every route"
    );
    start_engine(app.clone());
    tokio::select! {
        () = serve(listener, app, limits) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
    }
    Ok(())
}
