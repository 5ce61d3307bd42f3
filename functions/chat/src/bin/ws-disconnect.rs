//! Lambda for the WebSocket route `$disconnect`.

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::lambda_runtime::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_chat::ChatState::new(&env, None, None).await?;
    festa_chat::socket::serve_disconnect(state).await
}
