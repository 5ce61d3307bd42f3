//! `POST /notification/activate` and `POST /notification/deactivate`.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::services::reminders::{ActivateRequest, DeactivateRequest};
use festa::{AppResult, Problem};
use http::Method;
use utoipa::OpenApi;

use crate::NotificationsState;

/// Every device route, for the local platform.
pub fn routes(state: Arc<NotificationsState>) -> Vec<Route> {
    vec![activate_route(state.clone()), deactivate_route(state)]
}

/// `POST /notification/activate`.
pub fn activate_route(state: Arc<NotificationsState>) -> Route {
    Route::new(
        Method::POST,
        "/notification/activate",
        Access::Authenticated,
        state,
        activate,
    )
}

/// `POST /notification/deactivate`.
pub fn deactivate_route(state: Arc<NotificationsState>) -> Route {
    Route::new(
        Method::POST,
        "/notification/deactivate",
        Access::Authenticated,
        state,
        deactivate,
    )
}

/// The OpenAPI description of these routes, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    NotificationsDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(paths(activate, deactivate))]
struct NotificationsDoc;

/// Registers a device for the caller's festival reminders. A token already registered to
/// someone else moves to the caller; registering it again changes nothing else.
#[utoipa::path(post, path = "/notification/activate", tag = "notifications",
    security(("bearer" = [])),
    request_body = ActivateRequest,
    responses(
        (status = 204, description = "the device receives the caller's reminders"),
        (status = 400, description = "fcmToken missing or malformed, unknown platform", body = Problem),
        (status = 401, body = Problem)))]
pub async fn activate(state: Arc<NotificationsState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    state.devices.activate(caller, req.json()?).await?;
    Ok(ApiResponse::no_content())
}

/// Stops reminders to one of the caller's devices; a token that is not the caller's (never
/// was, or moved on) is left as it is, with the same answer.
#[utoipa::path(post, path = "/notification/deactivate", tag = "notifications",
    security(("bearer" = [])),
    request_body = DeactivateRequest,
    responses(
        (status = 204, description = "the device receives none of the caller's reminders"),
        (status = 400, description = "fcmToken missing or malformed", body = Problem),
        (status = 401, body = Problem)))]
pub async fn deactivate(state: Arc<NotificationsState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    let request: DeactivateRequest = req.json()?;
    state.devices.deactivate(caller, request).await?;
    Ok(ApiResponse::no_content())
}
