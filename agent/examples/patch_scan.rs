//! One patch scan of this host (or of `COC_AGENT_PATCH_ROOT`), as an agent's
//! scan job runs it, changing nothing: prints how long it took and what it
//! found, or with `--json` the inventory the agent would post. For a look by
//! hand and for timing a scan (`make bench` can call it):
//!
//!     cargo run -q -p coc-agent --example patch_scan [-- --json]

use std::time::Instant;

use coc_agent::patch::{self, PatchSettings};
use coc_shared::domain::patch::{PatchJob, PatchOperation};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let settings = PatchSettings::from_env();
    let started = Instant::now();
    let run = patch::run(&PatchJob { operation: PatchOperation::Scan, baselines: vec![] }, &settings).await;
    let took = started.elapsed();
    match (&run.inventory, json) {
        (Some(inventory), true) => {
            println!("{}", serde_json::to_string_pretty(inventory).expect("an inventory as JSON"))
        }
        (Some(inventory), false) => println!(
            "scan: {} ms, {} installed, {} updates ({} security), reboot {}",
            took.as_millis(),
            inventory.installed.len(),
            inventory.available.len(),
            inventory.available.iter().filter(|u| u.security).count(),
            if inventory.reboot_required { "required" } else { "not required" }
        ),
        (None, _) => eprint!("{}", run.log),
    }
    std::process::exit(run.exit_code);
}
