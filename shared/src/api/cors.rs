//! Cross-origin answers, so the single-page app may be served from another origin than the
//! API (API.md, Conventions). The same policy runs in every Lambda and in the local platform;
//! on AWS the gateway answers preflights itself (template.yaml), with these same values.

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::error::{AppError, AppResult};

/// The methods the REST routes use.
pub const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// The request headers a browser may send: the bearer token, JSON bodies, booking retries.
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key";
/// The answer headers a script may read: when to retry after a `429` or `503`.
pub const EXPOSE_HEADERS: &str = "Retry-After";
/// How long a browser may reuse a preflight answer, in seconds (Chromium caps it at 7200).
pub const MAX_AGE_SECONDS: &str = "600";

/// The origins a deployment lets browsers call it from. Tokens travel in the `Authorization`
/// header, never in cookies, so no answer allows credentials and no origin is a wildcard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: Vec<String>,
}

impl CorsPolicy {
    /// A policy for these origins, each already checked by [`parse_origins`].
    pub fn new(origins: Vec<String>) -> Self {
        CorsPolicy { origins }
    }

    /// Whether a browser page at `origin` may read our answers.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|allowed| allowed == origin)
    }

    /// Adds the CORS headers of an answer (a preflight's or any other) to `headers`, for a
    /// request that carried `origin`. Every answer varies by origin once any is allowed, so
    /// a shared cache never hands one origin's answer to another.
    pub fn decorate(&self, origin: Option<&str>, preflight: bool, headers: &mut HeaderMap) {
        if self.origins.is_empty() {
            return;
        }
        headers.append(http::header::VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = origin.filter(|o| self.allows(o)) else {
            return;
        };
        let Ok(value) = HeaderValue::from_str(origin) else {
            return;
        };
        let mut set = |name: HeaderName, value: HeaderValue| {
            headers.insert(name, value);
        };
        set(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if preflight {
            set(
                http::header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            set(
                http::header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            set(
                http::header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECONDS),
            );
        } else {
            set(
                http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }

    /// The status of a preflight answer: it needs no token and has no body.
    pub const PREFLIGHT_STATUS: StatusCode = StatusCode::NO_CONTENT;
}

/// Whether a request is a CORS preflight (`OPTIONS` with the method it asks about).
pub fn is_preflight(method: &http::Method, headers: &HeaderMap) -> bool {
    method == http::Method::OPTIONS
        && headers.contains_key(http::header::ORIGIN)
        && headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// A comma-separated list of origins (`https://app.example.com, http://localhost:5173`), each
/// a scheme, a host and an optional port exactly as a browser sends it in `Origin`.
pub fn parse_origins(list: &str) -> AppResult<Vec<String>> {
    let mut origins = Vec::new();
    for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let origin = origin.strip_suffix('/').unwrap_or(origin);
        if !is_origin(origin) {
            return Err(AppError::internal(format!(
                "CORS_ALLOWED_ORIGINS: {origin:?} is not an origin such as https://app.example.com"
            )));
        }
        let origin = origin.to_ascii_lowercase();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// `http(s)://host[:port]`, with nothing after the host: no path, query, user or wildcard.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    // An IPv6 literal is bracketed (`[::1]:5173`); anything else splits at its last colon.
    let (host, ipv6, port) = match rest.strip_prefix('[') {
        Some(bracketed) => {
            let Some((ip, tail)) = bracketed.split_once(']') else {
                return false;
            };
            match tail {
                "" => (ip, true, None),
                _ => match tail.strip_prefix(':') {
                    Some(port) => (ip, true, Some(port)),
                    None => return false,
                },
            }
        }
        None => match rest.rsplit_once(':') {
            Some((host, port)) => (host, false, Some(port)),
            None => (rest, false, None),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || (ipv6 && c == ':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CorsPolicy {
        CorsPolicy::new(parse_origins("https://App.Festa.example/, http://localhost:5173").unwrap())
    }

    #[test]
    fn origins_are_checked_and_normalised() {
        assert_eq!(
            parse_origins(" https://App.Festa.example/ ,http://localhost:5173,,").unwrap(),
            vec!["https://app.festa.example", "http://localhost:5173"]
        );
        for bad in [
            "*",
            "app.festa.example",
            "https://app.festa.example/path",
            "https://*.festa.example",
            "ftp://festa.example",
            "https://festa.example:99999",
            "https://user@festa.example",
            "http://[::1]junk",
            "http://a:b:5173",
        ] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_origins("").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_origins("http://[::1]:5173").unwrap(),
            vec!["http://[::1]:5173"]
        );
    }

    #[test]
    fn an_allowed_origin_is_echoed_and_others_get_nothing_but_vary() {
        let mut headers = HeaderMap::new();
        policy().decorate(Some("http://localhost:5173"), false, &mut headers);
        assert_eq!(
            headers["access-control-allow-origin"],
            "http://localhost:5173"
        );
        assert_eq!(headers["access-control-expose-headers"], "Retry-After");
        assert_eq!(headers["vary"], "Origin");
        assert!(!headers.contains_key("access-control-allow-credentials"));

        let mut headers = HeaderMap::new();
        policy().decorate(Some("https://evil.example"), false, &mut headers);
        assert!(!headers.contains_key("access-control-allow-origin"));
        assert_eq!(headers["vary"], "Origin");

        let mut headers = HeaderMap::new();
        CorsPolicy::default().decorate(Some("http://localhost:5173"), true, &mut headers);
        assert!(headers.is_empty(), "no origins configured: no CORS at all");
    }

    #[test]
    fn a_preflight_grants_the_methods_and_headers_of_the_contract() {
        let mut headers = HeaderMap::new();
        policy().decorate(Some("https://app.festa.example"), true, &mut headers);
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://app.festa.example"
        );
        assert_eq!(
            headers["access-control-allow-headers"],
            "Authorization, Content-Type, Idempotency-Key"
        );
        assert!(headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("DELETE"));
        assert_eq!(headers["access-control-max-age"], "600");
    }
}
