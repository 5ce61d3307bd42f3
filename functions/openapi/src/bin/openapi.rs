//! Lambda for `GET /openapi.json`: the API's own description, for the single-page app's
//! generated client and anyone exploring the deployed API. It needs no AWS client at all.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    festa::api::lambda::serve(festa_openapi::openapi_route()).await
}
