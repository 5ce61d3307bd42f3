//! Calendar dates exactly as API.md writes them: `YYYY-MM-DD`, nothing looser.
//!
//! chrono alone also reads `+2027-02-22`, `2027-2-22` and `2027-02-2`; a request that spells a
//! date so has likely made a mistake, so it is refused rather than guessed at.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serializer};

/// Parses `YYYY-MM-DD` with every digit present.
pub fn parse(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// `#[serde(with = "calendar_date")]` support.
pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&date.format("%Y-%m-%d"))
}

/// `#[serde(with = "calendar_date")]` support.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| {
        serde::de::Error::custom(format!("expected a date as YYYY-MM-DD, got {text:?}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_spelling_is_a_date() {
        assert_eq!(parse("2027-02-22"), NaiveDate::from_ymd_opt(2027, 2, 22));
        for loose in [
            "+2027-02-22",
            "2027-2-22",
            "2027-02-2",
            " 2027-02-22",
            "2027-02-22 ",
            "+002027-02-22",
            "2026-02-30",
            "2027-02-22T00:00:00Z",
            "２０２７-02-22",
        ] {
            assert_eq!(parse(loose), None, "{loose}");
        }
    }
}
