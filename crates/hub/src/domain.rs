//! Resolution 101 domains and the 17 Sustainable Development Goals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::HubError;

/// The AI application domains named by WTSA-24 Resolution 101 (network operations, management,
/// energy, reliability, security, networks and protocols, services and applications, IoT).
///
/// The names match `ai4ict_intent::UseCase` (snake_case). A standard that applies to all
/// domains carries an empty domain list and is shown as `cross_cutting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Network operations (fault detection, QoS assurance, traffic).
    Operations,
    /// Network and service management, orchestration, autonomy.
    Management,
    /// Energy efficiency and environmental footprint.
    Energy,
    /// Reliability, robustness, safe operation and trust.
    Reliability,
    /// Security of and with AI.
    Security,
    /// Networks and protocols (RAN, core, transport).
    NetworksProtocols,
    /// Services and applications (exposure, marketplaces, serving).
    ServicesApplications,
    /// Internet of things and smart cities.
    Iot,
}

impl Domain {
    /// All domains, in Resolution 101 order.
    pub const ALL: [Domain; 8] = [
        Domain::Operations,
        Domain::Management,
        Domain::Energy,
        Domain::Reliability,
        Domain::Security,
        Domain::NetworksProtocols,
        Domain::ServicesApplications,
        Domain::Iot,
    ];

    /// The snake_case name used in files, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Operations => "operations",
            Domain::Management => "management",
            Domain::Energy => "energy",
            Domain::Reliability => "reliability",
            Domain::Security => "security",
            Domain::NetworksProtocols => "networks_protocols",
            Domain::ServicesApplications => "services_applications",
            Domain::Iot => "iot",
        }
    }

    /// The SDGs a use case of this domain most directly serves; used by the SDG-alignment
    /// criterion of the use-case rubric.
    pub fn related_sdgs(self) -> &'static [u8] {
        match self {
            Domain::Operations => &[9, 8],
            Domain::Management => &[9, 12],
            Domain::Energy => &[7, 12, 13],
            Domain::Reliability => &[9, 11],
            Domain::Security => &[9, 16],
            Domain::NetworksProtocols => &[9, 10, 17],
            Domain::ServicesApplications => &[3, 4, 8, 9, 10],
            Domain::Iot => &[2, 6, 9, 11, 15],
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Domain {
    type Err = HubError;

    /// Accepts the snake_case name, with `-` or space in place of `_`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Domain::ALL
            .into_iter()
            .find(|d| d.as_str() == norm)
            .ok_or_else(|| {
                HubError::invalid(
                    "domain",
                    format!(
                        "'{s}' is not a Resolution 101 domain (one of: {})",
                        Domain::ALL.map(Domain::as_str).join(", ")
                    ),
                )
            })
    }
}

/// Parses a `;`- or `,`-separated domain list; `cross_cutting` (or an empty string) means all
/// domains and gives an empty list.
pub fn parse_domains(s: &str) -> Result<Vec<Domain>, HubError> {
    let mut out = Vec::new();
    for part in s.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        let norm = part.to_ascii_lowercase().replace(['-', ' '], "_");
        if norm == "cross_cutting" {
            continue;
        }
        let d: Domain = part.parse()?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out.sort();
    Ok(out)
}

/// Formats a domain list the way [`parse_domains`] reads it.
pub fn format_domains(domains: &[Domain]) -> String {
    if domains.is_empty() {
        "cross_cutting".to_string()
    } else {
        domains
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// One of the 17 UN Sustainable Development Goals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sdg {
    /// Goal number, 1 to 17.
    pub number: u8,
    /// Short title, e.g. "Affordable and clean energy".
    pub title: String,
}

const SDGS_CSV: &str = include_str!("../../../data/sdgs.csv");

/// The 17 SDGs, from the shipped `data/sdgs.csv`.
pub fn sdgs() -> Vec<Sdg> {
    let mut rdr = csv::Reader::from_reader(SDGS_CSV.as_bytes());
    rdr.records()
        .filter_map(|r| r.ok())
        .filter_map(|r| {
            Some(Sdg {
                number: r.get(0)?.trim().parse().ok()?,
                title: r.get(1)?.trim().to_string(),
            })
        })
        .collect()
}

/// Checks that every number is an SDG (1..=17); returns them sorted and deduplicated.
pub fn check_sdgs(numbers: &[u8]) -> Result<Vec<u8>, HubError> {
    let mut v = numbers.to_vec();
    if let Some(bad) = v.iter().find(|n| !(1..=17).contains(*n)) {
        return Err(HubError::invalid(
            "sdgs",
            format!("{bad} is not an SDG number (1 to 17)"),
        ));
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_sdgs_ship() {
        let s = sdgs();
        assert_eq!(s.len(), 17);
        assert_eq!(s[6].title, "Affordable and clean energy");
        assert_eq!(s[16].number, 17);
    }

    #[test]
    fn domains_round_trip() {
        for d in Domain::ALL {
            assert_eq!(d.as_str().parse::<Domain>().unwrap(), d);
        }
        assert_eq!(
            parse_domains("networks-protocols; IoT").unwrap(),
            vec![Domain::NetworksProtocols, Domain::Iot]
        );
        assert!(parse_domains("cross_cutting").unwrap().is_empty());
        assert!(parse_domains("space").is_err());
        assert_eq!(format_domains(&[]), "cross_cutting");
        assert!(check_sdgs(&[18]).is_err());
        assert_eq!(check_sdgs(&[7, 7, 3]).unwrap(), vec![3, 7]);
    }
}
