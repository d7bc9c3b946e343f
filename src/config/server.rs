//! The server's own settings file (`kidsearch.toml`): where to listen, where data lives, limits,
//! and per-engine local settings (keys, ids, base URL overrides).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigProblem, ConfigProblems};

/// YouTube's own oEmbed endpoint: the default `video_oembed_url`, and the one address that must
/// not be private (`videos::oembed`).
pub const YOUTUBE_OEMBED: &str = "https://www.youtube.com/oembed";

/// UT1's own distribution of its block lists, one `<category>.tar.gz` per category: the default
/// `lists_url`, and the one address that must not be private (`lists`).
pub const UT1_LISTS_URL: &str = "https://dsi.ut-capitole.fr/blacklists/download";

/// The folder under `data_dir` that `kidsearch lists update` installs the fetched lists in
/// (`lists/<category>/domains`) and the policy reads them from.
pub const FETCHED_LISTS_FOLDER: &str = "lists";

/// Typed server settings. Unknown keys are errors, so a misspelt option never silently does nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// Folder for the database, keys and other state; created if missing.
    pub data_dir: PathBuf,
    /// A PostgreSQL database shared by several instances (a trust's deployment), e.g.
    /// "postgres://kidsearch@db.trust.lan/kidsearch". Unset: the embedded SQLite file in
    /// `data_dir` (one school, one server). The password may come from `PGPASSWORD` or
    /// `~/.pgpass` rather than this file.
    pub database_url: Option<String>,
    /// A secret file (at least 32 random bytes, readable only by kidsearch) that every
    /// instance of a trust's deployment shares: staff sessions, iPad device cookies and /go
    /// links signed by one instance are then good on all. Unset: keys are made per data dir.
    pub shared_secret_file: Option<PathBuf>,
    /// `--new-database` (the command line only, never a file: a setting left in a file would
    /// silently replace the next lost database too): a missing or empty database file beside
    /// keys of an earlier install is made new instead of refused (`store::lost`).
    #[serde(skip)]
    pub new_database: bool,
    /// Folder with `engines.toml` and the lists; the built-in copy is used when it is missing.
    pub allowlist_dir: PathBuf,
    /// Pages of results a pupil may see ("first two pages only").
    pub max_pages: u32,
    /// How long an engine's answer is reused for the same query and page.
    pub cache_ttl_secs: u64,
    /// How long a failing engine rests before it is asked again for the same query.
    pub engine_error_ttl_secs: u64,
    /// Entries kept in the result cache.
    pub cache_capacity: u64,
    /// Default per-engine time limit; an engine may set its own.
    pub engine_timeout_ms: u64,
    /// A new search answers with what has arrived once this long has passed and at least one
    /// engine has answered well; engines still running finish into the cache for the next
    /// pupil (and page 2). 0: wait for every engine.
    pub answer_deadline_ms: u64,
    /// Largest upstream answer read, in bytes.
    pub max_upstream_bytes: usize,
    /// Memory kept for re-encoded pictures (result thumbnails), in bytes; the least used go
    /// first when it is full.
    pub image_cache_bytes: u64,
    /// Page 1 of a search naming a thing opens with the Simple English Wikipedia article's first
    /// sentences and picture (when the simple_wikipedia engine is on).
    pub answer_cards: bool,
    /// The one honest User-Agent this deployment sends upstream.
    pub user_agent: String,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Walled-garden mode: pupils see only results from `allowlist/garden/domains`.
    pub walled_garden: bool,
    /// false: pupils may only use searches a teacher approved today (the strictest setting).
    pub pupil_live_search: bool,
    /// true: pupils may search pictures live (through the picture engines, strict modes
    /// forced). false (the default): pupils get pictures only from a search a teacher pre-ran,
    /// looked at picture by picture and approved; pictures are the riskiest thing a pupil sees.
    pub pupil_live_picture_search: bool,
    /// Term-list categories this school does not refuse (e.g. `["scary"]`): their files in
    /// `allowlist/terms/` are not loaded. Every name must be a category; `check` says which are.
    pub categories_off: Vec<String>,
    /// The school's time zone: approvals end at midnight here.
    pub time_zone: String,
    /// Mark the staff session cookie `Secure`: set this when staff reach kidsearch over HTTPS
    /// (behind the school's TLS reverse proxy), so the cookie never crosses the LAN in clear.
    pub secure_cookies: bool,
    /// Pupil pages only for iPads enrolled by staff (a signed device cookie); other browsers
    /// get "this device is not set up yet".
    pub require_enrolment: bool,
    /// Pupils search only while a teacher has opened a supervised window for their class.
    pub supervised_sessions: bool,
    /// Days activity rows (queries, clicks) are kept before the hourly purge deletes them.
    pub retention_activity_days: u32,
    /// Days incidents are kept (default: one school year).
    pub retention_incident_days: u32,
    /// Serve HTTPS with this certificate chain (PEM). Both `tls_cert` and `tls_key`, or neither.
    /// Reloaded on SIGHUP and when the files change.
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM, unencrypted, readable only by kidsearch).
    pub tls_key: Option<PathBuf>,
    /// Reverse proxies whose `X-Forwarded-For/-Proto/-Host` headers are believed (addresses);
    /// from anyone else those headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// Addresses allowed to read `/metrics` (the monitoring host); everyone else gets 403.
    pub metrics_allow: Vec<String>,
    /// The oEmbed endpoint asked for an approved video's title and picture (YouTube's own;
    /// a fixture or a mirror in tests). Its host is the only one that client may reach.
    pub video_oembed_url: String,
    /// Where approved videos' pictures (YouTube's `i.ytimg.com`) are fetched from instead: a
    /// fixture or a local mirror (scheme, host and port replaced, as an engine's
    /// `image_base_url`). `None`: YouTube's own host, the only one that client may reach.
    pub video_thumbnail_base_url: Option<String>,
    /// The UT1 block-list categories `kidsearch lists update` fetches, by UT1's own names
    /// ("drogue" is drugs, "agressif" violence), each installed as
    /// `<data_dir>/lists/<category>/domains` and loaded beside `allowlist/domains/`.
    pub lists_categories: Vec<String>,
    /// Where the categories' archives are fetched from: `<lists_url>/<category>.tar.gz`.
    pub lists_url: String,
    /// Largest archive downloaded for one category, in bytes.
    pub lists_max_download_bytes: u64,
    /// Largest file unpacked from an archive (a category's `domains`), in bytes.
    pub lists_max_file_bytes: u64,
    /// Local settings per engine id from `engines.toml`.
    pub engines: BTreeMap<String, EngineOverride>,
}

/// What a school sets locally for one engine.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineOverride {
    /// Replaces scheme, host and port of the engine's URLs (fixture servers, benchmarks).
    pub base_url: Option<String>,
    /// Replaces scheme, host and port of the engine's picture URLs (fixture picture hosts, a
    /// local mirror); the pictures are then fetched from there only.
    pub image_base_url: Option<String>,
    pub enabled: Option<bool>,
    pub api_key: Option<String>,
    pub cx: Option<String>,
    pub weight: Option<f64>,
    pub timeout_ms: Option<u64>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "0.0.0.0:8080".to_string(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            shared_secret_file: None,
            new_database: false,
            allowlist_dir: PathBuf::from("allowlist"),
            max_pages: 2,
            cache_ttl_secs: 600,
            engine_error_ttl_secs: 30,
            cache_capacity: 10_000,
            engine_timeout_ms: 3_000,
            answer_deadline_ms: 800,
            max_upstream_bytes: 2 * 1024 * 1024,
            image_cache_bytes: 32 * 1024 * 1024,
            answer_cards: true,
            user_agent: concat!("kidsearch/", env!("CARGO_PKG_VERSION"), " (school search gateway)").to_string(),
            workers: 0,
            walled_garden: false,
            pupil_live_search: true,
            pupil_live_picture_search: false,
            categories_off: Vec::new(),
            time_zone: "Europe/London".to_string(),
            secure_cookies: false,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            require_enrolment: true,
            supervised_sessions: true,
            retention_activity_days: 30,
            retention_incident_days: 365,
            metrics_allow: vec!["127.0.0.1".to_string(), "::1".to_string()],
            video_oembed_url: YOUTUBE_OEMBED.to_string(),
            video_thumbnail_base_url: None,
            lists_categories: ["adult", "agressif", "drogue", "gambling"].map(String::from).to_vec(),
            lists_url: UT1_LISTS_URL.to_string(),
            // UT1's largest category (adult: ~4.6 million domains) is ~25 MB packed, ~100 MB unpacked.
            lists_max_download_bytes: 128 * 1024 * 1024,
            lists_max_file_bytes: 512 * 1024 * 1024,
            engines: BTreeMap::new(),
        }
    }
}

/// The fix to suggest for a config file that does not read. The usual slip: a top-level
/// setting written after an `[engines.…]` table, where TOML makes it that engine's key ("unknown
/// field `walled_garden`, expected one of `base_url`, …").
fn fix_for(error: &toml::de::Error) -> String {
    let general = "see the commented example in README.md (Configuration)".to_string();
    let message = error.message();
    let Some(key) = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) else { return general };
    if !message.contains("`base_url`") {
        return general;
    }
    // Is it a setting of the file itself? Then only its place is wrong.
    let alone = toml::Table::from_iter([(key.to_string(), toml::Value::Boolean(false))]);
    let top_level = match ServerConfig::deserialize(alone.clone()) {
        Ok(_) => true,
        Err(e) => !e.message().starts_with("unknown field"),
    };
    if top_level {
        format!("`{key}` is a top-level setting: move it above the first [engines.…] table (TOML puts every key after a table's header inside that table)")
    } else {
        general
    }
}

impl ServerConfig {
    /// Where `kidsearch lists update` installs the fetched lists: `<data_dir>/lists`.
    pub fn fetched_lists_dir(&self) -> PathBuf {
        self.data_dir.join(FETCHED_LISTS_FOLDER)
    }

    /// Reads a config file.
    pub fn from_file(path: &Path) -> Result<ServerConfig, ConfigProblems> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigProblem::whole_file(&file, format!("cannot read the config file: {e}"), "check --config / KIDSEARCH_CONFIG points at a readable file")
        })?;
        // Relative paths inside the file are relative to the working directory, as for the
        // defaults; the systemd unit sets WorkingDirectory so the two agree.
        toml::from_str(&text).map_err(|e| ConfigProblem::from_toml(&file, &text, &e, &fix_for(&e)).into())
    }

    /// Checks values serde cannot: ranges and address syntax.
    pub fn validate(&self, path: Option<&Path>) -> Result<(), ConfigProblems> {
        let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "<settings>".to_string());
        let mut problems = Vec::new();
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(ConfigProblem::whole_file(&file, format!("listen = {:?} is not an address:port", self.listen), "write it like \"0.0.0.0:8080\""));
        }
        if !(1..=10).contains(&self.max_pages) {
            problems.push(ConfigProblem::whole_file(
                &file,
                format!("max_pages = {} is out of range", self.max_pages),
                "use a number from 1 to 10 (the usual school rule is 2)",
            ));
        }
        if self.engine_timeout_ms == 0 || self.engine_timeout_ms > 30_000 {
            problems.push(ConfigProblem::whole_file(&file, "engine_timeout_ms must be 1..=30000", "3000 is a good default"));
        }
        if self.answer_deadline_ms > 30_000 {
            problems.push(ConfigProblem::whole_file(&file, "answer_deadline_ms must be 0..=30000", "800 is a good default (0 waits for every engine)"));
        }
        if self.max_upstream_bytes < 1024 {
            problems.push(ConfigProblem::whole_file(&file, "max_upstream_bytes is too small to hold a results page", "use at least 262144"));
        }
        if let Some(url) = &self.database_url {
            if let Err(e) = crate::store::postgres::parse_url(url) {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("database_url is not a PostgreSQL URL kidsearch can use: {e}"),
                    "write it like \"postgres://kidsearch@db.trust.lan:5432/kidsearch\", or remove it to use the embedded SQLite database",
                ));
            }
        }
        if let Some(secret) = &self.shared_secret_file {
            if let Err(e) = crate::secrets::read_shared(secret) {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("shared_secret_file: {e}"),
                    "make one with `head -c 64 /dev/urandom > FILE && chmod 600 FILE` and copy it to every instance",
                ));
            }
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            problems.push(ConfigProblem::whole_file(
                &file,
                format!("time_zone = {:?} is not a known time zone", self.time_zone),
                "use an IANA name such as \"Europe/London\"",
            ));
        }
        for (name, days) in [("retention_activity_days", self.retention_activity_days), ("retention_incident_days", self.retention_incident_days)] {
            if !(1..=3650).contains(&days) {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("{name} = {days} is out of range"),
                    "use a number of days from 1 to 3650 (defaults: activity 30, incidents 365)",
                ));
            }
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                if let Err(e) = crate::tls::load(cert, key) {
                    problems.push(ConfigProblem::whole_file(&file, format!("TLS: {e}"), "point tls_cert and tls_key at the PEM certificate chain and its key"));
                }
            }
            (None, None) => {}
            _ => problems.push(ConfigProblem::whole_file(&file, "only one of tls_cert and tls_key is set", "set both (HTTPS) or neither (plain HTTP)")),
        }
        if !url::Url::parse(&self.video_oembed_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some()) {
            problems.push(ConfigProblem::whole_file(
                &file,
                format!("video_oembed_url = {:?} is not an http(s) URL", self.video_oembed_url),
                "remove it to use YouTube's own (\"https://www.youtube.com/oembed\"), or write a full URL like \"http://127.0.0.1:9000/oembed\"",
            ));
        }
        if let Some(base) = &self.video_thumbnail_base_url {
            if !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some()) {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("video_thumbnail_base_url = {base:?} is not an http(s) URL"),
                    "remove it to fetch videos' pictures from YouTube, or write one like \"http://127.0.0.1:9001\"",
                ));
            }
        }
        if !url::Url::parse(&self.lists_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some()) {
            problems.push(ConfigProblem::whole_file(
                &file,
                format!("lists_url = {:?} is not an http(s) URL", self.lists_url),
                format!("remove it to use UT1's own ({UT1_LISTS_URL:?}), or write a full URL like \"https://mirror.trust.lan/ut1\""),
            ));
        }
        for category in &self.lists_categories {
            let name_ok = !category.is_empty()
                && category.len() <= 64
                && category.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
            if !name_ok {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("lists_categories: {category:?} is not a UT1 category name"),
                    "use UT1's folder names, lowercase letters, digits, '-' and '_' only: e.g. [\"adult\", \"agressif\", \"drogue\", \"gambling\"]",
                ));
            }
        }
        for (name, bytes) in [("lists_max_download_bytes", self.lists_max_download_bytes), ("lists_max_file_bytes", self.lists_max_file_bytes)] {
            if bytes < 1024 {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("{name} = {bytes} is too small to hold a list"),
                    "remove it for the default (128 MiB download, 512 MiB unpacked), or give a number of bytes of at least 1024",
                ));
            }
        }
        for proxy in &self.trusted_proxies {
            if proxy.parse::<std::net::IpAddr>().is_err() {
                problems.push(ConfigProblem::whole_file(
                    &file,
                    format!("trusted_proxies: {proxy:?} is not an IP address"),
                    "list the reverse proxy's address, e.g. \"10.0.0.5\"",
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigProblems(problems))
        }
    }
}
