//! Ticket reservations: book (admitted callers only), list and cancel.
//! Handlers are thin: parse, call `festa::services::reservations`, answer.

mod handlers;
mod state;

use std::sync::Arc;

pub use handlers::{openapi, routes};
pub use state::ReservationsState;

/// The reservation route for `method` at `path`, as one Lambda binary serves it
/// (`/reservations` has two methods).
pub fn route(
    state: Arc<ReservationsState>,
    method: http::Method,
    path: &str,
) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find_method(routes(state), &method, path)
}
