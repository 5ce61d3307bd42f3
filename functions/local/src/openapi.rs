//! The OpenAPI 3.1 document of every REST route, assembled from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi};

/// The whole platform's document.
pub fn document() -> OpenApi {
    let mut doc = festa_auth::openapi();
    doc.merge(festa_festivals::openapi());
    doc.merge(festa_queue::openapi());
    doc.merge(festa_reservations::openapi());
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
