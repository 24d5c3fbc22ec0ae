//! A report of the largest inventory a scan may send (10,000 packages) is
//! saved, and replaced, well within the API function's 29 s, on every store
//! adapter (README, "Patch compliance reports", has the times).

use std::time::{Duration, Instant};

use coc_shared::domain::tenant::ProjectId;
use coc_shared::limits::INVENTORY_PACKAGES;
use coc_shared::ports::{Order, Store};
use coc_shared::repositories::patch_reports::{self, report_id, ItemFilter, Paging};
use coc_tests::backends;
use coc_tests::patch_fixtures::{items, report};

/// What a save may take here: far below the API Gateway limit of 29 s, with
/// room for a slower machine and the reads and writes around the save.
const SAVE_BUDGET: Duration = Duration::from_secs(20);

async fn item_records(store: &dyn Store, p: &ProjectId, id: &str) -> usize {
    store.query_prefix(&format!("PROJECT#{p}#PATCH_ITEMS#{id}"), "").await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_of_the_largest_inventory_saves_in_time() {
    for backend in backends().await {
        let (name, store) = (backend.name, backend.store.as_ref());
        let p = ProjectId::parse("p-scale").unwrap();
        let id = report_id("big", "bl");
        let rows = INVENTORY_PACKAGES.max;
        let mut times = Vec::new();
        for (n, prefix) in ["first", "second", "third"].into_iter().enumerate() {
            let started = Instant::now();
            let scan = report("big", "bl", 1_000 + n as i64, &format!("SO{n}"));
            patch_reports::save(store, &p, &scan, &items(prefix, rows)).await.unwrap();
            times.push(started.elapsed());
            let header = patch_reports::get(store, &p, &id).await.unwrap().unwrap();
            assert_eq!(header.report.item_count as usize, rows, "{name}");
            let last = Paging { skip: rows - 1, limit: 10, order: Order::Ascending };
            let page = patch_reports::items_page(store, &p, &header, &ItemFilter::default(), last).await.unwrap();
            assert_eq!(page.items.len(), 1, "{name}");
            assert!(page.items[0].title.starts_with(prefix), "{name}");
        }
        eprintln!("{name}: saving {rows} items took {times:?} (first, replacing, replacing and deleting)");
        assert_eq!(item_records(store, &p, &id).await, 2 * rows, "{name}: the current and the previous generation");
        for time in times {
            assert!(time < SAVE_BUDGET, "{name}: a save of {rows} items took {time:?}");
        }
    }
}

/// The bulk writes are an IAM action of their own (transactions are not:
/// they take the actions of their members).
#[test]
fn the_inventory_function_may_write_in_bulk() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let template: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let policies = &template["Resources"]["ReportPatchInventoryFunction"]["Properties"]["Policies"];
    let text = serde_yaml::to_string(policies).unwrap();
    assert!(text.contains("dynamodb:BatchWriteItem"), "{text}");
}
