//! Finds the cache's URL from its ElastiCache replication group id
//! (`CACHE_REPLICATION_GROUP_ID`), once per cold start.

use aws_sdk_elasticache::types::{Endpoint, ReplicationGroup};

use crate::error::{AppError, AppResult};

/// The port ElastiCache uses when an endpoint does not say.
const DEFAULT_PORT: i32 = 6379;

/// The `redis://` or `rediss://` URL of the replication group's primary (or, in cluster mode,
/// configuration) endpoint, looked up through DescribeReplicationGroups.
pub async fn resolve_redis_url(
    client: &aws_sdk_elasticache::Client,
    replication_group_id: &str,
) -> AppResult<String> {
    let output = client
        .describe_replication_groups()
        .replication_group_id(replication_group_id)
        .send()
        .await
        .map_err(|err| {
            let not_found = err
                .as_service_error()
                .is_some_and(|e| e.is_replication_group_not_found_fault());
            if not_found {
                AppError::internal(format!(
                    "ElastiCache replication group {replication_group_id} does not exist"
                ))
            } else {
                super::aws::call_failed(
                    format_args!("DescribeReplicationGroups for {replication_group_id}"),
                    &err,
                )
            }
        })?;
    let group = output
        .replication_groups()
        .iter()
        .find(|g| g.replication_group_id() == Some(replication_group_id))
        .or_else(|| output.replication_groups().first())
        .ok_or_else(|| {
            AppError::internal(format!(
                "ElastiCache replication group {replication_group_id} does not exist"
            ))
        })?;
    let url = redis_url(group)?;
    tracing::info!(
        replication_group_id,
        "resolved the cache endpoint through ElastiCache"
    );
    Ok(url)
}

/// The URL of a described replication group: its primary endpoint, or its configuration
/// endpoint in cluster mode; `rediss://` when in-transit encryption is on.
pub fn redis_url(group: &ReplicationGroup) -> AppResult<String> {
    let id = group.replication_group_id().unwrap_or("(unnamed)");
    let primary = group
        .node_groups()
        .first()
        .and_then(|g| g.primary_endpoint())
        .filter(has_address);
    let configuration = group.configuration_endpoint().filter(has_address);
    let endpoint = if group.cluster_enabled() == Some(true) {
        configuration.or(primary)
    } else {
        primary.or(configuration)
    };
    let Some(endpoint) = endpoint else {
        let status = group.status().unwrap_or("unknown");
        return Err(AppError::internal(format!(
            "ElastiCache replication group {id} has no endpoint yet (status {status})"
        )));
    };
    let scheme = if group.transit_encryption_enabled() == Some(true) {
        "rediss"
    } else {
        "redis"
    };
    let host = endpoint.address().unwrap_or_default();
    let port = endpoint.port().filter(|p| *p > 0).unwrap_or(DEFAULT_PORT);
    Ok(format!("{scheme}://{host}:{port}"))
}

fn has_address(endpoint: &&Endpoint) -> bool {
    endpoint.address().is_some_and(|a| !a.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticache::types::NodeGroup;

    fn endpoint(address: &str, port: i32) -> Endpoint {
        Endpoint::builder().address(address).port(port).build()
    }

    fn single_shard(tls: bool) -> ReplicationGroup {
        ReplicationGroup::builder()
            .replication_group_id("festa-cache")
            .status("available")
            .cluster_enabled(false)
            .transit_encryption_enabled(tls)
            .node_groups(
                NodeGroup::builder()
                    .node_group_id("0001")
                    .primary_endpoint(endpoint(
                        "master.festa-cache.abc123.apne2.cache.amazonaws.com",
                        6379,
                    ))
                    .reader_endpoint(endpoint(
                        "replica.festa-cache.abc123.apne2.cache.amazonaws.com",
                        6379,
                    ))
                    .build(),
            )
            .build()
    }

    #[test]
    fn uses_the_primary_endpoint_with_tls_when_encrypted() {
        assert_eq!(
            redis_url(&single_shard(true)).unwrap(),
            "rediss://master.festa-cache.abc123.apne2.cache.amazonaws.com:6379"
        );
        assert_eq!(
            redis_url(&single_shard(false)).unwrap(),
            "redis://master.festa-cache.abc123.apne2.cache.amazonaws.com:6379"
        );
    }

    #[test]
    fn uses_the_configuration_endpoint_in_cluster_mode() {
        let group = ReplicationGroup::builder()
            .replication_group_id("festa-cluster")
            .cluster_enabled(true)
            .transit_encryption_enabled(true)
            .configuration_endpoint(endpoint(
                "clustercfg.festa-cluster.abc123.apne2.cache.amazonaws.com",
                6380,
            ))
            .node_groups(NodeGroup::builder().node_group_id("0001").build())
            .node_groups(NodeGroup::builder().node_group_id("0002").build())
            .build();
        assert_eq!(
            redis_url(&group).unwrap(),
            "rediss://clustercfg.festa-cluster.abc123.apne2.cache.amazonaws.com:6380"
        );
    }

    #[test]
    fn defaults_the_port_and_treats_missing_encryption_as_off() {
        let group = ReplicationGroup::builder()
            .node_groups(
                NodeGroup::builder()
                    .primary_endpoint(Endpoint::builder().address("cache.internal").build())
                    .build(),
            )
            .build();
        assert_eq!(redis_url(&group).unwrap(), "redis://cache.internal:6379");
    }

    #[test]
    fn a_group_without_endpoints_is_an_error_naming_its_status() {
        let group = ReplicationGroup::builder()
            .replication_group_id("festa-cache")
            .status("creating")
            .node_groups(NodeGroup::builder().node_group_id("0001").build())
            .build();
        let err = redis_url(&group).unwrap_err().to_string();
        assert!(
            err.contains("festa-cache") && err.contains("creating"),
            "{err}"
        );
        assert!(redis_url(&ReplicationGroup::builder().build()).is_err());
    }
}
