//! One function per festival route; each Lambda binary runs exactly one of them.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::model::Festival;
use festa::services::festivals::{CreateFestivalRequest, Festivals};
use festa::services::{Page, PageRequest};
use festa::{AppResult, Problem};
use http::{Method, StatusCode};
use utoipa::OpenApi;

use crate::FestivalsState;

/// Every festival route, for the local platform.
pub fn routes(state: Arc<FestivalsState>) -> Vec<Route> {
    vec![
        create_festival_route(state.clone()),
        list_festivals_route(state.clone()),
        search_festivals_route(state.clone()),
        get_festival_route(state),
    ]
}

/// `POST /festivals/create`.
pub fn create_festival_route(state: Arc<FestivalsState>) -> Route {
    Route::new(
        Method::POST,
        "/festivals/create",
        Access::Authenticated,
        state,
        create_festival,
    )
}

/// `GET /festivals`.
pub fn list_festivals_route(state: Arc<FestivalsState>) -> Route {
    Route::new(
        Method::GET,
        "/festivals",
        Access::Public,
        state,
        list_festivals,
    )
}

/// `GET /festivals/search`.
pub fn search_festivals_route(state: Arc<FestivalsState>) -> Route {
    Route::new(
        Method::GET,
        "/festivals/search",
        Access::Public,
        state,
        search_festivals,
    )
}

/// `GET /festivals/{festivalId}`.
pub fn get_festival_route(state: Arc<FestivalsState>) -> Route {
    Route::new(
        Method::GET,
        "/festivals/{festivalId}",
        Access::Public,
        state,
        get_festival,
    )
}

/// The OpenAPI description of these routes, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    FestivalsDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(paths(create_festival, list_festivals, search_festivals, get_festival))]
struct FestivalsDoc;

/// Adds a festival and its ticket stock (administrators only).
#[utoipa::path(post, path = "/festivals/create", tag = "festivals", security(("bearer" = [])),
    request_body = CreateFestivalRequest,
    responses(
        (status = 201, body = Festival),
        (status = 400, description = "end before start, over 31 days, ticketsPerDay out of range", body = Problem),
        (status = 401, body = Problem),
        (status = 403, description = "not an administrator", body = Problem)))]
pub async fn create_festival(
    state: Arc<FestivalsState>,
    req: ApiRequest,
) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    Festivals::authorize_create(caller)?;
    let festival = state.festivals.create(caller, req.json()?).await?;
    ApiResponse::json(StatusCode::CREATED, &festival)
}

/// The catalogue, newest first.
#[utoipa::path(get, path = "/festivals", tag = "festivals",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = Page<Festival>), (status = 400, body = Problem)))]
pub async fn list_festivals(state: Arc<FestivalsState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let page = PageRequest::parse(req.query_param("limit"), req.query_param("cursor"))?;
    ApiResponse::json(StatusCode::OK, &state.festivals.list(page).await?)
}

/// Festivals whose name, description or location contains every word of `keyword`.
///
/// Newest first. A page may hold fewer than `limit` items while `nextCursor` is not null: each
/// request reads the index a bounded number of times, and the cursor continues the search.
#[utoipa::path(get, path = "/festivals/search", tag = "festivals",
    params(
        ("keyword" = String, Query, min_length = 1, max_length = 100, description = "1 to 100 characters; every word must occur"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = Page<Festival>), (status = 400, body = Problem)))]
pub async fn search_festivals(
    state: Arc<FestivalsState>,
    req: ApiRequest,
) -> AppResult<ApiResponse> {
    let page = PageRequest::parse(req.query_param("limit"), req.query_param("cursor"))?;
    let keyword = req.query_param("keyword").unwrap_or_default();
    ApiResponse::json(
        StatusCode::OK,
        &state.festivals.search(keyword, page).await?,
    )
}

/// One festival with the live remaining tickets of every date.
#[utoipa::path(get, path = "/festivals/{festivalId}", tag = "festivals",
    params(("festivalId" = String, Path)),
    responses((status = 200, body = Festival), (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem)))]
pub async fn get_festival(state: Arc<FestivalsState>, req: ApiRequest) -> AppResult<ApiResponse> {
    let festival = state.festivals.get(req.path_param("festivalId")).await?;
    ApiResponse::json(StatusCode::OK, &festival)
}
