//! Lambda for `GET /festivals`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_festivals::FestivalsState::new(&env, None)?;
    festa::api::lambda::serve(festa_festivals::list_festivals_route(Arc::new(state))).await
}
