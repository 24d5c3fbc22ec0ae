//! One contract, every store adapter: SQLite and DynamoDB (Local, over HTTP).

use std::collections::HashSet;
use std::sync::Arc;

use coc_shared::ports::{Condition, Item, Store, StoreError, WriteOp};
use coc_tests::backends;

fn put(item: Item, condition: Condition) -> WriteOp {
    WriteOp::Put { item, condition }
}

fn item(pk: &str, sk: &str, data: &str, version: u64) -> Item {
    Item::new(pk, sk, data.to_owned(), version)
}

async fn conditional_puts(store: &dyn Store) {
    let first = item("P#a", "K#1", r#"{"v":1}"#, 1);
    store.write(vec![put(first.clone(), Condition::NotExists)]).await.unwrap();
    assert_eq!(store.get("P#a", "K#1").await.unwrap(), Some(first.clone()));

    let again = item("P#a", "K#1", r#"{"v":2}"#, 1);
    assert_eq!(store.write(vec![put(again, Condition::NotExists)]).await, Err(StoreError::ConditionFailed));
    assert_eq!(store.get("P#a", "K#1").await.unwrap(), Some(first), "a failed write changes nothing");

    let stale = item("P#a", "K#1", r#"{"v":3}"#, 8);
    assert_eq!(store.write(vec![put(stale, Condition::VersionIs(7))]).await, Err(StoreError::ConditionFailed));
    let next = item("P#a", "K#1", r#"{"v":3}"#, 2);
    store.write(vec![put(next.clone(), Condition::VersionIs(1))]).await.unwrap();
    assert_eq!(store.get("P#a", "K#1").await.unwrap(), Some(next));

    assert_eq!(store.get("P#a", "K#missing").await.unwrap(), None);
    assert_eq!(store.get("P#other", "K#1").await.unwrap(), None, "keys are per partition");
}

async fn transactions_are_all_or_nothing(store: &dyn Store) {
    store.write(vec![put(item("P#t", "B", "{}", 1), Condition::NotExists)]).await.unwrap();
    let ops = vec![
        put(item("P#t", "A", "{}", 1), Condition::NotExists),
        put(item("P#t", "B", "{}", 1), Condition::NotExists),
    ];
    assert_eq!(store.write(ops).await, Err(StoreError::ConditionFailed));
    assert_eq!(store.get("P#t", "A").await.unwrap(), None, "the first write of a failed transaction is undone");

    let ops = vec![
        put(item("P#t", "A", "{}", 1), Condition::NotExists),
        WriteOp::Delete { pk: "P#t".into(), sk: "B".into(), condition: Condition::VersionIs(1) },
    ];
    store.write(ops).await.unwrap();
    assert!(store.get("P#t", "A").await.unwrap().is_some());
    assert_eq!(store.get("P#t", "B").await.unwrap(), None);

    let delete_missing = WriteOp::Delete { pk: "P#t".into(), sk: "B".into(), condition: Condition::Exists };
    assert_eq!(store.write(vec![delete_missing]).await, Err(StoreError::ConditionFailed));
    let delete_any = WriteOp::Delete { pk: "P#t".into(), sk: "B".into(), condition: Condition::Always };
    store.write(vec![delete_any]).await.unwrap();
}

async fn prefix_queries(store: &dyn Store) {
    for sk in ["S#b", "S#a", "S%#c", "T#a", "S_x"] {
        store.write(vec![put(item("P#q", sk, "{}", 1), Condition::Always)]).await.unwrap();
    }
    store.write(vec![put(item("P#q2", "S#z", "{}", 1), Condition::Always)]).await.unwrap();
    let keys = |items: Vec<Item>| items.into_iter().map(|i| i.sk).collect::<Vec<_>>();
    assert_eq!(keys(store.query_prefix("P#q", "S#").await.unwrap()), ["S#a", "S#b"]);
    assert_eq!(keys(store.query_prefix("P#q", "S%").await.unwrap()), ["S%#c"], "wildcards in a prefix are literal");
    assert_eq!(keys(store.query_prefix("P#q", "").await.unwrap()).len(), 5);
    assert!(store.query_prefix("P#none", "S#").await.unwrap().is_empty());
}

async fn large_queries_are_read_to_the_end(store: &dyn Store) {
    // 60 items of 20 KB exceed DynamoDB's 1 MB page: the adapter must follow the pages.
    let data = format!("\"{}\"", "x".repeat(20_000));
    for i in 0..60 {
        store.write(vec![put(item("P#big", &format!("I#{i:03}"), &data, 1), Condition::Always)]).await.unwrap();
    }
    let items = store.query_prefix("P#big", "I#").await.unwrap();
    assert_eq!(items.len(), 60);
    assert!(items.windows(2).all(|w| w[0].sk < w[1].sk), "ascending sort-key order");
}

async fn counters(store: Arc<dyn Store>) {
    assert_eq!(store.increment("P#c", "ONE").await.unwrap(), 1);
    assert_eq!(store.increment("P#c", "ONE").await.unwrap(), 2);
    assert_eq!(store.increment("P#c", "TWO").await.unwrap(), 1, "counters are independent");

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.increment("P#c", "RACE").await.unwrap() })
        })
        .collect();
    let mut seen = HashSet::new();
    for task in tasks {
        assert!(seen.insert(task.await.unwrap()), "no value is handed out twice");
    }
    assert_eq!(seen, (1..=20).collect());
}

async fn concurrent_creates_have_one_winner(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let ops = vec![
                    put(item("P#r", "NAME#same", &format!("{{\"by\":{i}}}"), 1), Condition::NotExists),
                    put(item("P#r", &format!("DOC#{i}"), "{}", 1), Condition::NotExists),
                ];
                store.write(ops).await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::ConditionFailed) => {}
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.query_prefix("P#r", "DOC#").await.unwrap().len(), 1, "losers wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_adapters_honour_the_contract() {
    for backend in backends().await {
        eprintln!("store contract on {}", backend.name);
        let store = backend.store.clone();
        conditional_puts(store.as_ref()).await;
        transactions_are_all_or_nothing(store.as_ref()).await;
        prefix_queries(store.as_ref()).await;
        large_queries_are_read_to_the_end(store.as_ref()).await;
        counters(store.clone()).await;
        concurrent_creates_have_one_winner(store).await;
    }
}
