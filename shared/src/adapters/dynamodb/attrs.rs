//! Attribute-map helpers: building attribute values and reading them back with errors that
//! name the attribute, never its value.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::error::{AppError, AppResult};
use crate::model::timestamp;

/// One stored item.
pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn bool(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

pub(super) fn string_list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().cloned().map(AttributeValue::S).collect())
}

/// A timestamp as stored: RFC 3339 in UTC with as many fractional digits as it has, so it
/// reads back exactly.
pub(super) fn time(at: &DateTime<Utc>) -> AttributeValue {
    s(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A date as stored: `YYYY-MM-DD`.
pub(super) fn date(day: NaiveDate) -> AttributeValue {
    s(day.format("%Y-%m-%d").to_string())
}

/// The primary key of an item.
pub(super) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn malformed(name: &str, expected: &str) -> AppError {
    AppError::internal(format!(
        "stored item has a missing or malformed {name} attribute (expected {expected})"
    ))
}

pub(super) fn opt_str<'a>(item: &'a Item, name: &str) -> AppResult<Option<&'a str>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v)),
        Some(_) => Err(malformed(name, "a string")),
    }
}

pub(super) fn req_str<'a>(item: &'a Item, name: &str) -> AppResult<&'a str> {
    opt_str(item, name)?.ok_or_else(|| malformed(name, "a string"))
}

pub(super) fn req_string(item: &Item, name: &str) -> AppResult<String> {
    req_str(item, name).map(str::to_string)
}

pub(super) fn opt_num<T: FromStr>(item: &Item, name: &str) -> AppResult<Option<T>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| malformed(name, "a number in range")),
        Some(_) => Err(malformed(name, "a number")),
    }
}

pub(super) fn req_num<T: FromStr>(item: &Item, name: &str) -> AppResult<T> {
    opt_num(item, name)?.ok_or_else(|| malformed(name, "a number"))
}

pub(super) fn req_bool(item: &Item, name: &str) -> AppResult<bool> {
    match item.get(name) {
        Some(AttributeValue::Bool(v)) => Ok(*v),
        _ => Err(malformed(name, "a boolean")),
    }
}

/// A list of strings; a missing attribute is an empty list.
pub(super) fn req_string_list(item: &Item, name: &str) -> AppResult<Vec<String>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(Vec::new()),
        Some(AttributeValue::L(values)) => values
            .iter()
            .map(|v| match v {
                AttributeValue::S(text) => Ok(text.clone()),
                _ => Err(malformed(name, "a list of strings")),
            })
            .collect(),
        Some(AttributeValue::Ss(values)) => Ok(values.clone()),
        Some(_) => Err(malformed(name, "a list of strings")),
    }
}

/// Binary bytes; missing or any other type is an error.
pub(super) fn req_bytes<'a>(item: &'a Item, name: &str) -> AppResult<&'a [u8]> {
    match item.get(name) {
        Some(AttributeValue::B(blob)) => Ok(blob.as_ref()),
        _ => Err(malformed(name, "binary")),
    }
}

pub(super) fn req_time(item: &Item, name: &str) -> AppResult<DateTime<Utc>> {
    timestamp::parse(req_str(item, name)?).ok_or_else(|| malformed(name, "an RFC 3339 timestamp"))
}

pub(super) fn req_date(item: &Item, name: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(req_str(item, name)?, "%Y-%m-%d")
        .map_err(|_| malformed(name, "a YYYY-MM-DD date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_and_dates_read_back_exactly() {
        let at = Utc.timestamp_opt(1_780_000_000, 123_456_789).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 10, 3).unwrap();
        let item = Item::from([("at".into(), time(&at)), ("day".into(), date(day))]);
        assert_eq!(req_time(&item, "at").unwrap(), at);
        assert_eq!(req_date(&item, "day").unwrap(), day);
        assert_eq!(req_str(&item, "day").unwrap(), "2026-10-03");
    }

    #[test]
    fn errors_name_the_attribute_not_the_value() {
        let item = Item::from([("secret".into(), n(42))]);
        let err = req_str(&item, "secret").unwrap_err().to_string();
        assert!(err.contains("secret") && !err.contains("42"));
        assert!(req_num::<u8>(&Item::from([("x".into(), n(300))]), "x").is_err());
        assert_eq!(
            req_string_list(&Item::new(), "spent").unwrap(),
            Vec::<String>::new()
        );
    }
}
