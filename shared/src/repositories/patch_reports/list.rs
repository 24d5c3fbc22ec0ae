//! The report list (spec 4.5.1): one walk of the tenant's reports in report
//! time order, through the status partition when `compliant_status` is asked
//! for, with the other filters applied to the rows walked.

use crate::domain::patch::report::ComplianceStatus;
use crate::domain::patch::InstanceCompliant;
use crate::domain::tenant::ProjectId;
use crate::ports::{Index, Store, StoreError};

use super::super::listing::{self, contains_ignoring_case, Verdict, Walk};
use super::super::{decode, tenant_pk};
use super::{reports_list_pk, reports_status_pk, skip_rows, status_count, total_count, Paging, Start, StoredReport};

/// The only enterprise project hosts are in (README, "Patch management").
pub const ENTERPRISE_PROJECT: &str = "0";
/// The only report scene: hosts are ECS servers to the API.
pub const REPORT_SCENE: &str = "ECS";

/// The list's filters (spec table 4-77). `name` is a case-insensitive
/// substring; the others are exact.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub name: Option<String>,
    pub instance_id: Option<String>,
    pub ip: Option<String>,
    pub eip: Option<String>,
    pub operating_system: Option<String>,
    pub region: Option<String>,
    pub group: Option<String>,
    pub compliant_status: Option<ComplianceStatus>,
    pub order_id: Option<String>,
    pub report_scene: Option<String>,
    pub cce_info_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

impl ReportFilter {
    fn matches(&self, report: &InstanceCompliant) -> bool {
        let exact = |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| w == value);
        self.name.as_deref().is_none_or(|part| contains_ignoring_case(&report.name, part))
            && exact(&self.instance_id, &report.instance_id)
            && exact(&self.ip, &report.ip)
            && exact(&self.eip, &report.eip)
            && exact(&self.operating_system, &report.operating_system)
            && exact(&self.region, &report.region)
            && exact(&self.group, &report.group)
            && exact(&self.order_id, &report.order_id)
    }

    /// Whether no report can match: every report is of an ECS host in the
    /// default enterprise project, none of a CCE cluster.
    fn matches_none(&self) -> bool {
        self.report_scene.as_deref().is_some_and(|scene| scene != REPORT_SCENE)
            || self.cce_info_id.is_some()
            || self.enterprise_project_id.as_deref().is_some_and(|ep| ep != ENTERPRISE_PROJECT)
    }

    /// Whether rows of the walked partition can fail the filter.
    fn discards(&self) -> bool {
        [
            &self.name,
            &self.instance_id,
            &self.ip,
            &self.eip,
            &self.operating_system,
            &self.region,
            &self.group,
            &self.order_id,
        ]
        .iter()
        .any(|f| f.is_some())
    }

    /// The partition the list walks and the count of its rows.
    fn source(&self, project: &ProjectId) -> (Index, String, String) {
        match self.compliant_status {
            Some(status) => (Index::Filter, reports_status_pk(project, status), status_count(status)),
            None => (Index::List, reports_list_pk(project), total_count()),
        }
    }
}

/// A page of reports and how many match in all.
#[derive(Debug, Clone)]
pub struct ReportPage {
    pub reports: Vec<StoredReport>,
    pub count: usize,
}

/// The reports matching `filter` in report time order, `paging.skip` rows in.
/// Reads the count, the rows passed over and the page, and what the filter
/// discards among them (README, "Access patterns").
pub async fn reports_page(
    store: &dyn Store,
    project: &ProjectId,
    filter: &ReportFilter,
    paging: Paging,
) -> Result<ReportPage, StoreError> {
    if filter.matches_none() {
        return Ok(ReportPage { reports: Vec::new(), count: 0 });
    }
    let (index, pk, count_sk) = filter.source(project);
    let candidates = store.counter(&tenant_pk(project), &count_sk).await?;
    let walk = Walk { index, pk: &pk, after: None, order: paging.order };
    let judge = |stored: &StoredReport| if filter.matches(&stored.report) { Verdict::Keep } else { Verdict::Skip };
    let count = if filter.discards() {
        let counted = listing::count(store, walk, decode::<StoredReport>, judge).await?;
        listing::bounded_total(counted, candidates)
    } else {
        candidates.max(0) as usize
    };
    if paging.skip >= count {
        return Ok(ReportPage { reports: Vec::new(), count });
    }
    let after = match skip_rows(store, walk, paging.skip, filter.discards(), &decode::<StoredReport>, &judge).await? {
        Start::After(after) => after,
        Start::Beyond => return Ok(ReportPage { reports: Vec::new(), count }),
    };
    let walk = Walk { after: after.as_deref(), ..walk };
    let page = listing::page(store, walk, paging.limit, filter.discards(), decode::<StoredReport>, judge).await?;
    Ok(ReportPage { reports: page.rows, count })
}
