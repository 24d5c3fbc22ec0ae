//! The one load generator every comparison uses: `clients` concurrent loops,
//! each sending its next request as soon as the previous one was answered,
//! until a request budget or a time budget is spent (the time budget keeps a
//! slow case from stretching the run). Figures are medians over rounds.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much load one round sends.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub clients: usize,
    pub requests: usize,
    pub time: Duration,
}

/// One round: throughput and every latency.
pub struct Round {
    pub rate: f64,
    pub latencies: Vec<Duration>,
}

/// Sends requests made by `request(n)` (n counts from 0 within the round);
/// `request` panics on an answer that is not the expected one.
pub async fn round<F, Fut>(budget: Budget, request: F) -> Round
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + budget.time;
    let workers: Vec<_> = (0..budget.clients)
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= budget.requests || Instant::now() >= deadline {
                        return latencies;
                    }
                    let sent = Instant::now();
                    request(n).await;
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("a load worker panicked"));
    }
    Round { rate: latencies.len() as f64 / started.elapsed().as_secs_f64(), latencies }
}

/// Medians over rounds of each round's throughput, p50 and p99.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Summary {
    pub fn of(rounds: &[Round]) -> Summary {
        let rates: Vec<f64> = rounds.iter().map(|r| r.rate).collect();
        let p50s = rounds.iter().map(|r| percentile(&r.latencies, 0.50)).collect();
        let p99s = rounds.iter().map(|r| percentile(&r.latencies, 0.99)).collect();
        Summary { rate: median_f64(rates), p50: median(p50s), p99: median(p99s) }
    }
}

pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    assert!(!samples.is_empty(), "a round without one answered request");
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn median_f64(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
