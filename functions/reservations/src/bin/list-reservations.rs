//! Lambda for `GET /reservations`.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let state = Arc::new(festa_reservations::ReservationsState::from_env().await?);
    festa::api::lambda::serve(festa_reservations::route(
        state,
        http::Method::GET,
        "/reservations",
    )?)
    .await
}
