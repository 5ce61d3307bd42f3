//! The reservation binaries.

use std::sync::Arc;

use chrono::NaiveDate;
use festa::model::Role;

use super::{as_caller, ensure, fixture, for_festival, rest, Prepared};
use crate::world::{World, FAN};

/// The binaries this area has scenarios for.
pub const BINARIES: &[&str] = &[
    "create-reservation",
    "list-reservations",
    "cancel-reservation",
];

/// The first day of the sample festival.
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 10, 2).expect("a date")
}

/// Seeds what `events/<binary>.json` needs, fills it in and says what a right answer is.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    let festival = world.festival().await?.festival_id;
    let event = for_festival(&fixture(binary)?, &festival);
    let caller = world.identity(FAN, Role::User);
    Ok(match binary {
        // An admitted caller books the sample's two tickets.
        "create-reservation" => {
            world.admit(&festival, FAN.email).await?;
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest(201, move |body| {
                    ensure(body["festivalId"] == festival.as_str(), "the festival")?;
                    ensure(body["quantity"] == 2, "two tickets")?;
                    ensure(body["status"] == "CONFIRMED", "a confirmed reservation")
                }),
            }
        }
        "list-reservations" => {
            let booked = world.book(&caller, &festival, first_day()).await?;
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest(200, move |body| {
                    ensure(
                        body["items"][0]["reservationId"] == booked.reservation_id.as_str(),
                        "the caller's reservation",
                    )
                }),
            }
        }
        "cancel-reservation" => {
            let booked = world.book(&caller, &festival, first_day()).await?;
            let event =
                festa::api::replay::fill(&event, "<reservation-id>", &booked.reservation_id);
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest(200, |body| {
                    ensure(body["status"] == "CANCELLED", "a cancelled reservation")
                }),
            }
        }
        other => return Err(format!("{other} is not a reservation binary")),
    })
}
