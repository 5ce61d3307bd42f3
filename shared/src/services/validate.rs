//! Input rules shared by every route: e-mail addresses and paging.

use base64::Engine;
use serde::Serialize;

use crate::error::{AppError, AppResult};

/// Lower-cases and trims an address and checks its shape; the normalised form is the key.
pub fn normalize_email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || AppError::validation("email must be a valid e-mail address");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// A trimmed text field of `min..=max` characters: no control characters (line breaks and tabs
/// only where `multiline`), and when required, at least one visible character (a name made only
/// of zero-width characters is no name).
pub fn text_field(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> AppResult<String> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(AppError::validation(if min == 0 {
            format!("{field} must be at most {max} characters")
        } else {
            format!("{field} must be {min} to {max} characters")
        }));
    }
    let allowed_control = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err(AppError::validation(format!(
            "{field} must not contain control characters"
        )));
    }
    if min > 0
        && !value
            .chars()
            .any(|c| !c.is_whitespace() && !is_invisible(c))
    {
        return Err(AppError::validation(format!(
            "{field} must contain visible characters"
        )));
    }
    Ok(value.to_string())
}

/// Zero-width and other format characters that render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// `?limit=&cursor=` as every list route reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The id the previous page ended on, decoded from the opaque cursor.
    pub after: Option<String>,
}

impl PageRequest {
    /// The page size when the caller names none.
    pub const DEFAULT_LIMIT: usize = 20;
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: usize = 100;

    /// Parses the raw query values; a bad limit or cursor is a 400.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> AppResult<Self> {
        let limit = match limit.map(str::trim) {
            None | Some("") => Self::DEFAULT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    AppError::validation("limit must be a whole number from 1 to 100")
                })?,
        };
        let after = match cursor.map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(decode_cursor(text)?),
        };
        Ok(Self { limit, after })
    }
}

/// One page of a list: `{items, nextCursor}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items: the extra one only proves there is more.
    pub fn from_probe(mut items: Vec<T>, limit: usize, id_of: impl Fn(&T) -> &str) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more {
            items.last().map(|last| encode_cursor(id_of(last)))
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

impl<T> Page<T> {
    /// A page cut short before `limit`: the next one continues strictly below `resume_below`.
    pub fn resuming(items: Vec<T>, resume_below: &str) -> Self {
        Page {
            items,
            next_cursor: Some(encode_cursor(resume_below)),
        }
    }
}

fn encode_cursor(id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn decode_cursor(cursor: &str) -> AppResult<String> {
    let invalid = || AppError::validation("cursor is not one this API handed out");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let id = String::from_utf8(bytes).map_err(|_| invalid())?;
    if ulid::Ulid::from_string(&id).is_err() {
        return Err(invalid());
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Kim@Example.COM ").unwrap(),
            "kim@example.com"
        );
        for bad in [
            "",
            "kim",
            "@example.com",
            "kim@",
            "kim@example",
            "k im@example.com",
            "kim@.com",
            "a@b..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_fields_refuse_control_and_invisible_characters() {
        assert_eq!(
            text_field("name", "  불꽃 축제 ", 1, 10, false).unwrap(),
            "불꽃 축제"
        );
        assert!(text_field("name", "a\u{0}b", 1, 10, false).is_err());
        assert!(text_field("name", "a\nb", 1, 10, false).is_err());
        assert_eq!(
            text_field("description", "a\nb", 0, 10, true).unwrap(),
            "a\nb"
        );
        assert!(text_field("name", "\u{200B}\u{200B}", 1, 10, false).is_err());
        assert!(text_field("name", "   ", 1, 10, false).is_err());
        assert_eq!(text_field("description", "", 0, 10, true).unwrap(), "");
        assert!(text_field("name", &"가".repeat(11), 1, 10, false).is_err());
    }

    #[test]
    fn paging_defaults_bounds_and_cursors() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
        assert_eq!(PageRequest::parse(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(PageRequest::parse(None, Some("not-base64!")).is_err());
        assert!(PageRequest::parse(None, Some(&encode_cursor("not a ulid"))).is_err());
        let id = ulid::Ulid::generate().to_string();
        let page = Page::from_probe(vec![id.clone(), "x".into()], 1, |s| s);
        let again = PageRequest::parse(None, page.next_cursor.as_deref()).unwrap();
        assert_eq!(again.after.as_deref(), Some(id.as_str()));
        assert_eq!(Page::from_probe(vec![id], 1, |s| s).next_cursor, None);
    }
}
