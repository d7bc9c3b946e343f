//! The image path: every picture a pupil sees comes from kidsearch itself, at a path the
//! gateway signed, as a JPEG the gateway made.
//!
//! `Images::path_for(engine, url)` turns a picture URL an engine gave into `/img/<sig>/<token>`
//! (or nothing, when the URL's host is not one of the engine's `image_hosts`). `GET` of that
//! path (`Images::serve`) verifies the signature, then answers from memory, from the database
//! (pictures frozen with a teacher's approval, `stored.rs`), or else fetches the URL with the
//! engine's own guarded picture client, checks it and re-encodes it.
//!
//! Invariants:
//! - only URLs this gateway signed are fetched (no open proxy), and only from the hosts the
//!   engine declares for pictures; a redirect elsewhere is refused (`outbound`);
//! - a body is read to at most `MAX_IMAGE_BYTES`, streamed; its kind comes from its bytes;
//!   pixel and memory limits hold before anything is allocated (`check.rs`);
//! - what is served is always a JPEG re-encoded here from decoded pixels (`encode.rs`): no
//!   upstream byte reaches the browser;
//! - one upstream request per picture at a time however many iPads ask (a `LoadingCache`),
//!   kept within a byte budget; a refusal is remembered for a minute, not retried per pupil.

pub mod check;
pub mod encode;
pub mod sign;
pub mod stored;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::cache::LoadingCache;
use crate::engines::host_listed;
use crate::engines::{EngineError, EngineSet};
use crate::outbound::GuardedClient;
pub use sign::ImageSigner;

/// The largest picture body read from upstream.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// How long a good picture and a refusal are kept in memory.
const GOOD_FOR: Duration = Duration::from_secs(6 * 3600);
const REFUSED_FOR: Duration = Duration::from_secs(60);

/// Why a picture is not served. Shown to staff and in the log, never on a pupil's page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefusal {
    #[error("not a picture path this gateway signed")]
    Forged,
    #[error("engine {0} has no picture hosts")]
    UnknownEngine(String),
    #[error("{0} is not one of the engine's picture hosts")]
    HostRefused(String),
    #[error("fetching the picture failed: {0}")]
    Fetch(EngineError),
    #[error("the picture host answered HTTP {0}")]
    Status(u16),
    #[error("not a picture kidsearch shows: {0} (only JPEG, PNG, GIF and WebP)")]
    NotAPicture(String),
    #[error("too many pixels: {0}")]
    TooManyPixels(String),
    #[error("the picture could not be decoded: {0}")]
    Undecodable(String),
}

type Loaded = Result<Bytes, ImageRefusal>;

/// One engine's way to its pictures.
struct PictureHosts {
    client: GuardedClient,
    /// The hosts as `engines.toml` declares them: what a URL in an engine's answer must name.
    declared: Vec<String>,
    /// A local `image_base_url` override (fixtures, a local mirror): declared URLs go there.
    base: Option<Url>,
}

pub struct Images {
    signer: ImageSigner,
    /// By engine id (and the extra sources' ids); replaced when `engines.toml` is reloaded
    /// (`replace_engines`), the extra sources kept.
    engines: RwLock<HashMap<String, Arc<PictureHosts>>>,
    /// The ids `add_source` added: not engines, so not replaced with them.
    sources: Vec<String>,
    /// Re-encoded pictures and refusals, by signed token; weighed in bytes.
    cache: LoadingCache<String, Loaded>,
    stored: stored::StoredImages,
    user_agent: String,
}

/// One picture client per engine that declares `image_hosts`.
fn picture_hosts(engines: &EngineSet, user_agent: &str) -> Result<HashMap<String, Arc<PictureHosts>>, String> {
    let mut by_engine = HashMap::new();
    for engine in engines.all().iter().filter(|e| !e.images.hosts.is_empty()) {
        let pictures = &engine.images;
        let client = GuardedClient::for_hosts(pictures.hosts.clone(), pictures.private_ok, engine.timeout, user_agent, MAX_IMAGE_BYTES)
            .map_err(|e| format!("engine {}: picture client: {e}", engine.id))?;
        by_engine.insert(engine.id.clone(), Arc::new(PictureHosts { client, declared: pictures.declared.clone(), base: pictures.base.clone() }));
    }
    Ok(by_engine)
}

struct ExpireByOutcome;

impl moka::Expiry<String, Loaded> for ExpireByOutcome {
    fn expire_after_create(&self, _key: &String, value: &Loaded, _now: std::time::Instant) -> Option<Duration> {
        Some(if value.is_ok() { GOOD_FOR } else { REFUSED_FOR })
    }
}

impl Images {
    /// One picture client per engine that declares `image_hosts`; `cache_bytes` is the
    /// in-memory budget for re-encoded pictures.
    pub fn new(engines: &EngineSet, signer: ImageSigner, store: crate::store::Store, user_agent: &str, cache_bytes: u64) -> Result<Images, String> {
        let by_engine = picture_hosts(engines, user_agent)?;
        let cache = moka::sync::Cache::builder()
            .max_capacity(cache_bytes)
            .weigher(|key: &String, value: &Loaded| (key.len() + value.as_ref().map_or(64, Bytes::len)).try_into().unwrap_or(u32::MAX))
            .expire_after(ExpireByOutcome)
            .build();
        Ok(Images {
            signer,
            engines: RwLock::new(by_engine),
            sources: Vec::new(),
            user_agent: user_agent.to_string(),
            cache: LoadingCache::new(cache),
            stored: stored::StoredImages::new(store),
        })
    }

    /// The picture hosts of a reloaded `engines.toml`: each engine's client made again from its
    /// `image_hosts` (the extra sources stay). Pictures already re-encoded stay in memory: they
    /// were checked when fetched, and a picture path is only ever made for a host the engine
    /// declares when the page is built. Nothing changes if a client cannot be made.
    pub fn replace_engines(&self, engines: &EngineSet) -> Result<(), String> {
        let mut next = picture_hosts(engines, &self.user_agent)?;
        let mut current = self.engines.write().unwrap_or_else(|e| e.into_inner());
        for id in &self.sources {
            if let Some(source) = current.get(id) {
                next.insert(id.clone(), source.clone());
            }
        }
        *current = next;
        Ok(())
    }

    fn hosts_of(&self, id: &str) -> Option<Arc<PictureHosts>> {
        self.engines.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Adds a picture source that is not an engine (approved videos' pictures): `id` signs its
    /// paths as an engine id would, `declared` are the hosts its URLs may name, and a local
    /// `base` (a fixture, a mirror) replaces their scheme, host and port, as `image_base_url`.
    pub fn add_source(&mut self, id: &str, declared: &[&str], base: Option<&str>, timeout: Duration, user_agent: &str) -> Result<(), String> {
        let declared: Vec<String> = declared.iter().map(|h| h.to_ascii_lowercase()).collect();
        let base = base.map(|b| Url::parse(b).map_err(|e| format!("picture source {id}: {b:?}: {e}"))).transpose()?;
        let (hosts, private_ok) = match &base {
            Some(b) => {
                let host = b.host_str().ok_or_else(|| format!("picture source {id}: {b} has no host"))?.to_ascii_lowercase();
                (vec![b.port_or_known_default().map_or(host.clone(), |port| format!("{host}:{port}"))], true)
            }
            None => (declared.clone(), false),
        };
        let client = GuardedClient::for_hosts(hosts, private_ok, timeout, user_agent, MAX_IMAGE_BYTES).map_err(|e| format!("picture source {id}: {e}"))?;
        self.engines.get_mut().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), Arc::new(PictureHosts { client, declared, base }));
        self.sources.push(id.to_string());
        Ok(())
    }

    /// The gateway path for a picture `engine` gave at `url`, if that engine may show
    /// pictures from its host.
    pub fn path_for(&self, engine: &str, url: &Url) -> Option<String> {
        let hosts = self.hosts_of(engine)?;
        if !host_listed(&hosts.declared, url) {
            return None;
        }
        let mut url = url.clone();
        if let Some(base) = &hosts.base {
            crate::engines::rebase(&mut url, base);
        }
        hosts.client.allows(&url).then(|| self.signer.path(engine, url.as_str()))
    }

    /// The JPEG for a signed path's `sig` and `token`: from memory, from the pictures frozen
    /// with approvals, or fetched and re-encoded now.
    pub async fn serve(&self, sig: &str, token: &str) -> Result<Bytes, ImageRefusal> {
        let signed = self.signer.verify(sig, token).ok_or(ImageRefusal::Forged)?;
        let key = token.to_string();
        self.cache
            .get_with(key.clone(), async {
                match self.stored.get(&key).await {
                    Some(bytes) => Ok(bytes),
                    None => self.fetch(&signed.engine, &signed.url).await,
                }
            })
            .await
    }

    /// The re-encoded JPEG of the picture at a signed path (a page just built made it), for
    /// freezing with an approval: from memory, or fetched now.
    pub async fn reencoded_for_path(&self, path: &str) -> Result<Bytes, ImageRefusal> {
        let (sig, token) = ImageSigner::split(path).ok_or(ImageRefusal::Forged)?;
        self.serve(sig, token).await
    }

    /// Keeps the JPEGs of `paths` (each re-encoded now if not in memory) in the database for
    /// `approval`, so pupils get exactly these pictures with no upstream call, after a restart
    /// and on every instance. Pictures that are refused are left out (their cards show none).
    pub async fn freeze(&self, approval: i64, paths: &[String]) -> Result<usize, String> {
        // Side by side: a picture not in memory any more costs at most one engine timeout.
        let loads = paths
            .iter()
            .filter_map(|path| Some((ImageSigner::split(path)?.1.to_string(), path)))
            .map(|(token, path)| async move { self.reencoded_for_path(path).await.ok().map(|bytes| (token, bytes)) });
        let kept: Vec<(String, Bytes)> = futures_util::future::join_all(loads).await.into_iter().flatten().collect();
        let count = kept.len();
        self.stored.put(approval, kept).await?;
        Ok(count)
    }

    async fn fetch(&self, engine: &str, url: &str) -> Loaded {
        let hosts = self.hosts_of(engine).ok_or_else(|| ImageRefusal::UnknownEngine(engine.to_string()))?;
        let url = Url::parse(url).map_err(|_| ImageRefusal::Forged)?;
        if !hosts.client.allows(&url) {
            return Err(ImageRefusal::HostRefused(url.host_str().unwrap_or("?").to_string()));
        }
        let (status, body) = hosts.client.get_bytes(&url).await.map_err(ImageRefusal::Fetch)?;
        if status != 200 {
            return Err(ImageRefusal::Status(status));
        }
        // Decoding and encoding are CPU work (a few ms): off the async workers.
        let encoded =
            tokio::task::spawn_blocking(move || encode::reencode(&body)).await.map_err(|_| ImageRefusal::Undecodable("the re-encoder stopped".into()))??;
        Ok(Bytes::from(encoded))
    }
}
