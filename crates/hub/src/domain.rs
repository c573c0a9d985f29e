//! Resolution 101 domains and the 17 Sustainable Development Goals.

pub use ai4ict_core::Domain;
use serde::{Deserialize, Serialize};

use crate::error::HubError;

impl From<ai4ict_core::UnknownDomain> for HubError {
    fn from(e: ai4ict_core::UnknownDomain) -> Self {
        HubError::invalid("domain", e.to_string())
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
