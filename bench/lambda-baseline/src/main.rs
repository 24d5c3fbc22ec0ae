//! The baseline `make bench` sets the COC functions against: a `lambda_http`
//! function that answers every request with a fixed text, and, like a COC
//! function on AWS, builds a DynamoDB and an SQS client at start (so both are
//! linked in and their set-up is part of the cold start).

use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_from_env().await;
    let table = aws_sdk_dynamodb::Client::new(&config);
    let queue = aws_sdk_sqs::Client::new(&config);
    lambda_http::run(service_fn(|_request: Request| {
        // Touch both clients so that neither is optimised away.
        let _clients = (&table, &queue);
        async move { Ok::<_, Error>(Response::builder().status(200).body(Body::from("hello")).expect("a response")) }
    }))
    .await
}
