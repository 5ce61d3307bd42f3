//! One function per waiting-room route; each Lambda binary runs exactly one of them.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::services::queue::{own_email, AdmissionStatus, QueueStatus};
use festa::{AppResult, Problem};
use http::{Method, StatusCode};
use utoipa::OpenApi;

use crate::QueueState;

/// Every waiting-room route, for the local platform.
pub fn routes(state: Arc<QueueState>) -> Vec<Route> {
    vec![
        join_queue_route(state.clone()),
        get_rank_route(state.clone()),
        get_allowed_route(state.clone()),
        leave_queue_route(state.clone()),
        leave_admission_route(state),
    ]
}

/// `GET /queues/{queue}/waiting-room/users/{email}`.
pub fn join_queue_route(state: Arc<QueueState>) -> Route {
    Route::new(
        Method::GET,
        "/queues/{queue}/waiting-room/users/{email}",
        Access::Authenticated,
        state,
        join_queue,
    )
}

/// `GET /queues/{queue}/users/{email}/rank`.
pub fn get_rank_route(state: Arc<QueueState>) -> Route {
    Route::new(
        Method::GET,
        "/queues/{queue}/users/{email}/rank",
        Access::Authenticated,
        state,
        get_rank,
    )
}

/// `GET /queues/{queue}/users/{email}/allowed`.
pub fn get_allowed_route(state: Arc<QueueState>) -> Route {
    Route::new(
        Method::GET,
        "/queues/{queue}/users/{email}/allowed",
        Access::Authenticated,
        state,
        get_allowed,
    )
}

/// `DELETE /queues/{queue}/users/{email}/leave`.
pub fn leave_queue_route(state: Arc<QueueState>) -> Route {
    Route::new(
        Method::DELETE,
        "/queues/{queue}/users/{email}/leave",
        Access::Authenticated,
        state,
        leave_queue,
    )
}

/// `DELETE /queues/{queue}/users/{email}/leave-proceed`.
pub fn leave_admission_route(state: Arc<QueueState>) -> Route {
    Route::new(
        Method::DELETE,
        "/queues/{queue}/users/{email}/leave-proceed",
        Access::Authenticated,
        state,
        leave_admission,
    )
}

/// The OpenAPI description of these routes, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    QueueDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(paths(join_queue, get_rank, get_allowed, leave_queue, leave_admission))]
struct QueueDoc;

/// The festival and the caller's own address from the path; another's address is 403.
fn target(req: &ApiRequest) -> AppResult<(&str, String)> {
    let email = own_email(req.identity()?, req.path_param("email"))?;
    Ok((req.path_param("queue"), email))
}

/// Joins the festival's waiting line, keeping an earlier place or admission.
#[utoipa::path(get, path = "/queues/{queue}/waiting-room/users/{email}", tag = "waiting room",
    security(("bearer" = [])),
    params(("queue" = String, Path, description = "festivalId"),
           ("email" = String, Path, description = "the caller's own e-mail address")),
    responses(
        (status = 200, body = QueueStatus),
        (status = 401, body = Problem),
        (status = 403, description = "another user's address", body = Problem),
        (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem),
        (status = 409, description = "FESTIVAL_ENDED: the festival's last date is over in its time zone, so it has no line", body = Problem)))]
pub async fn join_queue(state: Arc<QueueState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let (festival, email) = target(&req)?;
    ApiResponse::json(StatusCode::OK, &state.queue.join(festival, &email).await?)
}

/// The caller's place in the line (rank -1 when not waiting).
#[utoipa::path(get, path = "/queues/{queue}/users/{email}/rank", tag = "waiting room",
    security(("bearer" = [])),
    params(("queue" = String, Path, description = "festivalId"),
           ("email" = String, Path, description = "the caller's own e-mail address")),
    responses(
        (status = 200, body = QueueStatus),
        (status = 401, body = Problem),
        (status = 403, description = "another user's address", body = Problem),
        (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem),
        (status = 409, description = "FESTIVAL_ENDED: the festival's last date is over in its time zone, so it has no line", body = Problem)))]
pub async fn get_rank(state: Arc<QueueState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let (festival, email) = target(&req)?;
    ApiResponse::json(StatusCode::OK, &state.queue.rank(festival, &email).await?)
}

/// Whether the caller holds an unexpired, unspent admission, and until when (a confirmed
/// booking spends it).
#[utoipa::path(get, path = "/queues/{queue}/users/{email}/allowed", tag = "waiting room",
    security(("bearer" = [])),
    params(("queue" = String, Path, description = "festivalId"),
           ("email" = String, Path, description = "the caller's own e-mail address")),
    responses(
        (status = 200, body = AdmissionStatus),
        (status = 401, body = Problem),
        (status = 403, description = "another user's address", body = Problem),
        (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem),
        (status = 409, description = "FESTIVAL_ENDED: the festival's last date is over in its time zone, so it has no line", body = Problem)))]
pub async fn get_allowed(state: Arc<QueueState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let (festival, email) = target(&req)?;
    ApiResponse::json(
        StatusCode::OK,
        &state.queue.allowed(festival, &email).await?,
    )
}

/// Leaves the waiting line.
#[utoipa::path(delete, path = "/queues/{queue}/users/{email}/leave", tag = "waiting room",
    security(("bearer" = [])),
    params(("queue" = String, Path, description = "festivalId"),
           ("email" = String, Path, description = "the caller's own e-mail address")),
    responses(
        (status = 204, description = "out of the line (also when not in it, and also once the festival is over: leaving only removes state)"),
        (status = 401, body = Problem),
        (status = 403, description = "another user's address", body = Problem),
        (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem)))]
pub async fn leave_queue(state: Arc<QueueState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let (festival, email) = target(&req)?;
    state.queue.leave(festival, &email).await?;
    Ok(ApiResponse::no_content())
}

/// Gives the admission up.
#[utoipa::path(delete, path = "/queues/{queue}/users/{email}/leave-proceed", tag = "waiting room",
    security(("bearer" = [])),
    params(("queue" = String, Path, description = "festivalId"),
           ("email" = String, Path, description = "the caller's own e-mail address")),
    responses(
        (status = 204, description = "no admission held any more (also when none was, and also once the festival is over)"),
        (status = 401, body = Problem),
        (status = 403, description = "another user's address", body = Problem),
        (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem)))]
pub async fn leave_admission(state: Arc<QueueState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let (festival, email) = target(&req)?;
    state.queue.leave_admission(festival, &email).await?;
    Ok(ApiResponse::no_content())
}
