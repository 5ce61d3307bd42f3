//! Lambda for the WebSocket route `$default`: answers an unknown action with an error frame.

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::lambda_runtime::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_chat::ChatState::new(&env, Some(festa_chat::pusher(&env)?), None).await?;
    festa_chat::socket::serve_frames(state).await
}
