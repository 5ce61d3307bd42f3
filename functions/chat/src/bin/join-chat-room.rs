//! Lambda for `POST /festivals/chatting/{chatRoomId}/join`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_chat::ChatState::new(&env, None, None).await?;
    festa::api::lambda::serve(festa_chat::join_chat_room_route(Arc::new(state))).await
}
