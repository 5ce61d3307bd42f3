//! The festival catalogue: create (admins), list, get with live stock, and search.
//! Handlers are thin: parse, call `festa::services::festivals`, answer.

mod handlers;
mod state;

use std::sync::Arc;

pub use handlers::{openapi, routes};
pub use state::FestivalsState;

/// The festival route at `path`, as one Lambda binary serves it.
pub fn route(state: Arc<FestivalsState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
