//! Argon2id password hashing, off the async threads because it is deliberately slow.
//!
//! Parameters: m = 7 MiB, t = 5, p = 1, one of OWASP's equivalent Argon2id configurations
//! (Password Storage Cheat Sheet). It costs the same CPU as the crate's default (19 MiB, t = 2)
//! but a third of the memory, so `signup` and `login` stay within the functions' 16 MiB
//! resident budget. A hash keeps its own parameters, so hashes made with other ones still
//! verify.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

use crate::error::{AppError, AppResult};

/// Memory cost in KiB.
const MEMORY_KIB: u32 = 7 * 1024;
/// Passes over that memory.
const PASSES: u32 = 5;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string with a fresh salt.
pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

/// Whether the password matches the PHC string (with the parameters it names); a malformed
/// hash never matches.
pub async fn verify(password: String, phc: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let phc = super::hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{phc}");
        assert!(super::verify("correct horse".into(), phc.clone())
            .await
            .unwrap());
        assert!(!super::verify("wrong horse".into(), phc).await.unwrap());
        assert!(!super::verify("x".into(), "not a hash".into())
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn hashes_made_with_the_crates_defaults_still_verify() {
        use argon2::password_hash::PasswordHasher;
        // Accounts created before the parameters changed: m = 19 MiB, t = 2.
        let old = argon2::Argon2::default()
            .hash_password(b"festival-pass")
            .unwrap()
            .to_string();
        assert!(old.contains("m=19456,t=2,p=1"), "{old}");
        assert!(super::verify("festival-pass".into(), old.clone())
            .await
            .unwrap());
        assert!(!super::verify("other-pass".into(), old).await.unwrap());
    }
}
