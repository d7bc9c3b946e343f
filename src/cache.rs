//! The loading cache every hot lookup goes through: a miss is loaded once however many
//! requests ask for it together, and when the load ends every waiting request is let go at
//! once.
//!
//! Why not moka's own `get_with`: its waiters queue on an async read lock whose readers are
//! woken one at a time, each woken reader waking the next (async-lock's `RwLock`). Under a
//! 3,000-connection load an actix worker has ~1,500 ready connections, so every link of that
//! chain waits a whole scheduler round (~40 ms). When one gate entry expired mid-load, ~200
//! pupils' pages waited behind its reload and were let go one by one over 10 s
//! (BENCHMARKS.md, session 6). Here a load publishes its value on a `tokio::sync::watch`
//! channel, whose `send` wakes every waiter in one go.
//!
//! Invariants:
//! - A value reaches the cache only if no invalidation of its key came while it loaded: a
//!   load that started before a change never outlives the change.
//! - A load whose request is dropped (the pupil closed the page) hands over: one waiter
//!   loads in its place, the others keep waiting.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

pub struct LoadingCache<K, V> {
    cache: moka::sync::Cache<K, V>,
    /// The loads under way, by key. Only misses take this lock; hits read `cache` alone.
    loading: Mutex<HashMap<K, Load<V>>>,
    next_load: AtomicU64,
}

enum Joined<V> {
    Cached(V),
    Waiting(watch::Receiver<Option<V>>),
    /// This request loads: the load's number and the channel its waiters listen on.
    Loading(u64, watch::Sender<Option<V>>),
}

struct Load<V> {
    /// Which load this is: an invalidated key may get a second load while the first is
    /// still running, and only the second may store its value.
    id: u64,
    value: watch::Receiver<Option<V>>,
}

impl<K, V> LoadingCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Wraps a moka cache built with the capacity and expiry the caller wants.
    pub fn new(cache: moka::sync::Cache<K, V>) -> LoadingCache<K, V> {
        LoadingCache { cache, loading: Mutex::default(), next_load: AtomicU64::new(0) }
    }

    /// A plain lookup; never waits.
    pub fn get(&self, key: &K) -> Option<V> {
        self.cache.get(key)
    }

    /// The cached value, or the value of the load under way for `key`, or else `load`'s
    /// (which is polled only when this request is the one that loads).
    pub async fn get_with(&self, key: K, load: impl Future<Output = V>) -> V {
        if let Some(value) = self.cache.get(&key) {
            return value;
        }
        loop {
            let mut waiting = match self.join_or_start(&key) {
                Joined::Cached(value) => return value,
                Joined::Waiting(waiting) => waiting,
                Joined::Loading(id, sender) => return self.load(key, id, sender, load).await,
            };
            let loaded = waiting.wait_for(Option::is_some).await.ok().and_then(|value| value.clone());
            if let Some(value) = loaded {
                return value;
            }
            // The loading request was dropped before it finished: ask again; this request
            // may be the one that loads now.
        }
    }

    fn join_or_start(&self, key: &K) -> Joined<V> {
        let mut loading = self.lock();
        // Under the lock, as a finished load stores its value under it: a request cannot
        // miss both the stored value and the load that stores it.
        if let Some(value) = self.cache.get(key) {
            return Joined::Cached(value);
        }
        if let Some(load) = loading.get(key) {
            return Joined::Waiting(load.value.clone());
        }
        let id = self.next_load.fetch_add(1, Ordering::Relaxed);
        let (sender, value) = watch::channel(None);
        loading.insert(key.clone(), Load { id, value });
        Joined::Loading(id, sender)
    }

    async fn load(&self, key: K, id: u64, sender: watch::Sender<Option<V>>, load: impl Future<Output = V>) -> V {
        let mut running = Running { cache: self, key: Some(key), id, sender };
        let value = load.await;
        running.finish(value.clone());
        value
    }

    /// Drops `key`'s value, and any load of it under way will not store what it read.
    pub fn invalidate(&self, key: &K) {
        let mut loading = self.lock();
        loading.remove(key);
        self.cache.invalidate(key);
    }

    pub fn invalidate_all(&self) {
        let mut loading = self.lock();
        loading.clear();
        self.cache.invalidate_all();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Load<V>>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.loading.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A load under way. Dropped before `finish` (its request went away), it removes itself so
/// that its waiters, woken by the closed channel, pick a new loader.
struct Running<'a, K: Hash + Eq + Clone + Send + Sync + 'static, V: Clone + Send + Sync + 'static> {
    cache: &'a LoadingCache<K, V>,
    key: Option<K>,
    id: u64,
    sender: watch::Sender<Option<V>>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, V: Clone + Send + Sync + 'static> Running<'_, K, V> {
    fn finish(&mut self, value: V) {
        self.end(Some(value.clone()));
        // Every waiter wakes now, together. None waiting is not an error.
        let _ = self.sender.send(Some(value));
    }

    /// Takes this load out of the map, storing `value` with it, unless an invalidation
    /// already took it out (then nothing is stored). Only once: `finish`, then `drop`.
    fn end(&mut self, value: Option<V>) {
        let Some(key) = self.key.take() else { return };
        let mut loading = self.cache.lock();
        if loading.get(&key).is_some_and(|load| load.id == self.id) {
            loading.remove(&key);
            if let Some(value) = value {
                self.cache.cache.insert(key, value);
            }
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, V: Clone + Send + Sync + 'static> Drop for Running<'_, K, V> {
    fn drop(&mut self) {
        self.end(None);
        // `sender` is dropped after this, once the entry is gone: a woken waiter cannot find
        // the closed load again and spin on it.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    fn cache() -> Arc<LoadingCache<u32, u32>> {
        Arc::new(LoadingCache::new(moka::sync::Cache::builder().max_capacity(100).build()))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_requests_for_one_key_load_it_once() {
        let (cache, loads) = (cache(), Arc::new(AtomicUsize::new(0)));
        let requests: Vec<_> = (0..300)
            .map(|_| {
                let (cache, loads) = (cache.clone(), loads.clone());
                tokio::spawn(async move {
                    cache
                        .get_with(7, async {
                            loads.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            49
                        })
                        .await
                })
            })
            .collect();
        for request in requests {
            assert_eq!(request.await.unwrap(), 49);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get(&7), Some(49));
    }

    #[tokio::test]
    async fn a_dropped_load_hands_over_to_a_waiter() {
        let cache = cache();
        let first = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get_with(1, std::future::pending()).await })
        };
        tokio::task::yield_now().await;
        let second = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get_with(1, async { 2 }).await })
        };
        tokio::task::yield_now().await;
        first.abort();
        assert_eq!(tokio::time::timeout(Duration::from_secs(5), second).await.unwrap().unwrap(), 2);
        assert_eq!(cache.get(&1), Some(2));
    }

    #[tokio::test]
    async fn a_load_that_outlives_an_invalidation_is_not_stored() {
        let cache = cache();
        let (go, gate) = tokio::sync::oneshot::channel::<()>();
        let stale = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_with(3, async {
                        let _ = gate.await;
                        30
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        cache.invalidate(&3);
        go.send(()).unwrap();
        // The request that started before the change gets what it read; nobody else does.
        assert_eq!(stale.await.unwrap(), 30);
        assert_eq!(cache.get(&3), None);
        assert_eq!(cache.get_with(3, async { 31 }).await, 31);
    }
}
