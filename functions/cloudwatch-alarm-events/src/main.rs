//! CloudWatch alarm state changes from an EventBridge rule, or from an SNS
//! topic's Lambda subscription, into the integration the stack names.

#[tokio::main]
async fn main() -> Result<(), coc_shared::lambda::Error> {
    coc_shared::handlers::alarms_cloudwatch::serve_events().await
}
