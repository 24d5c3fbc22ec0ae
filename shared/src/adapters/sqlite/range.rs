//! Sort-key ranges as SQLite index ranges. A prefix query becomes
//! `sk >= prefix AND sk < successor(prefix)`, which the `(pk, sk)` primary key
//! answers by seeking to the first key and stopping at the last one, so a
//! query reads only the items it returns (a prefix test on its own, such as
//! `substr()` or `LIKE` with user data, would read the partition's tail).

use crate::ports::{IndexQuery, Order, PageQuery};

/// Every column of an item, in the order [`super::store`] reads them.
pub(super) const COLUMNS: &str = "pk, sk, data, version, list_pk, list_sk, filter_pk, filter_sk, tally";

/// The smallest string greater than every string that starts with `prefix`,
/// or `None` when there is none (the empty prefix, or one made only of
/// U+10FFFF). TEXT with the BINARY collation compares UTF-8 bytes, and UTF-8
/// byte order is code-point order, so stepping the last character to the
/// next scalar value is exact: no valid string lies between the prefix range
/// and the successor. (`prefix || char(0x10FFFF)` would not be exact: it
/// leaves out keys that continue after a U+10FFFF.)
pub(super) fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // Surrogates are not scalar values: after U+D7FF comes U+E000.
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The WHERE bounds of a range read and the values they bind, after `?1 = pk`.
/// Exactly one lower and at most one upper bound on `sk`, so the planner uses
/// both as the index range instead of filtering one of them.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Range {
    lower: (&'static str, String),
    upper: Option<(&'static str, String)>,
}

impl Range {
    pub(super) fn prefix(prefix: &str) -> Self {
        Range { lower: (">=", prefix.to_owned()), upper: successor(prefix).map(|s| ("<", s)) }
    }

    /// The prefix range narrowed to the keys strictly after `after` in `order`.
    pub(super) fn page(query: &PageQuery<'_>) -> Self {
        let mut range = Range::prefix(query.prefix);
        if let Some(after) = query.after {
            match query.order {
                Order::Ascending if after >= range.lower.1.as_str() => range.lower = (">", after.to_owned()),
                Order::Descending if range.upper.as_ref().is_none_or(|(_, upper)| after <= upper.as_str()) => {
                    range.upper = Some(("<", after.to_owned()))
                }
                _ => {}
            }
        }
        range
    }

    /// Every column of the range's items in `order`, with `LIMIT ?n` when limited.
    pub(super) fn select(&self, order: Order, limited: bool) -> String {
        let mut sql = format!("SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk {} ?2", self.lower.0);
        if let Some((op, _)) = &self.upper {
            sql.push_str(&format!(" AND sk {op} ?3"));
        }
        sql.push_str(match order {
            Order::Ascending => " ORDER BY sk ASC",
            Order::Descending => " ORDER BY sk DESC",
        });
        if limited {
            sql.push_str(if self.upper.is_some() { " LIMIT ?4" } else { " LIMIT ?3" });
        }
        sql
    }

    /// The `sk` bound values, in parameter order after the partition key.
    pub(super) fn bounds(&self) -> Vec<&str> {
        std::iter::once(self.lower.1.as_str()).chain(self.upper.as_ref().map(|(_, v)| v.as_str())).collect()
    }
}

/// The statement of an index read: `?1` the index partition, then `?2` the
/// `after` bound when there is one, then the limit. The partial index answers
/// it as a range, in order (`list_pk = ?` implies `list_pk IS NOT NULL`).
pub(super) fn index_select(query: &IndexQuery<'_>) -> String {
    let (pk, sk) = query.index.attributes();
    let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {pk} = ?1");
    let direction = match query.order {
        Order::Ascending => (">", "ASC"),
        Order::Descending => ("<", "DESC"),
    };
    let limit = if query.after.is_some() {
        sql.push_str(&format!(" AND {sk} {} ?2", direction.0));
        "?3"
    } else {
        "?2"
    };
    sql.push_str(&format!(" ORDER BY {sk} {} LIMIT {limit}", direction.1));
    sql
}

/// Which index an index read goes through, by name (for query plans in tests).
#[cfg(test)]
pub(super) fn index_table(index: crate::ports::Index) -> &'static str {
    match index {
        crate::ports::Index::List => "items_list",
        crate::ports::Index::Filter => "items_filter",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_steps_the_last_character() {
        assert_eq!(successor("A#").as_deref(), Some("A$"));
        assert_eq!(successor("é").as_deref(), Some("ê"));
        assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"), "surrogates are skipped");
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"), "the highest character carries");
        assert_eq!(successor("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
    }

    #[test]
    fn successor_bounds_every_extension_of_the_prefix_in_byte_order() {
        for prefix in ["A#", "é", "a\u{D7FF}", "x\u{FFFF}", "x\u{10FFFF}", "\u{7F}"] {
            let next = successor(prefix).unwrap();
            for tail in ["", "\0", "z", "\u{10FFFF}\u{10FFFF}", "\u{FFFF}"] {
                let key = format!("{prefix}{tail}");
                assert!(key.as_bytes() < next.as_bytes(), "{key:?} < {next:?}");
            }
            assert!(!next.starts_with(prefix) && next.as_bytes() > prefix.as_bytes());
        }
    }
}
