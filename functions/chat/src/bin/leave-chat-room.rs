//! Lambda for `DELETE /festivals/chatting/delete` (the room comes in `?chatRoomId=`).

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let state = festa_chat::ChatState::new(&env, None, None).await?;
    festa::api::lambda::serve(festa_chat::leave_chat_room_route(Arc::new(state))).await
}
