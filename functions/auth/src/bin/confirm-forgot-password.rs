//! Lambda for `POST /confirm-forgot-password`: replaces the password, ends every login of the
//! user and closes their chat connections (Redis at `REDIS_URL` lists them; API Gateway at
//! `CHAT_CALLBACK_URL` closes them), as sign-out does.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state =
        festa_auth::AuthState::new(&env, None, None)?.closing_sockets(env.socket_eviction().await?);
    festa::api::lambda::serve(festa_auth::confirm_forgot_password_route(Arc::new(state))).await
}
