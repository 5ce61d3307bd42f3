//! Ports a function is wired with when its route never uses them: a call means the wiring is
//! wrong, so it fails loudly instead of, say, a confirmation code silently never being sent.
//! They let each Lambda binary leave out the client (SES, SQS, EventBridge, API Gateway,
//! Redis) that its route does not need, which keeps its bootstrap small.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::{AppError, AppResult};
use crate::ports::{
    AdmitTick, AdmitTicks, Cache, ConnectionPusher, Mail, Mailer, Push, ReservationEvent,
    ReservationEvents, SocketEviction,
};

fn refused(what: &str) -> AppError {
    AppError::internal(format!(
        "this function is deployed without {what}; see docs/deployment-contract.md"
    ))
}

/// The mailer of a function that sends no mail.
pub struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _mail: &Mail) -> AppResult<()> {
        Err(refused("a mailer"))
    }
}

/// The admitter ticks of a waiting-room route that never starts the admitter.
pub struct NoTicks;

#[async_trait]
impl AdmitTicks for NoTicks {
    async fn schedule(&self, _tick: &AdmitTick, _delay: Duration) -> AppResult<()> {
        Err(refused("the admit queue"))
    }
}

/// The event bus of a reservation route that changes no reservation.
pub struct NoEvents;

#[async_trait]
impl ReservationEvents for NoEvents {
    async fn publish(&self, _event: &ReservationEvent) -> AppResult<()> {
        Err(refused("the event bus"))
    }
}

/// The pusher of a chat function that sends no frames (the REST routes, `$connect` and
/// `$disconnect`).
pub struct NoPusher;

#[async_trait]
impl ConnectionPusher for NoPusher {
    async fn push(&self, _connection_id: &str, _frame: &str) -> AppResult<Push> {
        Err(refused("the WebSocket management API"))
    }
}

/// The cache of a festival route that never searches (listing, reading one festival).
pub struct NoCache;

#[async_trait]
impl Cache for NoCache {
    async fn get(&self, _key: &str) -> AppResult<Option<String>> {
        Err(refused("the search cache"))
    }

    async fn set(&self, _key: &str, _value: &str, _ttl: Duration) -> AppResult<()> {
        Err(refused("the search cache"))
    }

    async fn incr(&self, _key: &str) -> AppResult<i64> {
        Err(refused("the search cache"))
    }
}

/// The socket closer of an account function that never ends logins (everything but sign-out
/// and the password reset): closing connections there would mean the wiring is wrong.
pub struct NoEviction;

#[async_trait]
impl SocketEviction for NoEviction {
    async fn close_user_connections(&self, _user_id: &str) -> AppResult<()> {
        Err(refused(
            "the chat presence store and the WebSocket management API",
        ))
    }
}
