//! The documented event shapes: EventBridge's "CloudWatch Alarm State
//! Change" (CloudWatch User Guide, "Alarm events and EventBridge") and the
//! alarm JSON CloudWatch publishes to SNS.

use serde_json::{json, Value};

use super::eventbridge;
use super::sns::{self, Delivery};
use super::*;
use crate::domain::alarm::{AlarmReport, AlarmStatus};

const ARN: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh";

/// A single-metric alarm's state change, as the CloudWatch documentation shows it.
pub fn eventbridge_event(id: &str, state: &str) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2019-10-02T17:04:40Z",
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {
            "alarmName": "ServerCpuTooHigh",
            "configuration": {
                "description": "Goes into alarm when server CPU utilization is too high!",
                "metrics": [{
                    "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                    "metricStat": {
                        "metric": {
                            "dimensions": {"InstanceId": "i-12345678901234567"},
                            "name": "CPUUtilization",
                            "namespace": "AWS/EC2"
                        },
                        "period": 300,
                        "stat": "Average"
                    },
                    "returnData": true
                }]
            },
            "previousState": {
                "reason": "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).",
                "reasonData": "{\"version\":\"1.0\",\"queryDate\":\"2019-10-01T13:56:40.985+0000\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[0.0666851903306472],\"threshold\":50.0}",
                "timestamp": "2019-10-01T13:56:40.987+0000",
                "value": "OK"
            },
            "state": {
                "reason": "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).",
                "reasonData": "{\"version\":\"1.0\",\"queryDate\":\"2019-10-02T17:04:40.985+0000\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[99.50160229693434],\"threshold\":50.0}",
                "timestamp": "2019-10-02T17:04:40.989+0000",
                "value": state
            }
        }
    })
}

/// The alarm JSON CloudWatch publishes to an SNS topic.
pub fn sns_alarm_message(state: &str) -> Value {
    json!({
        "AlarmName": "ServerCpuTooHigh",
        "AlarmDescription": null,
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [99.5 (02/10/19 16:59:00)] was greater than the threshold (50.0).",
        "StateChangeTime": "2019-10-02T17:04:40.989+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": ARN,
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "StatisticType": "Statistic",
            "Statistic": "AVERAGE", "Unit": null,
            "Dimensions": [{"value": "i-12345678901234567", "name": "InstanceId"}],
            "Period": 300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 50.0, "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""
        }
    })
}

/// An SNS Notification as SNS posts it to an HTTPS subscription.
pub fn sns_notification(message_id: &str, message: &Value) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:cpu-alarms",
        "Subject": "ALARM: \"ServerCpuTooHigh\" in US East (N. Virginia)",
        "Message": message.to_string(),
        "Timestamp": "2019-10-02T17:04:41.012Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:cpu-alarms:c9135db0-26c4-47ec-8998-413945fb5a96"
    })
}

fn report(change: &StateChange) -> AlarmReport {
    AlarmReport::parse(&change.custom_event(AlarmLevel::Major)).expect("the intake takes the mapping")
}

#[test]
fn the_documented_eventbridge_event_is_an_alarm_of_its_instance() {
    let change = eventbridge::parse(&eventbridge_event("c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "ALARM")).unwrap();
    assert_eq!(change.state, State::Alarm);
    assert_eq!(change.delivery_id, "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92");
    assert_eq!(change.previous_state.as_deref(), Some("OK"));
    let report = report(&change);
    assert_eq!(report.alarm_id, ARN, "the ARN: the same for every change of the alarm");
    assert_eq!(report.alarm_name, "ServerCpuTooHigh");
    assert_eq!(report.alarm_status, AlarmStatus::Alarm);
    assert_eq!(report.alarm_level, AlarmLevel::Major);
    assert!(report.alarm_desc.starts_with("Threshold Crossed: 1 out of the last 1 datapoints [99.5"), "{report:?}");
    assert_eq!(report.resource_id.as_deref(), Some("i-12345678901234567"));
    assert_eq!(report.name_space, "AWS/EC2");
    assert_eq!(report.region_id.as_deref(), Some("us-east-1"));
    // 2019-10-02T17:04:40.989Z: the state's time, not the event's.
    assert_eq!(report.time, 1_570_035_880_989);
    let additional = report.additional.unwrap();
    assert_eq!(additional["metricName"], "CPUUtilization");
    assert_eq!(additional["state"], "ALARM");
}

#[test]
fn ok_clears_and_insufficient_data_keeps_what_is_stored() {
    let ok = eventbridge::parse(&eventbridge_event("e2", "OK")).unwrap();
    assert_eq!(report(&ok).alarm_status, AlarmStatus::Ok);
    let unknown = eventbridge::parse(&eventbridge_event("e3", "INSUFFICIENT_DATA")).unwrap();
    // Never seen: recorded cleared, at Info, so it opens nothing.
    let first = report(&unknown);
    assert_eq!((first.alarm_status, first.alarm_level), (AlarmStatus::Ok, AlarmLevel::Info));
    assert!(first.alarm_desc.starts_with("INSUFFICIENT_DATA: "), "{first:?}");
    assert_eq!(first.additional.as_ref().unwrap()["state"], "INSUFFICIENT_DATA");
    // A stored alarm keeps its state and level (the intake applies it in its own write).
    assert!(unknown.keeps_stored_state());
    assert!(!ok.keeps_stored_state());
}

#[test]
fn a_severity_tag_picks_the_level_and_the_default_is_the_integrations() {
    let mut event = eventbridge_event("e4", "ALARM");
    let change = eventbridge::parse(&event).unwrap();
    assert_eq!(AlarmReport::parse(&change.custom_event(AlarmLevel::Minor)).unwrap().alarm_level, AlarmLevel::Minor);
    event["detail"]["alarmTags"] = json!({"Severity": "critical", "team": "web"});
    let tagged = eventbridge::parse(&event).unwrap();
    assert_eq!(tagged.level(AlarmLevel::Minor), AlarmLevel::Critical);
}

#[test]
fn composite_and_metric_math_alarms_are_taken_too() {
    let mut composite = eventbridge_event("e5", "ALARM");
    composite["detail"]["configuration"] = json!({
        "alarmRule": "ALARM(CpuTooHigh) AND ALARM(DiskFull)", "actionsSuppressor": "", "description": "both"
    });
    let change = eventbridge::parse(&composite).unwrap();
    let report = report(&change);
    assert_eq!(report.name_space, NAME_SPACE);
    assert_eq!(report.resource_id, None);
    let mut math = eventbridge_event("e6", "ALARM");
    math["detail"]["configuration"]["metrics"] = json!([
        {"id": "e1", "expression": "m1 / 60", "label": "per second", "returnData": true},
        {"id": "m1", "metricStat": {"metric": {"namespace": "AWS/SQS", "name": "NumberOfMessagesSent",
            "dimensions": {"QueueName": "orders"}}, "period": 86400, "stat": "Sum"}, "returnData": false}
    ]);
    let change = eventbridge::parse(&math).unwrap();
    assert_eq!(change.resource(), Some("orders"));
    assert_eq!(change.metric.namespace.as_deref(), Some("AWS/SQS"));
}

#[test]
fn bad_events_name_the_field() {
    let problem = |event: Value| eventbridge::parse(&event).unwrap_err();
    let mut other = eventbridge_event("e7", "ALARM");
    other["source"] = json!("aws.ec2");
    other["detail-type"] = json!("EC2 Instance State-change Notification");
    let message = problem(other);
    assert!(message.contains("source must be aws.cloudwatch") && message.contains("detail-type"), "{message}");
    let mut bad_state = eventbridge_event("e8", "ALARM");
    bad_state["detail"]["state"]["value"] = json!("ON_FIRE");
    assert!(problem(bad_state).contains("detail.state.value"));
    let mut no_name = eventbridge_event("e9", "ALARM");
    no_name["detail"].as_object_mut().unwrap().remove("alarmName");
    assert!(problem(no_name).contains("alarmName"));
    let mut long_name = eventbridge_event("e10", "ALARM");
    long_name["detail"]["alarmName"] = json!("n".repeat(256));
    assert!(problem(long_name).contains("detail.alarmName must be 1 to 255 characters"));
    let mut no_id = eventbridge_event("e11", "ALARM");
    no_id.as_object_mut().unwrap().remove("id");
    assert!(problem(no_id).contains("id must not be null"));
    let mut dimension = eventbridge_event("e12", "ALARM");
    dimension["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["InstanceId"] = json!(7);
    assert!(problem(dimension).contains("detail.configuration.metrics[0].metricStat.metric.dimensions"));
}

#[test]
fn a_long_arn_is_one_stable_alarm_id() {
    let mut event = eventbridge_event("e13", "ALARM");
    let name = "n".repeat(250);
    event["detail"]["alarmName"] = json!(name);
    event["resources"] = json!([format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")]);
    let first = report(&eventbridge::parse(&event).unwrap());
    event["id"] = json!("e14");
    event["detail"]["state"]["value"] = json!("OK");
    let again = report(&eventbridge::parse(&event).unwrap());
    assert_eq!(first.alarm_id, again.alarm_id);
    assert!(first.alarm_id.len() <= 255 && first.alarm_id.starts_with("cloudwatch-arn-sha256:"));
}

#[test]
fn the_documented_sns_message_maps_like_the_event() {
    let body = sns_notification("95df01b4-ee98-5cb9-9903-4c221d41eb5e", &sns_alarm_message("ALARM"));
    let Delivery::Notification(change) = sns::parse_delivery(&body).unwrap() else { panic!("a notification") };
    assert_eq!(change.via, "sns");
    assert_eq!(change.delivery_id, "95df01b4-ee98-5cb9-9903-4c221d41eb5e");
    let report = report(&change);
    assert_eq!(report.alarm_id, ARN);
    assert_eq!(report.alarm_status, AlarmStatus::Alarm);
    assert_eq!(report.resource_id.as_deref(), Some("i-12345678901234567"));
    assert_eq!(report.region_id.as_deref(), Some("us-east-1"), "the ARN's region, not the display name");
    assert_eq!(report.time, 1_570_035_880_989);
    assert!(report.alarm_desc.starts_with("Threshold Crossed"));
    // Older alarm messages have no AlarmArn: it is made from the topic's region and the account.
    let mut old = sns_alarm_message("OK");
    old.as_object_mut().unwrap().remove("AlarmArn");
    let Delivery::Notification(change) = sns::parse_delivery(&sns_notification("m2", &old)).unwrap() else {
        panic!("a notification")
    };
    assert_eq!(change.alarm_arn, ARN);
    assert_eq!(change.state, State::Ok);
}

#[test]
fn bad_sns_messages_name_the_field() {
    let problem = |body: Value| sns::parse_delivery(&body).unwrap_err();
    let mut state = sns_alarm_message("ALARM");
    state["NewStateValue"] = json!("MAYBE");
    assert!(problem(sns_notification("m3", &state)).contains("Message.NewStateValue"));
    let mut body = sns_notification("m4", &sns_alarm_message("ALARM"));
    body["Message"] = json!("not json");
    assert!(problem(body).contains("Message must be a CloudWatch alarm's JSON"));
    let mut no_name = sns_alarm_message("ALARM");
    no_name.as_object_mut().unwrap().remove("AlarmName");
    assert!(problem(sns_notification("m5", &no_name)).contains("AlarmName"));
    let mut no_id = sns_notification("m6", &sns_alarm_message("ALARM"));
    no_id.as_object_mut().unwrap().remove("MessageId");
    assert!(problem(no_id).contains("MessageId"));
    assert!(problem(json!({"Type": "Other", "TopicArn": "t"})).contains("Type must be"));
}

#[test]
fn only_sns_own_confirmation_urls_are_accepted() {
    let topic = "arn:aws:sns:us-east-1:123456789012:cpu-alarms";
    let good = format!(
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={}&Token=2336412f37",
        topic.replace(':', "%3A")
    );
    assert_eq!(sns::subscribe_url(&good, topic), Ok(()));
    let china = "arn:aws-cn:sns:cn-north-1:123456789012:t";
    let cn = format!("https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&TopicArn={china}&Token=1");
    assert_eq!(sns::subscribe_url(&cn, china), Ok(()));
    let refused = [
        good.replacen("https://", "http://", 1),
        good.replace("sns.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com.evil.example"),
        good.replace("sns.us-east-1.amazonaws.com", "evil.example/sns.us-east-1.amazonaws.com"),
        good.replace("sns.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com:8443"),
        good.replace("sns.us-east-1.amazonaws.com", "user@sns.us-east-1.amazonaws.com"),
        good.replace("sns.us-east-1.amazonaws.com", "169.254.169.254"),
        good.replace("sns.us-east-1", "sns.eu-west-1"),
        good.replace("ConfirmSubscription", "Unsubscribe"),
        good.replace("cpu-alarms", "other-topic"),
        good.replace("/?", "/redirect?"),
        format!("{good}#x"),
    ];
    for url in refused {
        assert!(sns::subscribe_url(&url, topic).is_err(), "{url} must be refused");
    }
    let confirmation = json!({
        "Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37", "TopicArn": topic,
        "Message": "You have chosen to subscribe to the topic. To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": "http://127.0.0.1:9/?Action=ConfirmSubscription",
        "Timestamp": "2012-04-26T20:45:04.751Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
    });
    assert!(sns::parse_delivery(&confirmation).unwrap_err().contains("SubscribeURL must be an https URL"));
}

#[test]
fn cloudwatch_times_with_colonless_offsets_are_read() {
    assert_eq!(sns::parse_time("2015-06-03T17:43:27.123+0000"), Some(1_433_353_407_123));
    assert_eq!(sns::parse_time("2015-06-03T19:43:27.123+0200"), Some(1_433_353_407_123));
    assert_eq!(sns::parse_time("2015-06-03T17:43:27Z"), Some(1_433_353_407_000));
    assert_eq!(sns::parse_time("yesterday"), None);
}
