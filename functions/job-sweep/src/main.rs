#[tokio::main]
async fn main() -> Result<(), coc_runtime::lambda::Error> {
    coc_runtime::lambda::serve_engine_sweep().await
}
