//! Lambda for `POST /login`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_auth::AuthState::new(&env, None, Some(env.token_keys()?))?;
    festa::api::lambda::serve(festa_auth::login_route(Arc::new(state))).await
}
