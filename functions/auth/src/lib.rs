//! Accounts: sign-up, confirmation, resent codes, password reset, login, refresh, sign-out, token verification, and the
//! REST API authorizer. Handlers are thin: parse, call `festa::services::accounts`, answer.

pub mod authorizer;
mod handlers;
mod state;

pub use handlers::{
    confirm_forgot_password_route, confirm_signup_route, forgot_password_route, login_route,
    openapi, refresh_token_route, resend_confirmation_route, routes, signout_route, signup_route,
    verify_token_route,
};
pub use state::AuthState;

use std::sync::Arc;

/// The account route at `path`, for tests that replay sample events by path; each binary
/// binds its own route constructor directly.
pub fn route(state: Arc<AuthState>, path: &str) -> festa::AppResult<festa::api::Route> {
    festa::api::Route::find(routes(state), path)
}
