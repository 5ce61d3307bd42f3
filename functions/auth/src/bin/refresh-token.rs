//! Lambda for `POST /refresh-token`.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let state = Arc::new(
        festa_auth::AuthState::from_env()
            .await?
            .requiring_token_keys()?,
    );
    festa::api::lambda::serve(festa_auth::route(state, "/refresh-token")?).await
}
