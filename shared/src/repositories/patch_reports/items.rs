//! The items of one report (spec 4.5.2), read from the generation its header
//! names, in installed-time order: all of them, or one patch status's own
//! partition. Both carry dense ranks, so without a walking filter an offset is
//! where the range starts and a page reads only itself.

use crate::domain::patch::{ComplianceItem, ComplianceLevel, PatchStatus};
use crate::domain::tenant::ProjectId;
use crate::ports::{Index, Order, Store, StoreError};

use super::super::decode;
use super::super::listing::{self, contains_ignoring_case, Verdict, Walk};
use super::{items_list_pk, items_status_pk, rank_sk, skip_rows, Paging, Start, StoredReport};

/// The item filters (spec table 4-86). `title` is a case-insensitive
/// substring; the others are exact.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub patch_status: Option<PatchStatus>,
    pub title: Option<String>,
    pub classification: Option<String>,
    pub severity_level: Option<String>,
    pub compliance_level: Option<ComplianceLevel>,
}

impl ItemFilter {
    fn matches(&self, item: &ComplianceItem) -> bool {
        self.title.as_deref().is_none_or(|part| contains_ignoring_case(&item.title, part))
            && self.classification.as_deref().is_none_or(|c| item.classification == c)
            && self.severity_level.as_deref().is_none_or(|s| item.severity_level == s)
            && self.compliance_level.is_none_or(|l| item.compliance_level == l)
    }

    /// Whether rows of the walked partition can fail the filter.
    fn discards(&self) -> bool {
        self.title.is_some()
            || self.classification.is_some()
            || self.severity_level.is_some()
            || self.compliance_level.is_some()
    }
}

/// A page of items and how many match in all.
#[derive(Debug, Clone)]
pub struct ItemPage {
    pub items: Vec<ComplianceItem>,
    pub count: usize,
}

/// The index sort key a page `skip` rows into a dense partition of `rows`
/// starts after: ranks run 0..rows in ascending order.
fn rank_start(skip: usize, rows: usize, order: Order) -> Option<String> {
    if skip == 0 {
        return None;
    }
    Some(match order {
        Order::Ascending => rank_sk(skip - 1),
        Order::Descending => rank_sk(rows - skip),
    })
}

/// The items of `report` matching `filter`, `paging.skip` rows in. Without a
/// walking filter: the page alone. With one: the rows passed over, the page,
/// what the filter discards, and a bounded count.
pub async fn items_page(
    store: &dyn Store,
    project: &ProjectId,
    report: &StoredReport,
    filter: &ItemFilter,
    paging: Paging,
) -> Result<ItemPage, StoreError> {
    let id = &report.report.id;
    let (pk, rows) = match filter.patch_status {
        Some(status) => (items_status_pk(project, id, report.generation, status), report.status_count(status)),
        None => (items_list_pk(project, id, report.generation), report.report.item_count),
    };
    let rows = rows as usize;
    let index = match filter.patch_status {
        Some(_) => Index::Filter,
        None => Index::List,
    };
    let walk = Walk { index, pk: &pk, after: None, order: paging.order };
    let judge = |item: &ComplianceItem| if filter.matches(item) { Verdict::Keep } else { Verdict::Skip };
    if !filter.discards() {
        if paging.skip >= rows {
            return Ok(ItemPage { items: Vec::new(), count: rows });
        }
        let after = rank_start(paging.skip, rows, paging.order);
        let walk = Walk { after: after.as_deref(), ..walk };
        let page = listing::page(store, walk, paging.limit, false, decode::<ComplianceItem>, judge).await?;
        return Ok(ItemPage { items: page.rows, count: rows });
    }
    let counted = listing::count(store, walk, decode::<ComplianceItem>, judge).await?;
    let count = listing::bounded_total(counted, rows as i64);
    if paging.skip >= count {
        return Ok(ItemPage { items: Vec::new(), count });
    }
    let after = match skip_rows(store, walk, paging.skip, true, &decode::<ComplianceItem>, &judge).await? {
        Start::After(after) => after,
        Start::Beyond => return Ok(ItemPage { items: Vec::new(), count }),
    };
    let walk = Walk { after: after.as_deref(), ..walk };
    let page = listing::page(store, walk, paging.limit, true, decode::<ComplianceItem>, judge).await?;
    Ok(ItemPage { items: page.rows, count })
}
