//! Serves the neutral routes over HTTP: path and query parsing, the 64 KiB body limit, the
//! bearer check the REST API's authorizer does in AWS (here on every request, so a sign-out
//! takes effect at once), and problem documents for everything that goes wrong.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Path, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, post, MethodFilter, MethodRouter};
use axum::{Json, Router};
use festa::adapters::outbox::{Outbox, Sent};
use festa::api::cors::{is_preflight, CorsPolicy};
use festa::api::{Access, ApiRequest, ApiResponse, Route, MAX_BODY_BYTES, PROBLEM_JSON};
use festa::ports::{Clock, SessionStore};
use festa::services::accounts::authenticate;
use festa::services::tokens::TokenKeys;
use festa::{AppError, Problem};
use serde_json::json;
use tracing::Instrument;

/// Checks bearer tokens the way the Lambda authorizer does.
#[derive(Clone)]
pub struct Authenticator {
    pub keys: TokenKeys,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
}

/// The platform's router: every route, plus health and the outbox.
pub fn router(routes: Vec<Route>, auth: Authenticator, outbox: Option<Arc<Outbox>>) -> Router {
    let mut router = Router::new();
    for route in routes {
        let filter =
            MethodFilter::try_from(route.method.clone()).expect("routes use standard methods");
        let path = route.path;
        let auth = auth.clone();
        router = router.route(
            path,
            on(filter, move |request: Request| {
                serve(route.clone(), auth.clone(), request)
            }),
        );
    }
    router
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route(
            "/_local/outbox",
            get(move |request: Request| read_outbox(outbox.clone(), request)),
        )
        .fallback(|| async {
            problem(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "no route matches this path",
            )
        })
        .method_not_allowed_fallback(|| async {
            problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "NOT_FOUND",
                "this path does not accept this method",
            )
        })
}

/// Answers CORS preflights (no token needed) and adds the CORS headers to every answer, errors
/// and unknown paths included, as API Gateway and the Lambdas do on AWS.
pub fn with_cors(router: Router, cors: CorsPolicy) -> Router {
    let cors = Arc::new(cors);
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let cors = cors.clone();
            async move {
                let origin = request
                    .headers()
                    .get(header::ORIGIN)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let preflight = is_preflight(request.method(), request.headers());
                let mut response = if preflight {
                    CorsPolicy::PREFLIGHT_STATUS.into_response()
                } else {
                    next.run(request).await
                };
                cors.decorate(origin.as_deref(), preflight, response.headers_mut());
                response
            }
        },
    ))
}

async fn serve(route: Route, auth: Authenticator, request: Request) -> Response {
    // One span per request, as Lambda's runtime gives each invocation its request id.
    let span = tracing::info_span!(
        "request",
        request_id = %ulid::Ulid::generate(),
        method = %route.method,
        route = route.path
    );
    async move {
        let response = match to_api_request(&route, &auth, request).await {
            Ok(api) => (route.handler)(api).await,
            Err(err) => ApiResponse::problem(&err),
        };
        tracing::debug!(status = response.status.as_u16(), "answered");
        into_http(&response)
    }
    .instrument(span)
    .await
}

async fn to_api_request(
    route: &Route,
    auth: &Authenticator,
    request: Request,
) -> Result<ApiRequest, AppError> {
    let (mut parts, body) = request.into_parts();
    // The caller first, as API Gateway's authorizer runs before anything reads the request:
    // an unauthenticated request is 401 whatever else is wrong with it.
    let identity = match route.access {
        Access::Public => None,
        Access::Authenticated => {
            // A header that is not text is present but malformed, not missing.
            let header = parts
                .headers
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or_default());
            Some(
                authenticate(
                    &auth.keys,
                    auth.sessions.as_ref(),
                    auth.clock.as_ref(),
                    header,
                )
                .await?,
            )
        }
    };
    let path_params = if route.path.contains('{') {
        Path::<HashMap<String, String>>::from_request_parts(&mut parts, &())
            .await
            .map_err(|e| AppError::validation(format!("invalid path: {e}")))?
            .0
    } else {
        HashMap::new()
    };
    let query = query_params(parts.uri.query())?;
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|err| {
        if is_over_limit(&err) {
            AppError::PayloadTooLarge(MAX_BODY_BYTES)
        } else {
            AppError::validation("the request body could not be read completely")
        }
    })?;
    Ok(ApiRequest {
        headers: parts.headers,
        path_params,
        query,
        body,
        identity,
    })
}

/// Whether reading the body failed because it passed the size limit (413) rather than
/// because it was malformed or cut short (400).
fn is_over_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The first value of each query parameter (API Gateway's `queryStringParameters` also keeps
/// one); text that does not decode to UTF-8 is a 400, never silently replaced.
fn query_params(query: Option<&str>) -> Result<HashMap<String, String>, AppError> {
    let decode = |text: &str| {
        let spaced = text.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8()
            .map(|t| t.into_owned())
            .map_err(|_| AppError::validation("the query string does not decode to UTF-8"))
    };
    let mut params = HashMap::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.entry(decode(name)?).or_insert(decode(value)?);
    }
    Ok(params)
}

fn into_http(response: &ApiResponse) -> Response {
    let mut http = Response::new(Body::from(response.body.clone()));
    *http.status_mut() = response.status;
    if let Some(content_type) = response.content_type {
        http.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Some(seconds) = response.retry_after {
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    http
}

fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: detail.into(),
        code: code.into(),
    };
    (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], Json(body)).into_response()
}

/// `GET /_local/outbox?to=`: what would have been sent, newest first.
async fn read_outbox(outbox: Option<Arc<Outbox>>, request: Request) -> Response {
    let query = match query_params(request.uri().query()) {
        Ok(q) => q,
        Err(err) => return into_http(&ApiResponse::problem(&err)),
    };
    let Some(outbox) = outbox else {
        return problem(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "mail goes through SES and pushes through FCM; there is no local outbox",
        );
    };
    let items: Vec<_> = outbox
        .entries(query.get("to").map(String::as_str))
        .into_iter()
        .map(|sent| match sent {
            Sent::Mail(mail) => json!({
                "kind": "email",
                "to": mail.to,
                "subject": mail.subject,
                "body": mail.body,
                "sentAt": festa::model::timestamp::format(&mail.sent_at),
            }),
            Sent::Push(push) => json!({
                "kind": "push",
                "to": push.push.to,
                "fcmToken": push.push.token,
                "title": push.push.title,
                "body": push.push.body,
                "data": push.push.data,
                "sentAt": festa::model::timestamp::format(&push.sent_at),
            }),
        })
        .collect();
    Json(json!({ "items": items })).into_response()
}

/// `POST /_local/reminders/run?date=YYYY-MM-DD`: the reminder pipeline as if that date's
/// scheduled event fired (today's in Seoul without `date`), answering what it did.
pub fn run_reminders(reminders: crate::reminders::LocalReminders) -> MethodRouter {
    post(move |uri: axum::http::Uri| {
        let reminders = reminders.clone();
        async move {
            let result = async {
                let query = query_params(uri.query())?;
                let date = crate::reminders::run_date(
                    query.get("date").map(String::as_str),
                    chrono::Utc::now(),
                )?;
                reminders.run(crate::reminders::run_instant(date)).await
            }
            .await;
            match result {
                Ok(report) => Json(report).into_response(),
                Err(err) => into_http(&ApiResponse::problem(&err)),
            }
        }
    })
}
