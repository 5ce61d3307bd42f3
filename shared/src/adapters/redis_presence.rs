//! Chat presence, read markers and send rates in Redis (being written).
