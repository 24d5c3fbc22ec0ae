//! Who is calling: the tenant (project) every record belongs to, and the user.

/// Project ids go into store keys, so they are restricted to characters that
/// cannot forge a key separator.
fn project_id_rule(value: &str) -> Result<(), String> {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(())
    } else {
        Err("may contain only letters, digits, '-' and '_'".into())
    }
}

bounded_text!(
    /// A tenant. Every record is stored under its project and no request can
    /// reach another project's records.
    ProjectId, crate::limits::PROJECT_ID, project_id_rule
);

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub project_id: ProjectId,
    pub user_id: String,
    pub user_name: String,
}
