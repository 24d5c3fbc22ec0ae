//! Logs: structured JSON in Lambda (CloudWatch parses it), readable text locally.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // try_init: a second call (tests) keeps the first subscriber.
    let _ = if in_lambda {
        builder.json().with_current_span(false).with_ansi(false).without_time().try_init()
    } else {
        builder.try_init()
    };
}
