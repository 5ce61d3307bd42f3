//! Accounts: pk `USER#<email>`, sk `PROFILE`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::attrs::{self, Item};
use super::{condition_failed, sdk_error, DynamoRecords};
use crate::error::{AppError, AppResult};
use crate::model::{Account, AccountStatus, PendingConfirmation};
use crate::ports::AccountStore;

const PROFILE: &str = "PROFILE";

pub(super) fn user_pk(email: &str) -> String {
    format!("USER#{email}")
}

fn account_key(email: &str) -> Item {
    attrs::key(user_pk(email), PROFILE)
}

fn account_item(account: &Account) -> Item {
    let mut item = account_key(&account.email);
    item.insert("userId".into(), attrs::s(&account.user_id));
    item.insert("email".into(), attrs::s(&account.email));
    item.insert("name".into(), attrs::s(&account.name));
    item.insert("passwordHash".into(), attrs::s(&account.password_hash));
    item.insert("status".into(), attrs::s(account.status.as_str()));
    item.insert("createdAt".into(), attrs::time(&account.created_at));
    if let Some(pending) = &account.confirmation {
        item.insert("codeHash".into(), attrs::s(&pending.code_hash));
        item.insert("codeExpiresAt".into(), attrs::time(&pending.expires_at));
        item.insert("failedAttempts".into(), attrs::n(pending.failed_attempts));
    }
    if let Some(reset) = &account.password_reset {
        item.insert("resetCodeHash".into(), attrs::s(&reset.code_hash));
        item.insert("resetExpiresAt".into(), attrs::time(&reset.expires_at));
        item.insert("resetAttempts".into(), attrs::n(reset.failed_attempts));
    }
    item
}

/// A mailed code stored under `hash`, `expires` and `attempts`, if there is one.
fn code_from(
    item: &Item,
    hash: &str,
    expires: &str,
    attempts: &str,
) -> AppResult<Option<PendingConfirmation>> {
    Ok(match attrs::opt_str(item, hash)? {
        Some(code_hash) => Some(PendingConfirmation {
            code_hash: code_hash.to_string(),
            expires_at: attrs::req_time(item, expires)?,
            failed_attempts: attrs::opt_num(item, attempts)?.unwrap_or(0),
        }),
        None => None,
    })
}

fn account_from(item: &Item) -> AppResult<Account> {
    let status = attrs::req_str(item, "status")?;
    let status = AccountStatus::parse(status)
        .ok_or_else(|| AppError::internal("stored account has an unknown status"))?;
    Ok(Account {
        user_id: attrs::req_string(item, "userId")?,
        email: attrs::req_string(item, "email")?,
        name: attrs::req_string(item, "name")?,
        password_hash: attrs::req_string(item, "passwordHash")?,
        status,
        created_at: attrs::req_time(item, "createdAt")?,
        confirmation: code_from(item, "codeHash", "codeExpiresAt", "failedAttempts")?,
        password_reset: code_from(item, "resetCodeHash", "resetExpiresAt", "resetAttempts")?,
    })
}

impl DynamoRecords {
    /// Takes one attempt at the code stored under `hash` (counted in `attempts`) if fewer than
    /// `max` were taken; the answers of `reserve_code_attempt`.
    async fn reserve_attempt(
        &self,
        email: &str,
        max: u32,
        hash: &str,
        attempts: &str,
        has_code: fn(&Account) -> bool,
    ) -> AppResult<u32> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .update_expression("ADD #attempts :one")
            .condition_expression(
                "attribute_exists(#hash) AND \
                 (attribute_not_exists(#attempts) OR #attempts < :max)",
            )
            .expression_attribute_names("#attempts", attempts)
            .expression_attribute_names("#hash", hash)
            .expression_attribute_values(":one", attrs::n(1))
            .expression_attribute_values(":max", attrs::n(max))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let updated = out.attributes().cloned().unwrap_or_default();
                attrs::req_num(&updated, attempts)
            }
            // Which half of the condition failed decides the answer.
            Err(err) if condition_failed(&err) => {
                let stored = self.get_account(email).await?;
                Err(if stored.as_ref().is_some_and(has_code) {
                    AppError::code_attempts_exhausted()
                } else {
                    AppError::CodeMismatch
                })
            }
            Err(err) => Err(sdk_error("UpdateItem (code attempt)", &self.table, err)),
        }
    }
}

#[async_trait]
impl AccountStore for DynamoRecords {
    async fn get_account(&self, email: &str) -> AppResult<Option<Account>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem (account)", &self.table, e))?;
        out.item().map(account_from).transpose()
    }

    async fn put_unconfirmed(&self, account: &Account, replaces: Option<&str>) -> AppResult<()> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(account_item(account)));
        let request = match replaces {
            None => request.condition_expression("attribute_not_exists(pk)"),
            Some(code_hash) => request
                .condition_expression("#status = :unconfirmed AND codeHash = :replaces")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(
                    ":unconfirmed",
                    attrs::s(AccountStatus::Unconfirmed.as_str()),
                )
                .expression_attribute_values(":replaces", attrs::s(code_hash)),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Err(AppError::EmailTaken),
            Err(err) => Err(sdk_error("PutItem (account)", &self.table, err)),
        }
    }

    async fn renew_code(
        &self,
        email: &str,
        replaces: &str,
        code: &PendingConfirmation,
    ) -> AppResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .update_expression(
                "SET codeHash = :code, codeExpiresAt = :expires, failedAttempts = :attempts",
            )
            .condition_expression("#status = :unconfirmed AND codeHash = :replaces")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":unconfirmed",
                attrs::s(AccountStatus::Unconfirmed.as_str()),
            )
            .expression_attribute_values(":replaces", attrs::s(replaces))
            .expression_attribute_values(":code", attrs::s(&code.code_hash))
            .expression_attribute_values(":expires", attrs::time(&code.expires_at))
            .expression_attribute_values(":attempts", attrs::n(code.failed_attempts))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Err(AppError::CodeMismatch),
            Err(err) => Err(sdk_error("UpdateItem (renew code)", &self.table, err)),
        }
    }

    async fn reserve_code_attempt(&self, email: &str, max: u32) -> AppResult<u32> {
        self.reserve_attempt(email, max, "codeHash", "failedAttempts", |a| {
            a.confirmation.is_some()
        })
        .await
    }

    async fn mark_confirmed(
        &self,
        email: &str,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .update_expression(
                "SET #status = :confirmed, confirmedAt = :at \
                 REMOVE codeHash, codeExpiresAt, failedAttempts, codesSent, codeWindowStart",
            )
            .condition_expression("#status = :unconfirmed AND codeHash = :code")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":confirmed", attrs::s(AccountStatus::Confirmed.as_str()))
            .expression_attribute_values(
                ":unconfirmed",
                attrs::s(AccountStatus::Unconfirmed.as_str()),
            )
            .expression_attribute_values(":code", attrs::s(code_hash))
            .expression_attribute_values(":at", attrs::time(&at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Err(AppError::CodeMismatch),
            Err(err) => Err(sdk_error("UpdateItem (confirm)", &self.table, err)),
        }
    }

    async fn put_reset_code(&self, email: &str, reset: &PendingConfirmation) -> AppResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .update_expression(
                "SET resetCodeHash = :code, resetExpiresAt = :expires, resetAttempts = :attempts",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":code", attrs::s(&reset.code_hash))
            .expression_attribute_values(":expires", attrs::time(&reset.expires_at))
            .expression_attribute_values(":attempts", attrs::n(reset.failed_attempts))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_error("UpdateItem (reset code)", &self.table, err)),
        }
    }

    async fn reserve_reset_attempt(&self, email: &str, max: u32) -> AppResult<u32> {
        self.reserve_attempt(email, max, "resetCodeHash", "resetAttempts", |a| {
            a.password_reset.is_some()
        })
        .await
    }

    async fn reset_password(
        &self,
        email: &str,
        code_hash: &str,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .update_expression(
                "SET passwordHash = :password, #status = :confirmed, \
                 confirmedAt = if_not_exists(confirmedAt, :at), passwordResetAt = :at \
                 REMOVE resetCodeHash, resetExpiresAt, resetAttempts, \
                 codeHash, codeExpiresAt, failedAttempts, codesSent, codeWindowStart",
            )
            .condition_expression("resetCodeHash = :code")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":password", attrs::s(password_hash))
            .expression_attribute_values(":confirmed", attrs::s(AccountStatus::Confirmed.as_str()))
            .expression_attribute_values(":code", attrs::s(code_hash))
            .expression_attribute_values(":at", attrs::time(&at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Err(AppError::CodeMismatch),
            Err(err) => Err(sdk_error("UpdateItem (reset password)", &self.table, err)),
        }
    }
}
