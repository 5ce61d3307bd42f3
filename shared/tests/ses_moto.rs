//! `SesMailer` against an SES emulator (moto) or real SES at `AWS_ENDPOINT_URL`.
//!
//! Without `AWS_ENDPOINT_URL` the test is skipped, unless `FESTA_REQUIRE_REAL=1` (CI), which
//! makes a missing endpoint a failure. Region and credentials come from the usual variables.

#![cfg(feature = "ses")]

use chrono::Utc;
use festa::adapters::ses::SesMailer;
use festa::ports::{Mail, Mailer};

/// An SES v2 client for the configured endpoint, or `None` (after a note) when there is none.
async fn client() -> Option<aws_sdk_sesv2::Client> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("FESTA_REQUIRE_REAL").as_deref() == Ok("1") {
            panic!("FESTA_REQUIRE_REAL=1 but AWS_ENDPOINT_URL is not set");
        }
        eprintln!("skipped: set AWS_ENDPOINT_URL to run the SES mailer test");
        return None;
    }
    let config = festa::adapters::aws::load().await;
    Some(aws_sdk_sesv2::Client::new(&config))
}

fn mail(code: &str) -> Mail {
    Mail {
        to: "guest@example.com".into(),
        subject: "Festa 가입 확인 코드".into(),
        body: format!("확인 코드: {code}"),
        sent_at: Utc::now(),
    }
}

#[tokio::test]
async fn sends_from_a_verified_identity_and_never_leaks_the_body() {
    let Some(client) = client().await else { return };
    let run = ulid::Ulid::generate().to_string().to_lowercase();
    let from = format!("festa-{run}@example.com");
    let mailer = SesMailer::new(client.clone(), from.as_str());

    // Unverified sender: SES refuses, and the error carries no part of the body.
    let err = mailer
        .send(&mail("918273"))
        .await
        .expect_err("an unverified sender is refused");
    let text = err.to_string();
    assert!(text.contains("SES SendEmail failed"), "{text}");
    assert!(
        !text.contains("918273"),
        "the confirmation code leaked: {text}"
    );
    assert_eq!(err.problem().status, 500);

    client
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .expect("create the sender identity");
    mailer
        .send(&mail("564738"))
        .await
        .expect("a verified sender can send");
}
