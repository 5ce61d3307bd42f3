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
        item.insert("codesSent".into(), attrs::n(pending.codes_sent));
        item.insert(
            "codeWindowStart".into(),
            attrs::time(&pending.window_started_at),
        );
    }
    item
}

fn account_from(item: &Item) -> AppResult<Account> {
    let status = attrs::req_str(item, "status")?;
    let status = AccountStatus::parse(status)
        .ok_or_else(|| AppError::internal("stored account has an unknown status"))?;
    let confirmation = match attrs::opt_str(item, "codeHash")? {
        Some(code_hash) => Some(PendingConfirmation {
            code_hash: code_hash.to_string(),
            expires_at: attrs::req_time(item, "codeExpiresAt")?,
            failed_attempts: attrs::opt_num(item, "failedAttempts")?.unwrap_or(0),
            codes_sent: attrs::opt_num(item, "codesSent")?.unwrap_or(1),
            window_started_at: match attrs::opt_str(item, "codeWindowStart")? {
                Some(_) => attrs::req_time(item, "codeWindowStart")?,
                None => attrs::req_time(item, "createdAt")?,
            },
        }),
        None => None,
    };
    Ok(Account {
        user_id: attrs::req_string(item, "userId")?,
        email: attrs::req_string(item, "email")?,
        name: attrs::req_string(item, "name")?,
        password_hash: attrs::req_string(item, "passwordHash")?,
        status,
        created_at: attrs::req_time(item, "createdAt")?,
        confirmation,
    })
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

    async fn reserve_code_attempt(&self, email: &str, max: u32) -> AppResult<u32> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(account_key(email)))
            .update_expression("ADD failedAttempts :one")
            .condition_expression(
                "attribute_exists(codeHash) AND \
                 (attribute_not_exists(failedAttempts) OR failedAttempts < :max)",
            )
            .expression_attribute_values(":one", attrs::n(1))
            .expression_attribute_values(":max", attrs::n(max))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let updated = out.attributes().cloned().unwrap_or_default();
                attrs::req_num(&updated, "failedAttempts")
            }
            // Which half of the condition failed decides the answer.
            Err(err) if condition_failed(&err) => match self.get_account(email).await? {
                Some(Account {
                    confirmation: Some(_),
                    ..
                }) => Err(AppError::code_attempts_exhausted()),
                _ => Err(AppError::CodeMismatch),
            },
            Err(err) => Err(sdk_error("UpdateItem (code attempt)", &self.table, err)),
        }
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
}
