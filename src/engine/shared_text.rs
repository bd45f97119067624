//! The texts that recur record after record — countries, segments, variants, a shopper's uid
//! on each of their pings — decoded once and shared, instead of a fresh allocation (and a
//! later free) per field of every record.

use std::sync::Arc;

use rustc_hash::FxHashSet;

/// Beyond this many distinct texts the table starts over: it is a cache, and a stream of
/// ever-new uids must not grow it without bound.
const MAX_TEXTS: usize = 1 << 16;

/// Longer texts (titles, nested JSON) rarely recur and are not worth hashing.
const MAX_SHARED_LEN: usize = 64;

/// Shared texts, or none at all for one-off decoding.
#[derive(Debug, Default)]
pub struct SharedTexts {
    texts: FxHashSet<Arc<str>>,
    /// The last text of each column that repeats from record to record (a ping's country,
    /// a product's segment): compared before hashing, as the next record most often has the
    /// same one.
    last: [Option<Arc<str>>; Recurring::COUNT],
    enabled: bool,
}

/// The columns whose last text [`SharedTexts::recurring`] keeps, one slot each.
#[derive(Clone, Copy, Debug)]
pub enum Recurring {
    Country,
    Segment,
    Variant,
}

impl Recurring {
    const COUNT: usize = 3;
}

/// A clone starts empty: the table is only a cache, and pipelines are cloned for every
/// checkpoint of a replay.
impl Clone for SharedTexts {
    fn clone(&self) -> Self {
        Self {
            enabled: self.enabled,
            ..Self::default()
        }
    }
}

impl SharedTexts {
    /// A table that shares what recurs.
    pub fn new() -> Self {
        Self {
            enabled: true,
            ..Self::default()
        }
    }

    /// No table: every text gets its own allocation (decoding one record now and then).
    pub fn none() -> Self {
        Self::default()
    }

    /// `text` as an `Arc`, the one already held when the same text came before.
    pub fn get(&mut self, text: &str) -> Arc<str> {
        if !self.enabled || text.len() > MAX_SHARED_LEN {
            return text.into();
        }
        if let Some(shared) = self.texts.get(text) {
            return Arc::clone(shared);
        }
        if self.texts.len() >= MAX_TEXTS {
            self.texts.clear();
        }
        let shared: Arc<str> = text.into();
        self.texts.insert(Arc::clone(&shared));
        shared
    }

    /// [`SharedTexts::get`] for a column whose text seldom changes between records, compared
    /// first with that column's last text. (A uid changes with
    /// every ping and goes through `get`: its slot would be replaced, two reference-count
    /// updates, on every ping.)
    pub fn recurring(&mut self, column: Recurring, text: &str) -> Arc<str> {
        let slot = column as usize;
        if let Some(last) = self.last.get(slot).and_then(Option::as_ref) {
            if **last == *text {
                return Arc::clone(last);
            }
        }
        let shared = self.get(text);
        if self.enabled {
            if let Some(last) = self.last.get_mut(slot) {
                *last = Some(Arc::clone(&shared));
            }
        }
        shared
    }

    /// Distinct texts held.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recurring_text_is_one_allocation() {
        let mut texts = SharedTexts::new();
        let a = texts.get("USA");
        let b = texts.get("USA");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*texts.get("Canada"), "Canada");
        assert_eq!(texts.len(), 2);
    }

    #[test]
    fn a_recurring_column_gives_the_shared_text_and_follows_a_change() {
        let mut texts = SharedTexts::new();
        let usa = texts.get("USA");
        assert!(Arc::ptr_eq(
            &texts.recurring(Recurring::Country, "USA"),
            &usa
        ));
        assert!(Arc::ptr_eq(
            &texts.recurring(Recurring::Country, "USA"),
            &usa
        ));
        assert_eq!(&*texts.recurring(Recurring::Country, "CAN"), "CAN");
        assert!(Arc::ptr_eq(
            &texts.recurring(Recurring::Country, "CAN"),
            &texts.get("CAN")
        ));
        // Another column's slot is its own.
        assert!(Arc::ptr_eq(
            &texts.recurring(Recurring::Segment, "USA"),
            &usa
        ));
        assert_eq!(texts.len(), 2);
        let mut none = SharedTexts::none();
        let a = none.recurring(Recurring::Country, "USA");
        assert!(!Arc::ptr_eq(&a, &none.recurring(Recurring::Country, "USA")));
    }

    #[test]
    fn without_a_table_every_text_is_its_own() {
        let mut texts = SharedTexts::none();
        let a = texts.get("USA");
        assert!(!Arc::ptr_eq(&a, &texts.get("USA")));
        assert!(texts.is_empty());
    }

    #[test]
    fn the_table_starts_over_when_full_and_skips_long_texts() {
        let mut texts = SharedTexts::new();
        for i in 0..MAX_TEXTS {
            texts.get(&i.to_string());
        }
        assert_eq!(texts.len(), MAX_TEXTS);
        assert_eq!(&*texts.get("one more"), "one more");
        assert_eq!(texts.len(), 1);
        texts.get(&"x".repeat(MAX_SHARED_LEN + 1));
        assert_eq!(texts.len(), 1);
    }
}
