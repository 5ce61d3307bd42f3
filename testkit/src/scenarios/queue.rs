//! The waiting-room binaries and the SQS-driven admitter.

use std::sync::Arc;

use festa::model::Role;

use super::{
    as_caller, batch_failures, ensure, fixture, for_festival, message_id, rest, rest_then, Prepared,
};
use crate::world::{World, FAN};

/// The binaries this area has scenarios for.
pub const BINARIES: &[&str] = &[
    "join-queue",
    "get-queue-rank",
    "get-queue-allowed",
    "leave-queue",
    "leave-admission",
    "queue-admitter",
];

/// Seeds what `events/<binary>.json` needs, fills it in and says what a right answer is.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    let festival = world.festival().await?.festival_id;
    let event = for_festival(&fixture(binary)?, &festival);
    let caller = world.identity(FAN, Role::User);
    Ok(match binary {
        // The first in line, and the join started the admitter: its tick is on the queue.
        "join-queue" => Prepared {
            event: as_caller(world, &event, &caller)?,
            check: rest_then(200, move |world, body| {
                Box::pin(async move {
                    ensure(body["rank"] == 1, "rank 1")?;
                    let ticks = world.queued("ADMIT_QUEUE_URL").await?;
                    ensure(
                        ticks.iter().any(|t| t["festivalId"] == festival.as_str()),
                        format!("a tick for the festival on the admit queue: {ticks:?}"),
                    )
                })
            }),
        },
        "get-queue-rank" => {
            world.join_line(&festival, FAN.email).await?;
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest(200, |body| {
                    ensure(body["rank"] == 1, "rank 1")?;
                    ensure(body["pollAfterMs"].is_u64(), "pollAfterMs")
                }),
            }
        }
        "get-queue-allowed" => {
            world.admit(&festival, FAN.email).await?;
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest(200, |body| ensure(body["allowed"] == true, "allowed: true")),
            }
        }
        "leave-queue" => {
            world.join_line(&festival, FAN.email).await?;
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest(204, |_| Ok(())),
            }
        }
        // Giving the admission up ends it.
        "leave-admission" => {
            world.admit(&festival, FAN.email).await?;
            Prepared {
                event: as_caller(world, &event, &caller)?,
                check: rest_then(204, move |world, _| {
                    Box::pin(async move {
                        let held = world.admission(&festival, FAN.email).await?;
                        ensure(held.is_none(), "no admission left")
                    })
                }),
            }
        }
        // The tick of the chain the join started admits the fan; the body that is no tick
        // is the batch's one item failure.
        "queue-admitter" => {
            let chain = world
                .join_line(&festival, FAN.email)
                .await?
                .ok_or("the join started no chain")?;
            let event = festa::api::replay::fill(&event, "<chain-id>", &chain);
            let malformed = message_id(&event, 1)?;
            Prepared {
                event,
                check: Box::new(move |world, outcome| {
                    Box::pin(async move {
                        let failed = batch_failures(&outcome)?;
                        ensure(
                            failed == [malformed.clone()],
                            format!("exactly the failure {malformed}, got {failed:?}"),
                        )?;
                        let held = world.admission(&festival, FAN.email).await?;
                        ensure(held.is_some(), "the fan admitted by the tick")
                    })
                }),
            }
        }
        other => return Err(format!("{other} is not a waiting-room binary")),
    })
}
