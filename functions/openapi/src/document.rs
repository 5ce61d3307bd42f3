//! The document itself: every area's annotations merged, with what utoipa leaves out added.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi};

/// The whole platform's document, as served: with the fixes of [`finish`].
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(assemble()).unwrap_or_default();
    finish(&mut doc);
    doc
}

/// What utoipa's annotations leave out and OpenAPI 3.1 or our answers require: every response
/// has a description (its status's reason unless the handler wrote one), and error bodies are
/// `application/problem+json`, the type they are sent with.
fn finish(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(|r| r.as_object_mut())
        else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            let Some(response) = response.as_object_mut() else {
                continue;
            };
            let described = response
                .get("description")
                .and_then(|d| d.as_str())
                .is_some_and(|d| !d.is_empty());
            if !described {
                let reason = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| http::StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Response");
                response.insert("description".into(), reason.into());
            }
            if let Some(content) = response.get_mut("content").and_then(|c| c.as_object_mut()) {
                let is_problem = content
                    .get("application/json")
                    .and_then(|c| c.pointer("/schema/$ref"))
                    .and_then(|r| r.as_str())
                    .is_some_and(|r| r.ends_with("/Problem"));
                if is_problem {
                    if let Some(body) = content.remove("application/json") {
                        content.insert(festa::api::PROBLEM_JSON.into(), body);
                    }
                }
            }
        }
    }
}

/// The document the handlers' annotations describe.
fn assemble() -> OpenApi {
    let mut doc = festa_auth::openapi();
    doc.merge(festa_festivals::openapi());
    doc.merge(festa_queue::openapi());
    doc.merge(festa_reservations::openapi());
    doc.merge(festa_chat::openapi());
    doc.merge(festa_notifications::openapi());
    doc.info = InfoBuilder::new()
        .title("Festa")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Festival reservation platform. Errors are RFC 9457 problem documents \
             (application/problem+json) with a stable `code`.",
        ))
        .build();
    let mut components = doc
        .components
        .take()
        .unwrap_or_else(|| ComponentsBuilder::new().build());
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc.components = Some(components);
    doc
}
