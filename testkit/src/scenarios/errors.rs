//! The error fixtures of `events/errors/` (one per kind of event and more): each must come
//! back as an error answer or a partial batch failure, and the runtime must go on polling.

use std::sync::Arc;

use festa::model::Role;

use super::{as_caller, batch_failures, check, ensure, fixture, for_festival, message_id};
use super::{problem, proxy_answer, Prepared};
use crate::launcher::Outcome;
use crate::world::{World, FAN};

/// Seeds what `events/errors/<case>.json` needs, fills it in and says what a right error answer is.
pub async fn prepare(world: &Arc<World>, case: &str) -> Result<Prepared, String> {
    let event = fixture(&format!("errors/{case}"))?;
    Ok(match case {
        // REST: a body that is not JSON is a 400 problem, never a 500 or a crash.
        "signup.malformed-body" => Prepared {
            event,
            check: problem(400, "VALIDATION_FAILED"),
        },
        // REST: booking without an admission is refused (and books nothing).
        "create-reservation.without-admission" => {
            let festival = world.festival().await?.festival_id;
            let event = for_festival(&event, &festival);
            Prepared {
                event: as_caller(world, &event, &world.identity(FAN, Role::User))?,
                check: problem(403, "QUEUE_ADMISSION_REQUIRED"),
            }
        }
        // TOKEN authorizer: a token signed with another key is the error `Unauthorized`,
        // which API Gateway turns into a 401.
        "authorizer.forged-token" => Prepared {
            event,
            check: check(|outcome| match outcome {
                Outcome::Error { error_message, .. } => {
                    ensure(error_message == "Unauthorized", "the error Unauthorized")
                }
                other => Err(format!("expected the error Unauthorized, got {other:?}")),
            }),
        },
        // WebSocket: a token that is no JWT refuses the upgrade with 401.
        "ws-connect.bad-token" => Prepared {
            event,
            check: check(|outcome| {
                let (status, _) = proxy_answer(outcome)?;
                ensure(status == 401, format!("status 401, got {status}"))
            }),
        },
        // SQS: no message is a tick, so every one is an item failure (none is dropped).
        "queue-admitter.no-tick" => {
            let expected = vec![message_id(&event, 0)?, message_id(&event, 1)?];
            Prepared {
                event,
                check: check(move |outcome| {
                    let failed = batch_failures(outcome)?;
                    ensure(
                        failed == expected,
                        format!("the failures {expected:?}, got {failed:?}"),
                    )
                }),
            }
        }
        other => {
            return Err(format!(
                "no scenario for events/errors/{other}.json: add one to festa_testkit::scenarios::errors"
            ))
        }
    })
}
