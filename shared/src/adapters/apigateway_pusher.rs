//! Chat frames pushed through API Gateway's management API (being written).
