//! The waiting room: the five `/queues/...` routes and the admitter that SQS ticks drive.
//! Handlers are thin: parse, call `festa::services::queue`, answer.

mod admitter;
mod handlers;
mod state;

use std::sync::Arc;

pub use admitter::{handle_ticks, serve_admitter};
pub use handlers::{
    get_allowed_route, get_rank_route, join_queue_route, leave_admission_route, leave_queue_route,
    openapi, routes,
};
pub use state::{admit_ticks, admitter, QueueState};

/// The waiting-room route at `path`, for tests that replay sample events by path; each binary
/// binds its own route constructor directly.
pub fn route(state: Arc<QueueState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
