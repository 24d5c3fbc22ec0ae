//! `cargo lambda watch` must route every API path to the function that serves
//! it, as API Gateway does, so that clients (the official SDK, `coc-agent`) can
//! use the watch server as their endpoint without `/lambda-url/<function>`
//! prefixes. The routes are in `CargoLambda.toml`, held here to the route table.

use std::path::Path;

use coc_shared::routes::ROUTES;

const ROUTER_TABLE: &str = "[watch.router]\n";

/// The router table the route list gives: one line per path, its methods in
/// route-table order, paths in the order they first appear.
fn router_from_routes() -> String {
    let mut paths: Vec<&str> = Vec::new();
    for route in ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    let mut table = String::from(ROUTER_TABLE);
    for path in paths {
        let functions: Vec<String> = ROUTES
            .iter()
            .filter(|r| r.path == path)
            .map(|r| format!("{{ method = \"{}\", function = \"{}\" }}", r.method, r.function))
            .collect();
        table.push_str(&format!("\"{path}\" = [{}]\n", functions.join(", ")));
    }
    table
}

#[test]
fn cargo_lambda_watch_routes_every_api_path_to_its_function() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace");
    let text = std::fs::read_to_string(root.join("CargoLambda.toml")).expect("CargoLambda.toml at the workspace root");
    let table = text.find(ROUTER_TABLE).map(|at| &text[at..]).expect("CargoLambda.toml has a [watch.router] table");
    let expected = router_from_routes();
    assert!(table == expected, "the [watch.router] table of CargoLambda.toml must read, to its end:\n{expected}");
}
