//! Lambda for the WebSocket route `$default`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::lambda_runtime::Error> {
    festa::observability::init();
    festa_chat::socket::serve(festa_chat::ChatState::from_env().await?).await
}
