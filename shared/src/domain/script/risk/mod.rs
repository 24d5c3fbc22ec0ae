//! Script risk analysis (`POST /v1/job/analyze-job`, and the analysis reported
//! with a script): scripts are parsed with tree-sitter's shell and Python
//! grammars, and the syntax tree, not the text, is matched against [`rules`].
//! A comment, a string that is only printed or a harmless look-alike
//! (`rm -rf ./build`, `dd of=disk.img`) is therefore no finding, while
//! variables, aliases, `sudo`/`env` prefixes, `bash -c` strings, pipelines and
//! redirections the parser can see are followed. Batch (cmd.exe) scripts have
//! no grammar crate; they are split into command lines and words (`bat.rs`).

mod bat;
mod paths;
mod python;
pub mod rules;
mod shell;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::domain::script::{RiskLevel, Script, ScriptContent, ScriptType};
use rules::Rule;

/// The body of `POST /v1/job/analyze-job` (JobScriptAnalyzeRequest). `type` is ours and
/// optional: without it a `#!…python` first line picks Python, anything else is a shell script.
#[derive(Debug, Clone, Deserialize)]
pub struct AnalyzeRequest {
    pub content: ScriptContent,
    #[serde(default, rename = "type")]
    pub script_type: Option<ScriptType>,
}

/// One dangerous command found (CheckScriptRiskResDataBlacklistCommands, plus
/// `rule_id`, `level`, `line`, `column`, `matched` and `via`, which the SDK ignores).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub command_name: String,
    pub command_rule: &'static str,
    pub example: &'static str,
    pub description_en: &'static str,
    pub description_zh: &'static str,
    pub rule_id: &'static str,
    pub level: RiskLevel,
    /// 1-based, in the analyzed content.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The script's text that matched (its first line, at most [`MATCHED_CHARS`] characters).
    pub matched: String,
    /// The Python call that hands a shell command to the system (`os.system`, `subprocess.run` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// How much of the matched text a finding quotes.
pub const MATCHED_CHARS: usize = 120;

/// The result of an analysis (CheckScriptRiskResData).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// The highest level of the findings; LOW with none.
    pub risk_level: RiskLevel,
    pub blacklist_commands: Vec<Finding>,
}

impl Analysis {
    pub fn is_high(&self) -> bool {
        self.risk_level == RiskLevel::High
    }
}

/// Where the request to execute a script confirms its HIGH-risk commands.
pub const CONFIRM_FIELD: &str = "execute_param.confirm_high_risk";

/// Ours, read from the body of `POST /v1/job/scripts/{script_uuid}` beside the SDK's
/// ScriptExecuteModel (whose models drop unknown attributes: an SDK user sends a dict body).
#[derive(Debug, Default, Deserialize)]
pub struct HighRiskConfirmation {
    #[serde(default, deserialize_with = "crate::domain::absent::null_is_default")]
    pub execute_param: ConfirmParam,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmParam {
    #[serde(default, deserialize_with = "crate::domain::absent::null_is_default")]
    pub confirm_high_risk: bool,
}

impl Analysis {
    /// Why a ticket of `batches` batches may not run this script without the confirmation:
    /// a HIGH-risk script runs on one batch (where the damage stops) without it, on more only with it.
    pub fn refuses(&self, batches: usize, confirmed: bool) -> Option<String> {
        if !self.is_high() || batches <= 1 || confirmed {
            return None;
        }
        let high: Vec<String> = self
            .blacklist_commands
            .iter()
            .filter(|f| f.level == RiskLevel::High)
            .map(|f| format!("{} at line {}", f.rule_id, f.line))
            .collect();
        Some(format!(
            "the script has HIGH-risk commands ({}) and the ticket has {batches} batches: send \
             {CONFIRM_FIELD}: true to run it, or run it on one batch first",
            high.join(", ")
        ))
    }
}

fn rank(level: RiskLevel) -> u8 {
    match level {
        RiskLevel::Low => 0,
        RiskLevel::Medium => 1,
        RiskLevel::High => 2,
    }
}

/// The type a script of unknown type is analyzed as: Python after a `#!` line naming python.
pub fn detect_type(content: &str) -> ScriptType {
    let first = content.lines().next().unwrap_or_default();
    if first.starts_with("#!") && first.contains("python") {
        ScriptType::Python
    } else {
        ScriptType::Shell
    }
}

/// The analysis of a stored script's content. It is recomputed, not stored: it is derived
/// from the content alone, costs well under a millisecond for the 4096 characters a script
/// holds, and so always follows the current rules.
pub fn of_script(script: &Script) -> Analysis {
    analyze(script.content.as_str(), script.script_type)
}

/// Analyzes a script of the given type.
pub fn analyze(content: &str, script_type: ScriptType) -> Analysis {
    let mut findings = Findings::default();
    match script_type {
        ScriptType::Shell => shell::scan(content, Origin::TOP, &mut findings),
        ScriptType::Python => python::scan(content, &mut findings),
        ScriptType::Bat => bat::scan(content, &mut findings),
    }
    let mut found = findings.found;
    found.sort_by_key(|f| (f.line, f.column, std::cmp::Reverse(rank(f.level)), f.rule_id));
    found.dedup_by(|a, b| a.rule_id == b.rule_id && a.line == b.line && a.column == b.column);
    let risk_level = found.iter().map(|f| f.level).max_by_key(|level| rank(*level)).unwrap_or(RiskLevel::Low);
    Analysis { risk_level, blacklist_commands: found }
}

/// Where a piece of analyzed text sits in the script: a `bash -c` string or a
/// Python shell string is analyzed on its own, and its findings are placed at
/// the string (plus the string's own line offset).
#[derive(Debug, Clone)]
struct Origin {
    /// 0-based line of the text's start in the script.
    line: usize,
    /// 0-based column (characters) of the text's start.
    column: usize,
    /// How many strings deep: a string in a string in … stops at [`MAX_DEPTH`].
    depth: u8,
    via: Option<String>,
}

impl Origin {
    const TOP: Origin = Origin { line: 0, column: 0, depth: 0, via: None };

    /// The origin of a string that starts at `line`/`column` of this text.
    fn nested(&self, line: usize, column: usize, via: Option<String>) -> Origin {
        let (line, column) = self.place(line, column);
        Origin { line, column, depth: self.depth + 1, via: via.or_else(|| self.via.clone()) }
    }

    /// A 0-based position in this text as a 0-based position in the script.
    fn place(&self, line: usize, column: usize) -> (usize, usize) {
        if line == 0 {
            (self.line, self.column + column)
        } else {
            (self.line + line, column)
        }
    }
}

/// Strings in strings are followed this deep.
const MAX_DEPTH: u8 = 4;

/// How many syntax-tree nodes one analysis visits at most, over all the strings it analyzes
/// again and all the loop values it follows: a 4096-character script needs a few thousand,
/// and no crafted one (nested loops of `bash -c` strings) can make the analysis run away.
const STEPS: usize = 300_000;

#[derive(Debug)]
struct Findings {
    found: Vec<Finding>,
    steps_left: usize,
    /// Whether the step limit has been reported.
    exhausted: bool,
}

impl Default for Findings {
    fn default() -> Self {
        Findings { found: Vec::new(), steps_left: STEPS, exhausted: false }
    }
}

impl Findings {
    /// Takes one step of the walk at `node`; false once the limit is reached (reported once).
    fn step(&mut self, origin: &Origin, source: &str, node: tree_sitter::Node) -> bool {
        if self.steps_left > 0 {
            self.steps_left -= 1;
            return true;
        }
        if !self.exhausted {
            self.exhausted = true;
            let column = char_column(source, node.start_byte());
            self.add(&rules::TOO_COMPLEX, origin, node.start_position().row, column, &source[node.byte_range()], "");
        }
        false
    }

    /// Records `rule` for `text` at 0-based `line`/`column` of the text `origin` describes.
    fn add(&mut self, rule: &'static Rule, origin: &Origin, line: usize, column: usize, text: &str, command: &str) {
        let (line, column) = origin.place(line, column);
        let first_line = text.lines().next().unwrap_or_default();
        self.found.push(Finding {
            command_name: if command.is_empty() { rule.command.to_owned() } else { command.to_owned() },
            command_rule: rule.matches,
            example: rule.example,
            description_en: rule.en,
            description_zh: rule.zh,
            rule_id: rule.id,
            level: rule.level,
            line: line + 1,
            column: column + 1,
            matched: first_line.chars().take(MATCHED_CHARS).collect(),
            via: origin.via.clone(),
        });
    }
}

/// The first node of a tree that is a syntax error or a missing token, in document order.
fn first_error(node: tree_sitter::Node) -> Option<tree_sitter::Node> {
    if (node.is_error() && !is_known_gap(node)) || node.is_missing() {
        return Some(node);
    }
    if !node.has_error() {
        return None;
    }
    let mut cursor = node.walk();
    let children: Vec<tree_sitter::Node> = node.children(&mut cursor).collect();
    children.into_iter().find_map(first_error)
}

/// An error node that is only a gap of the grammar around a tree that is otherwise right:
/// tree-sitter-bash reads the read-write redirection `3<>file` as `<`, an error `>`, `file`.
fn is_known_gap(node: tree_sitter::Node) -> bool {
    node.parent().is_some_and(|p| p.kind() == "file_redirect")
        && node.child_count() == 1
        && node.child(0).is_some_and(|c| c.kind() == ">")
        && node.prev_sibling().is_some_and(|s| s.kind() == "<")
}

/// Reports a tree's first syntax error, if it has one: what follows it is not analyzed reliably.
fn report_unparsed(tree: &tree_sitter::Tree, source: &str, origin: &Origin, findings: &mut Findings) {
    if let Some(error) = first_error(tree.root_node()) {
        let column = char_column(source, error.start_byte());
        let text = &source[error.byte_range()];
        findings.add(&rules::UNPARSED, origin, error.start_position().row, column, text, "");
    }
}

/// The 0-based column in characters of a byte offset's position on its line.
fn char_column(source: &str, byte: usize) -> usize {
    let byte = byte.min(source.len());
    let line_start = source[..byte].rfind('\n').map_or(0, |i| i + 1);
    source.get(line_start..byte).map_or(0, |s| s.chars().count())
}
