//! Every process a run starts, found again when the run must be killed, even
//! ones that left its process group (`setsid`, `set -m`, double forks).
//!
//! Two ways, used together: a cgroup v2 per run when the agent may create one
//! under its own cgroup (nothing leaves a cgroup by itself), and the run's main
//! process made a child subreaper, so orphans of the tree are re-parented to it
//! instead of to init and a walk of `/proc` from it finds them all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::Command;

const CGROUP_PREFIX: &str = "coc-run-";
/// Kill rounds before giving up on a tree that keeps forking.
const KILL_ROUNDS: usize = 100;
/// Names listed in the log; the count is always complete.
const LISTED: usize = 20;

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);
/// This agent's run cgroups in use, which the sweep of stale ones leaves alone.
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A process this agent killed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Killed {
    pub pid: i32,
    pub name: String,
}

/// How `kill` went, for the log: "3 processes (41 bash, 42 sleep, 43 sleep)".
pub fn describe(killed: &[Killed]) -> String {
    let listed: Vec<String> = killed.iter().take(LISTED).map(|k| format!("{} {}", k.pid, k.name)).collect();
    let more = if killed.len() > LISTED { ", …" } else { "" };
    let noun = if killed.len() == 1 { "process" } else { "processes" };
    format!("{} {noun} ({}{more})", killed.len(), listed.join(", "))
}

pub struct RunTree {
    cgroup: Option<PathBuf>,
    main: Option<i32>,
}

impl RunTree {
    /// A tree for one run; with `use_cgroup`, in a cgroup of its own when one can be made.
    pub fn new(use_cgroup: bool) -> RunTree {
        let cgroup = if use_cgroup { make_run_cgroup() } else { None };
        RunTree { cgroup, main: None }
    }

    pub fn has_cgroup(&self) -> bool {
        self.cgroup.is_some()
    }

    /// Makes `command`'s process the tree's root: a child subreaper, in the run's cgroup.
    pub fn contain(&self, command: &mut Command) {
        let procs =
            self.cgroup.as_ref().and_then(|dir| CString::new(dir.join("cgroup.procs").as_os_str().as_bytes()).ok());
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (prctl, open, write, close) on data prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
                if let Some(procs) = &procs {
                    // "0" moves the writing process. Best effort: the /proc walk still finds the tree.
                    let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd >= 0 {
                        libc::write(fd, b"0".as_ptr().cast(), 1);
                        libc::close(fd);
                    }
                }
                Ok(())
            });
        }
    }

    pub fn started(&mut self, pid: Option<u32>) {
        self.main = pid.map(|p| p as i32);
    }

    /// Kills every process of the run, the main one last (while it lives, orphans
    /// land under it), repeating until none is left. Returns what it killed.
    pub async fn kill(&self) -> Vec<Killed> {
        let mut killed: BTreeMap<i32, String> = BTreeMap::new();
        if let Some(main) = self.main {
            // Stopped, the script starts nothing new while its children are killed.
            // SAFETY: kill has no memory preconditions; a stale id only yields ESRCH.
            unsafe { libc::kill(main, libc::SIGSTOP) };
        }
        for _ in 0..KILL_ROUNDS {
            let table = ProcessTable::read();
            let mut victims: HashSet<i32> = self.cgroup.as_deref().map(cgroup_pids).unwrap_or_default();
            if let Some(main) = self.main {
                victims.extend(table.descendants(main));
            }
            victims.retain(|pid| Some(*pid) != self.main && !table.is_zombie(*pid));
            if victims.is_empty() {
                break;
            }
            for pid in victims {
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                killed.entry(pid).or_insert_with(|| table.name(pid));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(main) = self.main {
            let table = ProcessTable::read();
            if table.is_running(main) {
                killed.insert(main, table.name(main));
            }
            // SAFETY: as above; the group the main process leads goes with it.
            unsafe {
                libc::kill(main, libc::SIGKILL);
                libc::kill(-main, libc::SIGKILL);
            }
        }
        killed.into_iter().map(|(pid, name)| Killed { pid, name }).collect()
    }
}

impl Drop for RunTree {
    fn drop(&mut self) {
        if let Some(dir) = self.cgroup.take() {
            ACTIVE.lock().expect("active cgroups").retain(|d| d != &dir);
            // Fails while processes the script left running are still in it; a later sweep removes it.
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// Where this process sits in the cgroup v2 hierarchy, if it is mounted and ours to write.
fn own_cgroup_dir() -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // "id parent major:minor root mount-point options - fstype source super-options"
    let mount = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split(' ').next() == Some("cgroup2")).then(|| left.split(' ').nth(4).map(PathBuf::from))?
    })?;
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
    Some(mount.join(path.trim_start_matches('/')))
}

fn make_run_cgroup() -> Option<PathBuf> {
    let parent = own_cgroup_dir()?;
    sweep_stale(&parent);
    let me = std::process::id();
    let dir = parent.join(format!("{CGROUP_PREFIX}{me}-{}", NEXT_RUN.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir(&dir).ok()?;
    ACTIVE.lock().expect("active cgroups").push(dir.clone());
    Some(dir)
}

/// Removes empty run cgroups of agents that are gone and this agent's own finished ones.
fn sweep_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let me = std::process::id().to_string();
    let active = ACTIVE.lock().expect("active cgroups").clone();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name.strip_prefix(CGROUP_PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
        let owner_gone = !Path::new("/proc").join(owner).exists();
        if owner_gone || (owner == me && !active.contains(&entry.path())) {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

fn cgroup_pids(dir: &Path) -> HashSet<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// A snapshot of `/proc`: each process's parent, state and name.
struct ProcessTable {
    processes: HashMap<i32, (i32, char, String)>,
}

impl ProcessTable {
    fn read() -> ProcessTable {
        let mut processes = HashMap::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // "pid (name) state ppid …"; the name may hold spaces and parentheses.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
            let name = stat[open + 1..close].to_owned();
            let mut rest = stat[close + 1..].split_whitespace();
            let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
            let Some(ppid) = rest.next().and_then(|p| p.parse().ok()) else { continue };
            processes.insert(pid, (ppid, state, name));
        }
        ProcessTable { processes }
    }

    fn descendants(&self, root: i32) -> Vec<i32> {
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for (pid, (ppid, _, _)) in &self.processes {
            children.entry(*ppid).or_default().push(*pid);
        }
        let mut found = Vec::new();
        let mut queue = vec![root];
        while let Some(pid) = queue.pop() {
            for child in children.get(&pid).into_iter().flatten() {
                found.push(*child);
                queue.push(*child);
            }
        }
        found
    }

    /// Dead, waiting to be reaped. A process newer than the snapshot is not.
    fn is_zombie(&self, pid: i32) -> bool {
        self.processes.get(&pid).is_some_and(|(_, state, _)| matches!(state, 'Z' | 'X'))
    }

    fn is_running(&self, pid: i32) -> bool {
        self.processes.contains_key(&pid) && !self.is_zombie(pid)
    }

    fn name(&self, pid: i32) -> String {
        self.processes.get(&pid).map(|(_, _, name)| name.clone()).unwrap_or_else(|| "?".into())
    }
}
