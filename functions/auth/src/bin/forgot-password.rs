//! Lambda for `POST /forgot-password` (mails codes: SES from `MAIL_FROM`).

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_auth::AuthState::new(&env, Some(env.mailer()), None)?;
    festa::api::lambda::serve(festa_auth::forgot_password_route(Arc::new(state))).await
}
