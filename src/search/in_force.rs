//! The engines a search uses, as one value that a reload of `engines.toml` replaces whole.
//!
//! Everything kept per engine index — its definition, its guarded client, its circuit breaker,
//! its turns to read — lives here together, so an index always means the same engine within
//! one search: a search takes the set in force when it starts (`SearchService::in_force`) and
//! uses only that, whatever a reload swaps in meanwhile. Each set has a `generation`, which
//! the page and answer caches key their entries by: nothing built with the old engines is
//! served once new ones are in force.

use std::sync::Arc;

use crate::config::ServerConfig;
use crate::engines::EngineSet;
use crate::outbound::fetch::READINGS_PER_ENGINE;
use crate::outbound::GuardedClient;

use super::breaker::Breakers;

pub struct EnginesInForce {
    /// Shared with the blocking pool, where answers are parsed.
    pub set: Arc<EngineSet>,
    /// By index in `set.all()`, as are the next two.
    pub clients: Vec<GuardedClient>,
    /// One circuit breaker per engine.
    pub breakers: Breakers,
    /// Each engine's turns to read an answer (`fetch::READINGS_PER_ENGINE`).
    pub readings: Vec<Arc<tokio::sync::Semaphore>>,
    /// 0 at start, one more for each reload that changed the engines.
    pub generation: u64,
}

impl EnginesInForce {
    /// Each engine's client, breaker and reading turns, made fresh: a reloaded engine may have
    /// new hosts, a new timeout or a new address, and its old failures say nothing about it.
    pub fn new(set: EngineSet, generation: u64, clock: Arc<dyn crate::clock::Clock>, config: &ServerConfig) -> Result<EnginesInForce, String> {
        let clients = set
            .all()
            .iter()
            .map(|e| GuardedClient::for_engine(e, &config.user_agent, config.max_upstream_bytes).map_err(|err| format!("engine {}: {err}", e.id)))
            .collect::<Result<Vec<_>, _>>()?;
        let breakers = Breakers::new(set.all().len(), clock);
        let readings = set.all().iter().map(|_| Arc::new(tokio::sync::Semaphore::new(READINGS_PER_ENGINE))).collect();
        Ok(EnginesInForce { set: Arc::new(set), clients, breakers, readings, generation })
    }
}
