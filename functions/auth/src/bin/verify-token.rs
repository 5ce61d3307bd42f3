//! Lambda for `GET /verify-token`: answers from the authorizer's context alone, so it builds
//! no client at all.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    festa::api::lambda::serve(festa_auth::verify_token_route()).await
}
