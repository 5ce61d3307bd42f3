//! The catalogue binaries.

use std::sync::Arc;

use festa::model::Role;
use festa::ports::FestivalStore;
use serde_json::Value;

use super::{as_caller, ensure, fixture, rest, rest_then, Prepared};
use crate::world::{World, FAN};

/// The binaries this area has scenarios for.
pub const BINARIES: &[&str] = &[
    "create-festival",
    "list-festivals",
    "get-festival",
    "search-festivals",
];

/// Whether a page's `items` hold the festival `id`.
fn lists(body: &Value, id: &str) -> Result<(), String> {
    let items = body["items"].as_array().ok_or("items")?;
    ensure(
        items.iter().any(|item| item["festivalId"] == id),
        format!("the festival {id} among the items"),
    )
}

/// Seeds what `events/<binary>.json` needs, fills it in and says what a right answer is.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    let event = fixture(binary)?;
    if binary == "create-festival" {
        // An administrator creates the sample festival: 201, and it is stored.
        let event = as_caller(world, &event, &world.identity(FAN, Role::Admin))?;
        return Ok(Prepared {
            event,
            check: rest_then(201, |world, body| {
                Box::pin(async move {
                    let id = body["festivalId"]
                        .as_str()
                        .ok_or("a festivalId")?
                        .to_string();
                    ensure(
                        body["name"] == "서울 세계 불꽃축제 2027",
                        "the sample's name",
                    )?;
                    let stored = world.records()?.get_festival(&id).await;
                    ensure(
                        stored.map_err(|e| e.to_string())?.is_some(),
                        "the festival in the records table",
                    )
                })
            }),
        });
    }
    let id = world.festival().await?.festival_id;
    Ok(match binary {
        "list-festivals" => Prepared {
            event,
            check: rest(200, move |body| lists(body, &id)),
        },
        "search-festivals" => Prepared {
            event,
            check: rest(200, move |body| lists(body, &id)),
        },
        "get-festival" => Prepared {
            event: festa::api::replay::fill(&event, "<festival-id>", &id),
            check: rest(200, move |body| {
                ensure(body["festivalId"] == id.as_str(), "the festival")?;
                ensure(body["tickets"].is_array(), "its ticket stock")
            }),
        },
        other => return Err(format!("{other} is not a catalogue binary")),
    })
}
