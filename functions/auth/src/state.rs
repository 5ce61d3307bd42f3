use std::sync::Arc;

use festa::adapters::refusing::{NoEviction, NoMail};
use festa::adapters::system::{RandomIds, SystemClock};
use festa::ports::{Mailer, SocketEviction};
use festa::prefetch::Prefetched;
use festa::services::accounts::Accounts;
use festa::services::tokens::TokenKeys;
use festa::wiring::LambdaEnv;
use festa::AppResult;

/// What every account route needs, built once per cold start.
#[derive(Clone)]
pub struct AuthState {
    pub accounts: Accounts,
}

impl AuthState {
    /// Production wiring: DynamoDB records (`RECORDS_TABLE`), plus what this binary's route
    /// uses: a mailer for the routes that mail codes (`signup`, `resend-confirmation`,
    /// `forgot-password`; any other route that tried to mail would fail
    /// loudly), token keys where tokens are signed or checked. Nothing else is built, so
    /// nothing else is linked.
    pub fn new(
        env: &LambdaEnv,
        mailer: Option<Arc<dyn Mailer>>,
        keys: Option<Prefetched<TokenKeys>>,
    ) -> AppResult<Self> {
        let records = env.records()?;
        Ok(AuthState {
            accounts: Accounts {
                accounts: records.clone(),
                sessions: records.clone(),
                limits: records,
                mail_hourly_limit: env
                    .config
                    .mail_hourly_limit
                    .unwrap_or(festa::config::DEFAULT_MAIL_HOURLY_LIMIT),
                mailer: mailer.unwrap_or_else(|| Arc::new(NoMail)),
                clock: Arc::new(SystemClock),
                ids: Arc::new(RandomIds::default()),
                keys,
                admins: Arc::new(env.config.admin_emails.clone()),
                eviction: Arc::new(NoEviction),
            },
        })
    }

    /// The same state, closing the chat connections of users whose logins end: for the routes
    /// that end logins (`signout`, the password reset), each one line in its `main`:
    /// `AuthState::new(..)?.closing_sockets(env.socket_eviction().await?)`. Every other route
    /// keeps the refusing closer, so it needs neither Redis nor the management API.
    pub fn closing_sockets(mut self, eviction: Arc<dyn SocketEviction>) -> Self {
        self.accounts.eviction = eviction;
        self
    }
}
