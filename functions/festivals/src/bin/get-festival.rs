//! Lambda for `GET /festivals/{festivalId}`.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let state = Arc::new(festa_festivals::FestivalsState::from_env().await?);
    festa::api::lambda::serve(festa_festivals::route(state, "/festivals/{festivalId}")?).await
}
