//! The account binaries and the TOKEN authorizer.

use std::sync::Arc;

use festa::ports::{AccountStore, SessionStore};
use serde_json::Value;

use super::{as_caller, check, ensure, fixture, rest, rest_then, Prepared};
use crate::launcher::Outcome;
use crate::world::{World, FAN};

/// The binaries this area has scenarios for.
pub const BINARIES: &[&str] = &[
    "signup",
    "resend-confirmation",
    "confirm-signup",
    "forgot-password",
    "confirm-forgot-password",
    "login",
    "signout",
    "verify-token",
    "refresh-token",
    "authorizer",
];

/// The signing key of a token the world's key did not sign is refused.
fn decodes(world: &World, token: &Value) -> Result<festa::services::tokens::Identity, String> {
    let token = token.as_str().ok_or("no token")?;
    world
        .keys()?
        .decode(token, world.now())
        .map_err(|e| format!("the token does not verify: {e}"))
}

/// Seeds what `events/<binary>.json` needs, fills it in and says what a right answer is.
pub async fn prepare(world: &Arc<World>, binary: &str) -> Result<Prepared, String> {
    let event = fixture(binary)?;
    Ok(match binary {
        // A new address: 201, unconfirmed, and the account is stored.
        "signup" => Prepared {
            event,
            check: rest_then(201, |world, body| {
                Box::pin(async move {
                    ensure(body["email"] == FAN.email, "the fan's address")?;
                    ensure(body["status"] == "UNCONFIRMED", "an unconfirmed account")?;
                    let stored = world.records()?.get_account(FAN.email).await;
                    ensure(
                        stored.map_err(|e| e.to_string())?.is_some(),
                        "the account in the records table",
                    )
                })
            }),
        },
        // A pending sign-up gets a fresh code: 202, and the stored code is another one (the
        // password stays).
        "resend-confirmation" => {
            world.sign_up(FAN).await?;
            let before = world
                .records()?
                .get_account(FAN.email)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the sign-up is stored")?;
            Prepared {
                event,
                check: rest_then(202, move |world, _| {
                    Box::pin(async move {
                        let after = world
                            .records()?
                            .get_account(FAN.email)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("the sign-up is gone")?;
                        ensure(
                            after.confirmation.map(|c| c.code_hash)
                                != before.confirmation.map(|c| c.code_hash),
                            "a fresh code stored",
                        )?;
                        ensure(
                            after.password_hash == before.password_hash,
                            "the same password",
                        )
                    })
                }),
            }
        }
        // A confirmed account asks for a reset: 202, and a reset code is stored.
        "forgot-password" => {
            world.confirmed(FAN).await?;
            Prepared {
                event,
                check: rest_then(202, |world, _| {
                    Box::pin(async move {
                        let stored = world
                            .records()?
                            .get_account(FAN.email)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("the account is gone")?;
                        ensure(stored.password_reset.is_some(), "a reset code stored")
                    })
                }),
            }
        }
        // The mailed reset code sets the new password and ends the live login.
        "confirm-forgot-password" => {
            let login = world.login(FAN).await?;
            let code = world.reset_code(FAN).await?;
            let session = login.identity.session_id.clone();
            Prepared {
                event: festa::api::replay::fill(&event, "<reset-code>", &code),
                check: rest_then(200, move |world, body| {
                    Box::pin(async move {
                        ensure(body["status"] == "CONFIRMED", "a confirmed account")?;
                        let records = world.records()?;
                        let stored = records
                            .get_account(FAN.email)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("the account is gone")?;
                        ensure(stored.password_reset.is_none(), "the reset code spent")?;
                        let old = records
                            .get_session(FAN.email, &session)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("the session is gone")?;
                        ensure(old.revoked, "the old login revoked")
                    })
                }),
            }
        }
        // The code the sign-up mailed confirms the account.
        "confirm-signup" => {
            let code = world.sign_up(FAN).await?;
            Prepared {
                event: festa::api::replay::fill(&event, "<confirmation-code>", &code),
                check: rest(200, |body| {
                    ensure(body["status"] == "CONFIRMED", "a confirmed account")
                }),
            }
        }
        // A confirmed account logs in: a token pair whose access token the key verifies.
        "login" => {
            world.confirmed(FAN).await?;
            let world = world.clone();
            Prepared {
                event,
                check: rest(200, move |body| {
                    ensure(body["tokenType"] == "Bearer", "a Bearer token pair")?;
                    ensure(body["refreshToken"].is_string(), "a refresh token")?;
                    let identity = decodes(&world, &body["accessToken"])?;
                    ensure(identity.email == FAN.email, "a token for the fan")
                }),
            }
        }
        // Signing out ends the caller's live login.
        "signout" => {
            let login = world.login(FAN).await?;
            let event = as_caller(world, &event, &login.identity)?;
            let session = login.identity.session_id.clone();
            Prepared {
                event,
                check: rest_then(204, move |world, _| {
                    Box::pin(async move {
                        let stored = world
                            .records()?
                            .get_session(FAN.email, &session)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("the session is gone")?;
                        ensure(stored.revoked, "the login revoked")
                    })
                }),
            }
        }
        "verify-token" => {
            let login = world.login(FAN).await?;
            let event = as_caller(world, &event, &login.identity)?;
            let user_id = login.identity.user_id.clone();
            Prepared {
                event,
                check: rest(200, move |body| {
                    ensure(body["valid"] == true, "valid: true")?;
                    ensure(body["userId"] == user_id.as_str(), "the caller's user id")?;
                    ensure(body["email"] == FAN.email, "the caller's address")
                }),
            }
        }
        // The login's refresh token is rotated for a new pair.
        "refresh-token" => {
            let login = world.login(FAN).await?;
            let old = login.refresh_token.clone();
            let world = world.clone();
            Prepared {
                event: festa::api::replay::fill(&event, "<refresh-token>", &login.refresh_token),
                check: rest(200, move |body| {
                    ensure(
                        body["refreshToken"].as_str().is_some_and(|t| t != old),
                        "a new refresh token",
                    )?;
                    decodes(&world, &body["accessToken"]).map(|_| ())
                }),
            }
        }
        // A live login's token: an Allow policy for the stage, the identity as context.
        "authorizer" => {
            let login = world.login(FAN).await?;
            let user_id = login.identity.user_id.clone();
            Prepared {
                event: festa::api::replay::fill(&event, "<access-token>", &login.access_token),
                check: check(move |outcome| {
                    let Outcome::Response(policy) = outcome else {
                        return Err(format!("expected a policy, got {outcome:?}"));
                    };
                    ensure(
                        policy["principalId"] == user_id.as_str(),
                        "the user as principal",
                    )?;
                    let statement = &policy["policyDocument"]["Statement"][0];
                    ensure(statement["Effect"] == "Allow", format!("Allow: {policy}"))?;
                    ensure(
                        statement["Action"][0] == "execute-api:Invoke",
                        "execute-api:Invoke",
                    )?;
                    ensure(
                        policy["context"]["email"] == FAN.email,
                        "the identity as context",
                    )
                }),
            }
        }
        other => return Err(format!("{other} is not an account binary")),
    })
}
