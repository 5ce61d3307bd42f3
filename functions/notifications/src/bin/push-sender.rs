//! Lambda for the push queue: one reminder job per message, sent through FCM.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    festa::observability::init();
    let sending = festa_notifications::sender_from_env().await?;
    festa_notifications::serve_sender(sending).await
}
