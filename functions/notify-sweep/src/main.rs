/// Re-queues pending notification deliveries whose queue message was lost; runs on a schedule.
#[tokio::main]
async fn main() -> Result<(), coc_shared::lambda::Error> {
    coc_shared::lambda::serve_notify_sweep().await
}
