//! Festival descriptions as the waiting room and bookings need them, read once per process.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::{AppError, AppResult};
use crate::model::Festival;
use crate::ports::FestivalStore;

/// The most festivals remembered; past it the memory starts over.
const REMEMBERED: usize = 10_000;

/// A festival's description never changes once created, so a warm function reads it once:
/// a rank poll then costs one Redis round trip and no database read. Only stock is live, and
/// this never holds stock. Unknown ids are not remembered, so a festival created later is found.
#[derive(Clone)]
pub struct FestivalDirectory {
    store: Arc<dyn FestivalStore>,
    known: Arc<RwLock<HashMap<String, Arc<Festival>>>>,
}

impl FestivalDirectory {
    /// A directory over the festival records.
    pub fn new(store: Arc<dyn FestivalStore>) -> Self {
        FestivalDirectory {
            store,
            known: Arc::default(),
        }
    }

    /// The festival's description (without stock), or `FESTIVAL_NOT_FOUND`.
    pub async fn get(&self, festival_id: &str) -> AppResult<Arc<Festival>> {
        if let Some(f) = self.known.read().unwrap().get(festival_id) {
            return Ok(f.clone());
        }
        if festival_id.is_empty() || festival_id.len() > 64 {
            return Err(AppError::FestivalNotFound);
        }
        let festival = self
            .store
            .get_festivals(&[festival_id.to_string()], false)
            .await?
            .into_iter()
            .next()
            .map(Arc::new)
            .ok_or(AppError::FestivalNotFound)?;
        let mut known = self.known.write().unwrap();
        if known.len() >= REMEMBERED {
            known.clear();
        }
        known.insert(festival_id.to_string(), festival.clone());
        Ok(festival)
    }
}
