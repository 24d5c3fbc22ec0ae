//! The "CloudWatch Alarm State Change" event EventBridge delivers (to the
//! intake function by a rule, or over HTTP by an API destination), read with
//! the `aws_lambda_events` types.

use std::collections::BTreeMap;

use aws_lambda_events::cloudwatch_alarms::{CloudWatchAlarmData, CloudWatchAlarmStateValue};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

use super::{arn_account, arn_region, decode, Metric, Problems, State, StateChange};
use crate::limits;

pub const SOURCE: &str = "aws.cloudwatch";
pub const DETAIL_TYPE: &str = "CloudWatch Alarm State Change";

/// The event as `aws_lambda_events` reads it: configuration and reason data
/// stay JSON, because their shapes differ between metric, metric-math and
/// composite alarms (and the typed ones refuse periods over 65535 seconds).
pub type AlarmEvent = EventBridgeEvent<CloudWatchAlarmData<Value, Value>>;

/// Whether a body looks like an EventBridge event (it has `detail-type`).
pub fn is_event(body: &Value) -> bool {
    body.get("detail-type").is_some()
}

/// Checks an event and reads its state change; every problem names its field.
pub fn parse(body: &Value) -> Result<StateChange, String> {
    if !body.is_object() {
        return Err("the body must be a JSON object".into());
    }
    let mut problems = Problems::default();
    // The kind is checked before the shape, so that another kind of event
    // routed here by mistake says so instead of listing missing fields.
    let source = body.get("source").and_then(Value::as_str);
    if source != Some(SOURCE) {
        problems.add(format!("source must be {SOURCE}, got {}", shown(body.get("source"))));
    }
    let detail_type = body.get("detail-type").and_then(Value::as_str);
    if detail_type != Some(DETAIL_TYPE) {
        problems.add(format!("detail-type must be {DETAIL_TYPE:?}, got {}", shown(body.get("detail-type"))));
    }
    if !problems.0.is_empty() {
        return Err(problems.0.join(" | "));
    }
    let event: AlarmEvent = decode("", body)?;
    let detail = &event.detail;
    let id = event.id.clone().unwrap_or_default();
    if id.is_empty() {
        problems.add("id must not be null".into());
    } else {
        problems.check("id", &id, limits::CLOUDWATCH_DELIVERY_ID);
    }
    problems.check("detail.alarmName", &detail.alarm_name, limits::CLOUDWATCH_ALARM_NAME);
    let region = problems.optional("region", event.region.clone(), limits::CLOUDWATCH_TEXT);
    let account = problems.optional("account", event.account.clone(), limits::CLOUDWATCH_TEXT);
    // The alarm's ARN is the event's resource; an event without one gets the
    // ARN CloudWatch gives an alarm of that name in that account and region.
    let resources = event.resources.clone().unwrap_or_default();
    let alarm_arn = match resources.iter().find(|r| r.contains(":alarm:")).or(resources.first()) {
        Some(arn) => arn.clone(),
        None => match (&region, &account) {
            (Some(region), Some(account)) => {
                format!("arn:aws:cloudwatch:{region}:{account}:alarm:{}", detail.alarm_name)
            }
            _ => {
                problems.add("resources must name the alarm's ARN (or region and account must be given)".into());
                String::new()
            }
        },
    };
    problems.check("resources[0]", &alarm_arn, limits::CLOUDWATCH_ARN);
    let (state, reason, time) = match &detail.state {
        None => {
            problems.add("detail.state must not be null".into());
            (State::Ok, String::new(), 0)
        }
        Some(state) => {
            let value = match state.value {
                CloudWatchAlarmStateValue::Alarm => State::Alarm,
                CloudWatchAlarmStateValue::Ok => State::Ok,
                CloudWatchAlarmStateValue::InsufficientData => State::InsufficientData,
                // The type is non-exhaustive: a state added later is not guessed at.
                _ => {
                    problems.add("detail.state.value must be ALARM, OK or INSUFFICIENT_DATA".into());
                    State::Ok
                }
            };
            problems.check("detail.state.reason", &state.reason, limits::CLOUDWATCH_REASON);
            let time = state.timestamp.timestamp_millis();
            if time < 0 {
                problems.add("detail.state.timestamp must be after 1970".into());
            }
            (value, state.reason.clone(), time)
        }
    };
    let previous_state = detail.previous_state.as_ref().map(|s| {
        match s.value {
            CloudWatchAlarmStateValue::Alarm => State::Alarm,
            CloudWatchAlarmStateValue::InsufficientData => State::InsufficientData,
            _ => State::Ok,
        }
        .key()
        .to_owned()
    });
    let configuration = &detail.configuration;
    let description = configuration.get("description").and_then(Value::as_str).map(str::to_owned);
    let description =
        problems.optional("detail.configuration.description", description, limits::CLOUDWATCH_DESCRIPTION);
    let metric = metric(configuration, &mut problems);
    let tags = tags(body.pointer("/detail/alarmTags"), &mut problems);
    problems.finish(|| StateChange {
        delivery_id: id,
        region: region.or_else(|| arn_region(&alarm_arn).map(str::to_owned)),
        account: account.or_else(|| arn_account(&alarm_arn).map(str::to_owned)),
        alarm_arn,
        alarm_name: detail.alarm_name.clone(),
        state,
        previous_state,
        reason,
        description,
        time,
        metric,
        tags,
        via: "eventbridge",
        topic_arn: None,
    })
}

fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "nothing".into(),
        Some(value) => value.to_string().chars().take(80).collect(),
    }
}

/// The metric of a metric alarm, or the first metric a metric-math alarm
/// reads (`configuration.metrics[].metricStat.metric`); a composite alarm has none.
fn metric(configuration: &Value, problems: &mut Problems) -> Metric {
    let Some(metrics) = configuration.get("metrics").and_then(Value::as_array) else { return Metric::default() };
    let Some((i, found)) =
        metrics.iter().enumerate().find_map(|(i, m)| m.pointer("/metricStat/metric").map(|found| (i, found)))
    else {
        return Metric::default();
    };
    let path = format!("detail.configuration.metrics[{i}].metricStat.metric");
    let text = |name: &str, problems: &mut Problems| {
        let value = found.get(name).and_then(Value::as_str).map(str::to_owned);
        problems.optional(&format!("{path}.{name}"), value, limits::CLOUDWATCH_TEXT)
    };
    let namespace = text("namespace", problems);
    let name = text("name", problems);
    let dimensions = match found.get("dimensions") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(value) => match decode::<BTreeMap<String, String>>(&format!("{path}.dimensions"), value) {
            Ok(dimensions) => problems.pairs(&format!("{path}.dimensions"), dimensions, limits::CLOUDWATCH_DIMENSIONS),
            Err(problem) => {
                problems.add(problem);
                BTreeMap::new()
            }
        },
    };
    Metric { namespace, name, dimensions }
}

/// `detail.alarmTags`, sent when the alarm propagates its tags.
fn tags(value: Option<&Value>, problems: &mut Problems) -> BTreeMap<String, String> {
    match value {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(value) => match decode::<BTreeMap<String, String>>("detail.alarmTags", value) {
            Ok(tags) => problems.pairs("detail.alarmTags", tags, limits::CLOUDWATCH_TAGS),
            Err(problem) => {
                problems.add(problem);
                BTreeMap::new()
            }
        },
    }
}
