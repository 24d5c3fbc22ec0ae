//! The incident workflow as the v2 API shows it: the task an open incident is
//! waiting in, the actions that task takes, and the names of every action.

use super::{Incident, IncidentStatus, ACCEPT, COMMIT_SOLUTION, CONFIRM, FORWARD_ACCEPTED, FORWARD_UNACCEPTED, REJECT};

/// The action `Incident::create` records.
pub const CREATE: &str = "create";
/// Alarms linked to the incident (`transfer_alarm_to_incident` with our
/// `incident_num`): not a step of the workflow, the status stays.
pub const LINK_ALARMS: &str = "linkAlarms";

/// The actions the incident's status allows, in the order a console offers them.
pub fn actions_in(status: IncidentStatus) -> &'static [&'static str] {
    match status {
        IncidentStatus::Triggered => &[ACCEPT, REJECT, FORWARD_UNACCEPTED],
        IncidentStatus::Acknowledged => &[COMMIT_SOLUTION, FORWARD_ACCEPTED],
        IncidentStatus::Resolved => &[CONFIRM],
        IncidentStatus::Rejected | IncidentStatus::Completed => &[],
    }
}

/// An action's Chinese and English names; an unknown key is its own name.
pub fn action_names(operate_key: &str) -> (&str, &str) {
    match operate_key {
        CREATE => ("创建", "Create"),
        LINK_ALARMS => ("关联告警", "Link alarms"),
        ACCEPT => ("受理", "Accept"),
        REJECT => ("驳回", "Reject"),
        COMMIT_SOLUTION => ("提交解决方案", "Submit solution"),
        CONFIRM => ("验证", "Verify"),
        FORWARD_UNACCEPTED | FORWARD_ACCEPTED => ("转单", "Forward"),
        other => (other, other),
    }
}

/// The task an open incident waits in, as `show_incident_task` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Names this task and no other: the incident and how many actions it has
    /// had, so an action sent for a task that has since moved on is refused.
    pub task_id: String,
    pub status: IncidentStatus,
    pub actions: &'static [&'static str],
}

impl Incident {
    /// The task the incident waits in; none once it is over.
    pub fn current_task(&self) -> Option<Task> {
        let actions = actions_in(self.status);
        if actions.is_empty() {
            return None;
        }
        Some(Task { task_id: format!("{}-T{}", self.incident_num, self.actions_taken()), status: self.status, actions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_a_status_allows_is_one_handle_takes_there() {
        for status in [IncidentStatus::Triggered, IncidentStatus::Acknowledged, IncidentStatus::Resolved] {
            for action in actions_in(status) {
                assert_ne!(action_names(action).1, *action, "{action} has a name");
            }
        }
        assert!(actions_in(IncidentStatus::Completed).is_empty());
        assert!(actions_in(IncidentStatus::Rejected).is_empty());
    }
}
