//! Lambda for the WebSocket route `$connect`: checks the `token` query parameter.

#[tokio::main]
async fn main() -> Result<(), lambda_http::lambda_runtime::Error> {
    festa::observability::init();
    let state = festa_chat::ChatState::from_env().await?.requiring_gate()?;
    festa_chat::socket::serve(state).await
}
