use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The thing an observation is about: a cell, a link, a host, a sensor, a flow key.
///
/// Cloning is cheap (a shared string). The key hash is FNV-1a over the name, so it is the
/// same in every process and on every host: the engine partitions per-entity state by it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "Arc<str>", into = "Arc<str>")]
pub struct Entity {
    name: Arc<str>,
    key: u64,
}

impl Entity {
    /// An entity with this name.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let key = fnv1a(name.as_bytes());
        Self { name, key }
    }

    /// The entity's name as the source gave it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stable 64-bit key (FNV-1a of the name), identical across processes and hosts.
    pub fn key(&self) -> u64 {
        self.key
    }

    /// The worker (of `peers`) that owns this entity's state.
    pub fn owner(&self, peers: usize) -> usize {
        // Fold the high bits in: FNV's low bits alone spread poorly over small moduli.
        let k = self.key ^ (self.key >> 29) ^ (self.key >> 47);
        (k % peers.max(1) as u64) as usize
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl From<Arc<str>> for Entity {
    fn from(name: Arc<str>) -> Self {
        Self::new(name)
    }
}

impl From<Entity> for Arc<str> {
    fn from(e: Entity) -> Self {
        e.name
    }
}

impl From<&str> for Entity {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl PartialEq for Entity {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.name == other.name
    }
}
impl Eq for Entity {}

impl Hash for Entity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.key);
    }
}

impl PartialOrd for Entity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name.cmp(&other.name)
    }
}

impl fmt::Debug for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.name)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_stable_and_owner_in_range() {
        let a = Entity::new("cell-0001");
        assert_eq!(a.key(), Entity::new(String::from("cell-0001")).key());
        assert_eq!(a, Entity::from("cell-0001"));
        for peers in 1..9 {
            assert!(a.owner(peers) < peers);
        }
    }

    #[test]
    fn owners_spread_over_workers() {
        let mut counts = [0usize; 4];
        for i in 0..1000 {
            counts[Entity::new(format!("cell-{i:04}")).owner(4)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 150), "{counts:?}");
    }

    #[test]
    fn serde_round_trip() {
        let a = Entity::new("site-3/cell-2");
        let s = serde_json::to_string(&a).unwrap();
        assert_eq!(s, "\"site-3/cell-2\"");
        let b: Entity = serde_json::from_str(&s).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), b.key());
    }
}
