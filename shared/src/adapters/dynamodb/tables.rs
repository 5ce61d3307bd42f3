//! Table creation for the local platform and the tests; the AWS stack creates its own tables
//! from `template.yaml` with the same key schema.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

use super::{build_error, sdk_error};
use crate::error::{AppError, AppResult};

/// How long a new table may take to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);
const POLL_EVERY: Duration = Duration::from_millis(250);

/// Creates the records and search tables if they are missing (on-demand billing, the key
/// schema of `docs/deployment-contract.md`), waits until both are active, and enables TTL on
/// the records table's `ttl` attribute where the service supports it.
pub async fn ensure_tables(
    client: &Client,
    records_table: &str,
    search_table: &str,
) -> AppResult<()> {
    ensure_table(client, records_table, true).await?;
    ensure_table(client, search_table, false).await?;
    wait_active(client, records_table).await?;
    wait_active(client, search_table).await?;
    enable_ttl(client, records_table).await;
    Ok(())
}

/// Creates the chat's messages and connections tables if they are missing (on-demand
/// billing, the key schema of `docs/deployment-contract.md`), waits until both are active, and
/// enables TTL on the connections table's `ttl` attribute where the service supports it.
pub async fn ensure_chat_tables(
    client: &Client,
    messages_table: &str,
    connections_table: &str,
) -> AppResult<()> {
    if !exists(client, messages_table).await? {
        let create = client
            .create_table()
            .table_name(messages_table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute_of("chatRoomId", ScalarAttributeType::S)?)
            .attribute_definitions(attribute_of("seq", ScalarAttributeType::N)?)
            .key_schema(key("chatRoomId", KeyType::Hash)?)
            .key_schema(key("seq", KeyType::Range)?);
        create_table(create, messages_table).await?;
    }
    if !exists(client, connections_table).await? {
        let create = client
            .create_table()
            .table_name(connections_table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("connectionId")?)
            .key_schema(key("connectionId", KeyType::Hash)?);
        create_table(create, connections_table).await?;
    }
    wait_active(client, messages_table).await?;
    wait_active(client, connections_table).await?;
    enable_ttl(client, connections_table).await;
    Ok(())
}

fn attribute(name: &str) -> AppResult<AttributeDefinition> {
    attribute_of(name, ScalarAttributeType::S)
}

fn attribute_of(name: &str, kind: ScalarAttributeType) -> AppResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(|e| build_error("attribute definition", e))
}

fn key(name: &str, kind: KeyType) -> AppResult<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| build_error("key schema", e))
}

/// Whether the table exists (in any status).
async fn exists(client: &Client, table: &str) -> AppResult<bool> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(err) => Err(sdk_error("DescribeTable", table, err)),
    }
}

/// Sends the creation; a table someone else created meanwhile is as good as ours.
async fn create_table(create: CreateTableFluentBuilder, table: &str) -> AppResult<()> {
    match create.send().await {
        Ok(_) => {
            tracing::info!(table, "created DynamoDB table");
            Ok(())
        }
        // Someone else created it between our look and our create.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(sdk_error("CreateTable", table, err)),
    }
}

/// Creates the table unless it exists.
async fn ensure_table(client: &Client, table: &str, records: bool) -> AppResult<()> {
    if exists(client, table).await? {
        return Ok(());
    }
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?);
    if records {
        let gsi1 = GlobalSecondaryIndex::builder()
            .index_name("gsi1")
            .key_schema(key("gsi1pk", KeyType::Hash)?)
            .key_schema(key("gsi1sk", KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| build_error("global secondary index", e))?;
        create = create
            .attribute_definitions(attribute("gsi1pk")?)
            .attribute_definitions(attribute("gsi1sk")?)
            .global_secondary_indexes(gsi1);
    }
    create_table(create, table).await
}

async fn wait_active(client: &Client, table: &str) -> AppResult<()> {
    let deadline = Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTable", table, e))?;
        let description = out.table();
        let table_active = description.and_then(|t| t.table_status()) == Some(&TableStatus::Active);
        let indexes_active = description
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active));
        if table_active && indexes_active {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(AppError::internal(format!(
                "DynamoDB table {table} did not become active within {ACTIVE_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Turns on expiry by `ttl` unless it is on; emulators without TTL support just keep expired
/// items.
async fn enable_ttl(client: &Client, table: &str) {
    if let Ok(out) = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
    {
        let status = out
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status());
        if matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) {
            return;
        }
    }
    let spec = match TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("ttl")
        .build()
    {
        Ok(spec) => spec,
        Err(err) => {
            tracing::warn!(table, error = %err, "could not build the TTL specification");
            return;
        }
    };
    if let Err(err) = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
    {
        tracing::warn!(
            table,
            error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err),
            "could not enable TTL; expired items will not be swept"
        );
    }
}
