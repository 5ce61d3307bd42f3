//! Lambda for `POST /reservations`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let reaches = festa_reservations::Reaches {
        room: Some(env.waiting_room().await?),
        events: Some(festa_reservations::event_bus(&env)?),
    };
    let state = festa_reservations::ReservationsState::new(&env, reaches)?;
    festa::api::lambda::serve(festa_reservations::create_reservation_route(Arc::new(
        state,
    )))
    .await
}
