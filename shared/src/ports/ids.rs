/// Fresh identifiers and secrets, replaceable so tests can predict them.
pub trait IdSource: Send + Sync {
    /// A new time-ordered id (ULID).
    fn new_id(&self) -> String;

    /// A new unguessable secret, URL-safe, at least 256 bits.
    fn new_secret(&self) -> String;

    /// A new 6-digit confirmation code.
    fn new_code(&self) -> String;
}
