//! The console's build output is embedded in the binary (src/console.rs): a new
//! `make console` must rebuild coc-local, so cargo watches that folder.
fn main() {
    println!("cargo:rerun-if-changed=../console/dist");
}
