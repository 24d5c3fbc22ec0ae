//! Hosts imported without an agent (`import_other_resource`): they appear in
//! `GET /v1/resources` (provider `other`, their import type) and in counts,
//! but cannot run jobs.
//!
//! The file is CSV (RFC 4180 quoting not supported: no field may hold a comma
//! or a quote), UTF-8, with a header line naming the columns, in any order:
//! `name` (1–64 characters), `ip` (an IPv4 or IPv6 address, unique per tenant
//! and type), `os_type` (`linux` or `windows`), and optionally `os_version`
//! (0–64 characters). Blank lines are skipped. Each row is judged and stored
//! on its own: good rows are stored, bad ones reported by line number.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::tags::Tag;
use crate::domain::tenant::ProjectId;
use crate::limits;

/// The import types of the SDK (`vm`, `PM`, `Middleware`), matched whatever the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OtherType {
    #[serde(rename = "vm")]
    Vm,
    #[serde(rename = "PM")]
    Pm,
    #[serde(rename = "Middleware")]
    Middleware,
}

impl OtherType {
    pub const ALL: [OtherType; 3] = [OtherType::Vm, OtherType::Pm, OtherType::Middleware];

    pub fn name(self) -> &'static str {
        match self {
            OtherType::Vm => "vm",
            OtherType::Pm => "PM",
            OtherType::Middleware => "Middleware",
        }
    }

    pub fn parse(text: &str) -> Option<OtherType> {
        OtherType::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(text))
    }
}

/// The provider imported hosts are listed under.
pub const OTHER_PROVIDER: &str = "other";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherResource {
    pub id: String,
    pub project_id: ProjectId,
    #[serde(rename = "type")]
    pub other_type: OtherType,
    pub region_id: String,
    pub name: String,
    pub ip: String,
    pub os_type: String,
    #[serde(default)]
    pub os_version: String,
    pub created_at: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One good row of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub name: String,
    pub ip: String,
    pub os_type: String,
    pub os_version: String,
}

/// What a file holds: its good rows and, per bad line, why.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub errors: Vec<String>,
    /// Rows in the file (good and bad), the answer's `total`.
    pub total: usize,
}

const COLUMNS: [&str; 4] = ["name", "ip", "os_type", "os_version"];

/// The rows of `file`. `Err` (the whole file refused, nothing stored) when it
/// is not UTF-8, its header is wrong, or it has no row or too many.
pub fn parse(file: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(file).map_err(|_| "is not UTF-8 text".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(n, l)| (n + 1, l.trim_end_matches('\r')));
    let (_, header) = lines.by_ref().find(|(_, l)| !l.trim().is_empty()).ok_or("is empty")?;
    let names: Vec<String> = header.split(',').map(|c| c.trim().to_lowercase()).collect();
    let mut at = [None; 4];
    for (n, name) in names.iter().enumerate() {
        let column = COLUMNS
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| format!("header: unknown column {name:?}; the columns are {}", COLUMNS.join(", ")))?;
        if at[column].replace(n).is_some() {
            return Err(format!("header: column {name:?} is given twice"));
        }
    }
    if at[..3].iter().any(Option::is_none) {
        return Err("header: needs the columns name, ip and os_type".into());
    }
    let mut parsed = Parsed::default();
    let mut seen_ips = std::collections::HashSet::new();
    for (line, text) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        parsed.total += 1;
        if parsed.total > limits::IMPORT_ROWS.max {
            return Err(format!("has more than {} rows", limits::IMPORT_ROWS.max));
        }
        match row(line, text, &at, names.len()) {
            Ok(row) if !seen_ips.insert(row.ip.clone()) => {
                parsed.errors.push(format!("line {line}: ip {} is given twice in the file", row.ip))
            }
            Ok(row) => parsed.rows.push(row),
            Err(problem) => parsed.errors.push(format!("line {line}: {problem}")),
        }
    }
    if parsed.total == 0 {
        return Err("has no row after the header".into());
    }
    Ok(parsed)
}

fn row(line: usize, text: &str, at: &[Option<usize>; 4], width: usize) -> Result<Row, String> {
    if text.contains('"') {
        return Err("quoted fields are not supported".into());
    }
    let cells: Vec<&str> = text.split(',').map(str::trim).collect();
    if cells.len() != width {
        return Err(format!("has {} fields, the header {width}", cells.len()));
    }
    let cell = |column: usize| at[column].map(|n| cells[n]).unwrap_or_default();
    let name = cell(0);
    limits::OTHER_NAME.check(name).map_err(|p| format!("name {p}"))?;
    if name.chars().any(char::is_control) {
        return Err("name holds control characters".into());
    }
    let ip: IpAddr = cell(1).parse().map_err(|_| format!("ip {:?} is not an IP address", cell(1)))?;
    let os_type = cell(2).to_lowercase();
    if os_type != "linux" && os_type != "windows" {
        return Err(format!("os_type must be linux or windows, got {:?}", cell(2)));
    }
    let os_version = cell(3);
    limits::OTHER_OS_VERSION.check(os_version).map_err(|p| format!("os_version {p}"))?;
    if os_version.chars().any(char::is_control) {
        return Err("os_version holds control characters".into());
    }
    Ok(Row { line, name: name.to_owned(), ip: ip.to_string(), os_type, os_version: os_version.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_rows_are_kept_and_bad_ones_reported_by_line() {
        let file = "name,ip,os_type,os_version\r\nweb-1,10.0.0.1,linux,22.04\r\n\r\nweb-2,10.0.0.300,linux,\r\n\
                    db,10.0.0.1,Windows,2019\r\n,10.0.0.4,linux,\r\nx,10.0.0.5,solaris,\r\ny,10.0.0.6\r\n";
        let parsed = parse(file.as_bytes()).unwrap();
        assert_eq!(parsed.total, 6);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].name, "web-1");
        let errors = parsed.errors.join("\n");
        for expected in
            ["line 4: ip", "line 5: ip 10.0.0.1 is given twice", "line 6: name", "line 7: os_type", "line 8: has 2"]
        {
            assert!(errors.contains(expected), "{expected} missing from {errors}");
        }
    }

    #[test]
    fn a_wrong_header_refuses_the_file() {
        assert!(parse(b"name,ip\nx,1.2.3.4").unwrap_err().contains("name, ip and os_type"));
        assert!(parse(b"name,ip,os_type,colour\n").unwrap_err().contains("colour"));
        assert!(parse(b"name,ip,os_type\n").unwrap_err().contains("no row"));
        assert!(parse(b"\xff\xfe").is_err());
        assert_eq!(parse(b"ip,os_type,name\n::1,linux,h").unwrap().rows[0].ip, "::1");
    }
}
