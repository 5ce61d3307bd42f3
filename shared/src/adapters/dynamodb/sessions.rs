//! Sessions: pk `USER#<email>`, sk `SESSION#<sessionId>`, expiring through the `ttl` attribute
//! one day after the session does.

use async_trait::async_trait;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::accounts::user_pk;
use super::attrs::{self, Item};
use super::{condition_failed, sdk_error, DynamoRecords};
use crate::error::AppResult;
use crate::model::Session;
use crate::ports::SessionStore;

const SESSION_PREFIX: &str = "SESSION#";

/// Every attribute a session read asks for: the key and what [`session_from`] reads. A session
/// shares its partition with the account (`USER#<email>` / `PROFILE`, which holds the password
/// hash and the code hashes), so the authorizer's IAM policy (`template.yaml`) allows its
/// GetItem only with a projection of these names (`dynamodb:Attributes`; DynamoDB wants the
/// key attributes listed too): an account's hashes stay unreadable to it. Reading an attribute
/// more here means listing it there as well, which the deployment test checks.
pub const SESSION_ATTRIBUTES: [&str; 11] = [
    "pk",
    "sk",
    "sessionId",
    "userId",
    "email",
    "name",
    "refreshHash",
    "spentHashes",
    "revoked",
    "createdAt",
    "expiresAt",
];
/// How long an expired session is kept before DynamoDB's TTL sweeps it.
const TTL_GRACE_SECS: i64 = 24 * 60 * 60;
/// How many sessions a sign-out-everywhere revokes at once.
const REVOKE_CONCURRENCY: usize = 16;

fn session_key(email: &str, session_id: &str) -> Item {
    attrs::key(user_pk(email), format!("{SESSION_PREFIX}{session_id}"))
}

fn session_item(session: &Session) -> Item {
    let mut item = session_key(&session.email, &session.session_id);
    item.insert("sessionId".into(), attrs::s(&session.session_id));
    item.insert("userId".into(), attrs::s(&session.user_id));
    item.insert("email".into(), attrs::s(&session.email));
    item.insert("name".into(), attrs::s(&session.name));
    item.insert("refreshHash".into(), attrs::s(&session.refresh_hash));
    item.insert(
        "spentHashes".into(),
        attrs::string_list(&session.spent_hashes),
    );
    item.insert("revoked".into(), attrs::bool(session.revoked));
    item.insert("createdAt".into(), attrs::time(&session.created_at));
    item.insert("expiresAt".into(), attrs::time(&session.expires_at));
    item.insert(
        "ttl".into(),
        attrs::n(session.expires_at.timestamp() + TTL_GRACE_SECS),
    );
    item
}

fn session_from(item: &Item) -> AppResult<Session> {
    Ok(Session {
        session_id: attrs::req_string(item, "sessionId")?,
        user_id: attrs::req_string(item, "userId")?,
        email: attrs::req_string(item, "email")?,
        name: attrs::req_string(item, "name")?,
        refresh_hash: attrs::req_string(item, "refreshHash")?,
        spent_hashes: attrs::req_string_list(item, "spentHashes")?,
        revoked: attrs::req_bool(item, "revoked")?,
        created_at: attrs::req_time(item, "createdAt")?,
        expires_at: attrs::req_time(item, "expiresAt")?,
    })
}

impl DynamoRecords {
    /// Sets `revoked` on one live session; false when it was already revoked or is gone.
    async fn revoke_if_live(&self, key: Item) -> AppResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET revoked = :true")
            .condition_expression("revoked = :false")
            .expression_attribute_values(":true", attrs::bool(true))
            .expression_attribute_values(":false", attrs::bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_error("UpdateItem (revoke session)", &self.table, err)),
        }
    }
}

#[async_trait]
impl SessionStore for DynamoRecords {
    async fn create_session(&self, session: &Session) -> AppResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(session)))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem (session)", &self.table, e))?;
        Ok(())
    }

    async fn get_session(&self, email: &str, session_id: &str) -> AppResult<Option<Session>> {
        // Every name through a placeholder (`name` is a reserved word): `#a0, #a1, ...`.
        let projection = (0..SESSION_ATTRIBUTES.len())
            .map(|i| format!("#a{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let names = SESSION_ATTRIBUTES
            .iter()
            .enumerate()
            .map(|(i, name)| (format!("#a{i}"), (*name).to_string()))
            .collect();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(session_key(email, session_id)))
            .projection_expression(projection)
            .set_expression_attribute_names(Some(names))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem (session)", &self.table, e))?;
        out.item().map(session_from).transpose()
    }

    async fn rotate_refresh(
        &self,
        email: &str,
        session_id: &str,
        current_hash: &str,
        next_hash: &str,
        spent_hashes: &[String],
    ) -> AppResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(email, session_id)))
            .update_expression("SET refreshHash = :next, spentHashes = :spent")
            .condition_expression("refreshHash = :current AND revoked = :false")
            .expression_attribute_values(":next", attrs::s(next_hash))
            .expression_attribute_values(":spent", attrs::string_list(spent_hashes))
            .expression_attribute_values(":current", attrs::s(current_hash))
            .expression_attribute_values(":false", attrs::bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_error("UpdateItem (rotate refresh)", &self.table, err)),
        }
    }

    async fn revoke_session(&self, email: &str, session_id: &str) -> AppResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(email, session_id)))
            .update_expression("SET revoked = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", attrs::bool(true))
            .send()
            .await;
        match result {
            // A missing session is already as revoked as it can be.
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_error("UpdateItem (revoke session)", &self.table, err)),
        }
    }

    async fn revoke_all_sessions(&self, email: &str) -> AppResult<u32> {
        // Collect the keys of the live sessions (only key and flag are read, never hashes).
        let mut live = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", attrs::s(user_pk(email)))
                .expression_attribute_values(":prefix", attrs::s(SESSION_PREFIX))
                .projection_expression("pk, sk, revoked")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query (sessions)", &self.table, e))?;
            for item in out.items() {
                if !attrs::req_bool(item, "revoked")? {
                    let sk = attrs::req_string(item, "sk")?;
                    live.push(attrs::key(user_pk(email), sk));
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        // Each revocation is conditional, so a session revoked meanwhile is not counted twice.
        let outcomes: Vec<bool> = stream::iter(live)
            .map(|key| self.revoke_if_live(key))
            .buffer_unordered(REVOKE_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(outcomes.into_iter().filter(|&revoked| revoked).count() as u32)
    }
}
