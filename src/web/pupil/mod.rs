//! Pages a pupil sees.

pub mod go;
pub mod home;
pub mod not_found;
pub mod results;
