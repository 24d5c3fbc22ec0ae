/// Re-queues pending notification deliveries whose queue message was lost; runs on a schedule.
#[tokio::main]
async fn main() -> Result<(), coc_runtime::lambda::Error> {
    coc_runtime::lambda::serve_notify_sweep().await
}
