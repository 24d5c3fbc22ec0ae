//! One contract, every queue adapter: SQLite and SQS (moto, over HTTP).

use std::time::Duration;

use coc_shared::ports::{Queue, QueueError};
use coc_tests::{backends, VISIBILITY_TIMEOUT};

const NO_WAIT: Duration = Duration::ZERO;
/// Long enough for any delayed or hidden message of these tests to come back.
const PATIENCE: Duration = Duration::from_secs(8);

async fn receive_one(queue: &dyn Queue, wait: Duration) -> Option<coc_shared::ports::ReceivedMessage> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut got = queue.receive(1, Duration::from_secs(1).min(wait)).await.unwrap();
        if let Some(message) = got.pop() {
            return Some(message);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
    }
}

async fn round_trip(queue: &dyn Queue) {
    queue.send(r#"{"step":"start","n":1}"#, NO_WAIT).await.unwrap();
    let message = receive_one(queue, PATIENCE).await.expect("the message arrives");
    assert_eq!(message.body, r#"{"step":"start","n":1}"#);
    assert_eq!(message.receive_count, 1);
    queue.delete(&message.receipt).await.unwrap();
    queue.delete(&message.receipt).await.expect("acknowledging twice is harmless");
    assert!(receive_one(queue, VISIBILITY_TIMEOUT + Duration::from_secs(1)).await.is_none(), "deleted means gone");
}

async fn unacknowledged_messages_come_back(queue: &dyn Queue) {
    queue.send("again", NO_WAIT).await.unwrap();
    let first = receive_one(queue, PATIENCE).await.expect("first delivery");
    assert!(queue.receive(10, NO_WAIT).await.unwrap().is_empty(), "hidden while being worked on");
    let second = receive_one(queue, PATIENCE).await.expect("delivered again after the visibility timeout");
    assert_eq!(second.body, "again");
    assert_eq!(second.receive_count, 2);
    assert_ne!(first.receipt, second.receipt);
    queue.delete(&second.receipt).await.unwrap();
}

async fn delayed_messages_wait(queue: &dyn Queue) {
    queue.send("later", Duration::from_secs(2)).await.unwrap();
    assert!(queue.receive(10, NO_WAIT).await.unwrap().is_empty(), "not visible before its delay");
    let message = receive_one(queue, PATIENCE).await.expect("visible after its delay");
    assert_eq!(message.body, "later");
    queue.delete(&message.receipt).await.unwrap();
}

async fn bad_requests_are_refused(queue: &dyn Queue) {
    assert!(matches!(queue.receive(0, NO_WAIT).await, Err(QueueError::Invalid(_))));
    assert!(matches!(queue.receive(11, NO_WAIT).await, Err(QueueError::Invalid(_))));
    assert!(matches!(queue.send("x", Duration::from_secs(901)).await, Err(QueueError::Invalid(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_adapters_honour_the_contract() {
    for backend in backends().await {
        eprintln!("queue contract on {}", backend.name);
        let queue = backend.queue.as_ref();
        round_trip(queue).await;
        unacknowledged_messages_come_back(queue).await;
        delayed_messages_wait(queue).await;
        bad_requests_are_refused(queue).await;
    }
}
