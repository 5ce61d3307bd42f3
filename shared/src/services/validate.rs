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

/// A trimmed text field of `min..=max` characters: no control, format or bidirectional
/// override characters (see [`unsafe_text`]; line breaks and tabs only where `multiline`), and
/// when required, at least one visible character (a name made only of zero-width characters
/// is no name).
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
    refuse_unsafe_text(field, value, multiline)?;
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

/// Refuses text holding a character [`unsafe_text`] names, with a message saying which field.
pub fn refuse_unsafe_text(field: &str, value: &str, multiline: bool) -> AppResult<()> {
    if value.chars().any(|c| unsafe_text(c, multiline)) {
        return Err(AppError::validation(format!(
            "{field} must not contain control, invisible formatting or text-direction characters"
        )));
    }
    Ok(())
}

/// Characters that other people's screens would render misleadingly, or not at all: control
/// characters (Unicode `Cc`; `\n`, `\r` and `\t` allowed where `multiline`), format characters
/// (`Cf`: bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the
/// marks U+200E/U+200F, zero-width spaces, the BOM, and the rest), and the line and paragraph
/// separators. Two `Cf` ranges stay allowed because emoji are built from them: the zero-width
/// joiner U+200D (family and profession emoji) and the tag characters U+E0020–U+E007F
/// (subdivision flags such as Scotland's). Variation selectors and skin-tone modifiers are not
/// `Cf` and pass, as does Hangul.
pub fn unsafe_text(c: char, multiline: bool) -> bool {
    if c.is_control() {
        return !(multiline && matches!(c, '\n' | '\r' | '\t'));
    }
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200C}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
    )
}

/// Zero-width and other format characters that render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{E0020}'..='\u{E007F}')
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
    fn text_fields_refuse_direction_overrides_but_keep_emoji_and_korean() {
        for bidi in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{FEFF}', '\u{2028}',
            '\u{0085}', '\u{007F}',
        ] {
            let text = format!("pay{bidi}gpj.exe");
            assert!(text_field("name", &text, 1, 50, false).is_err(), "{bidi:?}");
            assert!(
                text_field("content", &text, 1, 50, true).is_err(),
                "{bidi:?}"
            );
        }
        for fine in [
            "페스타 팬",
            "👩\u{200D}👩\u{200D}👧 가족",
            "👍🏽 좋아요",
            "🇰🇷 대한민국",
            "❤\u{FE0F}",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
            "🧑\u{200D}🚀",
        ] {
            assert_eq!(text_field("name", fine, 1, 50, false).unwrap(), fine);
        }
        assert_eq!(
            text_field("content", "첫 줄\n둘째 줄", 1, 50, true).unwrap(),
            "첫 줄\n둘째 줄"
        );
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
