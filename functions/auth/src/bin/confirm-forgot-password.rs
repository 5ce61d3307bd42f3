//! Lambda for `POST /confirm-forgot-password`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_auth::AuthState::new(&env, None, None)?;
    festa::api::lambda::serve(festa_auth::confirm_forgot_password_route(Arc::new(state))).await
}
