//! The bench's output: one Markdown document (printed as it grows, and written
//! to `target/bench/results.md`), with the machine and the versions compared.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Default)]
pub struct Report {
    text: String,
}

impl Report {
    /// Adds Markdown and prints it at once, so a long run shows progress.
    pub fn add(&mut self, markdown: &str) {
        print!("{markdown}");
        self.text.push_str(markdown);
    }

    pub fn heading(&mut self, title: &str) {
        self.add(&format!("\n## {title}\n\n"));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.add(&format!("{text}\n\n"));
    }

    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
        for row in rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out.push('\n');
        self.add(&out);
    }

    /// Writes everything so far to `path` (the file is rewritten whole each time,
    /// so an interrupted run still leaves the parts it finished).
    pub fn save(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, &self.text) {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
}

/// `target/bench/results.md` in the workspace's target directory.
pub fn results_path() -> PathBuf {
    target_dir().join("bench").join("results.md")
}

/// The Cargo target directory: `CARGO_TARGET_DIR`, else the one this binary
/// was built in (`.../target/release/coc-bench`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the bench knows its own path");
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| workspace_dir().join("target"))
}

/// The workspace this bench was built from (where `.tools/` is).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// How this binary was built, for the report.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug build (figures not comparable with a release run)"
    } else {
        "release build"
    }
}

/// The first line a command prints for `args`, or why there is none.
pub fn version_of(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned()
        }
        Err(e) => format!("not available ({e})"),
    }
}

/// CPU model, core count and memory, from /proc.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} × {model}, {:.1} GiB RAM, Linux {}", mem_kb as f64 / (1024.0 * 1024.0), kernel.trim())
}

pub fn now_utc() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// `a / b` with two decimals, or `n/a` when there is no `b`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() {
        format!("{:.2}", a / b)
    } else {
        "n/a".into()
    }
}
