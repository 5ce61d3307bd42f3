//! Festival reminders: the two device-token routes, the SQS-triggered planner and the
//! SQS-triggered FCM sender. Handlers are thin: parse, call `festa::services::reminders`,
//! answer.

mod handlers;
mod planner;
mod sender;
mod state;

use std::sync::Arc;

pub use handlers::{activate_route, deactivate_route, openapi, routes};
pub use planner::{handle_planner_batch, serve_planner};
pub use sender::{handle_push_batch, serve_sender, JOBS_IN_FLIGHT};
pub use state::{planner, sender, NotificationsState, PushSending};

/// The device route at `path`, for tests that replay sample events by path; each binary binds
/// its own route constructor directly.
pub fn route(state: Arc<NotificationsState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
