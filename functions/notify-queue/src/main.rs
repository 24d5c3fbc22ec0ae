/// Delivers notifications from the notification queue (mail, SMS, chat robots).
#[tokio::main]
async fn main() -> Result<(), coc_shared::lambda::Error> {
    coc_shared::lambda::serve_notify_queue().await
}
