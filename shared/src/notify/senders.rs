//! Which sender serves each channel, chosen from the environment once when a
//! consumer starts. A channel nothing serves fails its deliveries with a
//! clear error; nothing is ever marked sent that was not.

use std::path::Path;
use std::sync::Arc;

use crate::adapters::outbox::Outbox;
use crate::app::App;
use crate::domain::notification::Channel;
use crate::ports::{Sender, Unconfigured};

/// `outbox` (the default: a JSON-lines file in the data dir) or `sns` (Amazon SNS, AWS).
pub const SMS_PROVIDER_VAR: &str = "COC_SMS_PROVIDER";
/// `outbox` (the default while SMS goes to the outbox) or `pinpoint` (Amazon
/// Pinpoint SMS and Voice v2, AWS; needs `COC_VOICE_ORIGINATION_IDENTITY`).
pub const VOICE_PROVIDER_VAR: &str = "COC_VOICE_PROVIDER";

#[derive(Clone)]
pub struct Senders {
    pub email: Arc<dyn Sender>,
    pub sms: Arc<dyn Sender>,
    pub voice: Arc<dyn Sender>,
    /// WeCom, DingTalk and Lark.
    pub robots: Arc<dyn Sender>,
}

impl Senders {
    /// Every channel refused (a start for tests to replace some).
    pub fn unconfigured() -> Self {
        Senders {
            email: Arc::new(Unconfigured { reason: "no mail server is configured (COC_SMTP_HOST)" }),
            sms: Arc::new(Unconfigured { reason: "no SMS provider is configured" }),
            voice: Arc::new(Unconfigured { reason: "no voice provider is configured" }),
            robots: Arc::new(Unconfigured { reason: "this build has no chat robot sender" }),
        }
    }

    pub fn for_channel(&self, channel: Channel) -> &dyn Sender {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::Voice => self.voice.as_ref(),
            Channel::Wecom | Channel::Dingtalk | Channel::Lark => self.robots.as_ref(),
        }
    }

    /// Mail over SMTP when `COC_SMTP_HOST` is set; SMS and voice to the
    /// outbox files in `data_dir/outbox`, or SMS through SNS with
    /// `COC_SMS_PROVIDER=sns` and voice calls through Pinpoint SMS and Voice
    /// with `COC_VOICE_PROVIDER=pinpoint` (with SNS for SMS and no voice
    /// provider named, voice deliveries fail, saying so); robots to the
    /// vendors' and the allow-listed hosts (`app.webhook_hosts`, from
    /// `COC_WEBHOOK_ALLOWED_HOSTS`).
    pub async fn from_env(app: &App, data_dir: &Path) -> Result<Self, String> {
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
            Some("pinpoint") => {
                senders.voice = Arc::new(crate::adapters::pinpoint_voice::PinpointVoice::from_env().await?)
            }
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
}
