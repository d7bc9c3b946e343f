//! Server configuration: embedded defaults → optional TOML file → `KIDSEARCH_*` environment.
//!
//! Every problem is reported as a [`ConfigProblem`] naming file, line and fix, and the server
//! refuses to start with any of them: a school must never run half-configured.
//!
//! This is what the settings file says, below the engines and the policy that read it;
//! `crate::settings` loads all three together.

mod problem;
mod server;

pub use problem::{ConfigProblem, ConfigProblems};
pub use server::{EngineOverride, ServerConfig, FETCHED_LISTS_FOLDER, UT1_LISTS_URL, YOUTUBE_OEMBED};
