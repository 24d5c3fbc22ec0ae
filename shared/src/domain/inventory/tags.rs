//! Tags: key/value pairs on scripts and resources (Huawei Cloud's tag rules,
//! limits in `limits::tags`).

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::limits;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// What tags are put on. Each kind has its own index partitions and catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Script,
    /// A host with an agent (`GET /v1/resources`, provider `ecs`).
    Agent,
    /// A host imported without an agent (`import_other_resource`).
    Other,
}

impl TagKind {
    pub fn key_part(self) -> &'static str {
        match self {
            TagKind::Script => "SCRIPT",
            TagKind::Agent => "AGENT",
            TagKind::Other => "OTHER",
        }
    }
}

/// The resource type of the script tag routes (`/v1/script/{resource_type}/…`): the SDK names one.
pub const SCRIPT_RESOURCE_TYPE: &str = "coc:script";

/// Keys: letters (any script), digits, `_` and `-`; no `.` (the `tag`
/// filter is `key.value`, split at the first dot) and no `#` (key separator).
fn key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Values: what keys allow, plus `.`, and spaces inside.
fn value_char(c: char) -> bool {
    key_char(c) || c == '.' || c == ' ' || c == ':' || c == '/' || c == '@' || c == '='
}

fn check_key(field: &str, key: &str) -> Result<(), ApiError> {
    limits::TAG_KEY.check(key).map_err(|p| ApiError::invalid(field, p))?;
    if !key.chars().all(key_char) {
        return Err(ApiError::invalid(field, "may hold only letters, digits, '_' and '-'"));
    }
    Ok(())
}

fn check_value(field: &str, value: &str) -> Result<(), ApiError> {
    limits::TAG_VALUE.check(value).map_err(|p| ApiError::invalid(field, p))?;
    if !value.chars().all(value_char) || value.starts_with(' ') || value.ends_with(' ') {
        return Err(ApiError::invalid(
            field,
            "may hold only letters, digits, '_', '-', '.', ':', '/', '@', '=' and inner spaces",
        ));
    }
    Ok(())
}

/// A whole tag set as a request gives it (`field` names the array): each tag
/// checked, keys unique, at most [`limits::TAGS_PER_RESOURCE`]; sorted by key.
pub fn checked(field: &str, tags: Vec<Tag>) -> Result<Vec<Tag>, ApiError> {
    limits::TAGS_PER_RESOURCE.check(tags.len(), "tags").map_err(|p| ApiError::invalid(field, p))?;
    let mut tags = tags;
    for (n, tag) in tags.iter().enumerate() {
        check_key(&format!("{field}[{n}].key"), &tag.key)?;
        check_value(&format!("{field}[{n}].value"), &tag.value)?;
    }
    tags.sort();
    if let Some(pair) = tags.windows(2).find(|w| w[0].key == w[1].key) {
        return Err(ApiError::invalid(field, format!("key {:?} is given twice", pair[0].key)));
    }
    Ok(tags)
}

/// `tags` with `added` put on (a key already there takes the new value), checked as a whole.
pub fn merged(field: &str, tags: &[Tag], added: Vec<Tag>) -> Result<Vec<Tag>, ApiError> {
    let added = checked(field, added)?;
    let mut all: Vec<Tag> = tags.iter().filter(|t| !added.iter().any(|a| a.key == t.key)).cloned().collect();
    all.extend(added);
    checked(field, all)
}

/// A list's or count's tag filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFilter {
    /// `tag=key.value`: the key with exactly that value.
    Pair(Tag),
    /// `tag_key=key`: the key with any value.
    Key(String),
}

impl TagFilter {
    /// From the query's `tag` (`key.value`, split at the first dot) and
    /// `tag_key`; both given → 400 (`tag` names the key already).
    pub fn from_query(tag: Option<String>, tag_key: Option<String>) -> Result<Option<TagFilter>, ApiError> {
        match (tag, tag_key) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(ApiError::invalid("tag_key", "give either tag or tag_key, not both")),
            (Some(tag), None) => {
                limits::TAG_FILTER.check(&tag).map_err(|p| ApiError::invalid("tag", p))?;
                let (key, value) = tag.split_once('.').ok_or_else(|| ApiError::invalid("tag", "must be key.value"))?;
                check_key("tag", key)?;
                check_value("tag", value)?;
                Ok(Some(TagFilter::Pair(Tag { key: key.to_owned(), value: value.to_owned() })))
            }
            (None, Some(key)) => {
                check_key("tag_key", &key)?;
                Ok(Some(TagFilter::Key(key)))
            }
        }
    }

    pub fn matches(&self, tags: &[Tag]) -> bool {
        match self {
            TagFilter::Pair(pair) => tags.contains(pair),
            TagFilter::Key(key) => tags.iter().any(|t| &t.key == key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: &str) -> Tag {
        Tag { key: key.into(), value: value.into() }
    }

    #[test]
    fn tag_sets_are_checked_whole() {
        assert_eq!(checked("tags", vec![tag("b", "1"), tag("a", "")]).unwrap(), vec![tag("a", ""), tag("b", "1")]);
        let dup = checked("tags", vec![tag("a", "1"), tag("a", "2")]).unwrap_err();
        assert!(dup.to_string().contains("given twice"), "{dup}");
        let many: Vec<Tag> = (0..11).map(|n| tag(&format!("k{n}"), "v")).collect();
        assert!(checked("tags", many).unwrap_err().to_string().starts_with("tags:"));
        assert!(checked("tags", vec![tag(&"k".repeat(129), "")]).unwrap_err().to_string().contains("tags[0].key"));
        assert!(checked("tags", vec![tag("k", &"v".repeat(256))]).unwrap_err().to_string().contains("tags[0].value"));
        assert!(checked("tags", vec![tag("a.b", "")]).is_err());
        assert!(checked("tags", vec![tag("", "v")]).is_err());
        assert!(checked("tags", vec![tag("环境", "生产.1")]).is_ok());
    }

    #[test]
    fn merging_overwrites_keys() {
        let merged = merged("tags", &[tag("a", "1"), tag("b", "2")], vec![tag("b", "3"), tag("c", "4")]).unwrap();
        assert_eq!(merged, vec![tag("a", "1"), tag("b", "3"), tag("c", "4")]);
    }

    #[test]
    fn filters_split_at_the_first_dot() {
        let f = TagFilter::from_query(Some("env.prod.eu".into()), None).unwrap().unwrap();
        assert_eq!(f, TagFilter::Pair(tag("env", "prod.eu")));
        assert!(f.matches(&[tag("env", "prod.eu")]) && !f.matches(&[tag("env", "prod")]));
        assert!(TagFilter::from_query(Some("env".into()), None).is_err());
        assert!(TagFilter::from_query(Some("a.b".into()), Some("a".into())).is_err());
        assert!(TagFilter::from_query(None, Some("env".into())).unwrap().unwrap().matches(&[tag("env", "x")]));
    }
}
