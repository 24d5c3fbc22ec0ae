//! The patch baseline repository on every store adapter (SQLite, DynamoDB
//! Local): what the patch tickets rely on (`get`, `defaults`), the claims and
//! pointers moving in one transaction, and lists reading only their page.

use std::sync::Arc;

use coc_shared::domain::patch::baseline::{built_in, Baseline, BaselineInput, OsFamily};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::Store;
use coc_shared::repositories::patch_baselines::{self, BaselineFilter, WriteError};
use coc_tests::{backends, CountingStore};

fn input(name: &str, os: &str, is_default: bool) -> BaselineInput {
    serde_json::from_value(serde_json::json!({"name": name, "operating_system": os, "is_default": is_default}))
        .expect("a valid body")
}

fn baseline(id: &str, name: &str, os: &str, is_default: bool) -> Baseline {
    Baseline::create(id.to_owned(), input(name, os, is_default), 1_000)
}

fn ids(rows: &[Baseline]) -> Vec<&str> {
    rows.iter().map(|b| b.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baselines_keep_their_claims_pointers_and_counts_on_every_adapter() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.as_ref();
        let project = ProjectId::parse("p-repo").unwrap();
        let other = ProjectId::parse("p-other").unwrap();

        let a = baseline("PB-a", "alpha", "Debian", true);
        patch_baselines::create(store, &project, &a).await.unwrap();
        let clash = baseline("PB-b", "alpha", "CentOS", false);
        assert!(matches!(patch_baselines::create(store, &project, &clash).await, Err(WriteError::NameTaken)), "{name}");
        patch_baselines::create(store, &other, &clash).await.expect("names are per tenant");
        assert_eq!(patch_baselines::stored_count(store, &project).await.unwrap(), 1, "{name}: the clash wrote nothing");

        let read = patch_baselines::get(store, &project, "PB-a").await.unwrap().unwrap();
        assert!(read.is_default, "{name}");
        assert!(patch_baselines::get(store, &other, "PB-a").await.unwrap().is_none(), "{name}: another tenant's");
        assert!(!patch_baselines::get(store, &project, "PB-default-debian").await.unwrap().unwrap().is_default);
        let defaults = patch_baselines::defaults(store, &project).await.unwrap();
        assert_eq!(
            ids(&defaults),
            ["PB-a", "PB-default-ubuntu", "PB-default-huaweicloudeuleros", "PB-default-euleros", "PB-default-centos"]
        );
        assert!(defaults.iter().all(|b| b.is_default));
        assert_eq!(Baseline::for_os(&defaults, "debian").unwrap().id, "PB-a", "{name}");

        // A stale version loses; a rename moves the claim; unmarking restores the built-in.
        let current = patch_baselines::get_own(store, &project, "PB-a").await.unwrap().unwrap().value;
        let mut renamed = current.clone();
        renamed.apply(input("beta", "Debian", false), 2_000);
        let mut stale = current.clone();
        stale.version = 7;
        assert!(matches!(patch_baselines::update(store, &project, &stale, &renamed).await, Err(WriteError::Conflict)));
        patch_baselines::update(store, &project, &current, &renamed).await.unwrap();
        assert_eq!(patch_baselines::defaults(store, &project).await.unwrap()[0].id, "PB-default-debian", "{name}");
        patch_baselines::create(store, &project, &baseline("PB-c", "alpha", "Ubuntu", true))
            .await
            .expect("alpha is free");
        let taken = patch_baselines::get_own(store, &project, "PB-c").await.unwrap().unwrap().value;
        let mut onto_beta = taken.clone();
        onto_beta.apply(input("beta", "Ubuntu", true), 3_000);
        assert!(matches!(
            patch_baselines::update(store, &project, &taken, &onto_beta).await,
            Err(WriteError::NameTaken)
        ));

        // Deleting the default falls back to the built-in.
        let c = patch_baselines::get_own(store, &project, "PB-c").await.unwrap().unwrap().value;
        assert!(c.is_default);
        patch_baselines::delete(store, &project, &c).await.unwrap();
        assert_eq!(patch_baselines::defaults(store, &project).await.unwrap()[1].id, "PB-default-ubuntu", "{name}");
        assert_eq!(patch_baselines::stored_count(store, &project).await.unwrap(), 1);
        patch_baselines::create(store, &project, &baseline("PB-d", "alpha", "Ubuntu", false)).await.expect("freed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_read_their_rows_and_counts_come_from_counters() {
    for backend in backends().await {
        let name = backend.name;
        let counting = Arc::new(CountingStore::new(backend.store.clone()));
        let store: &dyn Store = counting.as_ref();
        let project = ProjectId::parse("p-pages").unwrap();
        for i in 0..30 {
            let os = if i % 3 == 0 { "CentOS" } else { "Debian" };
            patch_baselines::create(store, &project, &baseline(&format!("PB-{i:02}"), &format!("n{i:02}"), os, false))
                .await
                .unwrap();
        }
        counting.take_reads();
        let all = BaselineFilter::default();
        let page = patch_baselines::list(store, &project, &all, 5, 10).await.unwrap();
        assert_eq!(
            ids(&page),
            (0..10).map(|i| format!("PB-{i:02}")).collect::<Vec<_>>(),
            "{name}: after the 5 built-ins"
        );
        let indexed: usize = counting.take_reads().iter().filter(|r| r.call == "query_index").map(|r| r.items).sum();
        assert_eq!(indexed, 10, "{name}: the page's rows, nothing more");
        assert_eq!(patch_baselines::count(store, &project, &all).await.unwrap(), 35);
        let reads = counting.take_reads();
        assert!(reads.iter().all(|r| r.call == "counter"), "{name}: a count is a counter read: {reads:?}");

        let centos = BaselineFilter { operating_system: Some(OsFamily::CentOS), name: None };
        let page = patch_baselines::list(store, &project, &centos, 0, 100).await.unwrap();
        assert_eq!(page.len(), 11, "{name}: the built-in and ten of ours");
        assert_eq!(page[0].id, built_in(OsFamily::CentOS).id);
        assert_eq!(patch_baselines::count(store, &project, &centos).await.unwrap(), 11);
        let far = patch_baselines::list(store, &project, &all, 1_000_000, 100).await.unwrap();
        assert!(far.is_empty());
        let other = ProjectId::parse("p-elsewhere").unwrap();
        counting.take_reads();
        assert_eq!(patch_baselines::list(store, &other, &all, 0, 100).await.unwrap().len(), 5);
        assert!(counting.take_reads().iter().all(|r| r.pk.contains("p-elsewhere")), "{name}: only the tenant's keys");
    }
}
