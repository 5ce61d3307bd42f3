//! HS256, the only algorithm our access tokens use, as `jsonwebtoken`'s crypto provider.
//!
//! The crate's own providers would link a second crypto library (aws-lc or RustCrypto's RSA and
//! elliptic curves) into every function that checks a token. The HMAC-SHA256 here is the very
//! code the AWS SDK's SigV4 signing already links, so tokens cost no extra bytes.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // No JWK handling: our keys are shared secrets, never published key sets.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes HS256 available to `jsonwebtoken`; later calls (and a provider installed by someone
/// else first) leave things as they are.
pub(crate) fn install() {
    let _ = PROVIDER.install_default();
}

/// The key of an HS256 token, sized for HMAC (any length is accepted by HMAC itself).
fn mac(secret: &[u8]) -> Result<HmacSha256, Error> {
    HmacSha256::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256(mac(key.as_bytes())?))),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256(mac(key.try_get_as_bytes()?)?))),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

/// One HMAC-SHA256 key, signing and verifying.
struct Hs256(HmacSha256);

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // Constant-time comparison, so a forger learns nothing from timing.
        mac.verify_slice(tag).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signature::{Signer, Verifier};

    #[test]
    fn matches_the_rfc_4231_test_vector_and_refuses_a_changed_tag() {
        // RFC 4231, test case 2.
        let hs = Hs256(mac(b"Jefe").unwrap());
        let tag = hs.try_sign(b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex::encode(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hs.verify(b"what do ya want for nothing?", &tag).is_ok());
        let mut forged = tag.clone();
        forged[0] ^= 1;
        assert!(hs.verify(b"what do ya want for nothing?", &forged).is_err());
        assert!(hs.verify(b"what do ya want for something?", &tag).is_err());
    }

    #[test]
    fn only_hs256_is_offered() {
        let key = EncodingKey::from_secret(b"secret");
        assert!(signer(&Algorithm::HS384, &key).is_err());
        assert!(signer(&Algorithm::HS256, &key).is_ok());
        let key = DecodingKey::from_secret(b"secret");
        assert!(verifier(&Algorithm::RS256, &key).is_err());
    }
}
