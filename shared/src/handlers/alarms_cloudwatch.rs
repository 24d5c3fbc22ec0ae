//! CloudWatch alarms in: `POST /v1/event/cloudwatch/{integration_key}` takes
//! what an alarm's SNS topic posts to an HTTPS subscription, or a "CloudWatch
//! Alarm State Change" event as an EventBridge API destination posts it; the
//! `cloudwatch-alarm-events` function (coc-runtime's `serve_cloudwatch_events`) takes the same event
//! from an EventBridge rule, and SNS notifications from a Lambda subscription.
//! The key is the credential, as for the other intakes; every change is one
//! report to the intake's `ingest_delivery`, keyed by the event's or message's
//! id so that a redelivery is not a new occurrence.

use http::StatusCode;
use serde_json::Value;

use super::alarms::{
    answer, ingest_delivery_as, Ingested, IntakeError, ReportedState, AUTH_FAILED, BAD_REQUEST, SUCCESS,
};
use crate::app::App;
use crate::domain::alarm::Integration;
use crate::domain::cloudwatch::sns::{self, Confirmation, Delivery};
use crate::domain::cloudwatch::{eventbridge, signature, StateChange};
use crate::domain::incident::{AlarmLevel, Named};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::incidents;

/// The level of a change whose alarm has no `severity` tag, when neither the
/// subscription URL (`?alarm_level=`) nor the function's environment picks one.
pub const DEFAULT_LEVEL: AlarmLevel = AlarmLevel::Major;
/// The query parameter of the intake URL that picks that level.
pub const LEVEL_PARAM: &str = "alarm_level";

fn bad_request(message: &str) -> ApiResponse {
    answer(StatusCode::BAD_REQUEST, BAD_REQUEST, message)
}

fn unauthorized() -> ApiResponse {
    answer(StatusCode::UNAUTHORIZED, AUTH_FAILED, "Token missing or invalid.")
}

/// An alarm level by its key (`Critical`, `Major`, `Minor`, `Info`).
pub fn parse_level(name: &str, value: &str) -> Result<AlarmLevel, String> {
    AlarmLevel::parse(value).ok_or_else(|| format!("{name} must be one of {}", AlarmLevel::keys()))
}

pub async fn intake(app: &App, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let key = match request.path_param("integration_key") {
        Ok(key) => key,
        Err(err) => return Ok(bad_request(&err.to_string())),
    };
    let level = match request.query_all(LEVEL_PARAM).as_slice() {
        [] => DEFAULT_LEVEL,
        [value] => match parse_level(LEVEL_PARAM, value) {
            Ok(level) => level,
            Err(problem) => return Ok(bad_request(&problem)),
        },
        _ => return Ok(bad_request(&format!("{LEVEL_PARAM} must be given once"))),
    };
    // SNS posts its JSON as text/plain: the body is read whatever the type says.
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(err) => return Ok(bad_request(&format!("request body is not valid JSON: {err}"))),
    };
    let Some(integration) = incidents::integration_by_key(app.store.as_ref(), key).await? else {
        return Ok(unauthorized());
    };
    let change = if sns::is_message(&body) {
        if let Err(refused) = verify_signature(app, &body).await {
            return Ok(refused.answer(&integration));
        }
        match sns::parse_delivery(&body) {
            Ok(Delivery::Notification(change)) => *change,
            Ok(Delivery::SubscriptionConfirmation(confirmation)) => {
                return Ok(confirm(app, &integration, &confirmation).await)
            }
            Ok(Delivery::UnsubscribeConfirmation { topic_arn }) => {
                tracing::info!(integration = %integration.integration_id, topic_arn, "SNS unsubscribed this intake");
                return Ok(answer(StatusCode::OK, SUCCESS, "success"));
            }
            Err(problems) => return Ok(bad_request(&problems)),
        }
    } else if eventbridge::is_event(&body) {
        match eventbridge::parse(&body) {
            Ok(change) => change,
            Err(problems) => return Ok(bad_request(&problems)),
        }
    } else {
        return Ok(bad_request(
            "the body must be an SNS message (Type, TopicArn) or an EventBridge event (detail-type, detail)",
        ));
    };
    Ok(match record(app, key, &integration, &change, level).await {
        Ok(_) => answer(StatusCode::OK, SUCCESS, "success"),
        Err(IntakeError::UnknownKey) => unauthorized(),
        Err(IntakeError::Invalid(problems)) => bad_request(&problems),
        Err(IntakeError::Contended) => {
            answer(StatusCode::CONFLICT, "COC.00000009", "the alarm is changing fast; send it again")
        }
        Err(IntakeError::Store(err)) => return Err(err.into()),
    })
}

/// Why an SNS message was not taken as SNS's.
enum Unsigned {
    /// Its signature is missing, malformed or wrong, or its certificate is not SNS's or not valid now.
    Refused(String),
    /// Its (well-formed, SNS-hosted) certificate could not be fetched: SNS retries.
    Unavailable(String),
}

impl Unsigned {
    fn answer(self, integration: &Integration) -> ApiResponse {
        match self {
            Unsigned::Refused(why) => {
                tracing::warn!(integration = %integration.integration_id, why, "refused an SNS message");
                answer(StatusCode::FORBIDDEN, AUTH_FAILED, &format!("SNS message signature refused: {why}"))
            }
            Unsigned::Unavailable(why) => {
                tracing::warn!(integration = %integration.integration_id, why, "cannot check an SNS message");
                answer(StatusCode::SERVICE_UNAVAILABLE, "COC.00000010", &format!("SNS message not checked: {why}"))
            }
        }
    }
}

/// Checks an SNS message's signature against SNS's certificate at its
/// `SigningCertURL` (see [`signature`]), before anything of it is read.
async fn verify_signature(app: &App, body: &Value) -> Result<(), Unsigned> {
    let signed = signature::signed(body).map_err(Unsigned::Refused)?;
    let certificate =
        app.sns_certificates.certificate(app.https.as_ref(), &signed.cert_url).await.map_err(Unsigned::Unavailable)?;
    signature::verify(&signed, &certificate, app.clock.now_ms()).map_err(Unsigned::Refused)
}

/// The key a delivery of `change` is remembered by: per integration (two
/// integrations may be sent the same event) and per way it came.
fn delivery_key(integration: &Integration, change: &StateChange) -> String {
    format!("cloudwatch-{}:{}:{}", change.via, integration.integration_id, change.delivery_id)
}

/// Records one state change of an alarm with the integration of `key`.
pub async fn record(
    app: &App,
    key: &str,
    integration: &Integration,
    change: &StateChange,
    level: AlarmLevel,
) -> Result<Ingested, IntakeError> {
    // INSUFFICIENT_DATA keeps what is stored, as the intake reads it in its own write.
    let state = if change.keeps_stored_state() { ReportedState::KeepStored } else { ReportedState::AsReported };
    let report = change.custom_event(level);
    let taken = ingest_delivery_as(app, key, &report, &delivery_key(integration, change), state).await?;
    tracing::info!(
        integration = %integration.integration_id,
        alarm = change.alarm_name,
        state = change.state.key(),
        via = change.via,
        redelivered = taken.redelivered,
        "cloudwatch alarm state change recorded"
    );
    Ok(taken)
}

/// Confirms an SNS subscription to this intake: only a SubscribeURL that
/// [`sns::subscribe_url`] accepted (SNS's own host, in the topic's region) is
/// fetched, without following redirects. A failure answers 503, so SNS sends
/// the confirmation again.
async fn confirm(app: &App, integration: &Integration, confirmation: &Confirmation) -> ApiResponse {
    // Neither the URL nor its token is logged: the token confirms the subscription.
    match fetch_confirmation(app, &confirmation.subscribe_url).await {
        Ok(()) => {
            tracing::info!(
                integration = %integration.integration_id,
                topic_arn = confirmation.topic_arn,
                "SNS subscription confirmed"
            );
            answer(StatusCode::OK, SUCCESS, "subscription confirmed")
        }
        Err(problem) => {
            tracing::warn!(
                integration = %integration.integration_id,
                topic_arn = confirmation.topic_arn,
                problem,
                "could not confirm an SNS subscription"
            );
            answer(StatusCode::SERVICE_UNAVAILABLE, "COC.00000010", &format!("subscription not confirmed: {problem}"))
        }
    }
}

/// GETs the SubscribeURL through the app's HTTPS client (none in a build
/// without one: the subscription is then confirmed by hand with its token).
async fn fetch_confirmation(app: &App, url: &str) -> Result<(), String> {
    let answer = app.https.get(url).await?;
    match answer.status {
        200..=299 => Ok(()),
        status => Err(format!("SNS answered {status}")),
    }
}

/// What the `cloudwatch-alarm-events` function did with one invocation.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub recorded: usize,
    pub redelivered: usize,
    /// Changes that can never be recorded (their problems, logged).
    pub dropped: Vec<String>,
}

/// The changes in one invocation of the function: an EventBridge event, or
/// an `SnsEvent` (SNS's Lambda subscription) with one Notification per record.
pub fn changes_in(payload: &Value) -> Vec<Result<StateChange, String>> {
    use aws_lambda_events::sns::SnsEvent;
    if payload.get("Records").is_some() {
        match crate::domain::cloudwatch::decode::<SnsEvent>("", payload) {
            Ok(event) => event
                .records
                .iter()
                .enumerate()
                .map(|(i, record)| sns::notification(&record.sns).map_err(|p| format!("Records[{i}].Sns: {p}")))
                .collect(),
            Err(problem) => vec![Err(problem)],
        }
    } else {
        vec![eventbridge::parse(payload)]
    }
}

/// Takes one invocation's changes. Bad changes are dropped (sending them
/// again cannot help); a store failure or an unknown key is an error, so
/// that Lambda retries the invocation and the failure shows in its metrics.
pub async fn take(app: &App, key: &str, level: AlarmLevel, payload: &Value) -> Result<Taken, String> {
    let integration = incidents::integration_by_key(app.store.as_ref(), key)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the configured integration key is not one of an integration")?;
    let mut taken = Taken::default();
    for change in changes_in(payload) {
        let change = match change {
            Ok(change) => change,
            Err(problem) => {
                tracing::error!(problem, "dropping a CloudWatch event that cannot be recorded");
                taken.dropped.push(problem);
                continue;
            }
        };
        match record(app, key, &integration, &change, level).await {
            Ok(ingested) if ingested.redelivered => taken.redelivered += 1,
            Ok(_) => taken.recorded += 1,
            Err(IntakeError::Invalid(problem)) => {
                tracing::error!(problem, "dropping a CloudWatch event that cannot be recorded");
                taken.dropped.push(problem);
            }
            Err(err) => return Err(err.to_string()),
        }
    }
    Ok(taken)
}

/// The environment of the `cloudwatch-alarm-events` function.
pub const KEY_VAR: &str = "COC_CLOUDWATCH_INTEGRATION_KEY";
pub const LEVEL_VAR: &str = "COC_CLOUDWATCH_ALARM_LEVEL";

/// The function's integration key and default level, from its environment.
pub fn config_from_env() -> Result<(String, AlarmLevel), String> {
    let key = std::env::var(KEY_VAR).ok().filter(|k| !k.is_empty()).ok_or(format!("{KEY_VAR} is not set"))?;
    let level = match std::env::var(LEVEL_VAR).ok().filter(|l| !l.is_empty()) {
        Some(level) => parse_level(LEVEL_VAR, &level)?,
        None => DEFAULT_LEVEL,
    };
    Ok((key, level))
}
