//! Open WebSocket connections: one item per connection in the connections table (pk
//! `connectionId`), swept by DynamoDB's TTL on `ttl` (epoch seconds of `expiresAt`). An
//! expired item TTL has not swept yet is ignored. (A user's connections are tracked in Redis,
//! which reads consistently; an index here would lag behind a connect.)

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

use super::attrs::{self, Item};
use super::{sdk_error, Client};
use crate::error::AppResult;
use crate::model::Connection;
use crate::ports::ConnectionStore;

/// Open WebSocket connections in the connections table.
#[derive(Debug, Clone)]
pub struct DynamoConnections {
    client: Client,
    table: String,
}

impl DynamoConnections {
    /// The connection store on `table` (the stack's `CONNECTIONS_TABLE`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn connection_key(connection_id: &str) -> Item {
    Item::from([("connectionId".to_string(), attrs::s(connection_id))])
}

fn connection_item(c: &Connection) -> Item {
    let mut item = connection_key(&c.connection_id);
    item.insert("userId".into(), attrs::s(&c.user_id));
    item.insert("name".into(), attrs::s(&c.name));
    item.insert("sessionId".into(), attrs::s(&c.session_id));
    item.insert("connectedAt".into(), attrs::time(&c.connected_at));
    item.insert("expiresAt".into(), attrs::time(&c.expires_at));
    item.insert("ttl".into(), attrs::n(c.expires_at.timestamp()));
    item
}

fn connection_from(item: &Item) -> AppResult<Connection> {
    Ok(Connection {
        connection_id: attrs::req_string(item, "connectionId")?,
        user_id: attrs::req_string(item, "userId")?,
        name: attrs::req_string(item, "name")?,
        session_id: attrs::opt_str(item, "sessionId")?
            .unwrap_or_default()
            .to_string(),
        connected_at: attrs::req_time(item, "connectedAt")?,
        expires_at: attrs::req_time(item, "expiresAt")?,
    })
}

#[async_trait]
impl ConnectionStore for DynamoConnections {
    async fn open(&self, connection: &Connection) -> AppResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(connection_item(connection)))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem (connection)", &self.table, e))?;
        Ok(())
    }

    async fn get(&self, connection_id: &str, now: DateTime<Utc>) -> AppResult<Option<Connection>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(connection_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem (connection)", &self.table, e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let connection = connection_from(&item)?;
        Ok((connection.expires_at > now).then_some(connection))
    }

    async fn close(&self, connection_id: &str) -> AppResult<Option<Connection>> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(connection_id)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem (connection)", &self.table, e))?;
        match out.attributes {
            Some(item) if !item.is_empty() => connection_from(&item).map(Some),
            _ => Ok(None),
        }
    }
}
