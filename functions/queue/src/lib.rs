//! The waiting room: the five `/queues/...` routes and the admitter that SQS ticks drive.
//! Handlers are thin: parse, call `festa::services::queue`, answer.

mod admitter;
mod handlers;
mod state;

use std::sync::Arc;

pub use admitter::{handle_ticks, serve_admitter};
pub use handlers::{openapi, routes};
pub use state::QueueState;

/// The waiting-room route at `path`, as one Lambda binary serves it.
pub fn route(state: Arc<QueueState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
