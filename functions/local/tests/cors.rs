//! A single-page app served from another origin can call the local platform, as it calls the
//! deployed API (API.md, Conventions): preflights need no token, every answer (errors and
//! unknown paths included) names an allowed origin, and no other origin is ever named.

mod common;

use reqwest::{Method, StatusCode};

const APP: &str = "http://localhost:5173";

async fn platform() -> common::Platform {
    common::start(&[(
        "CORS_ALLOWED_ORIGINS",
        format!("{APP}, https://app.festa.example"),
    )])
    .await
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_preflight_needs_no_token_and_grants_the_contract_headers() {
    let p = platform().await;
    // A protected route: a preflight never carries the token, and must not be refused.
    let preflight = p
        .http
        .request(Method::OPTIONS, format!("{}/reservations", p.base))
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&preflight, "access-control-allow-origin"), Some(APP));
    assert_eq!(
        header(&preflight, "access-control-allow-headers"),
        Some("Authorization, Content-Type, Idempotency-Key")
    );
    let methods = header(&preflight, "access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert!(header(&preflight, "access-control-allow-credentials").is_none());

    // Another origin learns nothing it could use.
    let refused = p
        .http
        .request(Method::OPTIONS, format!("{}/reservations", p.base))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(header(&refused, "access-control-allow-origin").is_none());
    assert!(header(&refused, "access-control-allow-methods").is_none());
}

#[tokio::test]
async fn answers_and_errors_name_the_allowed_origin() {
    let p = platform().await;
    let get = |path: &str, origin: &str| {
        p.http
            .get(format!("{}{path}", p.base))
            .header("origin", origin)
            .send()
    };

    let listed = get("/festivals?limit=1", APP).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(header(&listed, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(&listed, "vary"), Some("Origin"));
    assert_eq!(
        header(&listed, "access-control-expose-headers"),
        Some("Retry-After")
    );

    // A 401 from the auth layer and a 404 for an unknown path: the page must be able to read
    // the problem document to tell its user what went wrong.
    for path in ["/reservations", "/no/such/path"] {
        let failed = get(path, "https://app.festa.example").await.unwrap();
        assert!(failed.status().is_client_error(), "{path}");
        assert_eq!(
            header(&failed, "access-control-allow-origin"),
            Some("https://app.festa.example"),
            "{path}"
        );
    }

    let foreign = get("/festivals?limit=1", "https://evil.example")
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::OK);
    assert!(header(&foreign, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_no_cors_header_is_sent() {
    let p = common::start(&[]).await;
    let listed = p
        .http
        .get(format!("{}/festivals", p.base))
        .header("origin", APP)
        .send()
        .await
        .unwrap();
    assert!(header(&listed, "access-control-allow-origin").is_none());
    assert!(header(&listed, "vary").is_none());
}
