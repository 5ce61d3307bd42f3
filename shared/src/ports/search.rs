use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::error::AppResult;

/// Where a posting-list read starts, walking from newest to oldest festival id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostingBound<'a> {
    /// From the newest festival.
    Newest,
    /// From this id, including it.
    AtOrBelow(&'a str),
    /// From the first id older than this one.
    Below(&'a str),
}

/// A festival's grams folded into 1,024 bits. Every posting carries its festival's signature, so
/// a search scanning one gram's list can rule a festival out for the query's other grams
/// without reading their lists. Stored, so the folding must never change.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GramSignature(pub [u8; GramSignature::BYTES]);

impl GramSignature {
    /// Size in bytes (1,024 bits): with a few hundred grams a festival sets about a quarter of
    /// the bits, so each further query gram passes a stranger with odds of about one in four.
    pub const BYTES: usize = 128;

    /// The signature of a set of grams: one bit per gram, chosen by its SHA-256.
    pub fn of<'a>(grams: impl IntoIterator<Item = &'a String>) -> Self {
        let mut bits = [0u8; Self::BYTES];
        for gram in grams {
            let digest = Sha256::digest(gram.as_bytes());
            let bit = u16::from_be_bytes([digest[0], digest[1]]) as usize % (Self::BYTES * 8);
            bits[bit / 8] |= 1 << (bit % 8);
        }
        GramSignature(bits)
    }

    /// Whether every bit of `query` is set here: false means the festival lacks a query gram.
    pub fn covers(&self, query: &GramSignature) -> bool {
        self.0
            .iter()
            .zip(query.0.iter())
            .all(|(have, want)| have & want == *want)
    }

    /// Reads stored bytes back; anything of the wrong length is not a signature.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(GramSignature)
    }
}

impl std::fmt::Debug for GramSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: u32 = self.0.iter().map(|b| b.count_ones()).sum();
        write!(f, "GramSignature({set} bits set)")
    }
}

/// One entry of a gram's posting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub festival_id: String,
    /// The signature of all the festival's grams.
    pub signature: GramSignature,
}

/// An inverted index from n-grams to festivals, each posting list sorted by festival id.
///
/// The search service reads a page of each query gram's list, then scans only the sparsest,
/// so a search costs reads in proportion to the smallest list it needs, never the catalogue.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Adds the festival, with its signature, to the posting list of every gram.
    async fn add_postings(
        &self,
        festival_id: &str,
        grams: &[String],
        signature: &GramSignature,
    ) -> AppResult<()>;

    /// Up to `limit` postings of `gram`'s list from `from`, newest first.
    async fn postings(
        &self,
        gram: &str,
        from: PostingBound<'_>,
        limit: usize,
    ) -> AppResult<Vec<Posting>>;
}

#[cfg(test)]
mod tests {
    use super::GramSignature;

    fn grams(list: &[&str]) -> Vec<String> {
        list.iter().map(|g| g.to_string()).collect()
    }

    #[test]
    fn a_signature_covers_its_subsets_and_is_stable() {
        let festival = GramSignature::of(&grams(&["불꽃", "꽃축", "축제", "서울"]));
        assert!(festival.covers(&GramSignature::of(&grams(&["불꽃", "축제"]))));
        assert!(festival.covers(&GramSignature::of(&grams(&[]))));
        assert!(!festival.covers(&GramSignature::of(&grams(&["재즈"]))));
        // Stored in DynamoDB: the folding must not change between versions.
        let one = GramSignature::of(&grams(&["ab"]));
        let bit: usize = one
            .0
            .iter()
            .enumerate()
            .find(|(_, b)| **b != 0)
            .map(|(i, b)| i * 8 + b.trailing_zeros() as usize)
            .unwrap();
        assert_eq!(bit, 0xfb8e & 1023, "SHA-256(\"ab\") starts fb8e");
        assert_eq!(GramSignature::from_bytes(&one.0), Some(one));
        assert_eq!(GramSignature::from_bytes(&[0u8; 3]), None);
    }
}
