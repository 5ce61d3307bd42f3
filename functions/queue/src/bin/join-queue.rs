//! Lambda for `GET /queues/{queue}/waiting-room/users/{email}`.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let state = Arc::new(festa_queue::QueueState::from_env().await?);
    festa::api::lambda::serve(festa_queue::route(
        state,
        "/queues/{queue}/waiting-room/users/{email}",
    )?)
    .await
}
