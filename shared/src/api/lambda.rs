//! The API Gateway (REST) entry point: converts events to and from the neutral types.

use lambda_http::request::RequestContext;
use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};

use super::cors::CorsPolicy;
use super::{Access, ApiRequest, ApiResponse, Route, MAX_BODY_BYTES};
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::services::tokens::Identity;

/// Runs one route as this Lambda's handler until the runtime stops it, answering browsers
/// from the origins in `CORS_ALLOWED_ORIGINS`.
pub async fn serve(route: Route) -> Result<(), Error> {
    let cors = CorsPolicy::new(Config::from_env()?.cors_allowed_origins);
    let (route, cors) = (&route, &cors);
    lambda_http::run(service_fn(move |event: Request| async move {
        Ok::<_, Error>(handle(route, cors, event).await)
    }))
    .await
}

/// One invocation: the same work `serve` does, callable from tests with fixture events.
pub async fn handle(route: &Route, cors: &CorsPolicy, event: Request) -> Response<Body> {
    let origin = event
        .headers()
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = match to_api_request(route.access, event) {
        Ok(request) => (route.handler)(request).await,
        Err(err) => ApiResponse::problem(&err),
    };
    let mut response = to_lambda_response(response);
    cors.decorate(origin.as_deref(), false, response.headers_mut());
    response
}

fn to_api_request(access: Access, event: Request) -> AppResult<ApiRequest> {
    let identity = match access {
        Access::Public => None,
        Access::Authenticated => Some(authorizer_identity(&event)?),
    };
    let path_params = event
        .path_parameters()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // The first value of a repeated parameter, as the local platform keeps it.
    let mut query = std::collections::HashMap::new();
    for (name, value) in event.query_string_parameters().iter() {
        query
            .entry(name.to_string())
            .or_insert_with(|| value.to_string());
    }
    let (parts, body) = event.into_parts();
    let body: bytes::Bytes = match body {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(text) => text.into(),
        Body::Binary(bytes) => bytes.into(),
        _ => bytes::Bytes::new(),
    };
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    Ok(ApiRequest {
        headers: parts.headers,
        path_params,
        query,
        body,
        identity,
    })
}

/// The identity the REST API's Lambda authorizer put in the request context.
fn authorizer_identity(event: &Request) -> AppResult<Identity> {
    let missing = || AppError::Unauthorized("the request carries no authorizer identity".into());
    let RequestContext::ApiGatewayV1(context) = event.request_context() else {
        return Err(missing());
    };
    let fields = serde_json::Value::Object(context.authorizer.fields.into_iter().collect());
    serde_json::from_value(fields).map_err(|_| missing())
}

fn to_lambda_response(response: ApiResponse) -> Response<Body> {
    let mut builder = Response::builder().status(response.status);
    if let Some(content_type) = response.content_type {
        builder = builder.header(http::header::CONTENT_TYPE, content_type);
    }
    if let Some(seconds) = response.retry_after {
        builder = builder.header(http::header::RETRY_AFTER, seconds);
    }
    let body = if response.body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(response.body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(err) => Body::Binary(err.into_bytes()),
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::{Method, StatusCode};

    use super::*;
    use crate::api::cors::parse_origins;
    use crate::api::replay::{edit, fixture};

    /// The list-festivals sample event, sent by a page at `origin`.
    fn from_page(origin: &str) -> Request {
        let event = edit(&fixture("list-festivals"), |v| {
            v["headers"]["Origin"] = origin.into();
            v["multiValueHeaders"]["Origin"] = serde_json::json!([origin]);
        });
        lambda_http::request::from_str(&event).expect("an API Gateway REST event")
    }

    fn route(fails: bool) -> Route {
        Route::new(
            Method::GET,
            "/festivals",
            Access::Public,
            Arc::new(()),
            move |_, _| async move {
                if fails {
                    Err(AppError::NotFound("no such thing".into()))
                } else {
                    ApiResponse::json(StatusCode::OK, &serde_json::json!({"items": []}))
                }
            },
        )
    }

    #[tokio::test]
    async fn answers_and_errors_carry_cors_headers_for_an_allowed_origin_only() {
        let cors = CorsPolicy::new(parse_origins("https://app.festa.example").unwrap());
        for fails in [false, true] {
            let answer = handle(&route(fails), &cors, from_page("https://app.festa.example")).await;
            assert_eq!(
                answer.headers()["access-control-allow-origin"],
                "https://app.festa.example"
            );
            assert_eq!(answer.headers()["vary"], "Origin");

            let answer = handle(&route(fails), &cors, from_page("https://evil.example")).await;
            assert!(!answer.headers().contains_key("access-control-allow-origin"));
        }
    }
}
