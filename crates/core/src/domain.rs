use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The domains of ITU-T Resolution 101 (WTSA-24) in which AI is applied to telecom/ICT:
/// an intent's `use_case`, a standard's domain, a use case's domain in the hub.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Network operations (fault, anomaly, performance).
    Operations,
    /// Network management and planning.
    Management,
    /// Energy efficiency.
    Energy,
    /// Reliability and resilience.
    Reliability,
    /// Security.
    Security,
    /// Networks and protocols.
    NetworksProtocols,
    /// Services and applications.
    ServicesApplications,
    /// Internet of things.
    Iot,
}

impl Domain {
    /// Every domain, in declaration order.
    pub const ALL: [Domain; 8] = [
        Self::Operations,
        Self::Management,
        Self::Energy,
        Self::Reliability,
        Self::Security,
        Self::NetworksProtocols,
        Self::ServicesApplications,
        Self::Iot,
    ];

    /// The snake_case name used in files and intents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operations => "operations",
            Self::Management => "management",
            Self::Energy => "energy",
            Self::Reliability => "reliability",
            Self::Security => "security",
            Self::NetworksProtocols => "networks_protocols",
            Self::ServicesApplications => "services_applications",
            Self::Iot => "iot",
        }
    }

    /// The Sustainable Development Goals a domain most directly serves (used to score a use
    /// case's SDG alignment).
    pub fn related_sdgs(self) -> &'static [u8] {
        match self {
            Self::Operations => &[9, 8],
            Self::Management => &[9, 12],
            Self::Energy => &[7, 12, 13],
            Self::Reliability => &[9, 11],
            Self::Security => &[9, 16],
            Self::NetworksProtocols => &[9, 10, 17],
            Self::ServicesApplications => &[3, 4, 8, 9, 10],
            Self::Iot => &[2, 6, 9, 11, 15],
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no Resolution 101 domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a Resolution 101 domain (one of: operations, management, energy, reliability, security, networks_protocols, services_applications, iot)")]
pub struct UnknownDomain(pub String);

impl FromStr for Domain {
    type Err = UnknownDomain;

    /// Accepts the snake_case name, with `-` or space in place of `_`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == norm)
            .ok_or_else(|| UnknownDomain(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Domain::ALL {
            assert_eq!(d.as_str().parse::<Domain>().unwrap(), d);
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{d}\""));
        }
        assert_eq!(
            "Networks-Protocols".parse::<Domain>().unwrap(),
            Domain::NetworksProtocols
        );
        assert!("teleportation".parse::<Domain>().is_err());
    }
}
