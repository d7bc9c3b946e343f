//! Engines that keep failing rest (a circuit breaker per engine). After `FAILURES_TO_REST`
//! failures in a row that cost a pupil time or hammer the engine (timeouts, 5xx and 429
//! answers, bot checks, refused connections), the engine is not asked at all for a rest that
//! starts at 30 s and doubles to 10 minutes; then one probe request at a time decides whether
//! it is back (a good answer closes the breaker, a failure rests it again for longer).
//!
//! Without it, a dead engine cost every *new* query its timeout once (failures were cached
//! per query only); a resting engine costs nothing, and its state is on the staff Engine
//! health page and in `/metrics`.

use std::sync::{Arc, Mutex, PoisonError};

use crate::clock::Clock;
use crate::engines::EngineError;

/// Failures in a row after which an engine rests.
pub const FAILURES_TO_REST: u32 = 3;
/// The first rest, and the longest.
pub const FIRST_REST_MS: i64 = 30_000;
pub const LONGEST_REST_MS: i64 = 600_000;

#[derive(Debug, Default, Clone, Copy)]
struct State {
    failures_in_a_row: u32,
    /// While resting: when a probe may be sent.
    resting_until_ms: Option<i64>,
    /// The rest it is on (or would go on next after a failed probe).
    rest_ms: i64,
    probing: bool,
}

/// What one engine's breaker says now, for staff and `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Asked as usual.
    Closed { failures_in_a_row: u32 },
    /// Not asked until then (ms since 1970), then probed.
    Resting { until_ms: i64 },
    /// One probe request is out.
    Probing,
}

/// May this engine be asked now?
pub enum Permit {
    Ask,
    /// Asked as the one probe: report its outcome with `finish(…, probe = true)`.
    Probe,
    /// Resting: not asked.
    Rest {
        until_ms: i64,
    },
}

pub struct Breakers {
    clock: Arc<dyn Clock>,
    engines: Vec<Mutex<State>>,
}

/// Does this failure count towards resting the engine? Only those that cost a pupil time or
/// mean the engine is overloaded or refusing us; an unreadable page or a refused host is
/// answered at once and says nothing about whether asking again helps.
fn counts(error: &EngineError) -> bool {
    match error {
        EngineError::Timeout(_) | EngineError::Blocked | EngineError::Transport(_) | EngineError::Upstream(_) => true,
        EngineError::Status(code) => *code >= 500 || *code == 429,
        _ => false,
    }
}

impl Breakers {
    pub fn new(engines: usize, clock: Arc<dyn Clock>) -> Breakers {
        Breakers { clock, engines: (0..engines).map(|_| Mutex::new(State { rest_ms: FIRST_REST_MS, ..State::default() })).collect() }
    }

    fn state(&self, engine: usize) -> std::sync::MutexGuard<'_, State> {
        self.engines[engine].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks before an upstream request for `engine`.
    pub fn permit(&self, engine: usize) -> Permit {
        let now = self.clock.now_ms();
        let mut state = self.state(engine);
        match state.resting_until_ms {
            None => Permit::Ask,
            Some(until) if now < until || state.probing => Permit::Rest { until_ms: until.max(now) },
            Some(_) => {
                state.probing = true;
                Permit::Probe
            }
        }
    }

    /// Reports how a request it permitted went.
    pub fn finish(&self, engine: usize, result: Result<(), &EngineError>, probe: bool) {
        let now = self.clock.now_ms();
        let mut state = self.state(engine);
        if probe {
            state.probing = false;
        }
        match result {
            Ok(()) => *state = State { rest_ms: FIRST_REST_MS, ..State::default() },
            Err(e) if counts(e) => {
                state.failures_in_a_row += 1;
                if probe {
                    // Still down: rest again, twice as long.
                    state.rest_ms = (state.rest_ms * 2).min(LONGEST_REST_MS);
                    state.resting_until_ms = Some(now + state.rest_ms);
                } else if state.resting_until_ms.is_none() && state.failures_in_a_row >= FAILURES_TO_REST {
                    state.resting_until_ms = Some(now + state.rest_ms);
                }
            }
            // A probe that failed in a way that does not count (an unreadable page): the
            // engine answered, so it is back.
            Err(_) if probe => *state = State { rest_ms: FIRST_REST_MS, ..State::default() },
            Err(_) => {}
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Every engine's state, by index.
    pub fn states(&self) -> Vec<BreakerState> {
        let now = self.clock.now_ms();
        (0..self.engines.len())
            .map(|i| {
                let state = self.state(i);
                match state.resting_until_ms {
                    None => BreakerState::Closed { failures_in_a_row: state.failures_in_a_row },
                    Some(_) if state.probing => BreakerState::Probing,
                    Some(until) => BreakerState::Resting { until_ms: until.max(now) },
                }
            })
            .collect()
    }
}

/// The one probe request out for a resting engine. Reported with `finish`; dropped without
/// (its waiter went away mid-request), the probe is simply over and the next request may probe.
pub struct ProbeOut<'a> {
    breakers: &'a Breakers,
    engine: usize,
    done: bool,
}

impl<'a> ProbeOut<'a> {
    pub fn new(breakers: &'a Breakers, engine: usize) -> ProbeOut<'a> {
        ProbeOut { breakers, engine, done: false }
    }

    pub fn finish(mut self, result: Result<(), &EngineError>) {
        self.done = true;
        self.breakers.finish(self.engine, result, true);
    }
}

impl Drop for ProbeOut<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.breakers.state(self.engine).probing = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn breakers() -> (Breakers, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        (Breakers::new(1, clock.clone()), clock)
    }

    #[test]
    fn failures_in_a_row_rest_the_engine_then_one_probe_decides() {
        let (b, clock) = breakers();
        let timeout = EngineError::Timeout(3000);
        for _ in 0..FAILURES_TO_REST {
            assert!(matches!(b.permit(0), Permit::Ask));
            b.finish(0, Err(&timeout), false);
        }
        assert!(matches!(b.permit(0), Permit::Rest { .. }), "resting after three timeouts");
        clock.set(clock.now_ms() + FIRST_REST_MS);
        assert!(matches!(b.permit(0), Permit::Probe), "one probe once the rest is over");
        assert!(matches!(b.permit(0), Permit::Rest { .. }), "only one at a time");
        b.finish(0, Err(&timeout), true);
        assert_eq!(b.states()[0], BreakerState::Resting { until_ms: clock.now_ms() + 2 * FIRST_REST_MS }, "rests twice as long");
        clock.set(clock.now_ms() + 2 * FIRST_REST_MS);
        assert!(matches!(b.permit(0), Permit::Probe));
        b.finish(0, Ok(()), true);
        assert_eq!(b.states()[0], BreakerState::Closed { failures_in_a_row: 0 });
        assert!(matches!(b.permit(0), Permit::Ask));
    }

    #[test]
    fn a_good_answer_between_failures_starts_the_count_again_and_cheap_failures_do_not_count() {
        let (b, _) = breakers();
        b.finish(0, Err(&EngineError::Status(503)), false);
        b.finish(0, Err(&EngineError::Status(503)), false);
        b.finish(0, Ok(()), false);
        b.finish(0, Err(&EngineError::Status(503)), false);
        b.finish(0, Err(&EngineError::Unparseable("x".into())), false);
        b.finish(0, Err(&EngineError::Status(404)), false);
        assert_eq!(b.states()[0], BreakerState::Closed { failures_in_a_row: 1 });
    }

    #[test]
    fn the_rest_never_grows_past_ten_minutes() {
        let (b, clock) = breakers();
        for _ in 0..FAILURES_TO_REST {
            b.finish(0, Err(&EngineError::Blocked), false);
        }
        for _ in 0..10 {
            clock.set(clock.now_ms() + LONGEST_REST_MS);
            assert!(matches!(b.permit(0), Permit::Probe));
            b.finish(0, Err(&EngineError::Blocked), true);
        }
        assert_eq!(b.states()[0], BreakerState::Resting { until_ms: clock.now_ms() + LONGEST_REST_MS });
    }
}
