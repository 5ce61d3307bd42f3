//! Lambda for `POST /festivals/chatting/{chatRoomId}/join`.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let state = Arc::new(festa_chat::ChatState::from_env().await?);
    festa::api::lambda::serve(festa::api::Route::find_method(
        festa_chat::routes(state),
        &http::Method::POST,
        "/festivals/chatting/{chatRoomId}/join",
    )?)
    .await
}
