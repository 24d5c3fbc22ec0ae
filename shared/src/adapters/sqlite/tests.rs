//! The writer and readers on a real database file: group commit keeps every
//! request's own all-or-nothing, and reads never wait for writes.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use super::{SqliteDb, SqliteStore, DB_FILE};
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};

fn insert(pk: &str, sk: &str, data: &str) -> WriteOp {
    WriteOp::Put { item: Item::new(pk, sk, data.to_owned(), 1), condition: Condition::NotExists }
}

fn open() -> (tempfile::TempDir, SqliteDb, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open_dir(dir.path()).unwrap();
    let store = Arc::new(SqliteStore::new(db.clone()));
    (dir, db, store)
}

/// Holds the writer inside a transaction until the returned sender is dropped
/// or sent to; returns once the writer is holding.
async fn hold_writer(db: &SqliteDb) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel();
    let writer = db.writer.clone();
    let holding = tokio::spawn(async move {
        let work = move |_: &Connection| {
            let _ = started.send(());
            let _ = held.recv();
            Ok(Ok::<_, StoreError>(()))
        };
        writer.run(0, work).await.unwrap().unwrap();
    });
    running.await.unwrap();
    (release, holding)
}

async fn wait_queued(db: &SqliteDb, count: usize) {
    while db.writer.queued() < count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_commits_once_and_a_failed_condition_undoes_only_its_own_request() {
    let (_dir, db, store) = open();
    let (release, holding) = hold_writer(&db).await;
    let before = db.commits();
    // 64 requests queue up behind the held writer and form the next group:
    // 30 keys inserted twice each (one winner per key), and a transaction of
    // two inserts whose second insert collides with a key the group wrote.
    // Each part is queued before the next is sent: the collision must come
    // after the inserts it collides with (spawned tasks reach the queue in
    // any order).
    let pairs: Vec<_> =
        (0..60).map(|n| vec![insert("P", &format!("K#{}", n / 2), &format!("from request {n}"))]).collect();
    let lone = vec![vec![insert("P", "LONE", "undone with its request"), insert("P", "K#0", "collides")]];
    let late: Vec<_> = (0..3).map(|n| vec![insert("P", &format!("LATE#{n}"), "late")]).collect();
    let mut tasks = Vec::new();
    for part in [pairs, lone, late] {
        for ops in part {
            let store = store.clone();
            tasks.push(tokio::spawn(async move { store.write(ops).await }));
        }
        wait_queued(&db, tasks.len()).await;
    }
    release.send(()).unwrap();
    holding.await.unwrap();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }

    assert_eq!(db.commits() - before, 2, "the held transaction, then all 64 requests in one commit");
    for key in 0..30 {
        let pair = &outcomes[key * 2..key * 2 + 2];
        let winners = pair.iter().filter(|o| o.is_ok()).count();
        assert_eq!(winners, 1, "K#{key}: {pair:?}");
        assert!(pair.contains(&Err(StoreError::ConditionFailed)), "K#{key}: {pair:?}");
        assert!(store.get("P", &format!("K#{key}")).await.unwrap().is_some(), "the losers did not undo K#{key}");
    }
    assert_eq!(outcomes[60], Err(StoreError::ConditionFailed));
    assert_eq!(store.get("P", "LONE").await.unwrap(), None, "a failed request is undone entirely");
    for (n, outcome) in outcomes[61..].iter().enumerate() {
        assert_eq!(outcome, &Ok(()), "LATE#{n}: requests after a failed one still commit");
        assert!(store.get("P", &format!("LATE#{n}")).await.unwrap().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_of_one_key_have_exactly_one_winner() {
    let (_dir, _db, store) = open();
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.write(vec![insert("P", "ONE", &n.to_string())]).await })
        })
        .collect();
    let mut winners = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(()) => winners.push(n.to_string()),
            Err(err) => assert_eq!(err, StoreError::ConditionFailed),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(store.get("P", "ONE").await.unwrap().unwrap().data, winners[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_is_answered_before_its_group_committed() {
    let (dir, db, store) = open();
    let (release, holding) = hold_writer(&db).await;
    let write = tokio::spawn({
        let store = store.clone();
        async move { store.write(vec![insert("P", "K", "v")]).await }
    });
    wait_queued(&db, 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!write.is_finished(), "answered while queued behind an open transaction");
    release.send(()).unwrap();
    holding.await.unwrap();
    write.await.unwrap().unwrap();
    // What was acknowledged is in the file, for any other connection.
    let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let data: String = other.query_row("SELECT data FROM items WHERE pk = 'P' AND sk = 'K'", [], |r| r.get(0)).unwrap();
    assert_eq!(data, "v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_while_a_write_waits_for_the_lock() {
    let (dir, _db, store) = open();
    store.write(vec![insert("P", "OLD", "committed")]).await.unwrap();
    // Another process holds the write lock in a long transaction.
    let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
    other
        .execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO items (pk, sk, data, version) VALUES ('P', 'NEW', 'uncommitted', 1);",
        )
        .unwrap();
    let write = tokio::spawn({
        let store = store.clone();
        async move { store.write(vec![insert("P", "MINE", "waits")]).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!write.is_finished(), "the write waits for the other process's lock");

    let read = tokio::time::timeout(Duration::from_secs(2), store.get("P", "OLD")).await;
    assert_eq!(read.expect("a read waited behind the write").unwrap().unwrap().data, "committed");
    let page = tokio::time::timeout(Duration::from_secs(2), store.query_prefix("P", "")).await;
    let keys: Vec<_> = page.expect("a range read waited behind the write").unwrap().into_iter().map(|i| i.sk).collect();
    assert_eq!(keys, ["OLD"], "readers see the last commit, nothing uncommitted");

    other.execute_batch("COMMIT").unwrap();
    tokio::time::timeout(Duration::from_secs(5), write).await.unwrap().unwrap().unwrap();
    assert!(store.get("P", "MINE").await.unwrap().is_some());
    assert!(store.get("P", "NEW").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_databases_on_one_file_both_write() {
    let (dir, _db, first) = open();
    let second = Arc::new(SqliteStore::new(SqliteDb::open_dir(dir.path()).unwrap()));
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let store = if n % 2 == 0 { first.clone() } else { second.clone() };
            tokio::spawn(async move { store.write(vec![insert("P", &format!("K#{n:02}"), "v")]).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for store in [first, second] {
        assert_eq!(store.query_prefix("P", "K#").await.unwrap().len(), 64);
    }
}

#[tokio::test]
async fn counters_and_queue_writes_go_through_the_writer() {
    use crate::ports::Queue;
    let (_dir, db, store) = open();
    let queue = super::SqliteQueue::new(db.clone(), "q", Duration::from_secs(30));
    let before = db.commits();
    assert_eq!(store.increment("C", "n").await.unwrap(), 1);
    assert_eq!(store.increment("C", "n").await.unwrap(), 2);
    queue.send("hello", Duration::ZERO).await.unwrap();
    let received = queue.receive(1, Duration::ZERO).await.unwrap();
    queue.delete(&received[0].receipt).await.unwrap();
    assert_eq!(db.commits() - before, 5, "two increments, a send, a claim, a delete");
    // An empty queue is looked at by a reader: no write transaction.
    assert!(queue.receive(1, Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(db.commits() - before, 5);
}

/// The foreign-write version moves when another process (here: another
/// `SqliteDb` on the same file, with its own writer) commits, and never for
/// this process's own writes or reads: idle polls rely on it to sleep.
#[tokio::test]
async fn only_another_process_s_commits_move_the_foreign_write_version() {
    use crate::ports::ForeignWrites;

    let (dir, here, store) = open();
    let other = SqliteDb::open_dir(dir.path()).unwrap();
    let other_store = SqliteStore::new(other.clone());
    let start = here.version().await.unwrap();
    store.write(vec![insert("p", "own-1", "{}")]).await.unwrap();
    store.write(vec![insert("p", "own-2", "{}")]).await.unwrap();
    assert!(store.get("p", "own-1").await.unwrap().is_some());
    assert_eq!(here.version().await.unwrap(), start, "its own commits and reads leave it as it is");

    other_store.write(vec![insert("p", "theirs", "{}")]).await.unwrap();
    let after = here.version().await.unwrap();
    assert_ne!(after, start, "another process committed");
    assert_eq!(here.version().await.unwrap(), after, "and only once");
    assert_eq!(other.version().await.unwrap(), other.version().await.unwrap());
}
