//! Asking one engine for one page: build the request, send it through the engine's guarded
//! client, return the answer. Caching, coalescing and timeouts around this live in `search`.

use serde_json::Value;

use super::{Engine, EngineError};
use crate::outbound::{GuardedClient, UpstreamResponse};

/// Fetches one page's answer, unread: a successful response's body and final URL (the caller
/// parses it, see `search`). `token` and `carried` come from earlier requests.
pub async fn fetch_answer(
    engine: &Engine,
    client: &GuardedClient,
    query: &str,
    page: u32,
    token: &[(String, String)],
    carried: &[(String, String)],
) -> Result<UpstreamResponse, EngineError> {
    let request = engine.request.build(query, page, token, carried);
    let response = client.send(&request).await?;
    if !(200..300).contains(&response.status) {
        return Err(match response.status {
            403 | 429 => EngineError::Blocked,
            s => EngineError::Status(s),
        });
    }
    Ok(response)
}

/// Fetches the Programmable Search element script and reads its token fields
/// (`cse_tok`, `cselibv`, `exp`) from the JSON object passed at its end: `…({ … });`.
pub async fn fetch_token(engine: &Engine, client: &GuardedClient) -> Result<Vec<(String, String)>, EngineError> {
    let Some(url) = engine.request.token_request_url() else {
        return Ok(Vec::new());
    };
    let request = crate::engines::request::UpstreamRequest { method: super::definition::Method::Get, url, form: None, headers: Vec::new() };
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
