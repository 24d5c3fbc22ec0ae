//! The ports of a binary, chosen from its environment once at start: the
//! composition root of the Lambda functions and of `coc-local`.

use std::path::Path;
use std::sync::Arc;

use coc_shared::adapters::blobs_fs::FsBlobs;
use coc_shared::adapters::outbox::Outbox;
use coc_shared::adapters::unavailable::{NoBlobs, NoQueue};
use coc_shared::app::{
    App, ATTACHMENTS_BUCKET_VAR, EMBEDDED_BLOBS_DIR, EMBEDDED_POLL_RECHECK, NOTIFY_QUEUE_VAR, SHARED_STORE_POLL_RECHECK,
};
use coc_shared::auth::PublicHosts;
use coc_shared::notify::config::DeliveryConfig;
use coc_shared::notify::deliver::Deliverer;
use coc_shared::notify::senders::{Senders, SMS_PROVIDER_VAR, VOICE_PROVIDER_VAR};
use coc_shared::ports::{Blobs, Queue, Store, Unconfigured};
use coc_shared::secrets::SecretBox;

/// DynamoDB when `COC_TABLE_NAME` is set and SQS when `COC_QUEUE_URL` (and
/// for notifications `COC_NOTIFY_QUEUE_URL`) is set;
/// otherwise, with the `embedded` feature, the embedded store and queue in
/// `COC_DATA_DIR`. The public hosts come from `COC_PUBLIC_HOSTS`, the polls'
/// recheck interval from `COC_POLL_RECHECK_MS`. The master key is in KMS when
/// `COC_KMS_KEY_ID` is set, otherwise in the local key file.
/// A binary built without the `sqs` or `kms` feature (a Lambda function whose
/// route needs no queue or no secrets) gets a port that refuses every call.
#[cfg(feature = "dynamodb")]
pub async fn app_from_env() -> Result<App, String> {
    use crate::adapters::dynamodb::DynamoStore;

    let setting = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    // One AWS configuration (region, credentials, HTTP client) for all the
    // clients, loaded only if one is made: a cold start resolves it once.
    let aws = tokio::sync::OnceCell::new();
    let aws_config = || aws.get_or_init(aws_config::load_from_env);
    let table = setting("COC_TABLE_NAME");
    let queue_url = setting("COC_QUEUE_URL");
    let embedded = match (&table, &queue_url) {
        (Some(_), Some(_)) => None,
        _ if cfg!(feature = "embedded") => Some(App::embedded(&App::data_dir_from_env())?),
        _ => None,
    };
    let poll_recheck = App::poll_recheck_from_env(match table {
        Some(_) => SHARED_STORE_POLL_RECHECK,
        None => EMBEDDED_POLL_RECHECK,
    })?;
    // The embedded store's wake-up registry watches other processes' writes: it goes with the store.
    let (store, wakeups): (Arc<dyn Store>, _) = match table {
        Some(table) => (Arc::new(DynamoStore::from_config(aws_config().await, table)), None),
        None => {
            let embedded = embedded.as_ref().ok_or("COC_TABLE_NAME is not set and this build has no embedded store")?;
            (embedded.store.clone(), Some(embedded.wakeups.clone()))
        }
    };
    let queue = queue_of(queue_url, embedded.as_ref().map(|e| e.queue.clone()), "COC_QUEUE_URL is not set", &aws).await;
    // Notifications wait on a queue of their own (`COC_NOTIFY_QUEUE_URL`).
    let notify_queue = queue_of(
        setting(NOTIFY_QUEUE_VAR),
        embedded.as_ref().map(|e| e.notify_queue.clone()),
        "COC_NOTIFY_QUEUE_URL is not set",
        &aws,
    )
    .await;
    // Attachments go to S3 when a bucket is named; else, where the build
    // has the embedded fallback (coc-local), to the data directory,
    // whatever the store is.
    let blobs: Arc<dyn Blobs> = match setting(ATTACHMENTS_BUCKET_VAR) {
        #[cfg(feature = "s3")]
        Some(bucket) => Arc::new(crate::adapters::blobs_s3::S3Blobs::from_config(aws_config().await, bucket)),
        _ if cfg!(feature = "embedded") => Arc::new(FsBlobs::new(App::data_dir_from_env().join(EMBEDDED_BLOBS_DIR))),
        #[cfg(not(feature = "s3"))]
        Some(_) => Arc::new(NoBlobs { reason: "built without the `s3` feature" }),
        None => Arc::new(NoBlobs { reason: "COC_ATTACHMENTS_BUCKET is not set" }),
    };
    let secrets = match setting("COC_KMS_KEY_ID") {
        #[cfg(feature = "kms")]
        Some(key_id) => {
            SecretBox::new(Arc::new(crate::adapters::kms::KmsKeyring::from_config(aws_config().await, key_id)))
        }
        #[cfg(not(feature = "kms"))]
        Some(_) => SecretBox::new(Arc::new(coc_shared::adapters::unavailable::NoKeyring {
            reason: "built without the `kms` feature",
        })),
        None => {
            let data_dir = App::data_dir_from_env();
            std::fs::create_dir_all(&data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            App::local_secrets(&data_dir)?
        }
    };
    let app = App::new(store, queue);
    let app = match wakeups {
        Some(wakeups) => app.with_wakeups(wakeups),
        None => app,
    };
    let app = app
        .with_notify_queue(notify_queue)
        .with_blobs(blobs)
        .with_secrets(secrets)
        .with_public_hosts(PublicHosts::from_env()?)
        .with_poll_recheck(poll_recheck);
    with_https(app).with_link_settings_from_env()
}

/// The SQS queue at `url` when one is set, else the embedded one (where the
/// build has it), else a queue that refuses every call, saying why (`unset`:
/// the variable that names it is not set).
#[cfg(feature = "dynamodb")]
async fn queue_of(
    url: Option<String>,
    embedded: Option<Arc<dyn Queue>>,
    unset: &'static str,
    aws: &tokio::sync::OnceCell<aws_config::SdkConfig>,
) -> Arc<dyn Queue> {
    #[cfg(not(feature = "sqs"))]
    let _ = aws;
    match (url, embedded) {
        #[cfg(feature = "sqs")]
        (Some(url), _) => Arc::new(crate::adapters::sqs::SqsQueue::from_config(
            aws.get_or_init(aws_config::load_from_env).await,
            url,
            coc_shared::app::QUEUE_VISIBILITY_TIMEOUT,
        )),
        (None, Some(embedded)) => embedded,
        _ if cfg!(feature = "sqs") => Arc::new(NoQueue { reason: unset }),
        _ => Arc::new(NoQueue { reason: "built without the `sqs` feature" }),
    }
}

/// The HTTPS client for SNS subscription confirmations, where the build has one.
fn with_https(app: App) -> App {
    #[cfg(feature = "robots")]
    let app = app.with_https(Arc::new(crate::adapters::https::ReqwestGet::new()));
    app
}

/// Mail over SMTP when `COC_SMTP_HOST` is set; SMS and voice to the
/// outbox files in `data_dir/outbox`, or SMS through SNS with
/// `COC_SMS_PROVIDER=sns` and voice calls through Pinpoint SMS and Voice
/// with `COC_VOICE_PROVIDER=pinpoint` (with SNS for SMS and no voice
/// provider named, voice deliveries fail, saying so); robots to the
/// vendors' and the allow-listed hosts (`app.webhook_hosts`, from
/// `COC_WEBHOOK_ALLOWED_HOSTS`).
pub async fn senders_from_env(app: &App, data_dir: &Path) -> Result<Senders, String> {
    let mut senders = Senders::unconfigured();
    #[cfg(feature = "smtp")]
    if let Some(config) = crate::adapters::smtp::SmtpConfig::from_env()? {
        tracing::info!(host = config.host, port = config.port, tls = ?config.tls, "mail goes over SMTP");
        senders.email = Arc::new(crate::adapters::smtp::SmtpSender::new(&config)?);
    }
    let setting = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let sms_provider = setting(SMS_PROVIDER_VAR);
    match sms_provider.as_deref() {
        None | Some("outbox") => senders.sms = Arc::new(Outbox::in_data_dir(data_dir, "sms.jsonl")),
        #[cfg(feature = "sns")]
        Some("sns") => senders.sms = Arc::new(crate::adapters::sns::SnsSms::from_env().await),
        Some(other) => return Err(format!("{SMS_PROVIDER_VAR}: `{other}` is not a provider of this build")),
    }
    // Voice follows SMS to the outbox unless a provider is named.
    let sms_in_outbox = matches!(sms_provider.as_deref(), None | Some("outbox"));
    match setting(VOICE_PROVIDER_VAR).as_deref() {
        Some("outbox") => senders.voice = Arc::new(Outbox::in_data_dir(data_dir, "voice.jsonl")),
        None if sms_in_outbox => senders.voice = Arc::new(Outbox::in_data_dir(data_dir, "voice.jsonl")),
        None => {
            senders.voice = Arc::new(Unconfigured {
                reason: "no voice provider: Amazon SNS sends SMS but places no calls (set COC_VOICE_PROVIDER)",
            })
        }
        #[cfg(feature = "sms-voice")]
        Some("pinpoint") => senders.voice = Arc::new(crate::adapters::pinpoint_voice::PinpointVoice::from_env().await?),
        Some(other) => return Err(format!("{VOICE_PROVIDER_VAR}: `{other}` is not a provider of this build")),
    }
    #[cfg(not(feature = "robots"))]
    let _ = app;
    #[cfg(feature = "robots")]
    {
        let allowed = app.webhook_hosts.clone();
        senders.robots =
            Arc::new(crate::adapters::robots::RobotSender::new(allowed, crate::adapters::robots::ROBOT_TIMEOUT));
    }
    Ok(senders)
}

/// The senders and retry settings of the environment (see [`senders_from_env`], `DeliveryConfig::from_env`).
pub async fn deliverer_from_env(app: &App) -> Result<Deliverer, String> {
    let senders = senders_from_env(app, &App::data_dir_from_env()).await?;
    Ok(Deliverer { senders, config: DeliveryConfig::from_env()? })
}
