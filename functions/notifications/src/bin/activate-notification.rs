//! Lambda for `POST /notification/activate`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_notifications::NotificationsState::new(&env)?;
    festa::api::lambda::serve(festa_notifications::activate_route(Arc::new(state))).await
}
