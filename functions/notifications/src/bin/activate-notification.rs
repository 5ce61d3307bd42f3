//! Lambda for `POST /notification/activate`.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let state = Arc::new(festa_notifications::NotificationsState::from_env().await?);
    festa::api::lambda::serve(festa_notifications::route(state, "/notification/activate")?).await
}
