//! The production [`Mailer`]: Amazon SES (API v2) `SendEmail` with simple content.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::error::{AppError, AppResult};
use crate::ports::{Mail, Mailer};

const CHARSET: &str = "UTF-8";

/// Sends mail through SES from one verified sender address.
#[derive(Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    /// A mailer sending as `from` (an SES-verified identity, `MAIL_FROM`).
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

/// UTF-8 text content; building it fails only without data, which is always given.
fn content(data: &str) -> AppResult<Content> {
    Content::builder()
        .data(data)
        .charset(CHARSET)
        .build()
        .map_err(|err| AppError::internal(format!("could not build SES content: {err}")))
}

/// The SES content of a mail: its subject and its plain-text body.
fn email_content(mail: &Mail) -> AppResult<EmailContent> {
    let message = Message::builder()
        .subject(content(&mail.subject)?)
        .body(Body::builder().text(content(&mail.body)?).build())
        .build();
    Ok(EmailContent::builder().simple(message).build())
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        // The body holds confirmation codes: it must never reach a log or an error message.
        let output = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(email_content(mail)?)
            .send()
            .await
            .map_err(|err| super::aws::call_failed("SES SendEmail", &err))?;
        tracing::info!(
            subject = %mail.subject,
            message_id = output.message_id().unwrap_or_default(),
            "mail handed to SES"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn mail_becomes_utf8_simple_content() {
        let mail = Mail {
            to: "guest@festa.io".into(),
            subject: "Festa 가입 확인 코드".into(),
            body: "확인 코드: 123456".into(),
            sent_at: Utc::now(),
        };
        let content = email_content(&mail).unwrap();
        let simple = content.simple().expect("simple content");
        let subject = simple.subject().unwrap();
        assert_eq!(subject.data(), "Festa 가입 확인 코드");
        assert_eq!(subject.charset(), Some("UTF-8"));
        let text = simple.body().unwrap().text().unwrap();
        assert_eq!(text.data(), "확인 코드: 123456");
        assert_eq!(text.charset(), Some("UTF-8"));
        assert!(simple.body().unwrap().html().is_none());
    }
}
