//! `/metrics` in the Prometheus/OpenMetrics text format (prometheus-client): requests and
//! latencies by route, upstream fetches by engine and outcome, cache hits, refused queries by
//! category, dropped activity rows. Served only to the addresses in `metrics_allow`.

use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    /// "2xx", "4xx", … (`status_class`).
    pub status: &'static str,
}

/// The status label of a response: its class, so the label set stays small.
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOnly {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EngineLabels {
    pub engine: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CategoryLabels {
    pub category: String,
}

type HistogramFamily = Family<RouteOnly, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~4 s
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: HistogramFamily,
    pub engine_fetches: Family<EngineLabels, Counter>,
    pub answer_cache: Family<CacheLabels, Counter>,
    pub refused: Family<CategoryLabels, Counter>,
    pub activity_dropped: Gauge<u64, AtomicU64>,
    /// Incidents not yet reviewed by the DSL, and screens covered right now (read at scrape).
    pub incidents_new: Gauge<u64, AtomicU64>,
    pub screens_covered: Gauge<u64, AtomicU64>,
    /// 1 while an engine rests after failing again and again (its circuit breaker is open).
    pub engine_resting: Family<EngineOnly, Gauge<u64, AtomicU64>>,
    /// Safeguarding records (presses, refused searches) the disk refused, waiting in memory;
    /// and those lost because that queue was full (they are only in the log).
    pub records_waiting: Gauge<u64, AtomicU64>,
    pub records_lost: Gauge<u64, AtomicU64>,
    /// 1 while the database takes writes (the storage probe), 0 while it does not.
    pub storage_writable: Gauge<u64, AtomicU64>,
    /// Seconds since each fetched UT1 list in force was fetched (`kidsearch lists update`);
    /// a category never fetched has no series. Read at scrape.
    pub list_age: Family<CategoryLabels, Gauge<u64, AtomicU64>>,
    /// 1 when the last `lists update` did not install a category (its older list, if any,
    /// stays in force), 0 when it did.
    pub list_update_failed: Family<CategoryLabels, Gauge<u64, AtomicU64>>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EngineOnly {
    pub engine: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kidsearch");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let engine_fetches = Family::<EngineLabels, Counter>::default();
        let answer_cache = Family::<CacheLabels, Counter>::default();
        let refused = Family::<CategoryLabels, Counter>::default();
        let activity_dropped = Gauge::<u64, AtomicU64>::default();
        let incidents_new = Gauge::<u64, AtomicU64>::default();
        let screens_covered = Gauge::<u64, AtomicU64>::default();
        let engine_resting = Family::<EngineOnly, Gauge<u64, AtomicU64>>::default();
        let records_waiting = Gauge::<u64, AtomicU64>::default();
        let records_lost = Gauge::<u64, AtomicU64>::default();
        let storage_writable = Gauge::<u64, AtomicU64>::default();
        let list_age = Family::<CategoryLabels, Gauge<u64, AtomicU64>>::default();
        let list_update_failed = Family::<CategoryLabels, Gauge<u64, AtomicU64>>::default();
        registry.register("requests", "HTTP requests by route and status class", requests.clone());
        registry.register("request_duration_seconds", "Time to answer, by route", latency.clone());
        registry.register("engine_fetches", "Upstream fetches by engine and outcome (ok, timeout, resting, error)", engine_fetches.clone());
        registry.register("answer_cache", "Pupil searches answered from the whole-answer cache (hit) or built (miss)", answer_cache.clone());
        registry.register("refused_queries", "Pupil queries refused by the safety policy, by category", refused.clone());
        registry.register("activity_rows_dropped", "Activity rows dropped because the database queue was full", activity_dropped.clone());
        registry.register("incidents_new", "Incidents (tell-an-adult presses, refused searches) the DSL has not reviewed yet", incidents_new.clone());
        registry.register("screens_covered", "Pupil screens covered after a tell-an-adult press, not yet cleared by an adult", screens_covered.clone());
        registry.register(
            "engine_resting",
            "1 while an engine is not asked after failing again and again (its circuit breaker is open)",
            engine_resting.clone(),
        );
        registry.register(
            "records_waiting",
            "Safeguarding records (presses, refused searches) the disk refused, kept in memory and retried",
            records_waiting.clone(),
        );
        registry.register("storage_writable", "1 while the database takes writes (a probe every few seconds), 0 while it does not", storage_writable.clone());
        registry.register("records_lost", "Safeguarding records that found the in-memory queue full (only in the log)", records_lost.clone());
        registry.register("list_age_seconds", "Seconds since the fetched UT1 block list in force was fetched, by category", list_age.clone());
        registry.register(
            "list_update_failed",
            "1 when the last `kidsearch lists update` did not install this category (the list before it stays in force)",
            list_update_failed.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            engine_fetches,
            answer_cache,
            refused,
            activity_dropped,
            incidents_new,
            screens_covered,
            engine_resting,
            records_waiting,
            records_lost,
            storage_writable,
            list_age,
            list_update_failed,
        }
    }
}

impl Metrics {
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }

    pub fn engine_fetch(&self, engine: &str, outcome: &str) {
        self.engine_fetches.get_or_create(&EngineLabels { engine: engine.to_string(), outcome: outcome.to_string() }).inc();
    }
}

/// Is this peer allowed to read `/metrics`?
pub fn allowed(peer: Option<IpAddr>, allow: &[String]) -> bool {
    peer.is_some_and(|ip| allow.iter().any(|a| a.parse::<IpAddr>().is_ok_and(|allowed| allowed == ip)))
}
