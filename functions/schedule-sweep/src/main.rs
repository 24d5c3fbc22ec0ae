#[tokio::main]
async fn main() -> Result<(), coc_runtime::lambda::Error> {
    coc_runtime::lambda::serve_schedule_sweep().await
}
