//! Lambda for `GET /queues/{queue}/waiting-room/users/{email}`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_queue::QueueState::new(&env, Some(festa_queue::admit_ticks(&env)?)).await?;
    festa::api::lambda::serve(festa_queue::join_queue_route(Arc::new(state))).await
}
