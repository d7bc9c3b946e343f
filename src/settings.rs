//! Everything the server needs to run, loaded together and validated: the settings
//! (`crate::config`), the engine definitions (`crate::engines`) and the safety policy's lists
//! (`crate::policy`). Every problem in any of them is collected, so a technician sees the whole
//! list at once.

use std::path::{Path, PathBuf};

use crate::config::{ConfigProblem, ConfigProblems, ServerConfig};
use crate::engines::{EngineSet, EMBEDDED_ENGINES_TOML};
use crate::policy::Policy;

/// Everything the server needs to run, parsed and validated.
pub struct Settings {
    pub server: ServerConfig,
    pub engines: EngineSet,
    /// Where the engine definitions came from, for logs and `kidsearch check`.
    pub engines_source: String,
    /// The definitions' text as read, so a reload can tell whether it changed (`reload`).
    pub engines_toml: String,
    /// Term lists, domain lists and ranking tiers from `allowlist/`.
    pub policy: Policy,
    /// Problems that do not stop the server (duplicate entries, skipped lines): `check`
    /// reports them and the server logs them.
    pub warnings: Vec<ConfigProblem>,
    /// The settings file (or `<settings>`), named when a reload finds `categories_off` wrong.
    pub config_file: String,
}

/// Command-line and environment inputs that pick the files to read.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub config_path: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// `--new-database`: see `ServerConfig::new_database`.
    pub new_database: bool,
}

impl Settings {
    /// Loads and validates the whole configuration. Collects every problem rather than the first.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigProblems> {
        let mut server = match &sources.config_path {
            Some(path) => ServerConfig::from_file(path)?,
            None => ServerConfig::default(),
        };
        if let Some(listen) = &sources.listen {
            server.listen = listen.clone();
        }
        if let Some(dir) = &sources.data_dir {
            server.data_dir = dir.clone();
        }
        if let Some(url) = &sources.database_url {
            server.database_url = Some(url.clone());
        }
        server.new_database = sources.new_database;
        server.validate(sources.config_path.as_deref())?;
        let file = sources.config_path.as_ref().map(|p| p.display().to_string());
        Settings::with_lists(server, file.as_deref())
    }

    /// Validates `server` (built in code, e.g. by tests) and reads the lists it points at.
    pub fn from_server_config(server: ServerConfig) -> Result<Settings, ConfigProblems> {
        server.validate(None)?;
        Settings::with_lists(server, None)
    }

    /// Reads the engine definitions and policy lists that an already validated `server` points at.
    fn with_lists(server: ServerConfig, config_file: Option<&str>) -> Result<Settings, ConfigProblems> {
        let (engines_toml, engines_source) = read_engines_file(&server.allowlist_dir)?;
        let engines = EngineSet::from_toml(&engines_toml, &engines_source, &server);
        let config_file = config_file.unwrap_or("<settings>").to_string();
        let fetched = crate::policy::FetchedLists::of(&server);
        let policy = crate::policy::load_policy_with(&server.allowlist_dir, server.walled_garden, &server.categories_off, &config_file, Some(&fetched));
        match (engines, policy) {
            (Ok(engines), Ok((policy, warnings))) => Ok(Settings { server, engines, engines_source, engines_toml, policy, warnings, config_file }),
            (engines, policy) => {
                let mut all = engines.err().map(|p| p.0).unwrap_or_default();
                all.extend(policy.err().map(|p| p.0).unwrap_or_default());
                Err(ConfigProblems(all))
            }
        }
    }
}

/// Reads `allowlist/engines.toml` from disk when the allowlist folder exists, otherwise the copy
/// compiled into the binary, so `cargo run` works from anywhere.
pub fn read_engines_file(allowlist_dir: &Path) -> Result<(String, String), ConfigProblems> {
    let path = allowlist_dir.join("engines.toml");
    if allowlist_dir.is_dir() {
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((text, path.display().to_string())),
            Err(e) => Err(ConfigProblem::whole_file(
                path.display().to_string(),
                format!("cannot read it: {e}"),
                "check the file exists and is readable by the kidsearch user",
            )
            .into()),
        }
    } else {
        Ok((EMBEDDED_ENGINES_TOML.to_string(), "<built-in allowlist/engines.toml>".to_string()))
    }
}
