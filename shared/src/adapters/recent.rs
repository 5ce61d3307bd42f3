//! The bounded logs the local platform keeps of what it would have sent (mail, reservation
//! events), so people and tests can read them back while a long run stays bounded.

use std::collections::VecDeque;
use std::sync::Mutex;

/// The latest `capacity` items pushed, oldest first; pushing past it drops the oldest.
pub struct Recent<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
}

impl<T> Recent<T> {
    /// An empty log that keeps at most `capacity` items.
    pub fn new(capacity: usize) -> Self {
        Recent {
            items: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// Appends `item`, dropping the oldest when full.
    pub fn push(&self, item: T) {
        let mut items = self.items.lock().unwrap();
        if items.len() >= self.capacity {
            items.pop_front();
        }
        items.push_back(item);
    }

    /// Reads the items, oldest first, under the lock (so callers filter before they clone).
    pub fn read<R>(&self, read: impl FnOnce(std::collections::vec_deque::Iter<'_, T>) -> R) -> R {
        read(self.items.lock().unwrap().iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_capacity_items_in_order() {
        let log = Recent::new(3);
        for i in 0..5 {
            log.push(i);
        }
        assert_eq!(
            log.read(|items| items.copied().collect::<Vec<_>>()),
            [2, 3, 4]
        );
    }
}
