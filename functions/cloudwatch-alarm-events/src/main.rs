//! CloudWatch alarm state changes from an EventBridge rule, or from an SNS
//! topic's Lambda subscription, into the integration the stack names.

#[tokio::main]
async fn main() -> Result<(), coc_runtime::lambda::Error> {
    coc_runtime::lambda::serve_cloudwatch_events().await
}
