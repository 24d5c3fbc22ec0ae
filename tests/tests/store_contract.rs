//! One contract, every store adapter: SQLite and DynamoDB (Local, over HTTP).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

use coc_shared::ports::{Condition, Index, IndexQuery, Item, Order, Page, PageQuery, Store, StoreError, WriteOp};
use coc_tests::{backends, dynamo_store_with, CountingStore};

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

/// Bulk writes: 25 unconditional puts and deletes each land, with their
/// index keys, on a bulk path (DynamoDB: BatchWriteItem); a conditional one
/// among them makes it a transaction, its condition kept.
async fn writes_each_on_its_own(store: &dyn Store) {
    let listed =
        |n: usize| item("P#each", &format!("K#{n:02}"), "{}", 1).indexed(Index::List, "L#each", format!("{n:02}"));
    store.write_each((0..25).map(|n| put(listed(n), Condition::Always)).collect()).await.unwrap();
    let page = store.query_index(index_page(Index::List, "L#each", None, 100, Order::Ascending)).await.unwrap();
    assert_eq!(page.items.len(), 25);
    assert_eq!(store.get("P#each", "K#07").await.unwrap(), Some(listed(7)));

    let mut ops: Vec<WriteOp> = (0..24)
        .map(|n| WriteOp::Delete { pk: "P#each".into(), sk: format!("K#{n:02}"), condition: Condition::Always })
        .collect();
    ops.push(WriteOp::Delete { pk: "P#each".into(), sk: "K#missing".into(), condition: Condition::Always });
    store.write_each(ops).await.unwrap();
    let left = store.query_prefix("P#each", "K#").await.unwrap();
    assert_eq!(keys(&left), ["K#24"], "deleting a missing key is no failure");

    let conditional = vec![
        put(item("P#each", "K#new", "{}", 1), Condition::Always),
        put(item("P#each", "K#24", "{}", 1), Condition::NotExists),
    ];
    assert_eq!(store.write_each(conditional).await, Err(StoreError::ConditionFailed));
    assert_eq!(store.get("P#each", "K#new").await.unwrap(), None, "with a condition, all or nothing");
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

fn keys(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.sk.as_str()).collect()
}

fn page<'a>(pk: &'a str, prefix: &'a str, after: Option<&'a str>, limit: usize, order: Order) -> PageQuery<'a> {
    PageQuery { pk, prefix, after, limit, order }
}

/// Writes the keys to one partition, 25 to a transaction.
async fn put_all(store: &dyn Store, pk: &str, keys: &[String]) {
    for chunk in keys.chunks(25) {
        let ops = chunk.iter().map(|sk| put(item(pk, sk, "{}", 1), Condition::Always)).collect();
        store.write(ops).await.unwrap();
    }
}

/// Prefix bounds are exact in byte (UTF-8) order: neighbours just below and
/// just above the range, and keys built from the highest character, stay out.
async fn prefix_reads_are_exact(store: &dyn Store) {
    let all = [
        "A",
        "A\"",
        "A#",
        "A#1",
        "A#10",
        "A#2",
        "A#é",
        "A#\u{10FFFF}",
        "A#\u{10FFFF}x",
        "A$",
        "B#",
        "é",
        "é\u{10FFFF}",
        "ê",
        "\u{10FFFF}",
        "\u{10FFFF}a",
        "a\u{D7FF}z",
        "a\u{E000}",
    ];
    put_all(store, "P#exact", &all.map(str::to_owned)).await;
    put_all(store, "P#exact2", &["A#1".to_owned()]).await;
    let cases: [(&str, &[&str]); 7] = [
        ("A#", &["A#", "A#1", "A#10", "A#2", "A#é", "A#\u{10FFFF}", "A#\u{10FFFF}x"]),
        ("A#1", &["A#1", "A#10"]),
        ("A#\u{10FFFF}", &["A#\u{10FFFF}", "A#\u{10FFFF}x"]),
        ("é", &["é", "é\u{10FFFF}"]),
        ("\u{10FFFF}", &["\u{10FFFF}", "\u{10FFFF}a"]),
        ("a\u{D7FF}", &["a\u{D7FF}z"]),
        ("A#3", &[]),
    ];
    for (prefix, expected) in cases {
        let listed = store.query_prefix("P#exact", prefix).await.unwrap();
        assert_eq!(keys(&listed), expected, "query_prefix({prefix:?})");
        let paged = store.query_page(page("P#exact", prefix, None, 100, Order::Ascending)).await.unwrap();
        assert_eq!(keys(&paged.items), expected, "query_page({prefix:?})");
        assert_eq!(paged.last_sk, None, "a page that is not full ends the range");
        let down = store.query_page(page("P#exact", prefix, None, 100, Order::Descending)).await.unwrap();
        assert_eq!(keys(&down.items), expected.iter().rev().copied().collect::<Vec<_>>(), "descending {prefix:?}");
    }
    let whole = store.query_page(page("P#exact", "", None, 100, Order::Ascending)).await.unwrap();
    assert_eq!(whole.items.len(), all.len(), "the empty prefix is the whole partition");
}

/// Pages follow each other through `last_sk` in both directions, each read
/// returning only its page, and start keys outside the range behave as
/// positions before or past it.
async fn pages_walk_the_range(store: Arc<dyn Store>) {
    let mut sks: Vec<String> = (0..25).map(|i| format!("I#{i:03}")).collect();
    sks.extend(["H#999", "H", "I", "I$", "J#000"].map(str::to_owned));
    put_all(store.as_ref(), "P#pages", &sks).await;
    let expected: Vec<String> = (0..25).map(|i| format!("I#{i:03}")).collect();
    let counting = CountingStore::new(store);

    for order in [Order::Ascending, Order::Descending] {
        let (mut seen, mut after, mut pages) = (Vec::new(), None::<String>, Vec::new());
        loop {
            let Page { items, last_sk } =
                counting.query_page(page("P#pages", "I#", after.as_deref(), 10, order)).await.unwrap();
            pages.push(items.len());
            seen.extend(items.into_iter().map(|i| i.sk));
            match last_sk {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        assert_eq!(pages, [10, 10, 5], "{order:?}");
        let mut want = expected.clone();
        if order == Order::Descending {
            want.reverse();
        }
        assert_eq!(seen, want, "{order:?}");
        let reads = counting.take_reads();
        assert!(reads.iter().all(|r| r.call == "query_page" && r.pk == "P#pages"));
        assert_eq!(reads.iter().map(|r| r.items).collect::<Vec<_>>(), [10, 10, 5], "each read returns its page only");
    }

    let first_keys = |page: Page| page.items.into_iter().take(1).map(|i| i.sk).collect::<Vec<_>>();
    let at = |after, order| counting.query_page(page("P#pages", "I#", Some(after), 10, order));
    assert_eq!(first_keys(at("H#999", Order::Ascending).await.unwrap()), ["I#000"], "after below the range");
    assert_eq!(at("J", Order::Ascending).await.unwrap(), Page::default(), "after past the range");
    assert_eq!(first_keys(at("J", Order::Descending).await.unwrap()), ["I#024"], "after above, read downwards");
    assert_eq!(at("I", Order::Descending).await.unwrap(), Page::default(), "after below, read downwards");
    assert_eq!(first_keys(at("I#004", Order::Descending).await.unwrap()), ["I#003"]);
    let none = counting.query_page(page("P#pages", "I#", Some("I#004"), 0, Order::Ascending)).await.unwrap();
    assert_eq!(none, Page { items: Vec::new(), last_sk: Some("I#004".into()) }, "a zero limit reads nothing");
    let full = counting.query_page(page("P#pages", "I#", Some("I#014"), 10, Order::Ascending)).await.unwrap();
    assert_eq!((full.items.len(), full.last_sk.as_deref()), (10, Some("I#024")), "a full last page may end the range");
    let after_last = counting.query_page(page("P#pages", "I#", Some("I#024"), 10, Order::Ascending)).await.unwrap();
    assert_eq!(after_last, Page::default());
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

    // A page larger than DynamoDB's 1 MB answer is completed from LastEvaluatedKey, and no further.
    let first = store.query_page(page("P#big", "I#", None, 55, Order::Ascending)).await.unwrap();
    assert_eq!((first.items.len(), first.last_sk.as_deref()), (55, Some("I#054")));
    let rest = store.query_page(page("P#big", "I#", first.last_sk.as_deref(), 55, Order::Ascending)).await.unwrap();
    assert_eq!((keys(&rest.items)[0], rest.items.len(), rest.last_sk), ("I#055", 5, None));
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

fn listed(pk: &str, sk: &str, list: (&str, &str)) -> Item {
    item(pk, sk, "{}", 1).indexed(Index::List, list.0, list.1)
}

fn index_page<'a>(index: Index, pk: &'a str, after: Option<&'a str>, limit: usize, order: Order) -> IndexQuery<'a> {
    IndexQuery { index, pk, after, limit, order }
}

fn index_keys(page: &Page, index: Index) -> Vec<String> {
    page.items.iter().map(|item| item.index_key(index).expect("an indexed item").sk.clone()).collect()
}

/// Index reads walk one index partition in index order, across table partitions,
/// and follow the items as they are rewritten and deleted.
async fn index_reads(store: &dyn Store) {
    let mut ops = Vec::new();
    for i in [3, 1, 4, 0, 2] {
        // Table keys in another order than the index keys: the index decides the order.
        let item = listed(&format!("P#{}", i % 2), &format!("DOC#{}", 9 - i), ("L#one", &format!("{i:04}")));
        ops.push(put(item.indexed(Index::Filter, "F#even", format!("{i:04}")), Condition::NotExists));
    }
    ops.push(put(listed("P#0", "DOC#x", ("L#two", "0000")), Condition::NotExists));
    ops.push(put(item("P#0", "DOC#unlisted", "{}", 1), Condition::NotExists));
    store.write(ops).await.unwrap();

    let all = store.query_index(index_page(Index::List, "L#one", None, 10, Order::Ascending)).await.unwrap();
    assert_eq!(index_keys(&all, Index::List), ["0000", "0001", "0002", "0003", "0004"]);
    assert_eq!(all.last_sk, None, "a short page ends the range");
    assert_eq!(all.items[0].sk, "DOC#9", "items come whole, with their table keys");
    assert_eq!(all.items[0].filter_key.as_ref().map(|k| k.pk.as_str()), Some("F#even"));

    let first = store.query_index(index_page(Index::List, "L#one", None, 2, Order::Descending)).await.unwrap();
    assert_eq!(
        (index_keys(&first, Index::List), first.last_sk.as_deref()),
        (vec!["0004".into(), "0003".into()], Some("0003"))
    );
    let next = store
        .query_index(index_page(Index::List, "L#one", first.last_sk.as_deref(), 10, Order::Descending))
        .await
        .unwrap();
    assert_eq!(index_keys(&next, Index::List), ["0002", "0001", "0000"]);
    let after = store.query_index(index_page(Index::List, "L#one", Some("0001"), 2, Order::Ascending)).await.unwrap();
    assert_eq!(index_keys(&after, Index::List), ["0002", "0003"], "after a key made from a marker");

    // Rewritten with another index key, the item moves; unindexed, it leaves the index.
    let moved = listed("P#0", "DOC#5", ("L#two", "0001"));
    store.write(vec![put(moved, Condition::Exists)]).await.unwrap();
    store.write(vec![put(item("P#1", "DOC#6", "{}", 2), Condition::Exists)]).await.unwrap();
    store
        .write(vec![WriteOp::Delete { pk: "P#1".into(), sk: "DOC#8".into(), condition: Condition::Exists }])
        .await
        .unwrap();
    let one = store.query_index(index_page(Index::List, "L#one", None, 10, Order::Ascending)).await.unwrap();
    assert_eq!(index_keys(&one, Index::List), ["0000", "0002"]);
    let two = store.query_index(index_page(Index::List, "L#two", None, 10, Order::Ascending)).await.unwrap();
    assert_eq!(index_keys(&two, Index::List), ["0000", "0001"]);
    let filter = store.query_index(index_page(Index::Filter, "F#even", None, 10, Order::Ascending)).await.unwrap();
    assert_eq!(index_keys(&filter, Index::Filter), ["0000", "0002"], "the filter index follows too");
    let empty = store.query_index(index_page(Index::List, "L#none", None, 10, Order::Ascending)).await.unwrap();
    assert!(empty.items.is_empty());
}

/// Counter additions are part of their transaction: they land with it or not at all.
async fn counter_additions(store: Arc<dyn Store>) {
    let add = |delta| WriteOp::Add { pk: "P#n".into(), sk: "COUNT#docs".into(), delta };
    assert_eq!(store.counter("P#n", "COUNT#docs").await.unwrap(), 0, "a counter never set is 0");
    store.write(vec![put(item("P#n", "DOC#1", "{}", 1), Condition::NotExists), add(1)]).await.unwrap();
    let again = store.write(vec![put(item("P#n", "DOC#1", "{}", 1), Condition::NotExists), add(1)]).await;
    assert_eq!(again, Err(StoreError::ConditionFailed));
    assert_eq!(store.counter("P#n", "COUNT#docs").await.unwrap(), 1, "a failed transaction adds nothing");
    store.write(vec![add(-1)]).await.unwrap();
    assert_eq!(store.counter("P#n", "COUNT#docs").await.unwrap(), 0);

    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let doc = put(item("P#n", &format!("DOC#r{i}"), "{}", 1), Condition::NotExists);
                let add = WriteOp::Add { pk: "P#n".into(), sk: "COUNT#docs".into(), delta: 2 };
                store.write(vec![doc, add]).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.counter("P#n", "COUNT#docs").await.unwrap(), 40, "concurrent additions all count");
    assert_eq!(store.increment("P#n", "COUNT#docs").await.unwrap(), 41, "increment and Add share the counter");
}

/// A tallied item: its document and index keys written as a Put writes them,
/// its tally grown by every write, also by concurrent ones that all hold.
async fn tallies(store: Arc<dyn Store>) {
    let tallied = |data: &str, version: u64, list: &str, filter: Option<&str>| {
        let item = item("P#t", "ALARM#1", data, version).indexed(Index::List, "L#tally", list);
        match filter {
            Some(sk) => item.indexed(Index::Filter, "F#tally", sk),
            None => item,
        }
    };
    let tally = |item, condition, delta| WriteOp::Tally { item, condition, delta };
    let created = tally(tallied("first", 1, "0001", Some("f")), Condition::NotExists, 1);
    store.write(vec![created.clone()]).await.unwrap();
    assert_eq!(store.write(vec![created]).await, Err(StoreError::ConditionFailed), "conditions hold as for Put");
    let read = store.get("P#t", "ALARM#1").await.unwrap().unwrap();
    assert_eq!((read.data.as_str(), read.version, read.tally), ("first", 1, 1));

    // Written again: the document, version and index keys are the new ones, the tally adds up.
    store.write(vec![tally(tallied("second", 1, "0002", None), Condition::VersionIs(1), 2)]).await.unwrap();
    let read = store.get("P#t", "ALARM#1").await.unwrap().unwrap();
    assert_eq!((read.data.as_str(), read.version, read.tally), ("second", 1, 3));
    let listed = store.query_index(index_page(Index::List, "L#tally", None, 10, Order::Ascending)).await.unwrap();
    assert_eq!(index_keys(&listed, Index::List), ["0002"], "the index entry moved");
    assert_eq!(listed.items[0].tally, 3, "index reads return the tally");
    let filtered = store.query_index(index_page(Index::Filter, "F#tally", None, 10, Order::Ascending)).await.unwrap();
    assert!(filtered.items.is_empty(), "an index key the item no longer has is gone");

    // A failed condition, alone or in a transaction, adds nothing.
    let stale = tally(tallied("stale", 1, "0003", None), Condition::VersionIs(7), 1);
    assert_eq!(store.write(vec![stale]).await, Err(StoreError::ConditionFailed));
    let ok_part = tally(tallied("part", 1, "0003", None), Condition::VersionIs(1), 1);
    let failing = put(item("P#t", "OTHER", "{}", 1), Condition::Exists);
    assert_eq!(store.write(vec![ok_part, failing]).await, Err(StoreError::ConditionFailed));
    let read = store.get("P#t", "ALARM#1").await.unwrap().unwrap();
    assert_eq!((read.data.as_str(), read.tally), ("second", 3));

    // Concurrent writers under one condition none of them changes: every one lands and counts.
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            let item = tallied(&format!("w{i}"), 1, &format!("1{i:03}"), None);
            tokio::spawn(async move { store.write(vec![tally(item, Condition::VersionIs(1), 1)]).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(()));
    }
    let read = store.get("P#t", "ALARM#1").await.unwrap().unwrap();
    assert_eq!(read.tally, 35, "no concurrent count is lost");
    assert!(read.data.starts_with('w'), "the document is one writer's: {}", read.data);
    let listed = store.query_index(index_page(Index::List, "L#tally", None, 10, Order::Ascending)).await.unwrap();
    assert_eq!(listed.items.len(), 1, "one index entry, wherever the last writer put it");

    // A Put replaces the whole item, its tally too.
    store.write(vec![put(item("P#t", "ALARM#1", "put", 2), Condition::VersionIs(1))]).await.unwrap();
    assert_eq!(store.get("P#t", "ALARM#1").await.unwrap().unwrap().tally, 0);
    let mut counted = item("P#t", "ALARM#2", "put", 1);
    counted.tally = 5;
    store.write(vec![put(counted, Condition::NotExists)]).await.unwrap();
    assert_eq!(store.get("P#t", "ALARM#2").await.unwrap().unwrap().tally, 5, "a Put sets the tally it carries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_adapters_honour_the_contract() {
    for backend in backends().await {
        eprintln!("store contract on {}", backend.name);
        let store = backend.store.clone();
        conditional_puts(store.as_ref()).await;
        transactions_are_all_or_nothing(store.as_ref()).await;
        writes_each_on_its_own(store.as_ref()).await;
        prefix_queries(store.as_ref()).await;
        prefix_reads_are_exact(store.as_ref()).await;
        pages_walk_the_range(store.clone()).await;
        large_queries_are_read_to_the_end(store.as_ref()).await;
        counters(store.clone()).await;
        index_reads(store.as_ref()).await;
        counter_additions(store.clone()).await;
        tallies(store.clone()).await;
        concurrent_creates_have_one_winner(store).await;
    }
}

/// What DynamoDB answered to one request the adapter sent.
#[derive(Debug, Clone)]
struct Answer {
    /// The X-Amz-Target operation, e.g. `DynamoDB_20120810.Query`.
    operation: String,
    scanned: Option<u64>,
    returned: Option<u64>,
}

/// Records the operation and the ScannedCount/Count of every DynamoDB answer
/// (requests of one store are sent one at a time in these tests).
#[derive(Debug, Clone, Default)]
struct AnswerLog {
    answers: Arc<Mutex<Vec<Answer>>>,
    /// The operation of the request on the wire; the request is gone once it was sent.
    sending: Arc<Mutex<String>>,
}

impl AnswerLog {
    fn take(&self) -> Vec<Answer> {
        std::mem::take(&mut self.answers.lock().unwrap())
    }
}

impl Intercept for AnswerLog {
    fn name(&self) -> &'static str {
        "AnswerLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let operation = context.request().headers().get("x-amz-target").unwrap_or_default();
        *self.sending.lock().unwrap() = operation.to_owned();
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let operation = std::mem::take(&mut *self.sending.lock().unwrap());
        let body = context.response().and_then(|r| r.body().bytes()).unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let (scanned, returned) = (body["ScannedCount"].as_u64(), body["Count"].as_u64());
        self.answers.lock().unwrap().push(Answer { operation, scanned, returned });
        Ok(())
    }
}

/// DynamoDB itself reports how many items each Query read (ScannedCount): in a
/// partition where the prefix is a small part, the adapter's prefix and page
/// reads read exactly what they return, and no request is a Scan.
#[tokio::test]
async fn dynamodb_reads_only_the_items_it_returns() {
    let log = AnswerLog::default();
    let watched = log.clone();
    let Some(store) = dynamo_store_with(|config| config.interceptor(watched)).await else { return };
    let mut sks: Vec<String> = (0..100).map(|i| format!("A#{i:03}")).collect();
    sks.extend((0..30).map(|i| format!("M#{i:03}")));
    sks.extend((0..100).map(|i| format!("Z#{i:03}")));
    put_all(&store, "P#tenant", &sks).await;
    log.take();

    let reads = |answers: Vec<Answer>| {
        assert!(answers.iter().all(|a| a.operation.ends_with(".Query")), "only Query reads: {answers:?}");
        let total = |count: fn(&Answer) -> Option<u64>| answers.iter().map(|a| count(a).expect("counts")).sum::<u64>();
        (total(|a| a.scanned), total(|a| a.returned))
    };
    assert_eq!(store.query_prefix("P#tenant", "M#").await.unwrap().len(), 30);
    assert_eq!(reads(log.take()), (30, 30), "a prefix query reads only the prefix");

    let first = store.query_page(page("P#tenant", "M#", None, 7, Order::Ascending)).await.unwrap();
    assert_eq!(reads(log.take()), (7, 7), "a page reads only the page");
    let next = store.query_page(page("P#tenant", "M#", first.last_sk.as_deref(), 7, Order::Descending)).await.unwrap();
    assert_eq!(keys(&next.items), ["M#005", "M#004", "M#003", "M#002", "M#001", "M#000"]);
    assert_eq!(reads(log.take()), (6, 6), "a page from a start key reads from there");

    // An index partition among others: a page of it reads only the page, from a marker too.
    let mut ops: Vec<WriteOp> = Vec::new();
    for (list, count) in [("L#a", 50), ("L#b", 20), ("L#c", 50)] {
        for i in 0..count {
            ops.push(put(listed("P#idx", &format!("{list}{i:03}"), (list, &format!("{i:04}"))), Condition::Always));
        }
    }
    for chunk in ops.chunks(25) {
        store.write(chunk.to_vec()).await.unwrap();
    }
    log.take();
    let first = store.query_index(index_page(Index::List, "L#b", None, 7, Order::Descending)).await.unwrap();
    assert_eq!(reads(log.take()), (7, 7), "an index page reads only the page");
    let rest = store.query_index(index_page(Index::List, "L#b", first.last_sk.as_deref(), 50, Order::Descending)).await;
    assert_eq!(rest.unwrap().items.len(), 13);
    assert_eq!(reads(log.take()), (13, 13), "the rest of the partition and nothing of its neighbours");
}
