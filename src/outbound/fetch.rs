//! Asking one engine for one page: build the request, send it through the engine's guarded
//! client, read the answer as it arrives. Caching, coalescing and timeouts around this live in
//! `search`.

use std::sync::Arc;

use serde_json::Value;

use super::{GuardedClient, UpstreamAnswer};
use crate::engines::budget::ReadBudget;
use crate::engines::{Engine, EngineError, EnginePage, EngineSet};

/// Fetches one page's answer up to its headers: a successful response whose body is still to
/// be read (`read_answer`). `token` and `carried` come from earlier requests.
pub async fn fetch_answer(
    engine: &Engine,
    client: &GuardedClient,
    query: &str,
    page: u32,
    token: &[(String, String)],
    carried: &[(String, String)],
) -> Result<UpstreamAnswer, EngineError> {
    let request = engine.request.build(query, page, token, carried);
    let response = client.open(&request).await?;
    if !(200..300).contains(&response.status) {
        return Err(match response.status {
            403 | 429 => EngineError::Blocked,
            s => EngineError::Status(s),
        });
    }
    Ok(response)
}

/// Pieces of an answer on their way from the connection to its reader: a few, so that a fast
/// engine's big answer waits in the connection (which the cap closes) rather than here.
const PIECES_IN_FLIGHT: usize = 4;

/// Readings of one engine's answers at once, each on a blocking-pool thread of its own that
/// waits for the answer's pieces (issue 21's soak). Unbounded, a burst of new searches kept
/// ~200 such threads alive under the soak's load (one request in ten a new search at 300
/// connections), and each thread keeps an allocator heap of its own: RSS rose to ~360 MB within
/// seconds, against ~250 MB with the blocking pool held to 16 threads. Eight per engine read a
/// class's burst of new searches side by side (a reading is a few ms of CPU and the network's
/// time between pieces); more wait for a turn, asynchronously, within the engine's timeout. Per
/// engine, so an engine whose answers stall half-way only holds up its own readings.
pub const READINGS_PER_ENGINE: usize = 8;

/// Reads `answer` into engine `index`'s results as it arrives, then runs `finish` on them (the
/// word lists' pass), on the blocking pool, holding `turn` (one of the engine's
/// `READINGS_PER_ENGINE`) until the reading ends. Why there: reading a page is about a millisecond
/// of CPU, which on this task would hold up the other engines' answers it also polls; there
/// the engines' pages are read side by side, on every core. Why as it arrives: the page is
/// never held whole, so a 50 MB answer costs what a 24 KB one does until the cap stops it
/// (issue 21). The reading stops when `budget` is spent, when the answer passes the cap or
/// fails (`TooLarge`, `Transport`), or when this future is dropped (the engine's timeout):
/// the pieces stop coming, the budget's waiter is gone, and the connection is closed.
pub async fn read_answer(
    engines: Arc<EngineSet>,
    index: usize,
    mut answer: UpstreamAnswer,
    budget: ReadBudget,
    turn: tokio::sync::OwnedSemaphorePermit,
    finish: impl FnOnce(&mut EnginePage) + Send + 'static,
) -> Result<EnginePage, EngineError> {
    let (pieces_out, mut pieces_in) = tokio::sync::mpsc::channel(PIECES_IN_FLIGHT);
    let url = answer.url.clone();
    let reading = tokio::task::spawn_blocking(move || {
        // Given back when the thread is done with the reading, not when its waiter is.
        let _turn = turn;
        // `None` from the channel: the sending side was dropped before the answer's end.
        let pieces = std::iter::from_fn(|| match pieces_in.blocking_recv() {
            Some(Ok(Some(piece))) => Some(Ok(piece)),
            Some(Ok(None)) => None,
            Some(Err(e)) => Some(Err(e)),
            None => Some(Err(EngineError::Unparseable("the answer was no longer wanted".into()))),
        });
        let mut page = engines.all()[index].parse_stream(pieces, &url, budget.starting_now())?;
        finish(&mut page);
        Ok(page)
    });
    loop {
        let piece = answer.chunk().await;
        let last = !matches!(piece, Ok(Some(_)));
        // The reader stopped early (a bot check, its budget spent): no more is received.
        if pieces_out.send(piece).await.is_err() || last {
            break;
        }
    }
    drop(answer);
    reading.await.unwrap_or_else(|_| Err(EngineError::Unparseable("reading the answer failed".into())))
}

/// Fetches the Programmable Search element script and reads its token fields
/// (`cse_tok`, `cselibv`, `exp`) from the JSON object passed at its end: `…({ … });`.
pub async fn fetch_token(engine: &Engine, client: &GuardedClient) -> Result<Vec<(String, String)>, EngineError> {
    let Some(url) = engine.request.token_request_url() else {
        return Ok(Vec::new());
    };
    let request = crate::engines::request::UpstreamRequest { method: crate::engines::definition::Method::Get, url, form: None, headers: Vec::new() };
    let response = client.send(&request).await?;
    if !(200..300).contains(&response.status) {
        return Err(EngineError::Status(response.status));
    }
    parse_token_script(&response.body)
}

pub fn parse_token_script(script: &str) -> Result<Vec<(String, String)>, EngineError> {
    let bad = || EngineError::Unparseable("token script has no settings object".into());
    let start = script.rfind("({").ok_or_else(bad)? + 1;
    let end = script.rfind('}').filter(|e| *e > start).ok_or_else(bad)?;
    let settings: Value = serde_json::from_str(&script[start..=end]).map_err(|_| bad())?;
    let field = |name: &str| settings.get(name).and_then(Value::as_str).map(str::to_string);
    let token = field("cse_token").ok_or_else(bad)?;
    let libv = field("cselibVersion").unwrap_or_default();
    let exp = match settings.get("exp") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        _ => String::new(),
    };
    Ok(vec![("cse_tok".into(), token), ("cselibv".into(), libv), ("exp".into(), exp)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_last_settings_object() {
        let script = r#"(function(){var a={x:1};})();google.cse.init({"cx":"abc","cse_token":"AB1:99","cselibVersion":"f7","exp":["cc","apo"]});"#;
        let fields = parse_token_script(script).unwrap();
        assert_eq!(fields, vec![("cse_tok".into(), "AB1:99".into()), ("cselibv".into(), "f7".into()), ("exp".into(), "cc,apo".into())]);
    }

    #[test]
    fn a_script_without_settings_is_unparseable() {
        assert!(matches!(parse_token_script("var x = 1;"), Err(EngineError::Unparseable(_))));
    }
}
