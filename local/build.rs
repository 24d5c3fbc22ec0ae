//! The console's build output is embedded in the binary (src/console.rs): a new
//! `make console` must rebuild coc-local, so cargo watches that folder. A path
//! that does not exist counts as changed on every build, so while the console
//! is not built cargo watches the console's folder instead (a new `dist` in it
//! is a change), rather than rebuilding coc-local every time.
fn main() {
    if std::path::Path::new("../console/dist").exists() {
        println!("cargo:rerun-if-changed=../console/dist");
    } else {
        println!("cargo:rerun-if-changed=../console");
    }
}
