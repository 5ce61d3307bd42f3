//! The OpenAPI 3.1 document of every REST route, generated from the handlers' annotations,
//! and the `GET /openapi.json` route that serves it: locally and, as its own Lambda, on AWS.
//! Only this crate assembles the document, so no other function links the generator.

mod document;

use std::sync::Arc;

use bytes::Bytes;
use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::AppResult;
use http::{Method, StatusCode};

pub use document::document;

/// `GET /openapi.json`, public: the document is rendered once, when the route is built (a
/// Lambda's cold start), and every request is answered with those bytes.
pub fn openapi_route() -> Route {
    let body = Bytes::from(serde_json::to_vec(&document()).unwrap_or_default());
    Route::new(
        Method::GET,
        "/openapi.json",
        Access::Public,
        Arc::new(body),
        serve,
    )
}

async fn serve(body: Arc<Bytes>, _req: ApiRequest) -> AppResult<ApiResponse> {
    Ok(ApiResponse {
        status: StatusCode::OK,
        content_type: Some("application/json"),
        body: body.as_ref().clone(),
        retry_after: None,
    })
}
