//! The search bodies of the v2 incident API (the SDK's `ListTicketParamsWithPageV2`,
//! `ListTicketParamsV2`, and `ListTicketParams` of the ticket-history list):
//! filters on the fields of the list's rows (`CocIncidentDataV2`), a sort and
//! paging, read into the questions the store can answer. What we do not
//! answer (filter expressions, counting and grouping filters, fields we do not
//! filter on) is refused by name rather than ignored, so a client never takes
//! an unfiltered answer for a filtered one.

use serde::Deserialize;
use serde_json::Value;

use super::{Incident, IncidentLevel, IncidentSource, IncidentStatus, IncidentType, Named};
use crate::domain::absent::null_is_default;
use crate::limits;

/// One condition: `field operator values`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default, deserialize_with = "null_is_default")]
    pub values: Vec<Value>,
    /// For `condition` expressions, which we do not take.
    #[serde(default)]
    pub name: Option<String>,
}

/// The body of `POST /v2/incidents/list`, and (without the paging fields) of
/// the history lists.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchBody {
    #[serde(default, deserialize_with = "null_is_default")]
    pub fields: Vec<String>,
    #[serde(default, deserialize_with = "null_is_default")]
    pub count_filters: Vec<Value>,
    #[serde(default, deserialize_with = "null_is_default")]
    pub string_filters: Vec<Filter>,
    #[serde(default)]
    pub group_by_filter: Option<Value>,
    #[serde(default, deserialize_with = "null_is_default")]
    pub int_filters: Vec<Filter>,
    #[serde(default)]
    pub sort_filter: Option<Filter>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub per_page: Option<i64>,
    #[serde(default)]
    pub contain_all: Option<bool>,
    #[serde(default)]
    pub contain_total: Option<bool>,
    #[serde(default)]
    pub contain_sub_ticket: Option<bool>,
    #[serde(default, deserialize_with = "null_is_default")]
    pub ticket_types: Vec<String>,
}

/// A field at fault and why.
pub type Invalid = (String, String);

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
    (field.into(), problem.into())
}

/// What `POST /v2/incidents/list` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentQuery {
    /// Empty: every status.
    pub statuses: Vec<IncidentStatus>,
    pub assignee: Option<String>,
    pub levels: Vec<IncidentLevel>,
    pub sources: Vec<IncidentSource>,
    pub types: Vec<IncidentType>,
    pub creator: Option<String>,
    pub region: Option<String>,
    pub enterprise_project: Option<String>,
    pub application: Option<String>,
    pub ticket_id: Option<String>,
    /// A part of the title, whatever the case.
    pub title_like: Option<String>,
    /// Creation time bounds in ms, both included.
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub newest_first: bool,
    /// Rows before the page, and the page's size.
    pub skip: usize,
    pub per_page: usize,
    pub contain_total: bool,
}

/// The filters that read a field of the row, named as the row names it.
const STRING_FIELDS: &str = "work_flow_status, assignee, level_id, source_id, mtm_type, creator, mtm_region, \
                             enterprise_project_id, current_cloud_service_id, ticket_id, title";

fn text(value: &Value, at: &str) -> Result<String, Invalid> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid(at, "must be a string")),
    };
    limits::INCIDENT_FILTER_TEXT.check(&text).map_err(|p| invalid(at, p))?;
    Ok(text)
}

fn whole(value: &Value, at: &str) -> Result<i64, Invalid> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid(at, "must be a whole number (a time in ms)"))
}

/// A filter's field and operator, checked to be present and bounded.
fn parts<'a>(filter: &'a Filter, at: &str) -> Result<(&'a str, &'a str), Invalid> {
    let field = filter.field.as_deref().ok_or_else(|| invalid(format!("{at}.field"), "is required"))?;
    limits::INCIDENT_FILTER_TEXT.check(field).map_err(|p| invalid(format!("{at}.field"), p))?;
    let operator = filter.operator.as_deref().ok_or_else(|| invalid(format!("{at}.operator"), "is required"))?;
    limits::INCIDENT_FILTER_TEXT.check(operator).map_err(|p| invalid(format!("{at}.operator"), p))?;
    limits::INCIDENT_FILTER_VALUES
        .check(filter.values.len(), "values")
        .map_err(|p| invalid(format!("{at}.values"), p))?;
    Ok((field, operator))
}

/// The values of an `=` (exactly one) or `in` filter.
fn equal_values(filter: &Filter, at: &str, operator: &str) -> Result<Vec<String>, Invalid> {
    match operator {
        "=" if filter.values.len() != 1 => Err(invalid(format!("{at}.values"), "`=` takes exactly one value")),
        "=" | "in" => filter.values.iter().enumerate().map(|(n, v)| text(v, &format!("{at}.values[{n}]"))).collect(),
        other => Err(invalid(format!("{at}.operator"), format!("{other:?} is not one of =, in"))),
    }
}

fn one_value(filter: &Filter, at: &str, operator: &str) -> Result<String, Invalid> {
    let values = equal_values(filter, at, operator)?;
    match values.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(invalid(format!("{at}.values"), "this field takes exactly one value")),
    }
}

fn keys<T: Named>(filter: &Filter, at: &str, operator: &str) -> Result<Vec<T>, Invalid> {
    let values = equal_values(filter, at, operator)?;
    values
        .iter()
        .enumerate()
        .map(|(n, key)| {
            T::parse(key).ok_or_else(|| invalid(format!("{at}.values[{n}]"), format!("must be one of {}", T::keys())))
        })
        .collect()
}

/// Which way a list runs: `sort_filter` on `field`, `desc` or `asc` in its
/// operator or first value; none is newest first.
fn newest_first(sort: Option<&Filter>, fields: &[&str]) -> Result<bool, Invalid> {
    let Some(sort) = sort else { return Ok(true) };
    if let Some(field) = sort.field.as_deref() {
        if !fields.contains(&field) {
            return Err(invalid("sort_filter.field", format!("{field:?} is not one of {}", fields.join(", "))));
        }
    }
    let direction = sort.operator.clone().or_else(|| sort.values.first().and_then(|v| v.as_str().map(str::to_owned)));
    match direction.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(other) => Err(invalid("sort_filter.operator", format!("{other:?} is not one of desc, asc"))),
    }
}

/// What every search body refuses: what it cannot mean here.
fn refuse_unsupported(body: &SearchBody) -> Result<(), Invalid> {
    if body.condition.as_deref().is_some_and(|c| !c.trim().is_empty()) {
        return Err(invalid("condition", "expressions are not supported: string_filters are all required (AND)"));
    }
    if !body.count_filters.is_empty() {
        return Err(invalid("count_filters", "counting filters are not supported"));
    }
    if body.group_by_filter.as_ref().is_some_and(|g| !g.is_null()) {
        return Err(invalid("group_by_filter", "grouping is not supported"));
    }
    limits::INCIDENT_FILTERS.check(body.string_filters.len(), "filters").map_err(|p| invalid("string_filters", p))?;
    limits::INCIDENT_FILTERS.check(body.int_filters.len(), "filters").map_err(|p| invalid("int_filters", p))?;
    Ok(())
}

impl IncidentQuery {
    pub fn parse(body: &SearchBody) -> Result<IncidentQuery, Invalid> {
        refuse_unsupported(body)?;
        if body.contain_all == Some(true) {
            return Err(invalid("contain_all", "is not supported: page with page and per_page"));
        }
        for (n, kind) in body.ticket_types.iter().enumerate() {
            if kind != "incident" {
                return Err(invalid(format!("ticket_types[{n}]"), format!("{kind:?} is not incident")));
            }
        }
        let page = body.page.unwrap_or(1);
        limits::INCIDENT_PAGE.check(page).map_err(|p| invalid("page", p))?;
        let per_page = match body.per_page {
            Some(n) => {
                limits::INCIDENT_PER_PAGE.check(n).map_err(|p| invalid("per_page", p))?;
                n as usize
            }
            None => limits::INCIDENT_PER_PAGE_DEFAULT,
        };
        let skip = (page as usize - 1) * per_page;
        if skip > limits::INCIDENT_LIST_SKIP {
            return Err(invalid(
                "page",
                format!(
                    "a page may start at most {} rows in; narrow the filters or the create_time range",
                    limits::INCIDENT_LIST_SKIP
                ),
            ));
        }
        let mut query = IncidentQuery {
            statuses: Vec::new(),
            assignee: None,
            levels: Vec::new(),
            sources: Vec::new(),
            types: Vec::new(),
            creator: None,
            region: None,
            enterprise_project: None,
            application: None,
            ticket_id: None,
            title_like: None,
            created_from: None,
            created_to: None,
            newest_first: newest_first(body.sort_filter.as_ref(), &["create_time"])?,
            skip,
            per_page,
            contain_total: body.contain_total.unwrap_or(true),
        };
        for (n, filter) in body.string_filters.iter().enumerate() {
            query.add_string_filter(filter, &format!("string_filters[{n}]"))?;
        }
        for (n, filter) in body.int_filters.iter().enumerate() {
            query.add_int_filter(filter, &format!("int_filters[{n}]"))?;
        }
        if let (Some(from), Some(to)) = (query.created_from, query.created_to) {
            if from > to {
                return Err(invalid("int_filters", "the create_time range is empty"));
            }
        }
        Ok(query)
    }

    fn add_string_filter(&mut self, filter: &Filter, at: &str) -> Result<(), Invalid> {
        let (field, operator) = parts(filter, at)?;
        match field {
            "work_flow_status" => self.statuses = keys(filter, at, operator)?,
            "level_id" => self.levels = keys(filter, at, operator)?,
            "source_id" => self.sources = keys(filter, at, operator)?,
            "mtm_type" => self.types = keys(filter, at, operator)?,
            "assignee" => self.assignee = Some(one_value(filter, at, operator)?),
            "creator" => self.creator = Some(one_value(filter, at, operator)?),
            "mtm_region" => self.region = Some(one_value(filter, at, operator)?),
            "enterprise_project_id" => self.enterprise_project = Some(one_value(filter, at, operator)?),
            "current_cloud_service_id" => self.application = Some(one_value(filter, at, operator)?),
            "ticket_id" => self.ticket_id = Some(one_value(filter, at, operator)?),
            "title" => {
                if operator != "like" {
                    return Err(invalid(format!("{at}.operator"), "title takes like"));
                }
                match filter.values.as_slice() {
                    [one] => self.title_like = Some(text(one, &format!("{at}.values[0]"))?),
                    _ => return Err(invalid(format!("{at}.values"), "like takes exactly one value")),
                }
            }
            other => {
                return Err(invalid(format!("{at}.field"), format!("{other:?} is not one of {STRING_FIELDS}")));
            }
        }
        Ok(())
    }

    fn add_int_filter(&mut self, filter: &Filter, at: &str) -> Result<(), Invalid> {
        let (field, operator) = parts(filter, at)?;
        if field != "create_time" {
            return Err(invalid(format!("{at}.field"), format!("{field:?} is not create_time")));
        }
        let [value] = filter.values.as_slice() else {
            return Err(invalid(format!("{at}.values"), "takes exactly one value"));
        };
        let ms = whole(value, &format!("{at}.values[0]"))?;
        let tighten_from = |current: Option<i64>, from: i64| Some(current.map_or(from, |c| c.max(from)));
        let tighten_to = |current: Option<i64>, to: i64| Some(current.map_or(to, |c| c.min(to)));
        match operator {
            ">" => self.created_from = tighten_from(self.created_from, ms.saturating_add(1)),
            ">=" => self.created_from = tighten_from(self.created_from, ms),
            "<" => self.created_to = tighten_to(self.created_to, ms.saturating_sub(1)),
            "<=" => self.created_to = tighten_to(self.created_to, ms),
            other => return Err(invalid(format!("{at}.operator"), format!("{other:?} is not one of >, >=, <, <="))),
        }
        Ok(())
    }

    /// Whether the incident passes every filter except the time range, which
    /// the walk's key range applies.
    pub fn matches(&self, incident: &Incident) -> bool {
        let first = |list: &[String]| list.first().cloned();
        let is = |want: &Option<String>, have: Option<String>| want.as_ref().is_none_or(|w| have.as_ref() == Some(w));
        (self.statuses.is_empty() || self.statuses.contains(&incident.status))
            && (self.levels.is_empty() || self.levels.contains(&incident.incident_level))
            && (self.sources.is_empty() || self.sources.contains(&incident.incident_source))
            && (self.types.is_empty() || self.types.contains(&incident.mtm_type.unwrap_or(incident.incident_type)))
            && is(&self.assignee, first(&incident.incident_assignee))
            && is(&self.creator, Some(incident.creator.clone()))
            && is(&self.region, first(&incident.region))
            && is(&self.enterprise_project, first(&incident.enterprise_project))
            && is(&self.application, first(&incident.current_cloud_service))
            && is(&self.ticket_id, Some(incident.incident_num.clone()))
            && self
                .title_like
                .as_ref()
                .is_none_or(|part| crate::repositories::listing::contains_ignoring_case(&incident.incident_title, part))
    }

    /// Whether any filter beyond the one the walk's partition answers (`served`)
    /// and the time range is set: then the walk discards rows.
    pub fn filters_beyond(&self, served: Served) -> bool {
        let statuses = match served {
            Served::Status => self.statuses.len() > 1,
            _ => !self.statuses.is_empty(),
        };
        statuses
            || (self.assignee.is_some() && served != Served::Assignee)
            || !self.levels.is_empty()
            || !self.sources.is_empty()
            || !self.types.is_empty()
            || self.creator.is_some()
            || self.region.is_some()
            || self.enterprise_project.is_some()
            || self.application.is_some()
            || self.ticket_id.is_some()
            || self.title_like.is_some()
    }

    /// The partition that answers the query's most selective filter.
    pub fn served_by(&self) -> Served {
        if self.assignee.is_some() {
            Served::Assignee
        } else if self.statuses.len() == 1 {
            Served::Status
        } else {
            Served::All
        }
    }
}

/// Which index partition a list walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    All,
    Status,
    Assignee,
}

/// What a history list asks for (`ListTicketParamsV2`, `ListTicketParams`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryQuery {
    /// The ticket, when the body names it (the ticket-history list must).
    pub ticket_id: Option<String>,
    /// Empty: every action.
    pub actions: Vec<String>,
    pub operator: Option<String>,
    pub newest_first: bool,
}

impl HistoryQuery {
    pub fn parse(body: &SearchBody) -> Result<HistoryQuery, Invalid> {
        refuse_unsupported(body)?;
        if !body.int_filters.is_empty() {
            return Err(invalid("int_filters", "a history takes no integer filters"));
        }
        // Oldest first unless asked: a timeline reads from the start.
        let newest_first = match body.sort_filter {
            None => false,
            Some(_) => newest_first(body.sort_filter.as_ref(), &["start_time", "create_time"])?,
        };
        let mut query = HistoryQuery { newest_first, ..HistoryQuery::default() };
        for (n, filter) in body.string_filters.iter().enumerate() {
            let at = format!("string_filters[{n}]");
            let (field, operator) = parts(filter, &at)?;
            match field {
                "ticket_id" => query.ticket_id = Some(one_value(filter, &at, operator)?),
                "action" => query.actions = equal_values(filter, &at, operator)?,
                "operator" => query.operator = Some(one_value(filter, &at, operator)?),
                other => {
                    return Err(invalid(
                        format!("{at}.field"),
                        format!("{other:?} is not one of ticket_id, action, operator"),
                    ))
                }
            }
        }
        Ok(query)
    }

    pub fn matches(&self, entry: &super::HistoryEntry) -> bool {
        (self.actions.is_empty() || self.actions.contains(&entry.operate_key))
            && self.operator.as_ref().is_none_or(|o| o == &entry.operator)
    }

    pub fn filtered(&self) -> bool {
        !self.actions.is_empty() || self.operator.is_some()
    }
}

#[cfg(test)]
mod tests;
