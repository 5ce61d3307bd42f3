//! Lambda for `GET /queues/{queue}/users/{email}/rank`. Asking one's rank restarts a
//! stalled admitter chain, so this route sends ticks too.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_queue::QueueState::new(&env, Some(festa_queue::admit_ticks(&env)?)).await?;
    festa::api::lambda::serve(festa_queue::get_rank_route(Arc::new(state))).await
}
