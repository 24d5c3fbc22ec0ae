//! What an alarm's SNS topic delivers: over HTTPS, the SNS message itself
//! (`Type` Notification, SubscriptionConfirmation or UnsubscribeConfirmation);
//! to a Lambda subscription, the same Notification inside an `SnsEvent`
//! record. A Notification's `Message` is the CloudWatch alarm JSON
//! (`AlarmName`, `NewStateValue`, `NewStateReason`, `AlarmArn`, `Trigger`…).

use std::collections::BTreeMap;

use aws_lambda_events::sns::{CloudWatchDimension, SnsMessage, SnsSubscriptionMessage};
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::{arn_account, arn_region, decode, Metric, Problems, State, StateChange};
use crate::limits;

/// A message SNS posts to an HTTPS subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Notification(Box<StateChange>),
    /// A new subscription: confirmed by a GET of its SubscribeURL, checked to be SNS's own.
    SubscriptionConfirmation(Confirmation),
    /// The topic's owner unsubscribed this endpoint: nothing to do.
    UnsubscribeConfirmation {
        topic_arn: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub topic_arn: String,
    /// Checked by [`subscribe_url`]: https, on SNS's host in the topic's region.
    pub subscribe_url: String,
}

/// Whether a body looks like an SNS message (it has `Type` and `TopicArn`).
pub fn is_message(body: &Value) -> bool {
    body.get("Type").is_some() && body.get("TopicArn").is_some()
}

/// Reads a message posted by SNS to an HTTPS endpoint.
pub fn parse_delivery(body: &Value) -> Result<Delivery, String> {
    match body.get("Type").and_then(Value::as_str) {
        Some("Notification") => {
            notification(&decode::<SnsMessage>("", body)?).map(|change| Delivery::Notification(Box::new(change)))
        }
        Some(kind @ ("SubscriptionConfirmation" | "UnsubscribeConfirmation")) => {
            let message: SnsSubscriptionMessage = decode("", body)?;
            let mut problems = Problems::default();
            problems.check("TopicArn", &message.topic_arn, limits::CLOUDWATCH_ARN);
            if kind == "UnsubscribeConfirmation" {
                return problems.finish(|| Delivery::UnsubscribeConfirmation { topic_arn: message.topic_arn });
            }
            let url = message.subscribe_url.unwrap_or_default();
            if problems.check("SubscribeURL", &url, limits::CLOUDWATCH_SUBSCRIBE_URL) {
                if let Err(problem) = subscribe_url(&url, &message.topic_arn) {
                    problems.add(format!("SubscribeURL {problem}"));
                }
            }
            problems.finish(|| {
                Delivery::SubscriptionConfirmation(Confirmation { topic_arn: message.topic_arn, subscribe_url: url })
            })
        }
        _ => Err("Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation".into()),
    }
}

/// Checks that a SubscribeURL is SNS's own confirmation of `topic_arn`, so
/// that confirming fetches nothing a sender picked: https on the default
/// port, host `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`) in the
/// topic's region, path `/`, `Action=ConfirmSubscription` for that very topic.
pub fn subscribe_url(url: &str, topic_arn: &str) -> Result<(), String> {
    let rest = url.strip_prefix("https://").ok_or("must be an https URL")?;
    if rest.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\' || c == '#') {
        return Err("must not hold spaces, backslashes or a fragment".into());
    }
    let (host, path_and_query) = rest.split_once('/').ok_or("must have a path")?;
    let region = host_region(host).ok_or("must be on the host sns.<region>.amazonaws.com")?;
    if arn_region(topic_arn) != Some(region) {
        return Err(format!("must be on the SNS host of the topic's region, not {region}"));
    }
    let query = path_and_query.strip_prefix('?').ok_or("must have the path /")?;
    let mut action = None;
    let mut topic = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8().map_err(|_| "must be UTF-8".to_owned())?;
        match name {
            "Action" => action = Some(value.into_owned()),
            "TopicArn" => topic = Some(value.into_owned()),
            _ => {}
        }
    }
    if action.as_deref() != Some("ConfirmSubscription") {
        return Err("must be the action ConfirmSubscription".into());
    }
    if topic.as_deref() != Some(topic_arn) {
        return Err("must confirm the message's TopicArn".into());
    }
    Ok(())
}

/// The region of SNS's own host `sns.<region>.amazonaws.com` (or
/// `.amazonaws.com.cn`); `None` for any other host, a port or user info included.
pub fn host_region(host: &str) -> Option<&str> {
    host.strip_prefix("sns.")
        .and_then(|h| h.strip_suffix(".amazonaws.com").or_else(|| h.strip_suffix(".amazonaws.com.cn")))
        .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
}

/// The CloudWatch alarm JSON in a Notification's `Message`. Only what the
/// mapping reads is required; CloudWatch sends `null` for an alarm without a
/// description or unit (so the crate's strict `CloudWatchAlarmPayload` would
/// refuse such alarms).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AlarmMessage {
    alarm_name: String,
    #[serde(default)]
    alarm_description: Option<String>,
    #[serde(default, rename = "AWSAccountId")]
    aws_account_id: Option<String>,
    new_state_value: String,
    #[serde(default)]
    new_state_reason: Option<String>,
    #[serde(default)]
    state_change_time: Option<String>,
    #[serde(default)]
    alarm_arn: Option<String>,
    #[serde(default)]
    old_state_value: Option<String>,
    #[serde(default)]
    trigger: Option<Trigger>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Trigger {
    #[serde(default)]
    metric_name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    dimensions: Option<Vec<CloudWatchDimension>>,
    /// A metric-math alarm's queries; the first with a metric names it.
    #[serde(default)]
    metrics: Option<Vec<Value>>,
}

/// Reads a Notification (over HTTPS or in a Lambda `SnsEvent` record).
pub fn notification(message: &SnsMessage) -> Result<StateChange, String> {
    let mut problems = Problems::default();
    problems.check("MessageId", &message.message_id, limits::CLOUDWATCH_DELIVERY_ID);
    problems.check("TopicArn", &message.topic_arn, limits::CLOUDWATCH_ARN);
    let body: Value = serde_json::from_str(&message.message)
        .map_err(|err| format!("Message must be a CloudWatch alarm's JSON: {err}"))?;
    let alarm: AlarmMessage = decode("Message", &body)?;
    problems.check("Message.AlarmName", &alarm.alarm_name, limits::CLOUDWATCH_ALARM_NAME);
    let state = State::parse(&alarm.new_state_value);
    if state.is_none() {
        problems.add("Message.NewStateValue must be ALARM, OK or INSUFFICIENT_DATA".into());
    }
    let reason = alarm.new_state_reason.unwrap_or_default();
    problems.check("Message.NewStateReason", &reason, limits::CLOUDWATCH_REASON);
    let description =
        problems.optional("Message.AlarmDescription", alarm.alarm_description, limits::CLOUDWATCH_DESCRIPTION);
    let account = problems.optional("Message.AWSAccountId", alarm.aws_account_id, limits::CLOUDWATCH_TEXT);
    // `Region` is a display name ("US East (N. Virginia)"): the region is the ARN's.
    let alarm_arn = match alarm.alarm_arn {
        Some(arn) => arn,
        None => match (arn_region(&message.topic_arn), &account) {
            (Some(region), Some(account)) => {
                format!("arn:aws:cloudwatch:{region}:{account}:alarm:{}", alarm.alarm_name)
            }
            _ => {
                problems.add("Message.AlarmArn must not be null".into());
                String::new()
            }
        },
    };
    problems.check("Message.AlarmArn", &alarm_arn, limits::CLOUDWATCH_ARN);
    let time = match alarm.state_change_time.as_deref() {
        Some(text) => parse_time(text).unwrap_or_else(|| {
            problems.add(format!("Message.StateChangeTime must be a time as CloudWatch writes it, got {text:?}"));
            0
        }),
        None => message.timestamp.timestamp_millis(),
    };
    let metric = metric(alarm.trigger.unwrap_or_default(), &mut problems);
    problems.finish(|| StateChange {
        delivery_id: message.message_id.clone(),
        region: arn_region(&alarm_arn).or(arn_region(&message.topic_arn)).map(str::to_owned),
        account: account.or_else(|| arn_account(&alarm_arn).map(str::to_owned)),
        alarm_arn,
        alarm_name: alarm.alarm_name,
        state: state.unwrap_or(State::Ok),
        previous_state: alarm.old_state_value,
        reason,
        description,
        time,
        metric,
        tags: BTreeMap::new(),
        via: "sns",
        topic_arn: Some(message.topic_arn.clone()),
    })
}

fn metric(trigger: Trigger, problems: &mut Problems) -> Metric {
    let mut namespace = trigger.namespace;
    let mut name = trigger.metric_name;
    let mut dimensions: BTreeMap<String, String> =
        trigger.dimensions.unwrap_or_default().into_iter().map(|d| (d.name, d.value)).collect();
    let queried =
        trigger.metrics.unwrap_or_default().into_iter().find_map(|q| q.pointer("/MetricStat/Metric").cloned());
    if let (None, Some(found)) = (&name, queried) {
        let text = |field: &str| found.get(field).and_then(Value::as_str).map(str::to_owned);
        namespace = text("Namespace");
        name = text("MetricName");
        if let Some(list) = found.get("Dimensions").and_then(Value::as_array) {
            dimensions = list
                .iter()
                .filter_map(|d| Some((d.get("name")?.as_str()?.to_owned(), d.get("value")?.as_str()?.to_owned())))
                .collect();
        }
    }
    Metric {
        namespace: problems.optional("Message.Trigger.Namespace", namespace, limits::CLOUDWATCH_TEXT),
        name: problems.optional("Message.Trigger.MetricName", name, limits::CLOUDWATCH_TEXT),
        dimensions: problems.pairs("Message.Trigger.Dimensions", dimensions, limits::CLOUDWATCH_DIMENSIONS),
    }
}

/// CloudWatch's times: RFC 3339, or with a colon-less offset
/// ("2015-06-03T17:43:27.123+0000") as alarm messages have them.
pub fn parse_time(text: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        let (local, offset) = text.split_at(text.len().checked_sub(5)?);
        let sign = match offset.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours: i8 = offset.get(1..3)?.parse().ok()?;
        let minutes: i8 = offset.get(3..5)?.parse().ok()?;
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");
        let local = PrimitiveDateTime::parse(local, &format).ok()?;
        Some(local.assume_offset(UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?))
    })?;
    let ms = (parsed.unix_timestamp_nanos() / 1_000_000) as i64;
    (ms >= 0).then_some(ms)
}
