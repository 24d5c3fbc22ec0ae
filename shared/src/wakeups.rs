//! Per-agent wake-ups: how the engine tells an agent's waiting job poll, in
//! this process, that jobs were just handed to that agent, and nobody else.
//!
//! A poll subscribes under (project, agent_sn) *before* it looks at its jobs,
//! then waits on the subscription. The engine, after a save that dispatched
//! jobs, wakes exactly the agents those jobs target. A wake-up that comes
//! between the poll's look and its wait is not lost: the subscription's
//! [`tokio::sync::watch`] receiver remembers that a wake-up happened since it
//! last looked. An agent's entry exists only while a poll of it waits, so the
//! registry does not grow with agents that came and went.
//!
//! Jobs handed out by another process wake nobody here directly. On the
//! embedded store, which only processes of this machine share (a second
//! `coc-local`, `cargo lambda watch` functions), a watcher asks the store every
//! [`FOREIGN_PROBE_EVERY`] whether another process committed
//! ([`ForeignWrites`]), and only then wakes every waiting poll to look once:
//! a poll costs nothing while nobody else writes. On DynamoDB (another Lambda
//! instance) there is no such signal, and a waiting poll looks at its own jobs
//! every `App::poll_recheck` instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::tenant::ProjectId;
use crate::ports::ForeignWrites;

/// How often the watcher asks whether another process wrote the store: the
/// longest a job handed out by another process waits for a poll here.
pub const FOREIGN_PROBE_EVERY: Duration = Duration::from_secs(1);

/// An agent, as its jobs are addressed: agent_sn is unique within a tenant only.
type AgentKey = (ProjectId, String);

/// Who waits for jobs in this process, by agent.
#[derive(Default)]
pub struct Wakeups {
    waiting: Mutex<HashMap<AgentKey, watch::Sender<()>>>,
    foreign: Option<ForeignWatch>,
}

/// The watcher of other processes' writes: started by the first poll that
/// waits (it needs the async runtime), it ends when the registry is dropped.
struct ForeignWatch {
    probe: Arc<dyn ForeignWrites>,
    every: Duration,
    /// Changes each time the watcher saw another process's commit.
    seen: OnceLock<watch::Receiver<u64>>,
}

impl ForeignWatch {
    fn receiver(&self) -> watch::Receiver<u64> {
        self.seen
            .get_or_init(|| {
                let (sender, receiver) = watch::channel(0);
                tokio::spawn(watch_foreign_writes(self.probe.clone(), self.every, sender));
                receiver
            })
            .clone()
    }
}

/// Bumps `changes` whenever the store's foreign-write version moves, until
/// nobody listens (the registry holds a receiver for as long as it lives).
async fn watch_foreign_writes(probe: Arc<dyn ForeignWrites>, every: Duration, changes: watch::Sender<u64>) {
    let mut last = probe.version().await.ok();
    while !changes.is_closed() {
        tokio::time::sleep(every).await;
        match probe.version().await {
            Ok(version) if Some(version) != last => {
                last = Some(version);
                changes.send_modify(|count| *count += 1);
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "cannot tell whether another process wrote the store"),
        }
    }
}

/// A poll's registration: keeps its agent's entry alive until dropped.
pub struct Subscription<'a> {
    wakeups: &'a Wakeups,
    key: AgentKey,
    /// `Some` until the subscription is dropped.
    receiver: Option<watch::Receiver<()>>,
    /// Other processes' writes, where the store tells of them.
    foreign: Option<watch::Receiver<u64>>,
}

impl Wakeups {
    /// A registry that also wakes every waiting poll when `probe` says another
    /// process wrote the store (looked at every `every`).
    pub fn watching(probe: Arc<dyn ForeignWrites>, every: Duration) -> Self {
        Wakeups { waiting: Mutex::default(), foreign: Some(ForeignWatch { probe, every, seen: OnceLock::new() }) }
    }

    /// Registers a waiter for `agent_sn` of `project`. Wake-ups from now on are
    /// seen by [`Subscription::woken`], including those before it is called.
    pub fn subscribe(&self, project: &ProjectId, agent_sn: &str) -> Subscription<'_> {
        let key = (project.clone(), agent_sn.to_owned());
        let mut waiting = self.waiting.lock().expect("wake-up registry lock");
        let receiver = waiting.entry(key.clone()).or_insert_with(|| watch::channel(()).0).subscribe();
        let foreign = self.foreign.as_ref().map(ForeignWatch::receiver);
        Subscription { wakeups: self, key, receiver: Some(receiver), foreign }
    }

    /// Wakes the polls waiting for `agent_sn` of `project`, if any.
    pub fn wake(&self, project: &ProjectId, agent_sn: &str) {
        let waiting = self.waiting.lock().expect("wake-up registry lock");
        if let Some(sender) = waiting.get(&(project.clone(), agent_sn.to_owned())) {
            // Marks the value changed for every receiver, whether it waits yet or not.
            sender.send_replace(());
        }
    }

    /// How many agents have a poll waiting in this process.
    pub fn waiting_agents(&self) -> usize {
        self.waiting.lock().expect("wake-up registry lock").len()
    }
}

impl Subscription<'_> {
    /// Resolves once the agent was woken since the subscription was made or
    /// since this last resolved. Cancel-safe: drop it to stop waiting.
    /// Another process's write also resolves it (where the store tells of
    /// them): the poll then looks, as jobs may have been handed out there.
    pub async fn woken(&mut self) {
        let receiver = self.receiver.as_mut().expect("a live subscription has its receiver");
        // The sender lives while any receiver does (it is removed only with the last one).
        match self.foreign.as_mut() {
            Some(foreign) => {
                tokio::select! {
                    _ = receiver.changed() => {}
                    changed = foreign.changed() => {
                        // The watcher is gone (runtime shutting down): wait for this process's own wake-ups only.
                        if changed.is_err() {
                            let _ = receiver.changed().await;
                        }
                    }
                }
            }
            None => {
                let _ = receiver.changed().await;
            }
        }
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        let mut waiting = self.wakeups.waiting.lock().expect("wake-up registry lock");
        drop(self.receiver.take());
        // Receivers are only made under this lock, so the count cannot grow behind our back.
        if waiting.get(&self.key).is_some_and(|sender| sender.receiver_count() == 0) {
            waiting.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn project(name: &str) -> ProjectId {
        ProjectId::parse(name).unwrap()
    }

    /// Whether the subscription resolves within a short while (wake-ups are
    /// synchronous, so a woken subscription resolves at once).
    async fn is_woken(subscription: &mut Subscription<'_>) -> bool {
        tokio::time::timeout(Duration::from_millis(50), subscription.woken()).await.is_ok()
    }

    #[tokio::test]
    async fn only_the_targeted_agent_is_woken() {
        let wakeups = Wakeups::default();
        let (p, other) = (project("p1"), project("p2"));
        let mut a = wakeups.subscribe(&p, "a");
        let mut b = wakeups.subscribe(&p, "b");
        let mut a_elsewhere = wakeups.subscribe(&other, "a");
        wakeups.wake(&p, "a");
        assert!(is_woken(&mut a).await);
        assert!(!is_woken(&mut b).await, "another agent of the tenant sleeps on");
        assert!(!is_woken(&mut a_elsewhere).await, "an agent of the same name in another tenant sleeps on");
        assert!(!is_woken(&mut a).await, "one wake-up resolves once");
    }

    #[tokio::test]
    async fn a_wake_up_before_the_wait_is_not_lost() {
        let wakeups = Wakeups::default();
        let p = project("p1");
        // The poll subscribes, looks at its jobs (finds none), and only then waits:
        // jobs handed out in between must still end the wait.
        let mut subscription = wakeups.subscribe(&p, "a");
        wakeups.wake(&p, "a");
        assert!(is_woken(&mut subscription).await);
    }

    #[tokio::test]
    async fn every_poll_of_the_agent_is_woken() {
        let wakeups = Wakeups::default();
        let p = project("p1");
        let (mut first, mut second) = (wakeups.subscribe(&p, "a"), wakeups.subscribe(&p, "a"));
        wakeups.wake(&p, "a");
        assert!(is_woken(&mut first).await && is_woken(&mut second).await);
    }

    /// A store whose foreign-write version the test moves.
    #[derive(Default)]
    struct OtherProcess(std::sync::atomic::AtomicU64);

    #[async_trait::async_trait]
    impl ForeignWrites for OtherProcess {
        async fn version(&self) -> Result<u64, crate::ports::StoreError> {
            Ok(self.0.load(std::sync::atomic::Ordering::SeqCst))
        }
    }

    #[tokio::test]
    async fn another_process_writing_wakes_every_waiting_poll_once() {
        let other = Arc::new(OtherProcess::default());
        let wakeups = Wakeups::watching(other.clone(), Duration::from_millis(10));
        let p = project("p1");
        let (mut a, mut b) = (wakeups.subscribe(&p, "a"), wakeups.subscribe(&project("p2"), "b"));
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(!is_woken(&mut a).await, "nobody else wrote: the polls sleep on");
        other.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(is_woken(&mut a).await && is_woken(&mut b).await, "every poll looks after another process wrote");
        assert!(!is_woken(&mut a).await, "once");
        wakeups.wake(&p, "a");
        assert!(is_woken(&mut a).await, "this process's own wake-ups still work");
        assert!(!is_woken(&mut b).await);
    }

    #[tokio::test]
    async fn entries_live_only_while_a_poll_waits() {
        let wakeups = Wakeups::default();
        let p = project("p1");
        wakeups.wake(&p, "nobody");
        assert_eq!(wakeups.waiting_agents(), 0, "waking an agent nobody waits for leaves nothing behind");
        let first = wakeups.subscribe(&p, "a");
        let second = wakeups.subscribe(&p, "a");
        let other = wakeups.subscribe(&p, "b");
        assert_eq!(wakeups.waiting_agents(), 2);
        drop(first);
        assert_eq!(wakeups.waiting_agents(), 2, "a's second poll still waits");
        drop(second);
        drop(other);
        assert_eq!(wakeups.waiting_agents(), 0);
        for i in 0..1000 {
            let _ = wakeups.subscribe(&p, &format!("agent-{i}"));
        }
        assert_eq!(wakeups.waiting_agents(), 0, "agents coming and going leave no entries");
        // A new poll after the entry was removed gets a fresh one and is woken as usual.
        let mut again = wakeups.subscribe(&p, "a");
        wakeups.wake(&p, "a");
        assert!(is_woken(&mut again).await);
    }
}
