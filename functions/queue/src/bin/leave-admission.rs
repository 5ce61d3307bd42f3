//! Lambda for `DELETE /queues/{queue}/users/{email}/leave-proceed`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_queue::QueueState::new(&env, None).await?;
    festa::api::lambda::serve(festa_queue::leave_admission_route(Arc::new(state))).await
}
