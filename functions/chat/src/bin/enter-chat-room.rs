//! Lambda for `GET /festivals/chatting/{chatRoomId}`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_chat::ChatState::new(&env, None, None).await?;
    festa::api::lambda::serve(festa_chat::enter_chat_room_route(Arc::new(state))).await
}
