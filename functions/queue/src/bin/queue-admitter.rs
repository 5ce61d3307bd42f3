//! Lambda for the admit queue: one admitter tick per message.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let state = festa_queue::QueueState::from_env().await?;
    festa_queue::serve_admitter(state.admitter).await
}
