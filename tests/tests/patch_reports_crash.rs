//! What a save of a compliance report that dies half-way leaves behind is
//! collected by later saves of the report, on every store adapter: items of a
//! generation that never became current (once it is too old to be a save still
//! running), and of one that dropped out of the header before its items were
//! deleted (at once). Crashes are simulated by a store that refuses every
//! write after the first N.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::limits::PATCH_SAVE_ABANDONED_MS;
use coc_shared::ports::{Order, Store, StoreError, WriteOp};
use coc_shared::repositories::patch_reports::{self, report_id, ItemFilter, Paging};
use coc_tests::backends;
use coc_tests::hooked::{HookedStore, WriteHook};
use coc_tests::patch_fixtures::{items, report};

/// Lets `allowed` writes through, then fails every one, as a process that
/// died would write nothing more.
struct Crash {
    allowed: AtomicUsize,
}

/// `inner`, crashing after `writes` writes.
fn crashing_after(inner: Arc<dyn Store>, writes: usize) -> HookedStore<Crash> {
    HookedStore::new(inner, Crash { allowed: writes.into() })
}

#[async_trait]
impl WriteHook for Crash {
    async fn before_write(&self, _ops: &[WriteOp]) -> Result<(), StoreError> {
        self.allowed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .map(|_| ())
            .map_err(|_| StoreError::Backend("the process crashed".into()))
    }
}

const HOST: &str = "crash-host";
const BASELINE: &str = "bl";

fn project() -> ProjectId {
    ProjectId::parse("p-crash").unwrap()
}

/// The generations that have items in the store, with how many each.
async fn item_generations(store: &dyn Store) -> Vec<(u64, usize)> {
    let id = report_id(HOST, BASELINE);
    let records = store.query_prefix(&format!("PROJECT#{}#PATCH_ITEMS#{id}", project()), "").await.unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for record in records {
        let generation: u64 = record.sk.split('#').next().unwrap().parse().unwrap();
        *counts.entry(generation).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// The generations that have a mark.
async fn marked_generations(store: &dyn Store) -> BTreeSet<u64> {
    let id = report_id(HOST, BASELINE);
    let marks =
        store.query_prefix(&format!("PROJECT#{}", project()), &format!("PATCH_REPORT_SAVE#{id}#")).await.unwrap();
    marks.iter().map(|mark| mark.sk.rsplit('#').next().unwrap().parse().unwrap()).collect()
}

async fn save(store: &dyn Store, n: i64, count: usize, now: i64) -> Result<(), String> {
    let scan = report(HOST, BASELINE, 1_000 + n, &format!("SO{n}"));
    patch_reports::save_at(store, &project(), &scan, &items(&format!("gen{n}"), count), now)
        .await
        .map_err(|err| err.to_string())
}

/// Every item the report shows is of scan `n`, and all of them.
async fn shows(store: &dyn Store, n: i64, count: usize) {
    let header = patch_reports::get(store, &project(), &report_id(HOST, BASELINE)).await.unwrap().unwrap();
    assert_eq!(header.report.order_id, format!("SO{n}"));
    let all = Paging { skip: 0, limit: 100, order: Order::Ascending };
    let page = patch_reports::items_page(store, &project(), &header, &ItemFilter::default(), all).await.unwrap();
    assert_eq!(page.count, count);
    assert!(page.items.iter().all(|item| item.title.starts_with(&format!("gen{n}-"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_that_died_writing_items_is_collected_once_it_is_too_old_to_be_running() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.as_ref();
        let now = now_ms();
        save(store, 1, 60, now).await.unwrap();
        // The mark and two chunks of 25 items, then the crash.
        let crashing = crashing_after(backend.store.clone(), 3);
        assert!(save(&crashing, 2, 300, now).await.is_err(), "{name}");
        assert_eq!(item_generations(store).await, [(1, 60), (2, 50)], "{name}: the half-written generation");
        shows(store, 1, 60).await;

        // Right after, it may be a save still running: kept.
        save(store, 3, 40, now + 1_000).await.unwrap();
        assert_eq!(item_generations(store).await, [(1, 60), (2, 50), (3, 40)], "{name}");
        // Once it is too old for that, the next save collects it (and, as ever, the generation two saves old).
        save(store, 4, 30, now + PATCH_SAVE_ABANDONED_MS + 1).await.unwrap();
        assert_eq!(item_generations(store).await, [(3, 40), (4, 30)], "{name}: nothing of generation 2 is left");
        assert_eq!(marked_generations(store).await, BTreeSet::from([3, 4]), "{name}");
        shows(store, 4, 30).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_that_dropped_out_before_its_items_were_deleted_is_collected_by_the_next_save() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.as_ref();
        let now = now_ms();
        save(store, 1, 70, now).await.unwrap();
        save(store, 2, 50, now).await.unwrap();
        // The mark, two chunks of items and the switch of the header; then the crash.
        let crashing = crashing_after(backend.store.clone(), 4);
        save(&crashing, 3, 40, now).await.expect("saved: only the clean-up after the switch failed");
        shows(store, 3, 40).await;
        assert_eq!(item_generations(store).await, [(1, 70), (2, 50), (3, 40)], "{name}: generation 1 is left over");

        // No waiting: nothing can switch back to a generation that dropped out.
        save(store, 4, 30, now).await.unwrap();
        assert_eq!(item_generations(store).await, [(3, 40), (4, 30)], "{name}: nothing of generations 1 and 2 is left");
        assert_eq!(marked_generations(store).await, BTreeSet::from([3, 4]), "{name}");
        shows(store, 4, 30).await;
    }
}

/// Lets writes through, but holds the one numbered `stall_at` (from 0) until
/// released: a save that stalls (a paused process) rather than dies.
struct Stall {
    stall_at: usize,
    writes: AtomicUsize,
    release: tokio::sync::Semaphore,
}

#[async_trait]
impl WriteHook for Stall {
    async fn before_write(&self, _ops: &[WriteOp]) -> Result<(), StoreError> {
        if self.writes.fetch_add(1, Ordering::SeqCst) == self.stall_at {
            self.release.acquire().await.expect("open").forget();
        }
        Ok(())
    }
}

/// A save taken for crashed that was only slow must not switch the report to
/// the items a later save collected: it fails, and the report stays whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_whose_items_were_collected_cannot_switch_to_them() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.as_ref();
        let now = now_ms();
        save(store, 1, 30, now).await.unwrap();
        // Scan 9's save (the newest report: it would win) writes its mark and
        // one chunk of items, then stalls before switching the header...
        let stall = Stall { stall_at: 2, writes: 0.into(), release: tokio::sync::Semaphore::new(0) };
        let stalled = Arc::new(HookedStore::new(backend.store.clone(), stall));
        let slow = {
            let stalled = stalled.clone();
            tokio::spawn(async move { save(stalled.as_ref(), 9, 20, now).await })
        };
        while stalled.hook.writes.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // ...long enough for a later save to take it for crashed and collect it...
        save(store, 3, 10, now + PATCH_SAVE_ABANDONED_MS + 1).await.unwrap();
        let collected = item_generations(store).await;
        assert_eq!(collected, [(1, 30), (3, 10)], "{name}: generation 2 (scan 9's) is collected");
        // ...then it goes on: the switch to collected items is refused.
        stalled.hook.release.add_permits(1);
        let late = slow.await.unwrap();
        assert!(late.is_err(), "{name}: {late:?}");
        shows(store, 3, 10).await;
        assert_eq!(item_generations(store).await, collected, "{name}");
    }
}

/// A generation saved before marks were kept is deleted, by reading its
/// items, when it drops out of the header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_saved_before_marks_is_deleted_when_it_drops_out() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.as_ref();
        let now = now_ms();
        save(store, 1, 260, now).await.unwrap();
        // As an earlier version left it: the items and the header, no mark.
        let id = report_id(HOST, BASELINE);
        let pk = format!("PROJECT#{}", project());
        for mark in store.query_prefix(&pk, &format!("PATCH_REPORT_SAVE#{id}#")).await.unwrap() {
            let delete = WriteOp::Delete { pk: mark.pk, sk: mark.sk, condition: coc_shared::ports::Condition::Always };
            store.write(vec![delete]).await.unwrap();
        }
        save(store, 2, 20, now).await.unwrap();
        assert_eq!(item_generations(store).await, [(1, 260), (2, 20)], "{name}: kept while it is the previous one");
        save(store, 3, 10, now).await.unwrap();
        assert_eq!(item_generations(store).await, [(2, 20), (3, 10)], "{name}");
        assert_eq!(marked_generations(store).await, BTreeSet::from([2, 3]), "{name}");
        shows(store, 3, 10).await;
    }
}
