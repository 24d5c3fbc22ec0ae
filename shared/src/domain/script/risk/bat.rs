//! Batch (cmd.exe) scripts. There is no tree-sitter grammar for them on
//! crates.io, so a line is split into commands at `&`, `&&`, `||` and `|`,
//! and a command into words (quotes kept together); `rem`/`::` lines are
//! comments and `echo` only prints. The rules are the Windows forms of the
//! shell ones: `format`, `del /s` and `rd /s` of a drive or the system
//! folder, `shutdown /s|/r|/p`, `diskpart`, `wevtutil cl`.

use super::{rules, Findings, Origin};

pub(super) fn scan(source: &str, findings: &mut Findings) {
    for (row, line) in source.lines().enumerate() {
        let mut column = 0;
        for command in split_commands(line) {
            let offset = line[column..].find(command.trim_start()).map_or(column, |i| column + i);
            column = offset;
            let words = words(command);
            if let Some(rule) = judge(&words) {
                let at = line[..offset].chars().count();
                let name = words.first().map(|w| w.to_ascii_lowercase()).unwrap_or_default();
                findings.add(rule, &Origin::TOP, row, at, command.trim(), &name);
            }
        }
    }
}

/// The commands of a line, split at `&`, `&&`, `||` and `|` outside quotes.
fn split_commands(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b'^' => i += 1,
            b'&' | b'|' if !quoted => {
                out.push(&line[start..i]);
                if bytes.get(i + 1) == Some(&bytes[i]) {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&line[start.min(line.len())..]);
    out
}

/// A command's words, quotes removed, a leading `@` dropped.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.trim().trim_start_matches('@').chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// `C:`, `C:\`, `C:\*`, `%SystemDrive%\`, `C:\Windows`, `%SystemRoot%` and what is in them.
fn is_system_path(path: &str) -> bool {
    let path = path.to_ascii_lowercase().replace('/', "\\");
    let path = path.trim_end_matches(['\\', '*', '.']);
    let drive = path.len() == 2 && path.as_bytes()[0].is_ascii_alphabetic() && path.ends_with(':');
    drive
        || matches!(path, "%systemdrive%" | "%systemroot%" | "%windir%" | "%programfiles%" | "%userprofile%")
        || ["windows", "windows\\system32", "program files", "program files (x86)", "users"]
            .iter()
            .any(|dir| path.len() > 3 && path[3..] == **dir && path.as_bytes()[1] == b':')
}

fn judge(words: &[String]) -> Option<&'static rules::Rule> {
    let name = words.first()?.to_ascii_lowercase();
    let args: Vec<String> = words[1..].iter().map(|w| w.to_ascii_lowercase()).collect();
    let flag = |f: &str| args.iter().any(|a| a == f || a == &f.replace('/', "-"));
    let operands = || args.iter().filter(|a| !a.starts_with('/') && !a.starts_with('-'));
    match name.trim_end_matches(".exe") {
        "format" if operands().count() > 0 => Some(&rules::MKFS),
        "del" | "erase" if flag("/s") && operands().any(|a| is_system_path(a)) => Some(&rules::RM_SYSTEM),
        "rd" | "rmdir" if flag("/s") && operands().any(|a| is_system_path(a)) => Some(&rules::RM_SYSTEM),
        "shutdown" if flag("/s") || flag("/r") || flag("/p") || flag("/h") => Some(&rules::SHUTDOWN),
        "diskpart" => Some(&rules::PARTITION),
        "wevtutil" if args.first().is_some_and(|a| a == "cl" || a == "clear-log") => Some(&rules::TRACE_WIPE),
        "netsh"
            if args.windows(3).any(|w| w[0] == "advfirewall" && w[2] == "state") && args.contains(&"off".into()) =>
        {
            Some(&rules::FIREWALL)
        }
        _ => None,
    }
}
