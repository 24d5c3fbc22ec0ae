//! Compliance report storage (repositories::patch_reports) on every store
//! adapter: whole replacement beyond one transaction, newest-wins concurrent
//! saves that readers never see mixed, lists in order with their filters and
//! counts, and reads bounded by the page.

use std::sync::Arc;

use coc_shared::domain::patch::report::ComplianceStatus;
use coc_shared::domain::patch::{ComplianceItem, ComplianceLevel, PatchStatus};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{Order, Store};
use coc_shared::repositories::patch_reports::{self, report_id, ItemFilter, Paging, ReportFilter, StoredReport};
use coc_tests::patch_fixtures::{compliant_items, installed_order, items, report, status_of};
use coc_tests::{backends, CountingStore};

fn project(name: &str) -> ProjectId {
    ProjectId::parse(name).unwrap()
}

fn paging(skip: usize, limit: usize, order: Order) -> Paging {
    Paging { skip, limit, order }
}

async fn stored(store: &dyn Store, p: &ProjectId, id: &str) -> StoredReport {
    patch_reports::get(store, p, id).await.unwrap().expect("the report is stored")
}

/// Every item of the report, page by page, with the count each page gave.
async fn all_items(
    store: &dyn Store,
    p: &ProjectId,
    id: &str,
    filter: &ItemFilter,
    order: Order,
) -> Vec<ComplianceItem> {
    let report = stored(store, p, id).await;
    let mut all = Vec::new();
    loop {
        let page = patch_reports::items_page(store, p, &report, filter, paging(all.len(), 37, order)).await.unwrap();
        if page.items.is_empty() {
            return all;
        }
        all.extend(page.items);
    }
}

fn titles(items: &[ComplianceItem]) -> Vec<String> {
    items.iter().map(|i| i.title.clone()).collect()
}

/// How many item records the report's partition holds (every generation).
async fn item_records(store: &dyn Store, p: &ProjectId, id: &str) -> usize {
    store.query_prefix(&format!("PROJECT#{p}#PATCH_ITEMS#{id}"), "").await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_replaces_the_report_and_all_its_items() {
    for backend in backends().await {
        let (name, store) = (backend.name, backend.store.as_ref());
        let p = project("p-save");
        let id = report_id("host-1", "bl-1");
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

        let first = items("old", 260);
        patch_reports::save(store, &p, &report("host-1", "bl-1", 1_000, "SO1"), &first).await.unwrap();
        let header = stored(store, &p, &id).await;
        assert_eq!(header.report.id, id, "{name}");
        assert_eq!(header.report.item_count, 260, "{name}");
        let summaries = header.report.summaries;
        assert_eq!(summaries.compliant.total() + summaries.non_compliant.total(), 260, "{name}");
        let per_status: u64 = PatchStatus::ALL.iter().map(|s| header.status_count(*s)).sum();
        assert_eq!(per_status, 260, "{name}");
        let read = all_items(store, &p, &id, &ItemFilter::default(), Order::Ascending).await;
        assert_eq!(titles(&read), installed_order(&first), "{name}: every item, in installed-time order");

        let second = items("new", 130);
        patch_reports::save(store, &p, &report("host-1", "bl-1", 2_000, "SO2"), &second).await.unwrap();
        let header = stored(store, &p, &id).await;
        assert_eq!((header.report.order_id.as_str(), header.report.item_count), ("SO2", 130), "{name}");
        let read = all_items(store, &p, &id, &ItemFilter::default(), Order::Descending).await;
        let mut expected = installed_order(&second);
        expected.reverse();
        assert_eq!(titles(&read), expected, "{name}: only the new items, newest install first");

        // The generation before is kept for readers in flight; the one before that is gone.
        patch_reports::save(store, &p, &report("host-1", "bl-1", 3_000, "SO3"), &items("third", 40)).await.unwrap();
        assert_eq!(item_records(store, &p, &id).await, 130 + 40, "{name}: the first generation is deleted");
        let other = report_id("host-1", "bl-2");
        assert_ne!(other, id, "one report per baseline");
        assert!(patch_reports::get(store, &p, &other).await.unwrap().is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_leave_the_newest_report_and_readers_never_see_a_mix() {
    for backend in backends().await {
        let name = backend.name;
        let store: Arc<dyn Store> = backend.store.clone();
        let p = project("p-race");
        let id = report_id("host-r", "bl-r");
        patch_reports::save(store.as_ref(), &p, &report("host-r", "bl-r", 10, "SO0"), &items("seed", 30))
            .await
            .unwrap();
        for round in 0..3_i64 {
            // The newer report is started second, so it is often the first to finish writing items.
            let (older, newer) = (100 + round * 10, 105 + round * 10);
            let save = |time: i64, prefix: &'static str, count: usize| {
                let (store, p) = (store.clone(), p.clone());
                tokio::spawn(async move {
                    let order = format!("SO-{prefix}");
                    patch_reports::save(
                        store.as_ref(),
                        &p,
                        &report("host-r", "bl-r", time, &order),
                        &items(prefix, count),
                    )
                    .await
                    .unwrap()
                })
            };
            let reader = {
                let (store, p, id) = (store.clone(), p.clone(), id.clone());
                tokio::spawn(async move {
                    for _ in 0..15 {
                        let header = stored(store.as_ref(), &p, &id).await;
                        let prefix = header.report.order_id.trim_start_matches("SO-").to_owned();
                        let page = patch_reports::items_page(
                            store.as_ref(),
                            &p,
                            &header,
                            &ItemFilter::default(),
                            paging(0, 100, Order::Ascending),
                        )
                        .await
                        .unwrap();
                        let expected = (header.report.item_count as usize).min(100);
                        if page.items.len() != expected {
                            // Only two saves finishing during this one read may take its generation away.
                            let now = stored(store.as_ref(), &p, &id).await;
                            let gone = now.generation != header.generation
                                && now.previous_generation != Some(header.generation);
                            assert!(gone, "a page of the report its header names: {} of {expected}", page.items.len());
                        }
                        let prefix = if prefix == "SO0" { "seed".to_owned() } else { prefix };
                        assert!(page.items.iter().all(|i| i.title.starts_with(&prefix)), "items of one report");
                    }
                })
            };
            let a = save(older, "older", 140);
            let b = save(newer, "newer", 110);
            a.await.unwrap();
            b.await.unwrap();
            reader.await.unwrap();
            let header = stored(store.as_ref(), &p, &id).await;
            assert_eq!(header.report.report_time, newer, "{name}: round {round}: the newest report wins");
            let read = all_items(store.as_ref(), &p, &id, &ItemFilter::default(), Order::Ascending).await;
            assert_eq!(read.len(), 110, "{name}");
            assert!(read.iter().all(|i| i.title.starts_with("newer")), "{name}: never a mix");
        }
        // An older report saved after the newest changes nothing.
        patch_reports::save(store.as_ref(), &p, &report("host-r", "bl-r", 1, "SO-late"), &items("late", 5))
            .await
            .unwrap();
        assert_eq!(stored(store.as_ref(), &p, &id).await.report.report_time, 125, "{name}");
        let count =
            patch_reports::reports_page(store.as_ref(), &p, &ReportFilter::default(), paging(0, 10, Order::Ascending))
                .await
                .unwrap()
                .count;
        assert_eq!(count, 1, "{name}: one report, counted once");
    }
}

/// Reports of hosts h00..h11, one baseline, report time 1000 + 10·n; every
/// third host compliant.
async fn seed_reports(store: &dyn Store, p: &ProjectId) {
    for n in 0..12 {
        let host = format!("h{n:02}");
        let rows = if n % 3 == 0 { compliant_items(&host, 5) } else { items(&host, 7) };
        let mut r = report(&host, "bl", 1_000 + 10 * n, &format!("SO{}", n % 2));
        r.name = format!("Web-{host}");
        patch_reports::save(store, p, &r, &rows).await.unwrap();
    }
}

fn instance_ids(page: &patch_reports::ReportPage) -> Vec<String> {
    page.reports.iter().map(|r| r.report.instance_id.clone()).collect()
}

fn hosts(ns: impl IntoIterator<Item = i64>) -> Vec<String> {
    ns.into_iter().map(|n| format!("h{n:02}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_list_in_report_time_order_with_filters_and_counts() {
    for backend in backends().await {
        let (name, store) = (backend.name, backend.store.as_ref());
        let owned = project("p-list");
        let p = &owned;
        seed_reports(store, p).await;
        let list = |filter: ReportFilter, skip: usize, limit: usize, order: Order| async move {
            patch_reports::reports_page(store, p, &filter, paging(skip, limit, order)).await.unwrap()
        };
        let page = list(ReportFilter::default(), 0, 5, Order::Descending).await;
        assert_eq!((instance_ids(&page), page.count), (hosts([11, 10, 9, 8, 7]), 12), "{name}");
        let page = list(ReportFilter::default(), 10, 5, Order::Descending).await;
        assert_eq!(instance_ids(&page), hosts([1, 0]), "{name}");
        let page = list(ReportFilter::default(), 5, 3, Order::Ascending).await;
        assert_eq!(instance_ids(&page), hosts([5, 6, 7]), "{name}");
        assert!(list(ReportFilter::default(), 12, 5, Order::Ascending).await.reports.is_empty(), "{name}");

        let compliant = ReportFilter { compliant_status: Some(ComplianceStatus::Compliant), ..Default::default() };
        let page = list(compliant.clone(), 1, 10, Order::Ascending).await;
        assert_eq!((instance_ids(&page), page.count), (hosts([3, 6, 9]), 4), "{name}");
        let non = ReportFilter { compliant_status: Some(ComplianceStatus::NonCompliant), ..Default::default() };
        assert_eq!(list(non.clone(), 0, 1, Order::Ascending).await.count, 8, "{name}");

        let by_order = ReportFilter { order_id: Some("SO1".into()), ..non.clone() };
        let page = list(by_order, 1, 2, Order::Descending).await;
        assert_eq!((instance_ids(&page), page.count), (hosts([7, 5]), 4), "{name}: 11, 7, 5, 1 (9 and 3 compliant)");
        let by_name = ReportFilter { name: Some("web-h1".into()), ..Default::default() };
        let page = list(by_name, 0, 10, Order::Ascending).await;
        assert_eq!((instance_ids(&page), page.count), (hosts([10, 11]), 2), "{name}: a case-insensitive substring");
        let one = ReportFilter { instance_id: Some("h04".into()), ..Default::default() };
        assert_eq!(instance_ids(&list(one, 0, 10, Order::Ascending).await), hosts([4]), "{name}");
        let cce = ReportFilter { report_scene: Some("CCE".into()), ..Default::default() };
        assert_eq!(list(cce, 0, 10, Order::Ascending).await.count, 0, "{name}: every report is of an ECS host");
        let ecs = ReportFilter {
            report_scene: Some("ECS".into()),
            enterprise_project_id: Some("0".into()),
            ..Default::default()
        };
        assert_eq!(list(ecs, 0, 10, Order::Ascending).await.count, 12, "{name}");

        // A host brought into compliance moves between the status counts, and to the end of the list.
        patch_reports::save(store, p, &report("h01", "bl", 5_000, "SO9"), &compliant_items("h01", 3)).await.unwrap();
        assert_eq!(list(compliant, 0, 1, Order::Descending).await.count, 5, "{name}");
        let page = list(non, 0, 1, Order::Descending).await;
        assert_eq!((instance_ids(&page), page.count), (hosts([11]), 7), "{name}");
        let page = list(ReportFilter::default(), 0, 1, Order::Descending).await;
        assert_eq!((instance_ids(&page), page.count), (hosts([1]), 12), "{name}");

        let stranger = project("p-other");
        assert_eq!(list_other(store, &stranger).await, 0, "{name}: another tenant sees none");
        assert!(patch_reports::get(store, &stranger, &report_id("h01", "bl")).await.unwrap().is_none(), "{name}");
    }
}

async fn list_other(store: &dyn Store, p: &ProjectId) -> usize {
    patch_reports::reports_page(store, p, &ReportFilter::default(), paging(0, 10, Order::Ascending))
        .await
        .unwrap()
        .count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_page_by_status_and_filters_in_installed_time_order() {
    for backend in backends().await {
        let (name, store) = (backend.name, backend.store.as_ref());
        let p = project("p-items");
        let rows = items("pkg", 150);
        patch_reports::save(store, &p, &report("hi", "bl", 1, "SO1"), &rows).await.unwrap();
        let id = report_id("hi", "bl");
        for status in PatchStatus::ALL {
            let filter = ItemFilter { patch_status: Some(status), ..Default::default() };
            let expected: Vec<_> = rows.iter().filter(|i| i.patch_status == status).cloned().collect();
            for order in [Order::Ascending, Order::Descending] {
                let read = all_items(store, &p, &id, &filter, order).await;
                let mut want = installed_order(&expected);
                if order == Order::Descending {
                    want.reverse();
                }
                assert_eq!(titles(&read), want, "{name}: {status:?} {order:?}");
            }
            let header = stored(store, &p, &id).await;
            let page =
                patch_reports::items_page(store, &p, &header, &filter, paging(3, 4, Order::Descending)).await.unwrap();
            assert_eq!(page.count, expected.len(), "{name}: {status:?}");
        }
        let header = stored(store, &p, &id).await;
        let walking = ItemFilter {
            patch_status: Some(PatchStatus::Missing),
            classification: Some("Security".into()),
            compliance_level: Some(ComplianceLevel::Critical),
            ..Default::default()
        };
        let expected: Vec<_> = rows
            .iter()
            .filter(|i| {
                i.patch_status == PatchStatus::Missing
                    && i.classification == "Security"
                    && i.compliance_level == ComplianceLevel::Critical
            })
            .cloned()
            .collect();
        let read = all_items(store, &p, &id, &walking, Order::Ascending).await;
        assert_eq!(titles(&read), installed_order(&expected), "{name}");
        let page =
            patch_reports::items_page(store, &p, &header, &walking, paging(1, 2, Order::Ascending)).await.unwrap();
        assert_eq!(page.count, expected.len(), "{name}: a bounded count, exact under LIST_COUNT_WALK");
        assert_eq!(titles(&page.items), installed_order(&expected)[1..3].to_vec(), "{name}");
        let by_title = ItemFilter { title: Some("PKG-0014".into()), ..Default::default() };
        let read = all_items(store, &p, &id, &by_title, Order::Ascending).await;
        assert_eq!(read.len(), 10, "{name}: pkg-00140..pkg-00149");
        let empty = ItemFilter { severity_level: Some("None such".into()), ..Default::default() };
        assert_eq!(
            patch_reports::items_page(store, &p, &header, &empty, paging(0, 10, Order::Ascending)).await.unwrap().count,
            0
        );
        assert_eq!(status_of(&rows), ComplianceStatus::NonCompliant);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reads_only_itself_and_what_filters_discard() {
    for backend in backends().await {
        let name = backend.name;
        let counting = Arc::new(CountingStore::new(backend.store.clone()));
        let store: &dyn Store = counting.as_ref();
        let p = project("p-reads");
        patch_reports::save(store, &p, &report("hx", "bl", 1, "SO1"), &items("pkg", 600)).await.unwrap();
        seed_reports(store, &p).await;
        let header = stored(store, &p, &report_id("hx", "bl")).await;
        counting.take_reads();

        // A deep offset starts at its rank: the page alone is read.
        for order in [Order::Ascending, Order::Descending] {
            let page = patch_reports::items_page(store, &p, &header, &ItemFilter::default(), paging(500, 20, order))
                .await
                .unwrap();
            assert_eq!((page.items.len(), page.count), (20, 600), "{name}");
            assert_eq!(counting.items_read(), 20, "{name}: {order:?}: {:?}", counting.take_reads());
            counting.take_reads();
            let missing = ItemFilter { patch_status: Some(PatchStatus::Missing), ..Default::default() };
            let page = patch_reports::items_page(store, &p, &header, &missing, paging(60, 10, order)).await.unwrap();
            assert_eq!((page.items.len(), page.count), (10, 100), "{name}");
            assert_eq!(counting.items_read(), 10, "{name}: {order:?}: {:?}", counting.take_reads());
            counting.take_reads();
        }
        // Past the end: nothing is read at all.
        let page =
            patch_reports::items_page(store, &p, &header, &ItemFilter::default(), paging(600, 20, Order::Ascending))
                .await
                .unwrap();
        assert!(page.items.is_empty());
        assert_eq!(counting.take_reads(), Vec::new(), "{name}");

        // A walking filter reads what it discards and the rows passed over, bounded by the report.
        let filter = ItemFilter { compliance_level: Some(ComplianceLevel::High), ..Default::default() };
        let page =
            patch_reports::items_page(store, &p, &header, &filter, paging(10, 10, Order::Ascending)).await.unwrap();
        assert_eq!((page.items.len(), page.count), (10, 150), "{name}");
        let reads = counting.take_reads();
        let read: usize = reads.iter().map(|r| r.items).sum();
        assert!(read <= 600 + 2 * (20 * 4 + 25), "{name}: the count walk and the page walk: {read}");

        // The report list: one counter and the page.
        let page = patch_reports::reports_page(store, &p, &ReportFilter::default(), paging(0, 5, Order::Descending))
            .await
            .unwrap();
        assert_eq!((page.reports.len(), page.count), (5, 13), "{name}");
        let reads = counting.take_reads();
        assert_eq!(reads.iter().filter(|r| r.call == "counter").count(), 1, "{name}: {reads:?}");
        assert_eq!(reads.iter().filter(|r| r.call == "query_index").map(|r| r.items).sum::<usize>(), 5, "{name}");
        let compliant = ReportFilter { compliant_status: Some(ComplianceStatus::Compliant), ..Default::default() };
        let page = patch_reports::reports_page(store, &p, &compliant, paging(0, 2, Order::Ascending)).await.unwrap();
        assert_eq!((page.reports.len(), page.count), (2, 4), "{name}");
        let reads = counting.take_reads();
        assert_eq!(reads.iter().filter(|r| r.call == "query_index").map(|r| r.items).sum::<usize>(), 2, "{name}");
        assert!(reads.iter().all(|r| r.call != "query_prefix"), "{name}: {reads:?}");

        // Reports have no dense rank (a new scan moves its report to the front):
        // an offset reads the rows before the page, and no more.
        let page = patch_reports::reports_page(store, &p, &ReportFilter::default(), paging(6, 3, Order::Descending))
            .await
            .unwrap();
        assert_eq!((page.reports.len(), page.count), (3, 13), "{name}");
        let reads = counting.take_reads();
        assert_eq!(reads.iter().filter(|r| r.call == "query_index").map(|r| r.items).sum::<usize>(), 6 + 3, "{name}");
    }
}
