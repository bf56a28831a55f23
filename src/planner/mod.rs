//! Planning: resolve checked plans online (exports, dataflows, runs in flight), build the exact
//! request bodies and compare them with the lockfile.

pub mod decide;
pub mod labels;
pub mod model;
mod policy;
pub mod resolve;
pub mod saved;
