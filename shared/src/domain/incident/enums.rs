//! The incident enumerations of spec 4.4.1.4, with the names the detail's
//! `enum_data_list` shows.

use serde::{Deserialize, Serialize};

/// A closed set of keys, each with a Chinese and an English name.
pub trait Named: Copy + 'static {
    const ALL: &'static [Self];
    fn key(self) -> &'static str;
    fn names(self) -> (&'static str, &'static str);

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.key() == key)
    }

    fn keys() -> String {
        Self::ALL.iter().map(|v| v.key()).collect::<Vec<_>>().join(", ")
    }
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $key:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $key)] $variant,)+
        }

        impl Named for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)+ }
            }
            fn names(self) -> (&'static str, &'static str) {
                match self { $($name::$variant => ($zh, $en),)+ }
            }
        }
    };
}

named_enum!(IncidentLevel {
    P1 = "level_10", "P1", "P1";
    P2 = "level_20", "P2", "P2";
    P3 = "level_30", "P3", "P3";
    P4 = "level_40", "P4", "P4";
    P5 = "level_50", "P5", "P5";
});

named_enum!(IncidentType {
    Security = "inc_type_p_security_issues", "安全问题", "Security issues";
    Function = "inc_type_p_function_issues", "功能问题", "function issues";
    Reliability = "inc_type_p_reliability_issues", "性能/可靠性问题", "reliability issues";
    Config = "inc_type_p_config_issues", "配置问题", "config issues";
    Middleware = "inc_type_p_middleware_issues", "中间件问题", "middleware issues";
    Hardware = "inc_type_p_hardware_issues", "硬件问题", "hardware issues";
    Networking = "inc_type_p_networking_issues", "网络问题", "networking issues";
    Shelter = "inc_type_p_shelter_issues", "机房问题", "shelter issues";
    Monitoring = "inc_type_p_monitoring_issues", "监控问题", "monitoring issues";
    Consulting = "inc_type_p_consulting_issues", "咨询问题", "consulting issues";
    Suppliers = "inc_type_p_suppliers_issues", "供应商问题", "suppliers issues";
    Other = "inc_type_p_ohter_issues", "其他问题", "Other issues";
    Change = "inc_type_p_change_issues", "变更操作问题", "Change operation problem";
});

named_enum!(IncidentSource {
    Manual = "incident_source_manual", "手动创建", "Manual Creation";
    Forwarding = "incident_source_forwarding", "转单创建", "Transfer creation";
    Alarm = "incident_source_alarm", "告警", "alarm";
});

named_enum!(IncidentStatus {
    Triggered = "INCIDENT_STATUS_TRIGGERED", "未受理", "TRIGGERED";
    Acknowledged = "INCIDENT_STATUS_ACKNOWLEDGED", "已受理", "ACKNOWLEDGED";
    Rejected = "INCIDENT_STATUS_REJECTED", "已驳回", "REJECTED";
    Resolved = "INCIDENT_STATUS_RESOLVED", "待验证", "RESOLVED";
    Completed = "INCIDENT_STATUS_COMPLETED", "已完成", "COMPLETED";
});

named_enum!(
    /// Alarm severities, most severe first.
    AlarmLevel {
        Critical = "Critical", "紧急", "Critical";
        Major = "Major", "重要", "Major";
        Minor = "Minor", "次要", "Minor";
        Info = "Info", "提示", "Info";
    }
);

impl AlarmLevel {
    /// Whether this level is `threshold` or more severe.
    pub fn at_least(self, threshold: AlarmLevel) -> bool {
        let rank = |l: AlarmLevel| AlarmLevel::ALL.iter().position(|x| *x == l).unwrap_or(usize::MAX);
        rank(self) <= rank(threshold)
    }
}
