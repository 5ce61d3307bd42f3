//! Lambda for the WebSocket route `$connect`: checks the `token` query parameter.

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::lambda_runtime::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_chat::ChatState::new(&env, None, Some(env.token_keys()?)).await?;
    festa_chat::socket::serve_connect(state).await
}
