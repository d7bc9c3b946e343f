//! Helpers for setting kidsearch up at school: the iPad configuration profile.

pub mod ipad_profile;
