//! The time-ordered buffer both joins keep per key or cell, cheap to copy.
//!
//! Entries live in small shared chunks: a copy (a replay checkpoint) shares every chunk with
//! the original, and whichever side changes a chunk later copies just that chunk (at most a
//! few dozen entries). So a checkpoint of a million buffered pings costs the chunk pointers,
//! not the pings, and the hot path stays an append to the last chunk.

use std::collections::VecDeque;
use std::sync::Arc;

/// Entries per chunk before a new one starts (out-of-order inserts may grow one up to twice
/// this, then it splits).
pub const CHUNK: usize = 32;

type Chunk<T> = Arc<Vec<(i64, T)>>;

/// Records of one join key (or cell) ordered by timestamp, arrival order among equals.
///
/// Arrivals are nearly in timestamp order, so insertion is an append in the common case and a
/// binary search otherwise; expiry drops from the front.
#[derive(Debug)]
pub struct TimeBuffer<T> {
    chunks: VecDeque<Chunk<T>>,
    /// Entries at the front of the first chunk that are already evicted.
    skip: usize,
    len: usize,
    /// The first and last live timestamps (MAX and MIN when empty), kept here so the checks
    /// made on every insert — is it in order, has anything expired — read no chunk: the
    /// first chunk is usually cold, and reaching it was 6 % of a run.
    oldest_ms: i64,
    newest_ms: i64,
}

// Not derived: copies share the chunks, whatever `T` is.
impl<T> Clone for TimeBuffer<T> {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
            skip: self.skip,
            len: self.len,
            oldest_ms: self.oldest_ms,
            newest_ms: self.newest_ms,
        }
    }
}

impl<T> Default for TimeBuffer<T> {
    fn default() -> Self {
        Self {
            chunks: VecDeque::new(),
            skip: 0,
            len: 0,
            oldest_ms: i64::MAX,
            newest_ms: i64::MIN,
        }
    }
}

impl<T: Clone> TimeBuffer<T> {
    pub fn insert(&mut self, ts_ms: i64, value: T) {
        let in_order = self.newest_ms <= ts_ms;
        self.len += 1;
        self.oldest_ms = self.oldest_ms.min(ts_ms);
        self.newest_ms = self.newest_ms.max(ts_ms);
        if in_order {
            match self.chunks.back_mut() {
                Some(last) if last.len() < CHUNK => Arc::make_mut(last).push((ts_ms, value)),
                _ => {
                    let mut chunk = Vec::with_capacity(CHUNK);
                    chunk.push((ts_ms, value));
                    self.chunks.push_back(Arc::new(chunk));
                }
            }
            return;
        }
        // After every live entry with ts ≤ ts_ms: the first chunk whose last entry is later.
        let at = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(t, _)| *t <= ts_ms));
        let chunk = Arc::make_mut(&mut self.chunks[at]);
        if at == 0 && self.skip > 0 {
            // This chunk is being rewritten anyway: let its evicted entries go.
            chunk.drain(..self.skip);
            self.skip = 0;
        }
        let pos = chunk.partition_point(|(t, _)| *t <= ts_ms);
        chunk.insert(pos, (ts_ms, value));
        if chunk.len() >= 2 * CHUNK {
            let tail = chunk.split_off(CHUNK);
            self.chunks.insert(at + 1, Arc::new(tail));
        }
    }
}

impl<T> TimeBuffer<T> {
    /// Drops entries with a timestamp below `cutoff_ms`; returns how many.
    pub fn evict_before(&mut self, cutoff_ms: i64) -> usize {
        // Usually nothing has expired.
        if self.oldest_ms >= cutoff_ms {
            return 0;
        }
        let mut evicted = 0;
        while let Some(first) = self.chunks.front() {
            let live = &first[self.skip..];
            // Usually nothing has expired: answer that from the first entry.
            if live.first().is_none_or(|(t, _)| *t >= cutoff_ms) {
                break;
            }
            let n = live.partition_point(|(t, _)| *t < cutoff_ms);
            evicted += n;
            if n == live.len() {
                self.chunks.pop_front();
                self.skip = 0;
            } else {
                self.skip += n;
                break;
            }
        }
        self.len -= evicted;
        match self.chunks.front().and_then(|c| c.get(self.skip)) {
            Some((t, _)) => self.oldest_ms = *t,
            None => (self.oldest_ms, self.newest_ms) = (i64::MAX, i64::MIN),
        }
        evicted
    }

    /// Entries with `from_ms ≤ ts ≤ to_ms`, in timestamp order.
    pub fn range(&self, from_ms: i64, to_ms: i64) -> Range<'_, T> {
        if from_ms <= self.oldest_ms {
            // Everything buffered is late enough (the common case): no search.
            let mut chunks = self.chunks.iter();
            let current = chunks.next().map_or([].iter(), |c| c[self.skip..].iter());
            return Range {
                current,
                chunks,
                to_ms,
            };
        }
        // The first chunk holding an entry ≥ from_ms, and where in it.
        let at = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(t, _)| *t < from_ms));
        let skip = if at == 0 { self.skip } else { 0 };
        let start = self.chunks.get(at).map_or(0, |c| {
            let live = &c[skip..];
            // The whole chunk is inside the window in the common case.
            if live.first().is_some_and(|(t, _)| *t >= from_ms) {
                skip
            } else {
                skip + live.partition_point(|(t, _)| *t < from_ms)
            }
        });
        let mut chunks = self.chunks.range(at..);
        let current = chunks.next().map_or([].iter(), |c| c[start..].iter());
        Range {
            current,
            chunks,
            to_ms,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every live entry's value, oldest first.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.chunks
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c[if i == 0 { self.skip } else { 0 }..].iter())
            .map(|(_, v)| v)
    }
}

/// Entries of a [`TimeBuffer`] in a time range: a slice at a time, no per-entry chunk logic.
pub struct Range<'a, T> {
    current: std::slice::Iter<'a, (i64, T)>,
    chunks: std::collections::vec_deque::Iter<'a, Chunk<T>>,
    to_ms: i64,
}

impl<'a, T> Iterator for Range<'a, T> {
    type Item = &'a (i64, T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.current.next() {
                return (entry.0 <= self.to_ms).then_some(entry);
            }
            self.current = self.chunks.next()?.iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buffer_orders_by_time_and_evicts_from_the_front() {
        let mut b = TimeBuffer::default();
        for (ts, v) in [(5, 'a'), (9, 'b'), (7, 'c'), (7, 'd'), (1, 'e')] {
            b.insert(ts, v);
        }
        let all: Vec<_> = b.range(i64::MIN, i64::MAX).map(|(_, v)| *v).collect();
        assert_eq!(all, ['e', 'a', 'c', 'd', 'b']);
        let mid: Vec<_> = b.range(5, 7).map(|(_, v)| *v).collect();
        assert_eq!(mid, ['a', 'c', 'd']);
        assert_eq!(b.evict_before(7), 2);
        assert_eq!(b.len(), 3);
    }

    /// What the buffer should hold: (timestamp, value), sorted.
    type Model = Vec<(i64, u32)>;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(i64),
        Evict(i64),
        Range(i64, i64),
        /// Continue on a copy, and check the original was not changed by what follows.
        Fork,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0i64..400).prop_map(Op::Insert),
            1 => (0i64..400).prop_map(Op::Evict),
            2 => (0i64..400, 0i64..100).prop_map(|(a, w)| Op::Range(a, a + w)),
            1 => Just(Op::Fork),
        ]
    }

    proptest! {
        /// Against a plain sorted vector, through copies that share chunks.
        #[test]
        fn behaves_like_a_sorted_vector_through_copies(ops in proptest::collection::vec(op(), 0..600)) {
            let mut buffer = TimeBuffer::default();
            let mut model: Model = Vec::new();
            let mut forks: Vec<(TimeBuffer<u32>, Model)> = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(ts) => {
                        buffer.insert(ts, n as u32);
                        let at = model.partition_point(|(t, _)| *t <= ts);
                        model.insert(at, (ts, n as u32));
                    }
                    Op::Evict(cutoff) => {
                        let n = model.partition_point(|(t, _)| *t < cutoff);
                        // The joins evict with a rising cutoff; a lower one is a no-op there.
                        prop_assert_eq!(buffer.evict_before(cutoff), n);
                        model.drain(..n);
                    }
                    Op::Range(from, to) => {
                        let got: Vec<_> = buffer.range(from, to).copied().collect();
                        let want: Vec<_> =
                            model.iter().filter(|(t, _)| *t >= from && *t <= to).copied().collect();
                        prop_assert_eq!(got, want);
                    }
                    Op::Fork => forks.push((buffer.clone(), model.clone())),
                }
                prop_assert_eq!(buffer.len(), model.len());
            }
            for (fork, model) in forks {
                let got: Vec<_> = fork.range(i64::MIN, i64::MAX).copied().collect();
                prop_assert_eq!(got, model);
            }
        }
    }
}
