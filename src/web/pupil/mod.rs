//! Pages a pupil sees. `gate` runs in front of every one of them (except the tell-an-adult
//! press itself, which is always allowed).

pub mod enrol;
pub mod gate;
pub mod go;
pub mod help;
pub mod home;
pub mod not_found;
pub mod picture;
pub mod pictures;
pub mod results;
pub mod video;
