//! Replays `events/openapi.json` through the code path the `openapi` binary runs
//! (`festa_openapi::openapi_route` + `festa::api::lambda::handle`).

use festa::api::cors::{parse_origins, CorsPolicy};
use festa::api::replay::{binaries, fixture, replay};

#[tokio::test]
async fn the_sample_event_is_answered_with_the_whole_document() {
    let answer = replay(&festa_openapi::openapi_route(), &fixture("openapi")).await;
    let doc = answer.assert_json(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    // Every area's routes are in it, the protected ones with the bearer scheme.
    for path in [
        "/signup",
        "/festivals/search",
        "/queues/{queue}/waiting-room/users/{email}",
        "/reservations",
        "/festivals/chatting/list",
        "/notification/activate",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn a_browser_page_of_an_allowed_origin_may_read_it() {
    let route = festa_openapi::openapi_route();
    let request = lambda_http::request::from_str(&fixture("openapi")).unwrap();
    let cors = CorsPolicy::new(parse_origins("https://app.festa.example").unwrap());
    let answer = festa::api::lambda::handle(&route, &cors, request).await;
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://app.festa.example"
    );
}

#[test]
fn the_crate_has_one_binary_with_its_sample_event() {
    let binaries = binaries(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(binaries.keys().collect::<Vec<_>>(), ["openapi"]);
    assert!(binaries["openapi"].contains("openapi_route"));
    let raw: serde_json::Value = serde_json::from_str(&fixture("openapi")).unwrap();
    assert_eq!(raw["resource"], "/openapi.json");
    assert_eq!(raw["httpMethod"], "GET");
}
