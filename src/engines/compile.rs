//! From `engines.toml` text plus the server's local overrides to a validated [`EngineSet`].
//! Every problem names file, line and fix; one problem anywhere means no engine set at all.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;
use url::Url;

use super::definition::{Audience, EngineDef, EnginesFile, HtmlDef, JsonDef, JsonTextField, Kind, Purpose};
use super::html::{check_selector, HtmlParser, HtmlSelectors, LinkJson};
use super::json::{JsonParser, UrlSource};
use super::request::{placeholders, RequestTemplate, KNOWN_PLACEHOLDERS};
use super::{Availability, Engine, ImageHosts, Parser};
use crate::config::{ConfigProblem, ConfigProblems, EngineOverride, ServerConfig};

/// All engines from the file, in file order, shared read-only by every request.
#[derive(Debug, Clone)]
pub struct EngineSet {
    engines: Arc<Vec<Engine>>,
    /// Engines declared with no way to search them (GoBubble, ViewPure): listed with the reason.
    unsearchable: Arc<Vec<Unsearchable>>,
}

/// An engine the file names but that has nothing to search.
#[derive(Debug, Clone)]
pub struct Unsearchable {
    pub id: String,
    pub name: String,
    pub reason: String,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<ConfigProblem>,
}

impl Ctx<'_> {
    fn problem(&mut self, at: usize, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(ConfigProblem::at(self.file, self.text, at, what, fix));
    }

    /// Checks a selector as the HTML reader will use it; reports it with a fix if it cannot.
    fn selector(&mut self, spanned: &Spanned<String>, engine: &str, field: &str) -> bool {
        match check_selector(spanned.get_ref()) {
            Ok(()) => true,
            Err(e) => {
                self.problem(
                    spanned.span().start,
                    format!("engine {engine}: {field} selector {:?} is not valid CSS, or not CSS the reader supports: {e}", spanned.get_ref()),
                    "write a CSS selector such as \"div.result h2 > a\" (type, class, id, attribute, :not, :nth-child, descendant and child selectors; not +, ~ or :has)",
                );
                false
            }
        }
    }

    fn url(&mut self, spanned: &Spanned<String>, engine: &str, field: &str) -> Option<Url> {
        match Url::parse(spanned.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
            _ => {
                self.problem(
                    spanned.span().start,
                    format!("engine {engine}: {field} {:?} is not an absolute http(s) URL", spanned.get_ref()),
                    "write it like \"https://www.example.com/search\"",
                );
                None
            }
        }
    }
}

impl EngineSet {
    pub fn from_toml(text: &str, file: &str, server: &ServerConfig) -> Result<EngineSet, ConfigProblems> {
        let parsed: EnginesFile =
            toml::from_str(text).map_err(|e| ConfigProblem::from_toml(file, text, &e, "compare with the engines shipped in allowlist/engines.toml"))?;
        let mut ctx = Ctx { file, text, problems: Vec::new() };
        let mut engines = Vec::new();
        let mut unsearchable = Vec::new();
        for (id, def) in &parsed.engines {
            let local = server.engines.get(id).cloned().unwrap_or_default();
            if def.get_ref().request.is_none() && !def.get_ref().enabled && local.enabled != Some(true) {
                let reason = def.get_ref().disabled_reason.clone().unwrap_or_else(|| "no request defined".into());
                unsearchable.push((def.span().start, Unsearchable { id: id.clone(), name: def.get_ref().name.clone(), reason }));
                continue;
            }
            if let Some(engine) = compile_engine(&mut ctx, id, def, &local, server) {
                engines.push(engine);
            }
        }
        unsearchable.sort_by_key(|u| u.0);
        for id in server.engines.keys() {
            if !parsed.engines.contains_key(id) {
                ctx.problems.push(ConfigProblem::whole_file(
                    "<server config>",
                    format!("[engines.{id}] names no engine in {file}"),
                    format!("use one of: {}", parsed.engines.keys().cloned().collect::<Vec<_>>().join(", ")),
                ));
            }
        }
        // Keep the file's order (BTreeMap sorts ids): a technician reads engines top to bottom.
        engines.sort_by_key(|e: &(usize, Engine)| e.0);
        if ctx.problems.is_empty() {
            Ok(EngineSet {
                engines: Arc::new(engines.into_iter().map(|(_, e)| e).collect()),
                unsearchable: Arc::new(unsearchable.into_iter().map(|(_, u)| u).collect()),
            })
        } else {
            ctx.problems.sort_by_key(|p| p.line);
            Err(ConfigProblems(ctx.problems))
        }
    }

    pub fn all(&self) -> &[Engine] {
        &self.engines
    }

    pub fn unsearchable(&self) -> &[Unsearchable] {
        &self.unsearchable
    }

    pub fn get(&self, id: &str) -> Option<&Engine> {
        self.engines.iter().find(|e| e.id == id)
    }

    /// Engines a pupil's live query may use: ready, meant for pupils, and finding web pages.
    pub fn for_pupils(&self) -> impl Iterator<Item = (usize, &Engine)> {
        self.for_pupils_finding(Purpose::Web)
    }

    /// Engines a pupil's live search for `purpose` (web pages or pictures) may use.
    pub fn for_pupils_finding(&self, purpose: Purpose) -> impl Iterator<Item = (usize, &Engine)> {
        self.engines.iter().enumerate().filter(move |(_, e)| e.is_ready() && e.audience == Audience::Pupils && e.purpose == purpose)
    }
}

fn compile_engine(ctx: &mut Ctx<'_>, id: &str, spanned: &Spanned<EngineDef>, local: &EngineOverride, server: &ServerConfig) -> Option<(usize, Engine)> {
    let at = spanned.span().start;
    let def = spanned.get_ref();
    let before = ctx.problems.len();

    let Some(request_def) = &def.request else {
        ctx.problem(
            at,
            format!("engine {id} is enabled but has no [engines.{id}.request]"),
            "add a request table, or set enabled = false with a disabled_reason",
        );
        return None;
    };
    let mut hosts: Vec<String> = def.hosts.iter().map(|h| h.get_ref().to_ascii_lowercase()).collect();
    if hosts.is_empty() {
        ctx.problem(at, format!("engine {id} declares no hosts"), "list the hosts it may contact: hosts = [\"www.example.com\"]");
    }
    let mut url = ctx.url(&request_def.url, id, "request url");
    let mut token_url = def.token.as_ref().and_then(|t| ctx.url(&t.url, id, "token url"));
    for (u, span) in [(&url, request_def.url.span().start), (&token_url, def.token.as_ref().map_or(at, |t| t.url.span().start))] {
        if let Some(u) = u.as_ref().filter(|u| !super::host_listed(&hosts, u)) {
            let host = &u[url::Position::BeforeHost..url::Position::AfterPort];
            ctx.problem(span, format!("engine {id}: {host} is not in its hosts list"), format!("add \"{host}\" to hosts, or fix the URL"));
        }
    }

    let safe = def.safe_search.as_ref();
    if def.audience == Audience::Pupils && safe.is_none_or(|s| s.is_empty()) {
        ctx.problem(
            at,
            format!("engine {id} is for pupils but has no safe-search lock"),
            format!("add [engines.{id}.safe_search] with the engine's strict setting, e.g. params = {{ safe = \"active\" }}"),
        );
    }

    for (field, value) in request_def.params.iter().chain(request_def.headers.iter()) {
        for name in placeholders(value) {
            if !KNOWN_PLACEHOLDERS.contains(&name) {
                ctx.problem(
                    request_def.url.span().start,
                    format!("engine {id}: {field} uses unknown placeholder {{{name}}}"),
                    format!("use one of {}", KNOWN_PLACEHOLDERS.join(", ")),
                );
            }
        }
    }

    let parser = match (def.kind, &def.html, &def.json) {
        (Kind::Html, Some(h), _) => compile_html(ctx, id, h).map(Parser::Html),
        (Kind::Json, _, Some(j)) => compile_json(ctx, at, id, j).map(Parser::Json),
        (kind, _, _) => {
            let table = if kind == Kind::Html { "html" } else { "json" };
            ctx.problem(
                at,
                format!("engine {id} is kind = \"{table}\" but has no [engines.{id}.{table}]"),
                format!("add the [engines.{id}.{table}] table (see the other engines)"),
            );
            None
        }
    };

    // Local base_url override: replace scheme, host and port everywhere.
    let mut private_hosts_allowed = false;
    if let Some(base) = &local.base_url {
        match Url::parse(base) {
            Ok(b) if b.host_str().is_some() && matches!(b.scheme(), "http" | "https") => {
                for u in [&mut url, &mut token_url].into_iter().flatten() {
                    rebase(u, &b);
                }
                let host = b.host_str().unwrap_or_default().to_ascii_lowercase();
                hosts = vec![match b.port_or_known_default() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                }];
                private_hosts_allowed = true;
            }
            _ => ctx.problems.push(ConfigProblem::whole_file(
                "<server config>",
                format!("[engines.{id}] base_url {base:?} is not an http(s) URL"),
                "write it like \"http://127.0.0.1:9000\"",
            )),
        }
    }

    let images = image_hosts(ctx, id, def, local);
    let reads_thumbnail =
        def.json.as_ref().is_some_and(|j| j.thumbnail.is_some()) || def.html.as_ref().is_some_and(|h| h.thumbnail_json.is_some() || h.thumbnail.is_some());
    if def.purpose == Purpose::Pictures && !reads_thumbnail {
        ctx.problem(
            at,
            format!("engine {id} is a picture engine (purpose = \"pictures\") but reads no picture"),
            "add thumbnail = \"/…\" to its [json] table (or thumbnail / thumbnail_json to its [html] table)",
        );
    }
    if reads_thumbnail && def.image_hosts.is_empty() {
        ctx.problem(
            at,
            format!("engine {id} reads a thumbnail but declares no image_hosts"),
            "add the hosts its pictures come from, e.g. image_hosts = [\"upload.wikimedia.org\"], or remove thumbnail",
        );
    }

    if ctx.problems.len() > before {
        return None;
    }
    let (url, parser) = (url?, parser?);

    let mut vars = BTreeMap::new();
    let cx = local.cx.clone().or_else(|| def.cx.clone()).unwrap_or_default();
    vars.insert("cx".to_string(), cx.clone());
    let api_key = local.api_key.clone().unwrap_or_default();
    vars.insert("api_key".to_string(), api_key.clone());
    let availability = availability(id, def, local, &cx, &api_key);

    let safe = safe_pairs(safe);
    let request = RequestTemplate {
        method: request_def.method,
        url,
        params: request_def.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        headers: request_def.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        paging: request_def.paging.clone(),
        safe_params: safe.0,
        safe_cookies: safe.1,
        safe_headers: safe.2,
        vars,
        token_url,
    };
    let engine = Engine {
        id: id.to_string(),
        name: def.name.clone(),
        audience: def.audience,
        purpose: def.purpose,
        weight: local.weight.or(def.weight).unwrap_or(1.0),
        timeout: Duration::from_millis(local.timeout_ms.or(def.timeout_ms).unwrap_or(server.engine_timeout_ms)),
        availability,
        hosts,
        private_hosts_allowed,
        request,
        parser,
        images,
    };
    Some((at, engine))
}

type Pairs = Vec<(String, String)>;

/// The lock's params, cookies and headers, in that order.
fn safe_pairs(safe: Option<&super::definition::SafeSearchDef>) -> (Pairs, Pairs, Pairs) {
    let to_vec = |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    match safe {
        Some(s) => (to_vec(&s.params), to_vec(&s.cookies), to_vec(&s.headers)),
        None => Default::default(),
    }
}

fn availability(id: &str, def: &EngineDef, local: &EngineOverride, cx: &str, api_key: &str) -> Availability {
    let uses = |name: &str| def.request.as_ref().is_some_and(|r| r.params.values().chain(r.headers.values()).any(|v| placeholders(v).contains(&name)));
    if local.enabled == Some(false) {
        return Availability::Off("turned off in the server config".into());
    }
    if !def.enabled && local.enabled != Some(true) {
        return Availability::Off(def.disabled_reason.clone().unwrap_or_else(|| "enabled = false in engines.toml".into()));
    }
    if (def.needs_api_key || uses("api_key")) && api_key.is_empty() {
        return Availability::Off(format!("needs the school's API key: set [engines.{id}] api_key = \"…\" in the server config"));
    }
    if uses("cx") && cx.is_empty() {
        return Availability::Off(format!("needs its Programmable Search id: set [engines.{id}] cx = \"…\" in the server config (copy it from the engine's own search page source, after cx=)"));
    }
    Availability::Ready
}

use super::rebase;

/// `image_hosts` checked (each a bare host name, like `hosts`) and a local `image_base_url`
/// applied.
fn image_hosts(ctx: &mut Ctx<'_>, id: &str, def: &EngineDef, local: &EngineOverride) -> ImageHosts {
    let mut declared = Vec::new();
    for host in &def.image_hosts {
        let name = host.get_ref().to_ascii_lowercase();
        let parsed = Url::parse(&format!("https://{name}/")).ok();
        let bare = parsed.as_ref().is_some_and(|u| u.host_str().is_some() && u.path() == "/" && u.query().is_none() && u.username().is_empty())
            && !name.contains(['/', '@', '?', '#', ' ']);
        if bare {
            declared.push(name);
        } else {
            ctx.problem(
                host.span().start,
                format!("engine {id}: image host {:?} is not a host name", host.get_ref()),
                "write just the host the pictures come from, like \"upload.wikimedia.org\" (no https://, no path)",
            );
        }
    }
    let mut images = ImageHosts { hosts: declared.clone(), declared, private_ok: false, base: None };
    if let Some(base) = &local.image_base_url {
        match Url::parse(base) {
            Ok(b) if b.host_str().is_some() && matches!(b.scheme(), "http" | "https") => {
                let host = b.host_str().unwrap_or_default().to_ascii_lowercase();
                images.hosts = vec![b.port_or_known_default().map_or(host.clone(), |port| format!("{host}:{port}"))];
                images.private_ok = true;
                images.base = Some(b);
            }
            _ => ctx.problems.push(ConfigProblem::whole_file(
                "<server config>",
                format!("[engines.{id}] image_base_url {base:?} is not an http(s) URL"),
                "write it like \"http://127.0.0.1:9001\"",
            )),
        }
    }
    images
}

fn compile_html(ctx: &mut Ctx<'_>, id: &str, h: &HtmlDef) -> Option<HtmlParser> {
    let mut ok = true;
    let mut check = |s: &Spanned<String>, field: &str| ok &= ctx.selector(s, id, field);
    for (s, field) in
        [(Some(&h.result), "result"), (Some(&h.title), "title"), (Some(&h.link), "link"), (h.skip.as_ref(), "skip"), (h.snippet.as_ref(), "snippet")]
            .into_iter()
            .chain([(h.no_results.as_ref(), "no_results"), (h.blocked.as_ref(), "blocked"), (h.strip.as_ref(), "strip"), (h.thumbnail.as_ref(), "thumbnail")])
            .chain(h.carry.values().map(|s| (Some(s), "carry")))
    {
        if let Some(s) = s {
            check(s, field);
        }
    }
    if let Some(rule) = h.unwrap.iter().find(|r| r.query_param.is_none() && r.path_segment.is_none()) {
        ctx.problem(
            h.result.span().start,
            format!("engine {id}: an unwrap rule {rule:?} names neither query_param nor path_segment"),
            "add query_param = \"…\" or path_segment = \"…\"",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let text = |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.get_ref().clone());
    let selectors = HtmlSelectors {
        result: h.result.get_ref().clone(),
        skip: text(&h.skip),
        title: h.title.get_ref().clone(),
        link: h.link.get_ref().clone(),
        snippet: text(&h.snippet),
        no_results: text(&h.no_results),
        blocked: text(&h.blocked),
        carry: h.carry.iter().map(|(name, s)| (name.clone(), s.get_ref().clone())).collect(),
        strip: text(&h.strip),
        thumbnail: text(&h.thumbnail),
    };
    let link_json = match (&h.link_attr, &h.link_json) {
        (None, None) if h.thumbnail_json.is_none() => None,
        (Some(attr), Some(url)) if [Some(url), h.thumbnail_json.as_ref()].into_iter().flatten().all(|p| p.starts_with('/')) => {
            Some(LinkJson { attr: attr.clone(), url: url.clone(), thumbnail: h.thumbnail_json.clone() })
        }
        _ => {
            ctx.problem(
                h.result.span().start,
                format!("engine {id}: link_attr, link_json and thumbnail_json go together (an attribute holding JSON, and pointers into it)"),
                "write link_attr = \"m\", link_json = \"/purl\" (and thumbnail_json = \"/turl\"), pointers starting with /",
            );
            return None;
        }
    };
    match HtmlParser::new(selectors, h.blocked_text.clone(), h.unwrap.clone()) {
        Ok(parser) => Some(match link_json {
            Some(json) => parser.with_link_json(json),
            None => parser,
        }),
        Err(problem) => {
            // Each selector alone was checked above; only their combination can fail here.
            ctx.problem(
                h.result.span().start,
                format!("engine {id}: the {} selector cannot be combined with the result selector: {}", problem.field, problem.error),
                "simplify the selectors (type, class, id, attribute, descendant and child selectors always combine)",
            );
            None
        }
    }
}

fn compile_json(ctx: &mut Ctx<'_>, at: usize, id: &str, j: &JsonDef) -> Option<JsonParser> {
    let pointers = [Some(&j.items), Some(&j.title), j.url.as_ref(), j.snippet.as_ref(), j.error.as_ref(), j.response_marker.as_ref(), j.thumbnail.as_ref()];
    for p in pointers.into_iter().flatten() {
        if !p.is_empty() && !p.starts_with('/') {
            ctx.problem(at, format!("engine {id}: JSON pointer {p:?} must start with /"), "write pointers like \"/query/search\"");
        }
    }
    let url = match (&j.url, &j.url_template) {
        (Some(p), None) => UrlSource::Pointer(p.clone()),
        (None, Some(t)) if t.contains("{title}") => UrlSource::TitleTemplate(t.clone()),
        _ => {
            ctx.problem(at, format!("engine {id}: give exactly one of url (a pointer) or url_template (with {{title}})"), "e.g. url = \"/link\"");
            return None;
        }
    };
    Some(JsonParser {
        jsonp: j.jsonp,
        items: j.items.clone(),
        title: j.title.clone(),
        url,
        snippet: j.snippet.clone(),
        error: j.error.clone(),
        response_marker: j.response_marker.clone(),
        title_is_html: j.html.contains(&JsonTextField::Title),
        snippet_is_html: j.html.contains(&JsonTextField::Snippet),
        thumbnail: j.thumbnail.clone(),
    })
}
