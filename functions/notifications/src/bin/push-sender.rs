//! Lambda for the push queue: one reminder job per message, sent through FCM.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let env = festa::wiring::LambdaEnv::load()?;
    let sending = festa_notifications::sender(&env).await?;
    festa_notifications::serve_sender(sending).await
}
