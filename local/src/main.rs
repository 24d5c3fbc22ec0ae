use coc_local::{serve, DEFAULT_LISTEN};
use coc_shared::App;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    coc_shared::logging::init();
    let listen = std::env::var("COC_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.to_owned());
    let data_dir = App::data_dir_from_env();
    let app = App::embedded(&data_dir)?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %data_dir.display(), "COC API serving every route");
    tokio::select! {
        result = serve(listener, app) => result?,
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
    }
    Ok(())
}
