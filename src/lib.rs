//! kidsearch: a child-safe, supervised search gateway for infant-school classroom devices.
//!
//! See `ARCHITECTURE.md` for the map of modules and the path of one pupil query.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod approvals;
pub mod cache;
pub mod canary;
pub mod changes;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod deploy;
pub mod devices;
pub mod engines;
pub mod images;
pub mod lists;
pub mod metrics;
pub mod outbound;
pub mod overblocks;
pub mod policy;
pub mod query;
pub mod reload;
pub mod review;
pub mod safeguarding;
pub mod same_page;
pub mod schools;
pub mod search;
pub mod secrets;
pub mod settings;
pub mod sites;
pub mod spelling;
pub mod staff;
pub mod startup;
pub mod store;
pub mod supervision;
pub mod tls;
pub mod videos;
pub mod web;

pub use startup::Application;
