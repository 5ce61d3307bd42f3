//! Framework-neutral requests, responses and routes, so the Lambda entry points and the local
//! platform run the very same handlers.

pub mod cors;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "lambda")]
pub mod replay;
#[cfg(feature = "sqs-trigger")]
pub mod sqs_batch;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::services::tokens::Identity;

/// The largest request body any route accepts (API.md).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A request as a handler sees it, whichever server received it.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub headers: HeaderMap,
    pub path_params: HashMap<String, String>,
    pub query: HashMap<String, String>,
    pub body: Bytes,
    /// Set by the authorizer (Lambda) or the auth layer (local) on protected routes.
    pub identity: Option<Identity>,
}

impl ApiRequest {
    /// The JSON body as `T`; anything unreadable is a 400 that says why.
    pub fn json<T: DeserializeOwned>(&self) -> AppResult<T> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::validation("a JSON request body is required"));
        }
        let text = std::str::from_utf8(&self.body)
            .map_err(|_| AppError::validation("the request body is not valid UTF-8"))?;
        serde_json::from_str(text)
            .map_err(|e| AppError::validation(format!("invalid request body: {e}")))
    }

    /// The caller; routes behind the authorizer always have one.
    pub fn identity(&self) -> AppResult<&Identity> {
        self.identity.as_ref().ok_or_else(|| {
            AppError::Unauthorized("an Authorization: Bearer token is required".into())
        })
    }

    /// A path parameter (empty when absent, which no route allows to match).
    pub fn path_param(&self, name: &str) -> &str {
        self.path_params.get(name).map_or("", String::as_str)
    }

    /// A query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A header as text, if it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A header that must be visible ASCII when present: a value that is not is a 400, never
    /// silently treated as absent.
    pub fn ascii_header(&self, name: &str) -> AppResult<Option<&str>> {
        let mut values = self.headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(AppError::validation(format!("send the {name} header once"))),
            (Some(value), None) => value.to_str().map(Some).map_err(|_| {
                AppError::validation(format!("the {name} header must be visible ASCII text"))
            }),
        }
    }
}

/// A response as a handler produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub body: Bytes,
    /// Seconds for a `Retry-After` header (every `429` and `503` carries one).
    pub retry_after: Option<u64>,
}

impl ApiResponse {
    /// A JSON answer.
    pub fn json(status: StatusCode, value: &impl Serialize) -> AppResult<Self> {
        let body = serde_json::to_vec(value).map_err(AppError::internal)?;
        Ok(ApiResponse {
            status,
            content_type: Some("application/json"),
            body: body.into(),
            retry_after: None,
        })
    }

    /// `204 No Content`.
    pub fn no_content() -> Self {
        ApiResponse {
            status: StatusCode::NO_CONTENT,
            content_type: None,
            body: Bytes::new(),
            retry_after: None,
        }
    }

    /// The problem document of an error; internal errors are logged here, once.
    pub fn problem(err: &AppError) -> Self {
        match err {
            AppError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            AppError::ServiceUnavailable(detail) => {
                tracing::warn!(error = %detail, "a backing store is unavailable")
            }
            _ => {}
        }
        let body = serde_json::to_vec(&err.problem()).unwrap_or_default();
        ApiResponse {
            status: err.status(),
            content_type: Some(PROBLEM_JSON),
            body: body.into(),
            retry_after: err.retry_after(),
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Needs a valid bearer token; the identity is in the request.
    Authenticated,
}

/// A boxed handler, as routers store them.
pub type Handler =
    Arc<dyn Fn(ApiRequest) -> Pin<Box<dyn Future<Output = ApiResponse> + Send>> + Send + Sync>;

/// One REST route: what API Gateway maps to one Lambda, and the local platform to one path.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    /// API Gateway path syntax (`/festivals/{festivalId}`), which axum also understands.
    pub path: &'static str,
    pub access: Access,
    pub handler: Handler,
}

impl Route {
    /// Binds a handler function to its state.
    pub fn new<S, F, Fut>(
        method: Method,
        path: &'static str,
        access: Access,
        state: Arc<S>,
        handler: F,
    ) -> Self
    where
        S: Send + Sync + 'static,
        F: Fn(Arc<S>, ApiRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<ApiResponse>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Route {
            method,
            path,
            access,
            handler: Arc::new(move |req| {
                let (state, handler) = (state.clone(), handler.clone());
                Box::pin(async move { respond(handler(state, req)).await })
            }),
        }
    }
}

impl Route {
    /// The route at `path` among `routes`; a binary naming a path its area lacks is a bug
    /// that the handler tests catch before deployment.
    pub fn find(routes: Vec<Route>, path: &str) -> AppResult<Route> {
        let mut matching = routes.into_iter().filter(|r| r.path == path);
        match (matching.next(), matching.next()) {
            (Some(route), None) => Ok(route),
            (None, _) => Err(AppError::internal(format!("no route {path}"))),
            (Some(_), Some(_)) => Err(AppError::internal(format!(
                "several routes share {path}; name the method too"
            ))),
        }
    }

    /// The route for `method` at `path`, for areas where one path has several methods.
    pub fn find_method(routes: Vec<Route>, method: &Method, path: &str) -> AppResult<Route> {
        routes
            .into_iter()
            .find(|r| r.path == path && r.method == method)
            .ok_or_else(|| AppError::internal(format!("no route {method} {path}")))
    }
}

/// Runs a handler and turns its error into a problem document.
pub async fn respond(result: impl Future<Output = AppResult<ApiResponse>>) -> ApiResponse {
    match result.await {
        Ok(response) => response,
        Err(err) => ApiResponse::problem(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[allow(dead_code)]
        name: String,
    }

    fn with_body(body: &[u8]) -> ApiRequest {
        ApiRequest {
            body: Bytes::copy_from_slice(body),
            ..Default::default()
        }
    }

    #[test]
    fn waits_travel_with_the_problem() {
        let throttled = ApiResponse::problem(&AppError::too_many_attempts("wait", 900));
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.retry_after, Some(900));
        let down = ApiResponse::problem(&AppError::unavailable("redis"));
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(down.retry_after.is_some());
        assert_eq!(ApiResponse::problem(&AppError::SoldOut).retry_after, None);
    }

    #[test]
    fn bad_bodies_are_client_errors() {
        assert_eq!(with_body(b"").json::<Body>().unwrap_err().status(), 400);
        assert_eq!(with_body(b"{").json::<Body>().unwrap_err().status(), 400);
        assert_eq!(
            with_body(b"{\"name\":1}")
                .json::<Body>()
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(with_body(b"{}").json::<Body>().unwrap_err().status(), 400);
        assert_eq!(
            with_body(&[0xff, 0xfe])
                .json::<Body>()
                .unwrap_err()
                .status(),
            400
        );
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(with_body(&big).json::<Body>().unwrap_err().status(), 413);
        assert!(with_body(b"{\"name\":\"x\"}").json::<Body>().is_ok());
    }
}
