//! The pipeline's per-entity nodes (Y.3172 §8.1): preprocessor (PP), model (M) and policy (P).
//! Each is a plain struct that processes a batch, so the dataflow operators and the
//! plain-loop baseline of `ai4ict bench engine` run exactly the same code.

mod model;
mod policy;
mod preprocess;

pub use model::{ModelNode, Scored};
pub use policy::{PolicyNode, Run as PolicyState, NO_DATA};
pub use preprocess::{EntityState as PreprocessState, Preprocessor};

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use ai4ict_core::Entity;

/// Per-entity state map. `Entity` hashes to its precomputed FNV key, so the hasher only
/// passes that key through instead of hashing it again.
pub(crate) type EntityMap<V> = HashMap<Entity, V, BuildHasherDefault<KeyHasher>>;

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b) ^ (self.0 >> 56);
        }
    }
    fn write_u64(&mut self, k: u64) {
        self.0 = k;
    }
}
