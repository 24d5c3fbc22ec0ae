//! Python scripts on tree-sitter-python's syntax tree: the calls that hand a
//! command to the system (`os.system`, `os.popen`, `subprocess.*` with a shell
//! string or an argument list) are analyzed as shell, and `shutil.rmtree` of /
//! or a system directory is reported. Imports and their aliases
//! (`import subprocess as sp`, `from os import system`) and simple assignments
//! of strings and lists are followed; f-string parts the script does not
//! determine are unknown.

use std::collections::HashMap;

use tree_sitter::{Node, Parser};

use super::paths::{self, classify, Target, UNKNOWN};
use super::{char_column, report_unparsed, rules, shell, Findings, Origin, MAX_DEPTH};

/// Calls whose first argument is a shell command line.
const SHELL_STRING_CALLS: &[&str] =
    &["os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput", "commands.getoutput"];
/// Calls that run an argument list, or a shell string with `shell=True`.
const PROCESS_CALLS: &[&str] =
    &["subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen"];
/// Calls that run an argument list given as their second argument.
const EXEC_CALLS: &[&str] = &["os.execv", "os.execvp", "os.execve", "os.execvpe", "os.spawnv", "os.spawnvp"];

pub(super) fn scan(source: &str, findings: &mut Findings) {
    scan_at(source, Origin::TOP, findings);
}

/// Analyzes Python `source` whose start is at `origin` in the script (`python3 -c '…'`).
pub(super) fn scan_at(source: &str, origin: Origin, findings: &mut Findings) {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("the python grammar matches the tree-sitter library");
    let Some(tree) = parser.parse(source, None) else {
        return;
    };
    let mut scanner = Scanner { source, origin, findings, imports: HashMap::new(), vars: HashMap::new() };
    report_unparsed(&tree, source, &scanner.origin, scanner.findings);
    scanner.walk(tree.root_node());
}

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    List(Vec<String>),
}

struct Scanner<'s, 'f> {
    source: &'s str,
    origin: Origin,
    findings: &'f mut Findings,
    /// Local name → what it names (`sp` → `subprocess`, `system` → `os.system`).
    imports: HashMap<String, String>,
    vars: HashMap<String, Value>,
}

impl<'s> Scanner<'s, '_> {
    fn text(&self, node: Node) -> &'s str {
        &self.source[node.byte_range()]
    }

    fn walk(&mut self, node: Node) {
        if !self.findings.step(&self.origin, self.source, node) {
            return;
        }
        match node.kind() {
            "comment" => {}
            "import_statement" => self.import(node, None),
            "import_from_statement" => {
                let module = node.child_by_field_name("module_name").map(|m| self.text(m).to_owned());
                self.import(node, module);
            }
            "assignment" => {
                self.walk_children(node);
                if let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right"))
                {
                    if left.kind() == "identifier" {
                        let name = self.text(left).to_owned();
                        match self.value(right) {
                            Some(value) => self.vars.insert(name, value),
                            None => self.vars.remove(&name),
                        };
                    }
                }
            }
            "call" => {
                self.walk_children(node);
                self.call(node);
            }
            _ => self.walk_children(node),
        }
    }

    fn walk_children(&mut self, node: Node) {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            self.walk(child);
        }
    }

    fn import(&mut self, node: Node, module: Option<String>) {
        let mut cursor = node.walk();
        let names: Vec<Node> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (imported, local) = match name.kind() {
                "aliased_import" => {
                    let imported = name.child_by_field_name("name").map(|n| self.text(n)).unwrap_or_default();
                    (imported, name.child_by_field_name("alias").map(|n| self.text(n)).unwrap_or(imported))
                }
                // `import os.path` binds `os`.
                _ if module.is_none() => {
                    let top = self.text(name).split('.').next().unwrap_or_default();
                    (top, top)
                }
                _ => (self.text(name), self.text(name)),
            };
            let qualified = match &module {
                Some(module) => format!("{module}.{imported}"),
                None => imported.to_owned(),
            };
            self.imports.insert(local.to_owned(), qualified);
        }
    }

    /// The dotted name a call's function stands for, imports resolved.
    fn callee(&self, node: Node) -> Option<String> {
        let dotted = match node.kind() {
            "identifier" => self.text(node).to_owned(),
            "attribute" => {
                let object = self.callee(node.child_by_field_name("object")?)?;
                format!("{object}.{}", self.text(node.child_by_field_name("attribute")?))
            }
            _ => return None,
        };
        let (head, tail) = dotted.split_once('.').map_or((dotted.as_str(), None), |(h, t)| (h, Some(t)));
        let head = self.imports.get(head).map_or(head, String::as_str);
        Some(match tail {
            Some(tail) => format!("{head}.{tail}"),
            None => head.to_owned(),
        })
    }

    /// A string or list of strings, as far as the script determines it.
    fn value(&self, node: Node) -> Option<Value> {
        match node.kind() {
            "string" => Some(Value::Text(self.string(node))),
            "concatenated_string" => {
                let mut cursor = node.walk();
                let parts: Vec<String> = node.named_children(&mut cursor).map(|s| self.string(s)).collect();
                Some(Value::Text(parts.concat()))
            }
            "binary_operator" => {
                let (left, right) = (node.child_by_field_name("left")?, node.child_by_field_name("right")?);
                let operator = node.child_by_field_name("operator").map(|o| self.text(o))?;
                match (operator, self.value(left), self.value(right)) {
                    ("+", Some(Value::Text(a)), Some(Value::Text(b))) => Some(Value::Text(a + &b)),
                    ("+", Some(Value::List(a)), Some(Value::List(b))) => Some(Value::List([a, b].concat())),
                    ("+", Some(Value::Text(a)), None) => Some(Value::Text(a + &UNKNOWN.to_string())),
                    ("+", None, Some(Value::Text(b))) => Some(Value::Text(UNKNOWN.to_string() + &b)),
                    _ => None,
                }
            }
            "identifier" => self.vars.get(self.text(node)).cloned(),
            "parenthesized_expression" => self.value(node.named_child(0)?),
            "list" | "tuple" => {
                let mut cursor = node.walk();
                let items = node
                    .named_children(&mut cursor)
                    .map(|item| match self.value(item) {
                        Some(Value::Text(text)) => text,
                        _ => UNKNOWN.to_string(),
                    })
                    .collect();
                Some(Value::List(items))
            }
            _ => None,
        }
    }

    fn string(&self, node: Node) -> String {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        let prefix = children
            .iter()
            .find(|c| c.kind() == "string_start")
            .map(|c| self.text(*c).trim_end_matches(['"', '\'']).to_ascii_lowercase())
            .unwrap_or_default();
        let raw = prefix.contains('r');
        let mut out = String::new();
        for child in children {
            match child.kind() {
                "string_content" if raw => out.push_str(self.text(child)),
                "string_content" | "escape_sequence" => out.push_str(&unescape(self.text(child))),
                "interpolation" => {
                    let known = child.child_by_field_name("expression").and_then(|e| self.value(e)).and_then(|v| {
                        if let Value::Text(t) = v {
                            Some(t)
                        } else {
                            None
                        }
                    });
                    out.push_str(&known.unwrap_or_else(|| UNKNOWN.to_string()));
                }
                _ => {}
            }
        }
        out
    }

    /// The positional arguments and keyword arguments of a call.
    fn arguments<'t>(&self, node: Node<'t>) -> (Vec<Node<'t>>, HashMap<String, Node<'t>>) {
        let mut positional = Vec::new();
        let mut keywords = HashMap::new();
        if let Some(list) = node.child_by_field_name("arguments") {
            let mut cursor = list.walk();
            for argument in list.named_children(&mut cursor) {
                match argument.kind() {
                    "keyword_argument" => {
                        if let (Some(name), Some(value)) =
                            (argument.child_by_field_name("name"), argument.child_by_field_name("value"))
                        {
                            keywords.insert(self.text(name).to_owned(), value);
                        }
                    }
                    "comment" => {}
                    _ => positional.push(argument),
                }
            }
        }
        (positional, keywords)
    }

    fn call(&mut self, node: Node) {
        let Some(callee) = node.child_by_field_name("function").and_then(|f| self.callee(f)) else {
            return;
        };
        let (positional, keywords) = self.arguments(node);
        let first = positional.first().copied().or_else(|| keywords.get("args").copied());
        let name = callee.as_str();
        if SHELL_STRING_CALLS.contains(&name) {
            if let Some((argument, Some(Value::Text(command)))) = first.map(|a| (a, self.value(a))) {
                self.shell(&command, argument, &callee);
            }
        } else if PROCESS_CALLS.contains(&name) {
            let shell = keywords.get("shell").is_some_and(|v| self.text(*v) == "True");
            match first.map(|a| (a, self.value(a))) {
                Some((argument, Some(Value::Text(command)))) if shell => self.shell(&command, argument, &callee),
                Some((_, Some(Value::Text(program)))) => self.argv(&[program], node, &callee),
                Some((_, Some(Value::List(argv)))) => self.argv(&argv, node, &callee),
                _ => {}
            }
        } else if EXEC_CALLS.contains(&name) {
            if let Some(Value::List(argv)) = positional.get(1).and_then(|a| self.value(*a)) {
                self.argv(&argv, node, &callee);
            }
        } else if name == "shutil.rmtree" {
            if let Some(Value::Text(path)) = first.and_then(|a| self.value(a)) {
                if matches!(classify(&path), Target::Root | Target::System) {
                    self.report(&rules::RMTREE, node, "shutil.rmtree");
                }
            }
        } else if matches!(name, "os.remove" | "os.unlink" | "os.truncate") {
            if let Some(Value::Text(path)) = first.and_then(|a| self.value(a)) {
                if paths::is_trace_file(&path) {
                    self.report(&rules::TRACE_WIPE, node, name);
                } else if paths::is_credential_file(&path) {
                    self.report(&rules::CREDENTIALS, node, name);
                }
            }
        }
    }

    fn report(&mut self, rule: &'static rules::Rule, node: Node, command: &str) {
        let (line, column) = (node.start_position().row, char_column(self.source, node.start_byte()));
        let text = self.text(node);
        self.findings.add(rule, &self.origin, line, column, text, command);
    }

    fn origin_at(&self, node: Node, via: &str) -> Option<Origin> {
        if self.origin.depth >= MAX_DEPTH {
            return None;
        }
        let column = char_column(self.source, node.start_byte());
        Some(self.origin.nested(node.start_position().row, column, Some(via.to_owned())))
    }

    /// A shell command line, analyzed as a shell script.
    fn shell(&mut self, command: &str, at: Node, via: &str) {
        if let Some(origin) = self.origin_at(at, via) {
            shell::scan(&command.replace(UNKNOWN, "${UNKNOWN_}"), origin, self.findings);
        }
    }

    /// An argument list, analyzed as the shell command line that runs it.
    fn argv(&mut self, argv: &[String], at: Node, via: &str) {
        let line = argv.iter().map(|word| shell_quote(word)).collect::<Vec<_>>().join(" ");
        if let Some(origin) = self.origin_at(at, via) {
            shell::scan(&line, origin, self.findings);
        }
    }
}

/// A word quoted for the shell; its unknown parts stay unknown (`${UNKNOWN_}` is never set).
fn shell_quote(word: &str) -> String {
    word.split(UNKNOWN).map(|part| format!("'{}'", part.replace('\'', "'\\''"))).collect::<Vec<_>>().join("${UNKNOWN_}")
}

/// Python's common escapes in a non-raw string.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
