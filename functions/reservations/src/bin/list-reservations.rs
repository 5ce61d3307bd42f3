//! Lambda for `GET /reservations`.

use std::sync::Arc;

use festa::wiring::LambdaEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    festa::observability::init();
    let env = LambdaEnv::load()?;
    let reaches = festa_reservations::Reaches {
        room: None,
        events: None,
    };
    let state = festa_reservations::ReservationsState::new(&env, reaches)?;
    festa::api::lambda::serve(festa_reservations::list_reservations_route(Arc::new(state))).await
}
