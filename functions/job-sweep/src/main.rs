#[tokio::main]
async fn main() -> Result<(), coc_shared::lambda::Error> {
    coc_shared::lambda::serve_engine_sweep().await
}
