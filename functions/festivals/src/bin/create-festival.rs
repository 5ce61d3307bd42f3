//! Lambda for `POST /festivals/create`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_festivals::FestivalsState::new(&env, Some(env.search_cache().await?))?;
    festa::api::lambda::serve(festa_festivals::create_festival_route(Arc::new(state))).await
}
