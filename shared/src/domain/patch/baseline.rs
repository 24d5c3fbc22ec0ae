//! A patch baseline: which updates a host of one OS family must have.
//! (Our endpoints; the reference only names a report's `baseline_id`/`baseline_name`/`rule_type`.)
//!
//! Every tenant has the [built-in](built_in_defaults) default of each family without
//! storing anything, and may store its own and mark one per family as its default.

use serde::{Deserialize, Deserializer, Serialize};

use super::report::ComplianceLevel;
use crate::domain::absent::null_is_default;
use crate::limits;

/// An approval rule: updates whose classification and severity match are
/// approved `approve_after_days` after their release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRule {
    /// The classifications it approves (empty: any).
    #[serde(default)]
    pub classifications: Vec<String>,
    /// The severities it approves (empty: any).
    #[serde(default)]
    pub severities: Vec<String>,
    /// Only updates from a security archive / with a security advisory.
    #[serde(default)]
    pub security_only: bool,
    pub approve_after_days: u32,
    /// The level a missing update it approves is reported with.
    pub compliance_level: ComplianceLevel,
}

/// Whether `value` is one of `allowed` (case-insensitive), an empty list allowing anything.
fn listed(allowed: &[String], value: &str) -> bool {
    allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(value))
}

const DAY_MS: i64 = 86_400_000;

impl ApprovalRule {
    /// Whether the rule approves a package of this classification and severity
    /// (`security`: it comes from a security archive), whatever its release date.
    pub fn covers(&self, classification: &str, severity: &str, security: bool) -> bool {
        (!self.security_only || security)
            && listed(&self.classifications, classification)
            && listed(&self.severities, severity)
    }

    /// Whether an update released at `release_time` (`None`: long ago) has
    /// waited the rule's days by `now`.
    pub fn waited(&self, release_time: Option<i64>, now: i64) -> bool {
        release_time.is_none_or(|released| released.saturating_add(i64::from(self.approve_after_days) * DAY_MS) <= now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The OS family it is for: `Debian`, `Ubuntu`, `HuaweiCloudEulerOS`, `EulerOS`, `CentOS`.
    pub operating_system: String,
    /// The tenant's default baseline for its OS family (one per family).
    pub is_default: bool,
    /// Shown as the report's `rule_type` (`standard`).
    pub rule_type: String,
    pub approval_rules: Vec<ApprovalRule>,
    /// Package names approved whatever the rules say.
    #[serde(default)]
    pub approved_patches: Vec<String>,
    /// The level a missing explicitly approved package is reported with.
    pub approved_compliance_level: ComplianceLevel,
    /// Package names never approved; installed, they are REJECT.
    #[serde(default)]
    pub rejected_patches: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped by each update (optimistic concurrency).
    pub version: u64,
}

/// The report's `rule_type` of every baseline we have.
pub const RULE_TYPE: &str = "standard";

/// The id prefix of the built-in defaults; ids we issue are `PB-` and hex.
pub const BUILT_IN_PREFIX: &str = "PB-default-";

impl Baseline {
    /// The baseline of `baselines` for a host whose OS is `operating_system`
    /// (an inventory's, or an `/etc/os-release` id): the first of its family.
    pub fn for_os<'a>(baselines: &'a [Baseline], operating_system: &str) -> Option<&'a Baseline> {
        let family = OsFamily::of(operating_system)?;
        baselines.iter().find(|b| OsFamily::of(&b.operating_system) == Some(family))
    }

    /// A built-in default: shared by every tenant, never stored, not editable.
    pub fn is_built_in(&self) -> bool {
        self.id.starts_with(BUILT_IN_PREFIX)
    }

    /// A stored baseline made of a validated input.
    pub fn create(id: String, input: BaselineInput, now: i64) -> Baseline {
        let mut baseline = Baseline {
            id,
            name: String::new(),
            description: String::new(),
            operating_system: String::new(),
            is_default: false,
            rule_type: RULE_TYPE.to_owned(),
            approval_rules: Vec::new(),
            approved_patches: Vec::new(),
            approved_compliance_level: ComplianceLevel::Unspecified,
            rejected_patches: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        baseline.apply(input, now);
        baseline.version = 1;
        baseline
    }

    /// Replaces everything an update may change with `input` (an update is a whole body, as create's).
    pub fn apply(&mut self, input: BaselineInput, now: i64) {
        self.name = input.name.to_string();
        self.description = input.description.to_string();
        self.operating_system = input.operating_system.name().to_owned();
        self.is_default = input.is_default;
        self.approval_rules = input.approval_rules.into_iter().map(ApprovalRuleInput::into_rule).collect();
        self.approved_patches = input.approved_patches.into_iter().map(String::from).collect();
        self.rejected_patches = input.rejected_patches.into_iter().map(String::from).collect();
        self.approved_compliance_level = input.approved_compliance_level;
        self.updated_at = now;
        self.version += 1;
    }
}

/// The OS families a baseline can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OsFamily {
    Debian,
    Ubuntu,
    HuaweiCloudEulerOS,
    EulerOS,
    CentOS,
}

impl OsFamily {
    pub const ALL: [OsFamily; 5] =
        [OsFamily::Debian, OsFamily::Ubuntu, OsFamily::HuaweiCloudEulerOS, OsFamily::EulerOS, OsFamily::CentOS];

    pub fn name(self) -> &'static str {
        match self {
            OsFamily::Debian => "Debian",
            OsFamily::Ubuntu => "Ubuntu",
            OsFamily::HuaweiCloudEulerOS => "HuaweiCloudEulerOS",
            OsFamily::EulerOS => "EulerOS",
            OsFamily::CentOS => "CentOS",
        }
    }

    /// The family of an OS as a baseline, an inventory or `/etc/os-release`
    /// (`ID=debian`, `ID=hce`, `NAME="Huawei Cloud EulerOS"`) names it:
    /// case, spaces and punctuation do not matter.
    pub fn of(operating_system: &str) -> Option<OsFamily> {
        let key: String =
            operating_system.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
        match key.as_str() {
            "debian" | "debiangnulinux" => Some(OsFamily::Debian),
            "ubuntu" => Some(OsFamily::Ubuntu),
            "huaweicloudeuleros" | "hce" => Some(OsFamily::HuaweiCloudEulerOS),
            "euleros" => Some(OsFamily::EulerOS),
            "centos" | "centoslinux" | "centosstream" => Some(OsFamily::CentOS),
            _ => None,
        }
    }

    /// Whether its hosts use dpkg/apt (else rpm with dnf or yum).
    pub fn is_dpkg(self) -> bool {
        matches!(self, OsFamily::Debian | OsFamily::Ubuntu)
    }

    /// The id of its built-in default baseline, `PB-default-debian` …
    pub fn built_in_id(self) -> String {
        format!("{BUILT_IN_PREFIX}{}", self.name().to_ascii_lowercase())
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// The built-in default baseline of `family`, as every tenant has it until it
/// marks one of its own default (README, "Patch baselines"):
/// - Debian, Ubuntu: updates from the security archive approved at once
///   (missing: HIGH); every other update approved after 7 days (MEDIUM).
/// - HuaweiCloudEulerOS, EulerOS, CentOS, as Patch Manager's predefined rpm
///   baselines: `Security` advisories of severity `Critical` or `Important`
///   (HIGH) and `Bugfix` advisories (MEDIUM), each approved after 7 days.
pub fn built_in(family: OsFamily) -> Baseline {
    let rule = |classifications: &[&str], severities: &[&str], security_only, days, level| ApprovalRule {
        classifications: strings(classifications),
        severities: strings(severities),
        security_only,
        approve_after_days: days,
        compliance_level: level,
    };
    let (description, approval_rules) = if family.is_dpkg() {
        (
            "Security updates at once, every other update 7 days after its release.",
            vec![rule(&[], &[], true, 0, ComplianceLevel::High), rule(&[], &[], false, 7, ComplianceLevel::Medium)],
        )
    } else {
        (
            "Critical and Important security updates and bug fixes, 7 days after their release.",
            vec![
                rule(&["Security"], &["Critical", "Important"], false, 7, ComplianceLevel::High),
                rule(&["Bugfix"], &[], false, 7, ComplianceLevel::Medium),
            ],
        )
    };
    Baseline {
        id: family.built_in_id(),
        name: format!("COC-{}DefaultPatchBaseline", family.name()),
        description: description.to_owned(),
        operating_system: family.name().to_owned(),
        is_default: true,
        rule_type: RULE_TYPE.to_owned(),
        approval_rules,
        approved_patches: Vec::new(),
        approved_compliance_level: ComplianceLevel::Unspecified,
        rejected_patches: Vec::new(),
        created_at: 0,
        updated_at: 0,
        version: 0,
    }
}

/// The built-in defaults of every family, in [`OsFamily::ALL`] order.
pub fn built_in_defaults() -> Vec<Baseline> {
    OsFamily::ALL.into_iter().map(built_in).collect()
}

/// The built-in default with this id, if it is one.
pub fn built_in_by_id(id: &str) -> Option<Baseline> {
    OsFamily::ALL.into_iter().find(|f| f.built_in_id() == id).map(built_in)
}

fn name_rule(value: &str) -> Result<(), String> {
    match value.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        Some(bad) => Err(format!("may contain only letters, digits, '_', '-' and '.', not {bad:?}")),
        None => Ok(()),
    }
}

fn no_whitespace(value: &str) -> Result<(), String> {
    if value.chars().any(char::is_whitespace) {
        Err("must not contain whitespace".into())
    } else {
        Ok(())
    }
}

bounded_text!(
    /// Unique per tenant; letters (CJK included), digits, `_`, `-` and `.`.
    BaselineName, limits::BASELINE_NAME, name_rule
);
bounded_text!(BaselineDescription, limits::BASELINE_DESCRIPTION);
bounded_text!(
    /// A classification or severity a rule matches (`Security`, `Critical`, …).
    RuleValue, limits::RULE_VALUE
);
bounded_text!(
    /// A package name, as the package manager spells it.
    PackageName, limits::PATCH_NAME, no_whitespace
);

/// A list within `limit`, `null` read as empty; the error names what it counts.
fn bounded_list<'de, D, T>(deserializer: D, limit: limits::Items, what: &str) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let values: Vec<T> = null_is_default(deserializer)?;
    limit.check(values.len(), what).map_err(serde::de::Error::custom)?;
    Ok(values)
}

fn approval_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ApprovalRuleInput>, D::Error> {
    bounded_list(d, limits::APPROVAL_RULES, "approval_rules")
}

fn classifications<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RuleValue>, D::Error> {
    bounded_list(d, limits::RULE_VALUES, "classifications")
}

fn severities<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RuleValue>, D::Error> {
    bounded_list(d, limits::RULE_VALUES, "severities")
}

fn patches<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PackageName>, D::Error> {
    bounded_list(d, limits::BASELINE_PATCHES, "package names")
}

fn approve_after_days<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    limits::APPROVE_AFTER_DAYS.deserialize_u32(d)
}

fn unspecified<'de, D: Deserializer<'de>>(d: D) -> Result<ComplianceLevel, D::Error> {
    crate::domain::absent::null_or(d, || ComplianceLevel::Unspecified)
}

fn default_unspecified() -> ComplianceLevel {
    ComplianceLevel::Unspecified
}

/// One approval rule of a request body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRuleInput {
    #[serde(default, deserialize_with = "classifications")]
    pub classifications: Vec<RuleValue>,
    #[serde(default, deserialize_with = "severities")]
    pub severities: Vec<RuleValue>,
    #[serde(default, deserialize_with = "null_is_default")]
    pub security_only: bool,
    #[serde(deserialize_with = "approve_after_days")]
    pub approve_after_days: u32,
    pub compliance_level: ComplianceLevel,
}

impl ApprovalRuleInput {
    fn into_rule(self) -> ApprovalRule {
        ApprovalRule {
            classifications: self.classifications.into_iter().map(String::from).collect(),
            severities: self.severities.into_iter().map(String::from).collect(),
            security_only: self.security_only,
            approve_after_days: self.approve_after_days,
            compliance_level: self.compliance_level,
        }
    }
}

/// The body of `POST /v1/patch/baselines` and of `PUT /v1/patch/baselines/{id}`
/// (an update replaces every field). Decoding it checks every rule, so a body
/// that breaks one fails naming the field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineInput {
    pub name: BaselineName,
    #[serde(default = "empty_description", deserialize_with = "description_or_empty")]
    pub description: BaselineDescription,
    pub operating_system: OsFamily,
    #[serde(default, deserialize_with = "null_is_default")]
    pub is_default: bool,
    #[serde(default, deserialize_with = "approval_rules")]
    pub approval_rules: Vec<ApprovalRuleInput>,
    #[serde(default, deserialize_with = "patches")]
    pub approved_patches: Vec<PackageName>,
    #[serde(default, deserialize_with = "patches")]
    pub rejected_patches: Vec<PackageName>,
    /// The level of a missing explicitly approved package (default UNSPECIFIED, as Patch Manager's).
    #[serde(default = "default_unspecified", deserialize_with = "unspecified")]
    pub approved_compliance_level: ComplianceLevel,
}

fn empty_description() -> BaselineDescription {
    BaselineDescription::parse("").expect("the empty description is within its limit")
}

fn description_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BaselineDescription, D::Error> {
    crate::domain::absent::null_or(d, empty_description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: serde_json::Value) -> Result<BaselineInput, String> {
        let text = body.to_string();
        let mut decoder = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut decoder).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    #[test]
    fn names_take_letters_of_any_script_digits_and_three_marks() {
        assert!(BaselineName::parse("prod-web_1.0").is_ok());
        assert!(BaselineName::parse("生产基线").is_ok());
        assert!(BaselineName::parse("with space").is_err());
        assert!(BaselineName::parse("a#b").is_err(), "'#' would break the index keys");
        assert!(BaselineName::parse("").is_err());
    }

    #[test]
    fn a_minimal_body_gets_the_defaults() {
        let input = decode(serde_json::json!({"name": "n", "operating_system": "Ubuntu"})).unwrap();
        assert_eq!(input.operating_system, OsFamily::Ubuntu);
        assert!(!input.is_default && input.approval_rules.is_empty());
        assert_eq!(input.approved_compliance_level, ComplianceLevel::Unspecified);
        let nulls = decode(serde_json::json!({"name": "n", "operating_system": "Ubuntu", "description": null,
            "approval_rules": null, "approved_patches": null, "approved_compliance_level": null, "is_default": null}));
        assert!(nulls.is_ok(), "{nulls:?}");
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (serde_json::json!({"name": "n", "operating_system": "Windows"}), "operating_system"),
            (
                serde_json::json!({"name": "n", "operating_system": "Debian", "approved_patches": ["a b"]}),
                "approved_patches[0]",
            ),
            (
                serde_json::json!({"name": "n", "operating_system": "Debian",
                    "approval_rules": [{"approve_after_days": 1, "compliance_level": "SEVERE"}]}),
                "approval_rules[0].compliance_level",
            ),
            (serde_json::json!({"name": "n", "operating_system": "Debian", "colour": 1}), "colour"),
        ];
        for (body, field) in cases {
            let problem = decode(body).unwrap_err();
            assert!(problem.contains(field), "{field}: {problem}");
        }
    }

    #[test]
    fn hosts_find_the_baseline_of_their_family() {
        assert_eq!(OsFamily::of("debian"), Some(OsFamily::Debian));
        assert_eq!(OsFamily::of("Huawei Cloud EulerOS"), Some(OsFamily::HuaweiCloudEulerOS));
        assert_eq!(OsFamily::of("hce"), Some(OsFamily::HuaweiCloudEulerOS));
        assert_eq!(OsFamily::of("CentOS Linux"), Some(OsFamily::CentOS));
        assert_eq!(OsFamily::of("windows"), None);
        let all = built_in_defaults();
        assert_eq!(Baseline::for_os(&all, "ubuntu").unwrap().id, "PB-default-ubuntu");
        assert_eq!(Baseline::for_os(&all, "EulerOS").unwrap().name, "COC-EulerOSDefaultPatchBaseline");
        assert!(Baseline::for_os(&all, "FreeBSD").is_none());
        assert!(all.iter().all(Baseline::is_built_in));
        assert_eq!(built_in_by_id("PB-default-centos").unwrap().operating_system, "CentOS");
        assert!(built_in_by_id("PB-default-windows").is_none());
    }

    #[test]
    fn rules_match_case_insensitively_and_wait_their_days() {
        let rule = &built_in(OsFamily::CentOS).approval_rules[0];
        assert!(rule.covers("security", "CRITICAL", false));
        assert!(!rule.covers("Security", "Low", false));
        assert!(!rule.covers("Enhancement", "Critical", false));
        let now = 100 * DAY_MS;
        assert!(rule.waited(Some(now - 7 * DAY_MS), now));
        assert!(!rule.waited(Some(now - 7 * DAY_MS + 1), now));
        assert!(rule.waited(None, now), "no release date counts as released long ago");
        let debian = &built_in(OsFamily::Debian).approval_rules[0];
        assert!(debian.covers("", "", true) && !debian.covers("", "", false));
    }
}
