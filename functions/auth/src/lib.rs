//! Accounts: sign-up, confirmation, login, refresh, sign-out, token verification, and the
//! REST API authorizer. Handlers are thin: parse, call `festa::services::accounts`, answer.

pub mod authorizer;
mod handlers;
mod state;

pub use handlers::{openapi, routes};
pub use state::AuthState;

use std::sync::Arc;

/// The account route at `path`, as one Lambda binary serves it.
pub fn route(state: Arc<AuthState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
