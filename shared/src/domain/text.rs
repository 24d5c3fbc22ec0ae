//! Length-bounded text newtypes. Lengths are counted in characters, as the spec
//! states them, not in bytes.

pub fn char_len(value: &str) -> usize {
    value.chars().count()
}

/// Letters, digits and underscores only: the rule for script and parameter names.
pub fn is_word(value: &str) -> bool {
    value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Declares a string newtype that can only be built through its rule: a length
/// limit from [`crate::limits`] and, optionally, a check of its characters. It
/// (de)serializes as a plain JSON string, so a request body that breaks the rule
/// fails to decode with the field's path in the error.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $limit:expr $(, $extra:expr)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The length bounds, from [`crate::limits`].
            pub const LIMIT: $crate::limits::Chars = $limit;

            pub fn parse(value: impl Into<String>) -> Result<Self, String> {
                let value = value.into();
                Self::LIMIT.check(&value)?;
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
