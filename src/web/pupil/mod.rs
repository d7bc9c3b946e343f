//! Pages a pupil sees.

pub mod home;
pub mod not_found;
pub mod results;
