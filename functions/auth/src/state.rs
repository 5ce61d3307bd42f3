use std::sync::Arc;

use festa::adapters::dynamodb::DynamoRecords;
use festa::adapters::outbox::Outbox;
use festa::adapters::ses::SesMailer;
use festa::adapters::system::{RandomIds, SystemClock};
use festa::config::Config;
use festa::ports::Mailer;
use festa::services::accounts::Accounts;
use festa::services::tokens::TokenKeys;
use festa::AppResult;

/// What every account route needs, built once per cold start.
#[derive(Clone)]
pub struct AuthState {
    pub accounts: Accounts,
}

impl AuthState {
    /// Fails at cold start when the function must sign or check tokens but has no key.
    pub fn requiring_token_keys(self) -> AppResult<Self> {
        self.accounts.token_keys()?;
        Ok(self)
    }

    /// Production wiring from the environment: DynamoDB records and, when `MAIL_FROM` is set,
    /// SES (otherwise mail is only logged as kept, which suits a stack without SES).
    pub async fn from_env() -> AppResult<Self> {
        let config = Config::from_env()?;
        let keys = match &config.jwt_secret {
            Some(secret) => Some(TokenKeys::from_secret(secret)?),
            None => None,
        };
        let table = Config::require(&config.records_table, "RECORDS_TABLE")?;
        let aws = festa::adapters::aws::load().await;
        let records = Arc::new(DynamoRecords::new(
            festa::adapters::aws::dynamodb(&aws),
            table,
        ));
        let mailer: Arc<dyn Mailer> = match &config.mail_from {
            Some(from) => Arc::new(SesMailer::new(
                festa::adapters::aws::sesv2(&aws),
                from.clone(),
            )),
            None => {
                tracing::warn!(
                    "MAIL_FROM is not set: confirmation codes are not delivered by e-mail"
                );
                Arc::new(Outbox::new())
            }
        };
        Ok(AuthState {
            accounts: Accounts {
                accounts: records.clone(),
                sessions: records,
                mailer,
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds::default()),
                keys,
                admins: Arc::new(config.admin_emails),
            },
        })
    }
}
