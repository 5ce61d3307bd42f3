//! The device routes, the reminder planner and the push sender.

use std::sync::Arc;

use festa::model::Role;
use festa::ports::DeviceRegistry;
use festa::services::reminders::ActivateRequest;

use super::reservations::first_day;
use super::{as_caller, batch_failures, ensure, fixture, for_festival, message_id, rest_then};
use super::{Check, Prepared};
use crate::world::{World, FAN, LEE};

/// The binaries this area has scenarios for.
pub const BINARIES: &[&str] = &[
    "activate-notification",
    "deactivate-notification",
    "reminder-planner",
    "push-sender",
];

/// The device token of the activate and deactivate samples.
const SAMPLE_TOKEN: &str = "fGx9wQ2nRkOe3b7sXc1LpZ:APA91bHq3Vx8Nf2kT9mWcYd5Lr0Zs6Jp4Ug1Ae7Ko3Bn8Xt2Rv5Qm9Wy0Hc4Ds6Fj1Gk3Lp7Zx2Cv8Bn5Mq0Aw4Se9Dr1Ft3Gy6Hu2Ji5Ko8Lp";

/// 204, then whether the fan has the sample device.
fn device_then(registered: bool) -> Check {
    rest_then(204, move |world, _| {
        Box::pin(async move {
            let devices = world
                .records()?
                .devices_of(FAN.email)
                .await
                .map_err(|e| e.to_string())?;
            let has = devices.iter().any(|d| d.token == SAMPLE_TOKEN);
            ensure(
                has == registered,
                format!("the sample device registered: {registered}"),
            )
        })
    })
}

/// Exactly the batch item failures `expected`.
fn failures(expected: Vec<String>, then: Option<Check>) -> Check {
    Box::new(move |world, outcome| {
        Box::pin(async move {
            let failed = batch_failures(&outcome)?;
            ensure(
                failed == expected,
                format!("the batch item failures {expected:?}, got {failed:?}"),
            )?;
            match then {
                Some(then) => then(world, outcome).await,
                None => Ok(()),
            }
        })
    })
}

/// Seeds what `events/<binary>.json` needs, fills it in and says what a right answer is.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    let fan = world.identity(FAN, Role::User);
    Ok(match binary {
        "activate-notification" => Prepared {
            event: as_caller(world, &fixture(binary)?, &fan)?,
            check: device_then(true),
        },
        "deactivate-notification" => {
            world
                .devices()?
                .activate(
                    &fan,
                    ActivateRequest {
                        fcm_token: SAMPLE_TOKEN.into(),
                        platform: None,
                    },
                )
                .await
                .map_err(|e| format!("registering the device: {e}"))?;
            Prepared {
                event: as_caller(world, &fixture(binary)?, &fan)?,
                check: device_then(false),
            }
        }
        // Two holders of 2 October. The run (2027-10-01, 09:00 Seoul) hands itself a slice
        // for that date; the sample slice resumes after the first holder, so the second one's
        // reminder job is queued.
        "reminder-planner" => {
            let festival = world.festival().await?.festival_id;
            let first = world.book(&fan, &festival, first_day()).await?;
            let second = world
                .book(&world.identity(LEE, Role::User), &festival, first_day())
                .await?;
            let event = for_festival(&fixture(binary)?, &festival);
            let event = festa::api::replay::fill(&event, "<reservation-id>", &first.reservation_id);
            let after: Check = Box::new(move |world, _| {
                Box::pin(async move {
                    let tasks = world.queued("REMINDER_QUEUE_URL").await?;
                    ensure(
                        tasks.len() == 1 && tasks[0]["festivalId"] == festival.as_str(),
                        format!("one slice of the festival on the reminder queue: {tasks:?}"),
                    )?;
                    let jobs = world.queued("PUSH_QUEUE_URL").await?;
                    ensure(
                        jobs.len() == 1
                            && jobs[0]["reservationId"] == second.reservation_id.as_str(),
                        format!("the second holder's job on the push queue: {jobs:?}"),
                    )
                })
            });
            Prepared {
                event,
                check: failures(Vec::new(), Some(after)),
            }
        }
        // A job for the fan's reservation (no device: nothing to push) and a body that is no
        // job, which is the batch's one item failure.
        "push-sender" => {
            let festival = world.festival().await?.festival_id;
            let booked = world.book(&fan, &festival, first_day()).await?;
            let event = for_festival(&fixture(binary)?, &festival);
            let event =
                festa::api::replay::fill(&event, "<reservation-id>", &booked.reservation_id);
            let malformed = message_id(&event, 1)?;
            Prepared {
                event,
                check: failures(vec![malformed], None),
            }
        }
        other => return Err(format!("{other} is not a notifications binary")),
    })
}
