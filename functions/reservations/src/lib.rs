//! Ticket reservations: book (admitted callers only), list and cancel.
//! Handlers are thin: parse, call `festa::services::reservations`, answer.

mod handlers;
mod state;

use std::sync::Arc;

pub use handlers::{
    cancel_reservation_route, create_reservation_route, list_reservations_route, openapi, routes,
};
pub use state::{event_bus, Reaches, ReservationsState};

/// The reservation route for `method` at `path` (`/reservations` has two methods), for tests
/// that replay sample events by path; each binary binds its own route constructor directly.
pub fn route(
    state: Arc<ReservationsState>,
    method: http::Method,
    path: &str,
) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find_method(routes(state), &method, path)
}
