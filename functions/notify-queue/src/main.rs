/// Delivers notifications from the notification queue (mail, SMS, chat robots).
#[tokio::main]
async fn main() -> Result<(), coc_runtime::lambda::Error> {
    coc_runtime::lambda::serve_notify_queue().await
}
