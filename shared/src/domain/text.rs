//! Length-bounded text newtypes. Lengths are counted in characters, as the spec
//! states them, not in bytes.

pub fn char_len(value: &str) -> usize {
    value.chars().count()
}

/// Letters, digits and underscores only: the rule for script and parameter names.
pub fn is_word(value: &str) -> bool {
    value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks the length bounds; the message is completed with the field name by
/// the JSON decoder, which knows where the value sits.
pub fn check_len(value: &str, min: usize, max: usize) -> Result<(), String> {
    let len = char_len(value);
    if len < min || len > max {
        Err(if min == 0 {
            format!("must be at most {max} characters, got {len}")
        } else {
            format!("must be {min} to {max} characters, got {len}")
        })
    } else {
        Ok(())
    }
}

/// Declares a string newtype that can only be built through its rule. It
/// (de)serializes as a plain JSON string, so a request body that breaks the rule
/// fails to decode with the field's path in the error.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $min:expr, $max:expr $(, $extra:expr)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MIN_CHARS: usize = $min;
            pub const MAX_CHARS: usize = $max;

            pub fn parse(value: impl Into<String>) -> Result<Self, String> {
                let value = value.into();
                $crate::domain::text::check_len(&value, $min, $max)?;
                $( ($extra)(&value)?; )?
                Ok($name(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
