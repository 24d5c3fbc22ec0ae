//! List and get at 100, 1,000 and 10,000 items in the tenant, each figure set
//! against its own 100-item figure: a list page of 100 should cost the same
//! whatever the tenant holds. The server is a child process restarted after
//! seeding, so that its RSS is what serving the list costs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use coc_agent::client::ApiClient;
use coc_shared::clock::now_ms;
use coc_shared::domain::job::order::Effects;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::jobs;
use coc_shared::App;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::agents::{run_ticket, Fleet};
use crate::load::{ms, round, Budget, Summary};
use crate::procs::RssSampler;
use crate::report::{ratio, Report};
use crate::server::{call, script_body, seed_scripts, CocServer, PROJECT};

pub const SIZES: [usize; 3] = [100, 1_000, 10_000];
const ROUNDS: usize = 3;
const ONE_CLIENT: Budget = Budget { clients: 1, requests: 1000, time: Duration::from_secs(2) };
const SIXTEEN_CLIENTS: Budget = Budget { clients: 16, requests: 3000, time: Duration::from_secs(2) };

/// A data directory holding `size` scripts and `size` finished tickets, and the scripts' uuids.
pub async fn seed_store(data_dir: &Path, size: usize) -> Vec<String> {
    let server = CocServer::start(data_dir).await;
    let api = server.api();
    let started = std::time::Instant::now();
    let mut uuids = seed_scripts(&api, "s", size.saturating_sub(1)).await;
    // One real ticket, run by a real agent: the template of the seeded ones.
    let script = call(&api, "POST", "/v1/job/scripts", None, Some(script_body("template", "echo hi"))).await;
    let script = script.as_str().expect("a script uuid").to_owned();
    let fleet = Fleet::start(&server, "seed", 1).await;
    run_ticket(&api, &script, &fleet.agent_sns, 1).await;
    drop(fleet);
    uuids.push(script);
    let orders = call(&api, "GET", "/v1/job/script/orders", Some("limit=1"), None).await;
    let template = first_order_uuid(&orders);
    server.stop();
    seed_orders(data_dir, &template, size.saturating_sub(1)).await;
    eprintln!("seeded {size} scripts and {size} tickets in {:.1} s", started.elapsed().as_secs_f64());
    uuids
}

fn first_order_uuid(page: &Value) -> String {
    let list = page["data"].as_array().or_else(|| page.as_array()).expect("a list of tickets");
    list[0]["execute_uuid"].as_str().expect("a ticket's execute_uuid").to_owned()
}

/// Copies the finished ticket `template` `count` times through the repository
/// (new id and uuid each; written as a new ticket, then saved finished, as the
/// engine would), with the server stopped.
async fn seed_orders(data_dir: &Path, template: &str, count: usize) {
    let app = App::embedded(data_dir).expect("the seeded store opens");
    let project = ProjectId::parse(PROJECT).expect("a project id");
    let store = app.store.clone();
    let template =
        jobs::get_order(store.as_ref(), &project, template).await.expect("store").expect("the template").value;
    let permits = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let (store, project, permits, mut order) = (store.clone(), project.clone(), permits.clone(), template.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await.expect("the semaphore stays open");
            order.order_id = jobs::next_order_id(store.as_ref(), &project).await.expect("an order id");
            order.execute_uuid = coc_shared::ids::execute_uuid(now_ms());
            jobs::insert_order(store.as_ref(), &order).await.expect("a seeded ticket");
            jobs::save_order(store.as_ref(), &order, 1, order.status, &Effects::default())
                .await
                .expect("a finished ticket");
        }));
    }
    for task in tasks {
        task.await.expect("a seeding task panicked");
    }
}

/// Rounds of signed GETs of `path?query` (`pick(n)` chooses the path per request).
async fn measure(
    api: &ApiClient,
    budget: Budget,
    pick: impl Fn(usize) -> (String, Option<String>) + Send + Sync + 'static,
) -> Summary {
    let pick = Arc::new(pick);
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let (api, pick) = (api.clone(), pick.clone());
        rounds.push(
            round(budget, move |n| {
                let (api, (path, query)) = (api.clone(), pick(n));
                async move {
                    let _ = call(&api, "GET", &path, query.as_deref(), None).await;
                }
            })
            .await,
        );
    }
    Summary::of(&rounds)
}

/// Every figure of one tenant size.
#[derive(Default, Clone, Copy)]
struct Figures {
    list_one: Summary,
    list_sixteen: Summary,
    list_rss: u64,
    get_one: Summary,
    get_sixteen: Summary,
    orders_one: Summary,
    orders_sixteen: Summary,
}

async fn figures_at(data_dir: &Path, size: usize) -> Figures {
    let uuids = Arc::new(seed_store(data_dir, size).await);
    let mut server = CocServer::start(data_dir).await;
    let api = server.api();
    let list = |_| ("/v1/job/scripts".to_owned(), Some("limit=100".to_owned()));
    let sampler = RssSampler::start(server.pid());
    let list_one = measure(&api, ONE_CLIENT, list).await;
    let list_sixteen = measure(&api, SIXTEEN_CLIENTS, list).await;
    let list_rss = sampler.peak();
    drop(sampler);
    // A stride through the seeded scripts, so that gets do not hit one item.
    let get = move |n: usize| (format!("/v1/job/scripts/{}", uuids[(n * 7919) % uuids.len()]), None);
    let get = Arc::new(get);
    let get_one = measure(&api, ONE_CLIENT, {
        let get = get.clone();
        move |n| get(n)
    })
    .await;
    let get_sixteen = measure(&api, SIXTEEN_CLIENTS, move |n| get(n)).await;
    let orders = |_| ("/v1/job/script/orders".to_owned(), Some("limit=100".to_owned()));
    let orders_one = measure(&api, ONE_CLIENT, orders).await;
    let orders_sixteen = measure(&api, SIXTEEN_CLIENTS, orders).await;
    server.assert_running();
    server.stop();
    Figures { list_one, list_sixteen, list_rss, get_one, get_sixteen, orders_one, orders_sixteen }
}

/// "value (ratio to the 100-item value)" cells for one row.
fn row(what: &str, figures: &[Figures], value: impl Fn(&Figures) -> f64, unit: &str) -> Vec<String> {
    let base = value(&figures[0]);
    let mut cells = vec![what.to_owned()];
    for (i, f) in figures.iter().enumerate() {
        let v = value(f);
        let shown = if v >= 100.0 { format!("{v:.0}{unit}") } else { format!("{v:.2}{unit}") };
        cells.push(if i == 0 { shown } else { format!("{shown} ({}×)", ratio(v, base)) });
    }
    cells
}

/// Measures every size; returns the data directory of the largest, for the idle bench.
pub async fn run(report: &mut Report) -> tempfile::TempDir {
    report.heading("Lists and gets at 100 / 1,000 / 10,000 items");
    let mut figures = Vec::new();
    let mut largest = None;
    for size in SIZES {
        let dir = tempfile::tempdir().expect("a temporary directory");
        figures.push(figures_at(dir.path(), size).await);
        largest = Some(dir);
    }
    let mb = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let rows = vec![
        row("list scripts (limit=100), 1 client, req/s", &figures, |f| f.list_one.rate, ""),
        row("… p50", &figures, |f| ms(f.list_one.p50), " ms"),
        row("list scripts (limit=100), 16 clients, req/s", &figures, |f| f.list_sixteen.rate, ""),
        row("… p50", &figures, |f| ms(f.list_sixteen.p50), " ms"),
        row("server RSS during the list (peak)", &figures, |f| mb(f.list_rss), " MB"),
        row("get script, 1 client, req/s", &figures, |f| f.get_one.rate, ""),
        row("… p50", &figures, |f| ms(f.get_one.p50), " ms"),
        row("get script, 16 clients, req/s", &figures, |f| f.get_sixteen.rate, ""),
        row("… p50", &figures, |f| ms(f.get_sixteen.p50), " ms"),
        row("list tickets (limit=100), 1 client, req/s", &figures, |f| f.orders_one.rate, ""),
        row("… p50", &figures, |f| ms(f.orders_one.p50), " ms"),
        row("list tickets (limit=100), 16 clients, req/s", &figures, |f| f.orders_sixteen.rate, ""),
        row("… p50", &figures, |f| ms(f.orders_sixteen.p50), " ms"),
    ];
    report.paragraph(&format!(
        "A tenant holding N scripts and N finished tickets (scripts created through the API, tickets \
         copied through the repository from one real finished ticket), a fresh data directory per size, \
         the server restarted after seeding. Signed requests as the SDK sends them, closed loop, median \
         of {ROUNDS} rounds of up to 2 s. In parentheses: the ratio to the same figure at 100 items \
         (1.00× = no cost from the tenant's size)."
    ));
    report.table(&["what", "100 items", "1,000 items", "10,000 items"], &rows);
    largest.expect("at least one size")
}
