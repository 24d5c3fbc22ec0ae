//! An explicit JSON `null` for an optional field means "absent": the official
//! SDK omits unset fields, but Terraform and hand-written clients send `null`.
//! `Option` fields get this from serde; a field that defaults to something else
//! (an empty list, a level) reads `null` with [`null_is_default`] or [`null_or`].

use serde::{Deserialize, Deserializer};

/// `#[serde(default, deserialize_with = "null_is_default")]`: absent or `null` is `T::default()`.
pub fn null_is_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `null` is `default()`; for fields whose default is not `T::default()`
/// (wrap it in a named function for `deserialize_with`).
pub fn null_or<'de, D, T>(deserializer: D, default: fn() -> T) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_else(default))
}
