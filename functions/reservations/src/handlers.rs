//! One function per reservation route; each Lambda binary runs exactly one of them.

use std::sync::Arc;

use festa::api::{Access, ApiRequest, ApiResponse, Route};
use festa::model::Reservation;
use festa::services::reservations::{idempotency_key, BookRequest};
use festa::services::{Page, PageRequest};
use festa::{AppResult, Problem};
use http::{Method, StatusCode};
use utoipa::OpenApi;

use crate::ReservationsState;

/// Every reservation route, for the local platform.
pub fn routes(state: Arc<ReservationsState>) -> Vec<Route> {
    vec![
        create_reservation_route(state.clone()),
        list_reservations_route(state.clone()),
        cancel_reservation_route(state),
    ]
}

/// `POST /reservations`.
pub fn create_reservation_route(state: Arc<ReservationsState>) -> Route {
    Route::new(
        Method::POST,
        "/reservations",
        Access::Authenticated,
        state,
        create_reservation,
    )
}

/// `GET /reservations`.
pub fn list_reservations_route(state: Arc<ReservationsState>) -> Route {
    Route::new(
        Method::GET,
        "/reservations",
        Access::Authenticated,
        state,
        list_reservations,
    )
}

/// `DELETE /reservations/{reservationId}`.
pub fn cancel_reservation_route(state: Arc<ReservationsState>) -> Route {
    Route::new(
        Method::DELETE,
        "/reservations/{reservationId}",
        Access::Authenticated,
        state,
        cancel_reservation,
    )
}

/// The OpenAPI description of these routes, generated from the handlers below.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ReservationsDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(paths(create_reservation, list_reservations, cancel_reservation))]
struct ReservationsDoc;

/// Books tickets of one festival date that has not begun in the festival's time zone; the
/// caller must hold an unexpired admission from the festival's waiting room, which the booking
/// spends (another booking means queueing again; a refused booking keeps it). A retry with the same `Idempotency-Key` (kept 24 hours) answers
/// the reservation the key first booked and books nothing more; reusing a key for a different
/// booking is a 400.
#[utoipa::path(post, path = "/reservations", tag = "reservations", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "1 to 255 visible ASCII characters, unique per booking attempt")),
    request_body = BookRequest,
    responses(
        (status = 201, body = Reservation),
        (status = 400, description = "date outside the festival, quantity outside 1..=4, key reused for another booking", body = Problem),
        (status = 401, body = Problem),
        (status = 403, description = "QUEUE_ADMISSION_REQUIRED: no admission, an expired one, or one already spent (each confirmed booking spends the admission; a cancellation does not give it back; a booking refused with a 409 or 503 keeps it)", body = Problem),
        (status = 404, description = "FESTIVAL_NOT_FOUND", body = Problem),
        (status = 409, description = "SOLD_OUT; ALREADY_RESERVED (one active reservation per user per festival date); DATE_PASSED (the date has begun in the festival's time zone)", body = Problem),
        (status = 503, description = "SERVICE_UNAVAILABLE, with Retry-After; nothing was booked and the admission is kept", body = Problem)))]
pub async fn create_reservation(
    state: Arc<ReservationsState>,
    req: ApiRequest,
) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    let key = idempotency_key(req.ascii_header("idempotency-key")?)?;
    let reservation = state
        .reservations
        .book(caller, req.json()?, key.as_deref())
        .await?;
    ApiResponse::json(StatusCode::CREATED, &reservation)
}

/// The caller's own reservations, newest first.
#[utoipa::path(get, path = "/reservations", tag = "reservations", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, body = Page<Reservation>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_reservations(
    state: Arc<ReservationsState>,
    req: ApiRequest,
) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    let page = PageRequest::parse(req.query_param("limit"), req.query_param("cursor"))?;
    ApiResponse::json(
        StatusCode::OK,
        &state.reservations.list(caller, page).await?,
    )
}

/// Cancels one of the caller's reservations; its tickets return to stock. Cancelling a
/// cancelled reservation answers it again.
#[utoipa::path(delete, path = "/reservations/{reservationId}", tag = "reservations",
    security(("bearer" = [])),
    params(("reservationId" = String, Path)),
    responses(
        (status = 200, body = Reservation),
        (status = 401, body = Problem),
        (status = 404, description = "NOT_FOUND: no reservation of the caller has this id", body = Problem)))]
pub async fn cancel_reservation(
    state: Arc<ReservationsState>,
    req: ApiRequest,
) -> AppResult<ApiResponse> {
    let caller = req.identity()?;
    let reservation = state
        .reservations
        .cancel(caller, req.path_param("reservationId"))
        .await?;
    ApiResponse::json(StatusCode::OK, &reservation)
}
