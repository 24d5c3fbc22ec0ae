//! Notifications (O&M engineer management): what COC tells people, by which
//! channel, and what became of each delivery. Triggers (incidents, alarms,
//! tickets, subscriptions) build a [`Message`]; `crate::notify` resolves the
//! recipient's [`Destination`]s, records one [`Notification`] with one
//! [`Delivery`] per destination, and delivers them through the queue.

mod mask;

use serde::{Deserialize, Serialize};

pub use mask::mask_address;

use crate::domain::tenant::ProjectId;

/// How a message reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Email,
    Sms,
    Voice,
    Wecom,
    Dingtalk,
    Lark,
}

impl Channel {
    /// The channels that need the recipient's confirmed subscription first.
    pub fn needs_subscription(self) -> bool {
        matches!(self, Channel::Email | Channel::Sms | Channel::Voice)
    }
}

/// One place a message can be delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub channel: Channel,
    /// An email address, an E.164 number, or a robot's webhook URL.
    pub address: String,
    /// A robot's signing secret (DingTalk, Lark), sealed by `SecretBox`: opened
    /// only by the sender, just before it signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_key: Option<String>,
}

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// A subscription's confirmation link, to the address being confirmed.
    SubscriptionConfirmation,
    IncidentCreated,
    IncidentAssigned,
    /// Any other workflow transition of an incident, to its assignee.
    IncidentTransition,
    /// An alarm that opened an incident, to the incident's assignee.
    AlarmOpenedIncident,
    /// A ticket that ended ABNORMAL, to its creator.
    TicketAbnormal,
    /// A war room opened for an incident, to each of its members.
    WarRoomCreated,
}

/// What is said: short plain text, with a link to the object it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub kind: EventKind,
    /// One line: the mail subject, and the first line everywhere else.
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// What the message is about (an incident number, a ticket id, an engineer), for the log.
    pub subject_id: String,
}

impl Message {
    /// The whole message as one plain text: the subject line, the text and
    /// the link (what an SMS, a call and a chat robot say).
    pub fn as_text(&self) -> String {
        let mut text = format!("{}\n{}", self.subject, self.text);
        if let Some(link) = &self.link {
            text.push('\n');
            text.push_str(link);
        }
        text
    }

    /// The mail body: the text and the link (the subject is the mail's own).
    pub fn mail_body(&self) -> String {
        match &self.link {
            Some(link) => format!("{}\n\n{link}\n", self.text),
            None => format!("{}\n", self.text),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Given up after the last attempt; `last_error` says why.
    Failed,
}

/// One destination of a notification, and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub destination: Destination,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// When the next attempt is due (ms): the creation time, then each retry's
    /// backoff. A queue message that comes earlier is a stale duplicate; the
    /// sweep re-queues a pending delivery whose due time is long past.
    #[serde(default)]
    pub due_at: i64,
    /// When a consumer claimed the current attempt (it is sending); a claim
    /// older than the claim timeout was lost with its consumer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<i64>,
}

impl Delivery {
    /// A delivery to `destination` that nobody has attempted yet, due at `now`.
    pub fn new(destination: Destination, now: i64) -> Self {
        Delivery {
            destination,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_error: None,
            sent_at: None,
            due_at: now,
            claimed_at: None,
        }
    }

    pub fn is_final(&self) -> bool {
        self.status != DeliveryStatus::Pending
    }
}

impl Notification {
    /// Whether every delivery is over (sent or given up): nothing more to do.
    pub fn is_final(&self) -> bool {
        self.deliveries.iter().all(Delivery::is_final)
    }
}

/// One message to one person (or one address), with its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub notification_id: String,
    pub project_id: ProjectId,
    /// The engineer it is for; `None` for a message to a bare address (a confirmation).
    pub user_id: Option<String>,
    pub message: Message,
    pub deliveries: Vec<Delivery>,
    pub create_time: i64,
}
