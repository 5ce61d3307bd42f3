//! The festival catalogue: create (admins), list, get with live stock, and search.
//! Handlers are thin: parse, call `festa::services::festivals`, answer.

mod handlers;
mod state;

use std::sync::Arc;

pub use handlers::{
    create_festival_route, get_festival_route, list_festivals_route, openapi, routes,
    search_festivals_route,
};
pub use state::FestivalsState;

/// The festival route at `path`, for tests that replay sample events by path; each binary
/// binds its own route constructor directly.
pub fn route(state: Arc<FestivalsState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
