//! Shell scripts on tree-sitter-bash's syntax tree. The walk goes through the
//! script in order, keeping the simple variable assignments and aliases it
//! has seen, so `D=/; rm -rf "$D"` and `alias x='rm -rf'; x /` resolve. A
//! command's words are resolved as far as the script shows (quotes removed,
//! known variables substituted, anything else [`UNKNOWN`]), prefixes such as
//! `sudo`, `env`, `command`, `nohup`, `timeout` and `xargs` are stripped, and
//! the strings given to `bash -c`, `eval` or `python -c` are analyzed again.

use std::collections::HashMap;

use tree_sitter::{Node, Parser};

use super::paths::{self, basename, classify, Target, UNKNOWN};
use super::rules::{self, Rule};
use super::{char_column, python, report_unparsed, Findings, Origin, MAX_DEPTH};

const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish"];
const INTERPRETERS: &[&str] =
    &["python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php", "lua", "pwsh", "tclsh"];
const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch", "http", "https", "aria2c"];
const REMOTE_ACCESS_SERVICES: &[&str] = &[
    "sshd",
    "ssh",
    "sshd.service",
    "ssh.service",
    "network",
    "networking",
    "network.service",
    "NetworkManager",
    "NetworkManager.service",
    "systemd-networkd",
    "systemd-networkd.service",
];

/// Analyzes shell `source`, whose start is at `origin` in the script.
pub(super) fn scan(source: &str, origin: Origin, findings: &mut Findings) {
    scan_with(source, origin, findings, &mut Env::default());
}

fn scan_with(source: &str, origin: Origin, findings: &mut Findings, env: &mut Env) {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_bash::LANGUAGE.into()).expect("the bash grammar matches the tree-sitter library");
    let Some(tree) = parser.parse(source, None) else {
        return;
    };
    let mut scanner = Scanner { source, origin, findings, env: std::mem::take(env), loops: 0 };
    report_unparsed(&tree, source, &scanner.origin, scanner.findings);
    scanner.walk(tree.root_node());
    *env = scanner.env;
}

/// What the script has set so far.
#[derive(Debug, Default, Clone)]
struct Env {
    vars: HashMap<String, String>,
    aliases: HashMap<String, Vec<String>>,
    /// The working directory after the `cd`s so far, when the script shows it.
    cwd: Option<String>,
}

/// A resolved word of a command and the node it came from (`None` when an alias supplied it).
#[derive(Debug, Clone)]
struct Word<'t> {
    text: String,
    node: Option<Node<'t>>,
}

struct Scanner<'s, 'f> {
    source: &'s str,
    origin: Origin,
    findings: &'f mut Findings,
    env: Env,
    /// How many `for` loops the walk is in.
    loops: u8,
}

/// The values of a `for` list that are followed one by one.
const LOOP_VALUES: usize = 16;

/// How a command's standard input or arguments are fed.
#[derive(Debug, Default, Clone, Copy)]
struct Feed {
    /// An earlier stage of its pipeline downloads (curl, wget …).
    download: bool,
    /// An argument runs a download (`bash <(curl …)`, `sh -c "$(wget …)"`).
    download_argument: bool,
    /// An earlier stage is `find` on / or a system directory.
    find_system: bool,
}

fn is_option(word: &str) -> bool {
    word.starts_with('-') && word.len() > 1
}

impl<'s> Scanner<'s, '_> {
    fn text(&self, node: Node) -> &'s str {
        &self.source[node.byte_range()]
    }

    fn report(&mut self, rule: &'static Rule, node: Node, command: &str) {
        let (line, column) = (node.start_position().row, char_column(self.source, node.start_byte()));
        let text = self.text(node);
        self.findings.add(rule, &self.origin, line, column, text, command);
    }

    fn walk(&mut self, node: Node<'s>) {
        if !self.findings.step(&self.origin, self.source, node) {
            return;
        }
        match node.kind() {
            "comment" | "heredoc_body" => {}
            "variable_assignment" => {
                self.walk_children(node);
                self.assign(node);
            }
            "unset_command" => self.unset(node),
            "command" => {
                self.walk_children(node);
                self.command(node);
            }
            "pipeline" => {
                self.walk_children(node);
                self.pipeline(node);
            }
            "redirected_statement" => {
                self.walk_children(node);
                self.heredoc(node);
            }
            "file_redirect" => {
                self.walk_children(node);
                self.file_redirect(node);
            }
            "function_definition" => {
                self.fork_bomb(node);
                self.walk_children(node);
            }
            "for_statement" => self.for_loop(node),
            _ => self.walk_children(node),
        }
    }

    fn walk_children(&mut self, node: Node<'s>) {
        let mut cursor = node.walk();
        let children: Vec<Node<'s>> = node.named_children(&mut cursor).collect();
        for child in children {
            self.walk(child);
        }
    }

    /// A word's value as far as the script determines it.
    fn resolve(&self, node: Node) -> String {
        match node.kind() {
            "word" | "number" => unescape(self.text(node)),
            "raw_string" => self.text(node).trim_start_matches('\'').trim_end_matches('\'').to_owned(),
            "ansi_c_string" => {
                let inner = self.text(node).trim_start_matches("$'").trim_end_matches('\'');
                inner.replace("\\n", "\n").replace("\\t", "\t").replace("\\'", "'").replace("\\\\", "\\")
            }
            "string" => {
                let (start, end) = (node.start_byte() + 1, node.end_byte().saturating_sub(1));
                let mut out = String::new();
                let mut at = start;
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.start_byte() > at {
                        out.push_str(&self.source[at..child.start_byte()]);
                    }
                    match child.kind() {
                        "string_content" => out.push_str(&unescape_quoted(self.text(child))),
                        _ => out.push_str(&self.resolve(child)),
                    }
                    at = child.end_byte();
                }
                if end > at {
                    out.push_str(&self.source[at..end]);
                }
                out
            }
            "simple_expansion" | "expansion" => self.expansion(node),
            "concatenation" | "command_name" => {
                let mut out = String::new();
                let mut cursor = node.walk();
                for child in node.children(&mut cursor) {
                    if child.is_named() {
                        out.push_str(&self.resolve(child));
                    } else {
                        out.push_str(self.text(child));
                    }
                }
                out
            }
            "command_substitution" | "process_substitution" | "arithmetic_expansion" => UNKNOWN.to_string(),
            _ => self.text(node).to_owned(),
        }
    }

    /// `$X`, `${X}`; `${X:-default}` (the default when X is unset or empty); `${X:?}` (the
    /// shell stops when X is unset or empty, so it is never empty: a placeholder, not unknown).
    fn expansion(&self, node: Node) -> String {
        let mut cursor = node.walk();
        let named: Vec<Node> = node.named_children(&mut cursor).collect();
        let Some((name, rest)) = named.split_first().filter(|(n, _)| n.kind() == "variable_name") else {
            return UNKNOWN.to_string();
        };
        let name = self.text(*name);
        let operator = node.child_by_field_name("operator").map(|o| self.text(o));
        let value = self.lookup(name);
        match operator {
            None if rest.is_empty() => value,
            Some(":?" | "?") if value.contains(UNKNOWN) || value.is_empty() => format!("${{{name}:?}}"),
            Some(":?" | "?") => value,
            Some(op @ (":-" | "-" | ":=" | "=")) => {
                let unset = value == UNKNOWN.to_string();
                if unset || (op.starts_with(':') && value.is_empty()) {
                    rest.iter().map(|n| self.resolve(*n)).collect()
                } else {
                    value
                }
            }
            _ => UNKNOWN.to_string(),
        }
    }

    /// A path as the working directory makes it, when the script shows both.
    fn absolute(&self, path: &str) -> Option<String> {
        if path.starts_with('/') || path.starts_with('~') {
            return Some(path.to_owned());
        }
        if path.contains(UNKNOWN) {
            return None;
        }
        self.env.cwd.as_ref().map(|cwd| format!("{}/{path}", cwd.trim_end_matches('/')))
    }

    fn lookup(&self, name: &str) -> String {
        match self.env.vars.get(name) {
            Some(value) => value.clone(),
            None if name == "HOME" => "~".to_owned(),
            None => UNKNOWN.to_string(),
        }
    }

    fn assign(&mut self, node: Node) {
        let Some(name) = node.child_by_field_name("name") else {
            return;
        };
        let name = self.text(name).to_owned();
        let value = node.child_by_field_name("value").map(|v| self.resolve(v)).unwrap_or_default();
        let history_off = match name.as_str() {
            "HISTFILE" => value.is_empty() || value == "/dev/null",
            "HISTSIZE" | "HISTFILESIZE" => value == "0",
            _ => false,
        };
        if history_off {
            self.report(&rules::HISTORY_OFF, node, "");
        }
        self.env.vars.insert(name, value);
    }

    fn unset(&mut self, node: Node) {
        let mut cursor = node.walk();
        let names: Vec<String> = node.named_children(&mut cursor).map(|n| self.resolve(n)).collect();
        for name in names {
            if name == "HISTFILE" {
                self.report(&rules::HISTORY_OFF, node, "unset");
            }
            self.env.vars.remove(&name);
        }
    }

    /// The words of a `command` node, aliases expanded.
    fn words<'t>(&self, node: Node<'t>) -> Vec<Word<'t>> {
        let Some(name) = node.child_by_field_name("name") else {
            return Vec::new();
        };
        let mut words = vec![Word { text: self.resolve(name), node: Some(name) }];
        let mut cursor = node.walk();
        for argument in node.children_by_field_name("argument", &mut cursor) {
            words.push(Word { text: self.resolve(argument), node: Some(argument) });
        }
        let mut expanded: Vec<String> = Vec::new();
        while let Some(alias) = self.env.aliases.get(&words[0].text) {
            if expanded.contains(&words[0].text) || alias.is_empty() {
                break;
            }
            expanded.push(words[0].text.clone());
            let rest = words.split_off(1);
            words = alias.iter().map(|w| Word { text: w.clone(), node: None }).chain(rest).collect();
        }
        words
    }

    fn command(&mut self, node: Node<'s>) {
        let words = self.words(node);
        if words.is_empty() {
            return;
        }
        if words[0].text == "alias" {
            for definition in &words[1..] {
                if let Some((name, value)) = definition.text.split_once('=') {
                    let value = value.split_whitespace().map(str::to_owned).collect();
                    self.env.aliases.insert(name.to_owned(), value);
                }
            }
            return;
        }
        if words[0].text == "cd" {
            let target = words.get(1).map_or("~", |w| w.text.as_str());
            self.env.cwd = self.absolute(target);
            return;
        }
        if words[0].text == "unalias" {
            for name in &words[1..] {
                self.env.aliases.remove(&name.text);
            }
            return;
        }
        let feed = Feed { download_argument: self.arguments_download(node), ..Feed::default() };
        self.check(&words, node, feed);
    }

    /// Whether an argument of the command runs a download (`bash <(curl …)`, `sh -c "$(wget …)"`).
    fn arguments_download(&self, node: Node) -> bool {
        let mut cursor = node.walk();
        let arguments: Vec<Node> = node.children_by_field_name("argument", &mut cursor).collect();
        arguments.into_iter().any(|a| self.downloads(a))
    }

    /// Whether a command in the subtree is a downloader.
    fn downloads(&self, node: Node) -> bool {
        if node.kind() == "command" {
            let words = self.words(node);
            let (words, _) = strip_prefixes(&words);
            if words.first().is_some_and(|w| DOWNLOADERS.contains(&basename(&w.text))) {
                return true;
            }
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        children.into_iter().any(|c| self.downloads(c))
    }

    /// Applies the command rules to resolved words; findings are placed at `at`.
    fn check(&mut self, words: &[Word<'s>], at: Node<'s>, feed: Feed) {
        let (words, via_xargs) = strip_prefixes(words);
        let Some(first) = words.first() else {
            return;
        };
        let name = basename(&first.text).to_owned();
        let args: Vec<&str> = words[1..].iter().map(|w| w.text.as_str()).collect();
        match name.as_str() {
            n if SHELLS.contains(&n) || INTERPRETERS.contains(&n) => self.interpreter(&name, words, at, feed),
            "su" => {
                let code =
                    words.iter().position(|w| w.text == "-c" || w.text == "--command").and_then(|i| words.get(i + 1));
                if let Some(code) = code {
                    self.nested(&code.text.clone(), code.node.unwrap_or(at), false, false);
                }
            }
            "eval" => {
                let code = args.join(" ");
                self.nested(&code, words.get(1).and_then(|w| w.node).unwrap_or(at), false, true);
            }
            "rm" | "unlink" => self.rm(&name, &args, at, via_xargs, feed),
            "shred" | "truncate" => {
                for target in operands(&args) {
                    if paths::is_disk_device(target) {
                        self.report(&rules::DEVICE_WRITE, at, &name);
                    }
                    self.wiped(target, at, &name);
                }
            }
            "find" => {
                let starts: Vec<&str> =
                    args.iter().copied().take_while(|a| !a.starts_with('-') && !matches!(*a, "(" | "!")).collect();
                let system = starts.iter().any(|s| matches!(classify(s), Target::Root | Target::System));
                let deletes = args.iter().enumerate().any(|(i, a)| {
                    *a == "-delete"
                        || (matches!(*a, "-exec" | "-execdir" | "-ok" | "-okdir")
                            && args.get(i + 1).is_some_and(|c| matches!(basename(c), "rm" | "shred" | "unlink")))
                });
                if system && deletes {
                    self.report(&rules::FIND_DELETE, at, "find");
                }
            }
            "mv" => {
                let targets = operands(&args);
                if let Some((_, sources)) = targets.split_last() {
                    for source in sources {
                        match classify(source) {
                            Target::Root | Target::System => self.report(&rules::MV_SYSTEM, at, "mv"),
                            _ if paths::is_credential_file(source) => self.report(&rules::CREDENTIALS, at, "mv"),
                            _ => {}
                        }
                    }
                }
            }
            n if (n == "mkfs" || n.starts_with("mkfs.") || matches!(n, "mke2fs" | "wipefs" | "mkntfs" | "mkdosfs"))
                && !operands(&args).is_empty() =>
            {
                self.report(&rules::MKFS, at, &name)
            }
            "mkswap" if operands(&args).iter().any(|t| paths::is_disk_device(t)) => {
                self.report(&rules::MKFS, at, &name)
            }
            "fdisk" | "sfdisk" | "cfdisk" | "gdisk" | "sgdisk" | "parted" => {
                const READ_ONLY: &[&str] =
                    &["-l", "--list", "print", "-p", "--print", "-d", "--dump", "-V", "--version", "-h", "--help"];
                let device = args.iter().any(|a| paths::is_disk_device(a));
                if device && !args.iter().any(|a| READ_ONLY.contains(a)) {
                    self.report(&rules::PARTITION, at, &name);
                }
            }
            "dd" if args.iter().any(|a| a.strip_prefix("of=").is_some_and(paths::is_disk_device)) => {
                self.report(&rules::DD_DEVICE, at, "dd")
            }
            "cp" | "tee" | "install" => {
                let targets = operands(&args);
                let written: Vec<&str> =
                    if name == "tee" { targets } else { targets.last().copied().into_iter().collect() };
                let append = name == "tee" && args.iter().any(|a| matches!(*a, "-a" | "--append"));
                for target in written {
                    self.written(target, append, at, &name);
                }
            }
            "ln" => {
                let targets = operands(&args);
                if targets.first() == Some(&"/dev/null") && targets.last().is_some_and(|t| paths::is_trace_file(t)) {
                    self.report(&rules::TRACE_WIPE, at, "ln");
                }
            }
            "shutdown" if !args.contains(&"-c") => self.report(&rules::SHUTDOWN, at, "shutdown"),
            "reboot" | "halt" | "poweroff" => self.report(&rules::SHUTDOWN, at, &name),
            "init" | "telinit" if args.first().is_some_and(|a| matches!(*a, "0" | "6")) => {
                self.report(&rules::SHUTDOWN, at, &name)
            }
            "systemctl" => {
                let verbs: Vec<&str> = args.iter().copied().filter(|a| !is_option(a)).collect();
                match verbs.as_slice() {
                    [verb, ..] if matches!(*verb, "poweroff" | "reboot" | "halt" | "kexec") => {
                        self.report(&rules::SHUTDOWN, at, "systemctl")
                    }
                    [verb, units @ ..]
                        if matches!(*verb, "stop" | "disable" | "mask" | "kill")
                            && units.iter().any(|u| REMOTE_ACCESS_SERVICES.contains(u)) =>
                    {
                        self.report(&rules::REMOTE_ACCESS, at, "systemctl")
                    }
                    _ => {}
                }
            }
            "service" => {
                if let [unit, verb, ..] = args.as_slice() {
                    if matches!(*verb, "stop") && REMOTE_ACCESS_SERVICES.contains(unit) {
                        self.report(&rules::REMOTE_ACCESS, at, "service");
                    }
                }
            }
            "chmod" => {
                let recursive = args.iter().any(|a| *a == "--recursive" || short_flag(a, 'R'));
                let rest: Vec<&str> = args.iter().copied().filter(|a| !is_option(a)).collect();
                if let [mode, targets @ ..] = rest.as_slice() {
                    if paths::is_world_writable(mode) {
                        if targets.iter().any(|t| matches!(classify(t), Target::Root | Target::System)) {
                            self.report(&rules::CHMOD_SYSTEM, at, "chmod");
                        } else if targets.iter().any(|t| paths::is_credential_file(t)) {
                            self.report(&rules::CREDENTIALS, at, "chmod");
                        } else if recursive && !targets.is_empty() {
                            self.report(&rules::CHMOD_RECURSIVE, at, "chmod");
                        }
                    }
                }
            }
            "chown" | "chgrp" => {
                let recursive = args.iter().any(|a| *a == "--recursive" || short_flag(a, 'R'));
                let rest: Vec<&str> = args.iter().copied().filter(|a| !is_option(a)).collect();
                if recursive && rest.iter().skip(1).any(|t| matches!(classify(t), Target::Root | Target::System)) {
                    self.report(&rules::CHOWN_SYSTEM, at, &name);
                }
            }
            "kill" => {
                let pids = match args.as_slice() {
                    ["-s" | "-n", _, rest @ ..] => rest,
                    [signal, rest @ ..] if is_option(signal) && !rest.is_empty() => rest,
                    all => all,
                };
                if pids.iter().any(|p| matches!(*p, "-1" | "1")) {
                    self.report(&rules::KILL_ALL, at, "kill");
                }
            }
            "killall5" => self.report(&rules::KILL_ALL, at, "killall5"),
            "iptables" | "ip6tables" => {
                let flush = args.iter().any(|a| matches!(*a, "-F" | "--flush" | "-X" | "--delete-chain"));
                let drop_policy =
                    args.windows(3).any(|w| matches!(w[0], "-P" | "--policy") && matches!(w[2], "DROP" | "REJECT"));
                if flush || drop_policy {
                    self.report(&rules::FIREWALL, at, &name);
                }
            }
            "nft" if args.windows(2).any(|w| w == ["flush", "ruleset"]) => self.report(&rules::FIREWALL, at, "nft"),
            "ufw" if args.contains(&"disable") => self.report(&rules::FIREWALL, at, "ufw"),
            "crontab" if args.iter().any(|a| short_flag(a, 'r')) => self.report(&rules::CRONTAB, at, "crontab"),
            "history" if args.iter().any(|a| short_flag(a, 'c')) => self.report(&rules::HISTORY_OFF, at, "history"),
            "set" if args.windows(2).any(|w| w == ["+o", "history"]) => self.report(&rules::HISTORY_OFF, at, "set"),
            "passwd" if args.iter().any(|a| *a == "--delete" || short_flag(a, 'd')) => {
                self.report(&rules::CREDENTIALS, at, "passwd")
            }
            _ => {}
        }
    }

    fn rm(&mut self, name: &str, args: &[&str], at: Node, via_xargs: bool, feed: Feed) {
        let recursive = name == "rm"
            && args
                .iter()
                .take_while(|a| **a != "--")
                .any(|a| *a == "--recursive" || short_flag(a, 'r') || short_flag(a, 'R'));
        if args.iter().take_while(|a| **a != "--").any(|a| *a == "--no-preserve-root") {
            self.report(&rules::RM_ROOT, at, name);
        }
        if via_xargs && feed.find_system {
            self.report(&rules::FIND_DELETE, at, name);
        }
        for target in operands(args) {
            let resolved = if target.starts_with('/') { None } else { self.absolute(target) };
            let target = resolved.as_deref().unwrap_or(target);
            match classify(target) {
                Target::Root if recursive => self.report(&rules::RM_ROOT, at, name),
                Target::System if recursive => self.report(&rules::RM_SYSTEM, at, name),
                Target::UnsetPrefix if recursive => self.report(&rules::RM_UNRESOLVED, at, name),
                _ => self.wiped(target, at, name),
            }
        }
    }

    /// A file deleted or emptied.
    fn wiped(&mut self, target: &str, at: Node, command: &str) {
        if paths::is_trace_file(target) {
            self.report(&rules::TRACE_WIPE, at, command);
        } else if paths::is_credential_file(target) {
            self.report(&rules::CREDENTIALS, at, command);
        }
    }

    /// A file written to (`>`, `>>`, `tee`, `cp`).
    fn written(&mut self, target: &str, append: bool, at: Node, command: &str) {
        if paths::is_disk_device(target) {
            self.report(&rules::DEVICE_WRITE, at, command);
        } else if paths::is_sysrq(target) {
            self.report(&rules::SYSRQ, at, command);
        } else if paths::is_credential_file(target) {
            let rule = if append { &rules::CREDENTIALS_APPEND } else { &rules::CREDENTIALS };
            self.report(rule, at, command);
        } else if paths::is_trace_file(target) && !append {
            self.report(&rules::TRACE_WIPE, at, command);
        }
    }

    /// `sh`, `bash`, `python` …: a `-c` string is analyzed again; an argument that downloads is remote code.
    fn interpreter(&mut self, name: &str, words: &[Word<'s>], at: Node<'s>, feed: Feed) {
        if let Script::Code(code) = script_of(words) {
            let python = name.starts_with("python");
            if SHELLS.contains(&name) || python {
                let text = code.text.clone();
                self.nested(&text, code.node.unwrap_or(at), python, false);
            }
        }
        if feed.download_argument {
            self.report(&rules::PIPE_TO_SHELL, at, name);
        }
    }

    /// Analyzes code given as a string (`bash -c`, `eval`, `python -c`, a heredoc).
    fn nested(&mut self, code: &str, at: Node, python: bool, same_shell: bool) {
        if self.origin.depth >= MAX_DEPTH || code.trim().is_empty() {
            return;
        }
        // The string's quote is one column before its text.
        let quoted = matches!(at.kind(), "string" | "raw_string") as usize;
        let origin = self.origin.nested(
            at.start_position().row,
            char_column(self.source, at.start_byte()) + quoted,
            self.origin.via.clone(),
        );
        let code = code.replace(UNKNOWN, "${UNKNOWN_}");
        if python {
            python::scan_at(&code, origin, self.findings);
        } else if same_shell {
            scan_with(&code, origin, self.findings, &mut self.env);
        } else {
            let mut env = Env { vars: self.env.vars.clone(), aliases: HashMap::new(), cwd: self.env.cwd.clone() };
            scan_with(&code, origin, self.findings, &mut env);
        }
    }

    /// The stages of a pipeline: a download piped into a shell, `find /` piped into `xargs rm`.
    fn pipeline(&mut self, node: Node<'s>) {
        let mut cursor = node.walk();
        let stages: Vec<Node<'s>> = node.named_children(&mut cursor).filter(|n| n.kind() != "comment").collect();
        let mut feed = Feed::default();
        for stage in stages {
            let command = match stage.kind() {
                "redirected_statement" => stage.child_by_field_name("body").filter(|b| b.kind() == "command"),
                "command" => Some(stage),
                _ => None,
            };
            if let Some(command) = command {
                let words = self.words(command);
                let (stripped, via_xargs) = strip_prefixes(&words);
                let name = stripped.first().map(|w| basename(&w.text).to_owned()).unwrap_or_default();
                let interpreter = SHELLS.contains(&name.as_str()) || INTERPRETERS.contains(&name.as_str());
                if feed.download && interpreter && matches!(script_of(stripped), Script::Stdin) {
                    self.report(&rules::PIPE_TO_SHELL, node, &name);
                }
                if feed.find_system && via_xargs && matches!(name.as_str(), "rm" | "shred" | "unlink") {
                    self.report(&rules::FIND_DELETE, node, &name);
                }
                if name == "find" {
                    let starts: Vec<&Word> = stripped[1..].iter().take_while(|w| !w.text.starts_with('-')).collect();
                    feed.find_system |=
                        starts.iter().any(|w| matches!(classify(&w.text), Target::Root | Target::System));
                }
            }
            feed.download |= self.downloads(stage);
        }
    }

    fn file_redirect(&mut self, node: Node) {
        let mut cursor = node.walk();
        let operator = node.children(&mut cursor).find(|c| !c.is_named()).map(|c| self.text(c)).unwrap_or("");
        if !operator.contains('>') {
            return;
        }
        let Some(destination) = node.child_by_field_name("destination") else {
            return;
        };
        let target = self.resolve(destination);
        self.written(&target, operator.contains(">>"), node, operator);
    }

    /// `bash <<EOF … EOF` and `python3 - <<EOF`: the heredoc is the script they run.
    fn heredoc(&mut self, node: Node<'s>) {
        let Some(body) = node.child_by_field_name("body").filter(|b| b.kind() == "command") else {
            return;
        };
        let words = self.words(body);
        let (words, _) = strip_prefixes(&words);
        let name = words.first().map(|w| basename(&w.text).to_owned()).unwrap_or_default();
        let python = name.starts_with("python");
        if !SHELLS.contains(&name.as_str()) && !python {
            return;
        }
        let mut cursor = node.walk();
        let redirects: Vec<Node<'s>> = node.children_by_field_name("redirect", &mut cursor).collect();
        for redirect in redirects {
            let wanted: &[&str] = match redirect.kind() {
                "heredoc_redirect" => &["heredoc_body"],
                "herestring_redirect" => &["string", "raw_string", "word", "concatenation"],
                _ => continue,
            };
            let mut inner = redirect.walk();
            let texts: Vec<Node<'s>> =
                redirect.named_children(&mut inner).filter(|c| wanted.contains(&c.kind())).collect();
            for text in texts {
                let code = if text.kind() == "heredoc_body" { self.text(text).to_owned() } else { self.resolve(text) };
                self.nested(&code, text, python, false);
            }
        }
    }

    /// A function that calls itself twice or more: `:(){ :|:& };:`.
    fn fork_bomb(&mut self, node: Node) {
        let (Some(name), Some(body)) = (node.child_by_field_name("name"), node.child_by_field_name("body")) else {
            return;
        };
        let name = self.text(name);
        if self.calls(body, name) >= 2 {
            self.report(&rules::FORK_BOMB, node, name);
        }
    }

    fn calls(&self, node: Node, name: &str) -> usize {
        let own = node.kind() == "command" && node.child_by_field_name("name").is_some_and(|n| self.resolve(n) == name);
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        usize::from(own) + children.into_iter().map(|c| self.calls(c, name)).sum::<usize>()
    }

    /// `for d in / /etc; do rm -rf "$d"; done`: the body is walked once per listed value.
    fn for_loop(&mut self, node: Node<'s>) {
        let (Some(variable), Some(body)) = (node.child_by_field_name("variable"), node.child_by_field_name("body"))
        else {
            return self.walk_children(node);
        };
        let variable = self.text(variable).to_owned();
        let mut cursor = node.walk();
        let values: Vec<Node<'s>> = node.children_by_field_name("value", &mut cursor).collect();
        for value in &values {
            self.walk(*value);
        }
        // Loops in loops: only the outermost follows its values, the others run once with an
        // unknown one, so nested loops cost no product of value lists.
        let mut resolved: Vec<String> = if self.loops == 0 {
            values.iter().map(|v| self.resolve(*v)).take(LOOP_VALUES).collect()
        } else {
            Vec::new()
        };
        if resolved.is_empty() {
            resolved.push(UNKNOWN.to_string());
        }
        self.loops += 1;
        for value in resolved {
            self.env.vars.insert(variable.clone(), value);
            self.walk(body);
        }
        self.loops -= 1;
    }
}

/// What an interpreter runs: a `-c` string, its standard input, or a script file.
enum Script<'w, 't> {
    Code(&'w Word<'t>),
    Stdin,
    File,
}

fn script_of<'w, 't>(words: &'w [Word<'t>]) -> Script<'w, 't> {
    let mut rest = words.iter().skip(1);
    while let Some(word) = rest.next() {
        let text = word.text.as_str();
        if matches!(text, "--" | "-s" | "-") {
            return Script::Stdin;
        }
        if !is_option(text) {
            return Script::File;
        }
        if !text.starts_with("--") && text.contains('c') {
            return rest.next().map_or(Script::Stdin, Script::Code);
        }
    }
    Script::Stdin
}

/// `-rf` has `r`; `--recursive` is no short flag.
fn short_flag(word: &str, flag: char) -> bool {
    word.strip_prefix('-')
        .is_some_and(|f| !f.starts_with('-') && f.chars().all(|c| c.is_ascii_alphanumeric()) && f.contains(flag))
}

/// The operands of a command: its words that are no options, and every word after `--`.
fn operands<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut options_end = false;
    for arg in args {
        if !options_end && *arg == "--" {
            options_end = true;
        } else if options_end || !is_option(arg) {
            out.push(*arg);
        }
    }
    out
}

/// Strips the words that run the rest as a command (`sudo -u x`, `env A=1`, `nohup`,
/// `timeout 5`, `xargs -0` …); the flag says whether `xargs` was one of them.
fn strip_prefixes<'w, 't>(words: &'w [Word<'t>]) -> (&'w [Word<'t>], bool) {
    let mut i = 0;
    let mut via_xargs = false;
    let text = |i: usize| words.get(i).map(|w| w.text.as_str());
    while let Some(word) = text(i) {
        let with_value: &[&str] = match basename(word) {
            "sudo" | "doas" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"],
            "env" => &["-u", "-C", "--unset", "--chdir"],
            "command" | "builtin" | "exec" | "nohup" | "time" | "setsid" | "stdbuf" | "busybox" => &["-a"],
            "nice" | "ionice" => &["-n", "-c"],
            "timeout" => &["-s", "-k", "--signal", "--kill-after"],
            "xargs" => &["-I", "-n", "-P", "-d", "-L", "-a", "-s", "-E", "-i"],
            _ => break,
        };
        let prefix = basename(word);
        via_xargs |= prefix == "xargs";
        i += 1;
        while let Some(next) = text(i) {
            if next == "--" {
                i += 1;
                break;
            }
            if with_value.contains(&next) {
                i += 2;
            } else if is_option(next) || (prefix == "env" && next.contains('=')) {
                i += 1;
            } else {
                break;
            }
        }
        if prefix == "timeout" && text(i).is_some() {
            i += 1;
        }
    }
    (words.get(i..).unwrap_or_default(), via_xargs)
}

/// A word's backslash escapes removed (`\/` is `/`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                if next != '\n' {
                    out.push(next);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// In double quotes only `\"`, `\\`, `\$` and `` \` `` are escapes.
fn unescape_quoted(text: &str) -> String {
    text.replace("\\\"", "\"").replace("\\$", "$").replace("\\`", "`").replace("\\\\", "\\")
}
