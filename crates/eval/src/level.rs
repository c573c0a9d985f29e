//! Network intelligence level after ITU-T Y.3173 (02/2020), "Framework for evaluating
//! intelligence levels of future networks including IMT-2020".
//!
//! The method (Y.3173 §7): first rate each of five dimensions (§7.1) as done by a
//! [`Capability::Human`], by human and system together, or by the [`Capability::System`]
//! (Table 7-1); then read each dimension's level off Table 7-2 — the highest level whose entry for
//! that dimension equals the capability — and take the lowest of the five as the overall level
//! (§7.2, requirements ML-Int-level-001 to 005). Levels are per use case (§7.1). At every level a
//! human must be able to intervene, and human instructions take precedence (Table 7-2 NOTE 1).
//!
//! ```
//! use ai4ict_eval::level::{Capabilities, Capability::*, IntelligenceLevel};
//! // Y.3173 Appendix II.1, coverage optimisation.
//! let caps = Capabilities {
//!     demand_mapping: Human,
//!     data_collection: HumanSystem,
//!     analysis: HumanSystem,
//!     decision: Human,
//!     action_implementation: System,
//! };
//! let a = caps.assess();
//! assert_eq!(a.overall, IntelligenceLevel::L2);
//! assert_eq!(a.overall.to_string(), "L2 (Preliminary intelligence)");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// Who performs a dimension's process (Y.3173 §7.1, Table 7-1). Ordered: human < human and
/// system < system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Done manually (H).
    Human,
    /// Done by the system under rules or templates set by humans, or automatic in some of the
    /// use case's scenarios (HS).
    HumanSystem,
    /// Done by the system with rules it sets or learns itself, in all scenarios (S).
    System,
}

impl Capability {
    /// The code used in Table 7-2: `H`, `HS` or `S`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Human => "H",
            Self::HumanSystem => "HS",
            Self::System => "S",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One of the five dimensions whose capability is rated (Y.3173 §7.1), in the column order of
/// Table 7-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Executing the configuration a decision produced (in Y.3172 terms, the SINK).
    ActionImplementation,
    /// Gathering the network data the analysis needs (the SRC and collector).
    DataCollection,
    /// Perceiving the current context and predicting trends, pre-processing included (M).
    Analysis,
    /// Deciding network or service configuration from the analysis (P).
    Decision,
    /// Turning operator requirements into instructions the network can execute (the ML intent
    /// given to the MLFO).
    DemandMapping,
}

impl Dimension {
    /// All five, in Table 7-2's column order.
    pub const ALL: [Dimension; 5] = [
        Self::ActionImplementation,
        Self::DataCollection,
        Self::Analysis,
        Self::Decision,
        Self::DemandMapping,
    ];

    /// Human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ActionImplementation => "action implementation",
            Self::DataCollection => "data collection",
            Self::Analysis => "analysis",
            Self::Decision => "decision",
            Self::DemandMapping => "demand mapping",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A network intelligence level, L0 to L5 (Y.3173 Table 7-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum IntelligenceLevel {
    /// Manual network operation.
    L0,
    /// Assisted network operation.
    L1,
    /// Preliminary intelligence.
    L2,
    /// Intermediate intelligence.
    L3,
    /// Advanced intelligence.
    L4,
    /// Full intelligence.
    L5,
}

use Capability::{Human as H, HumanSystem as HS, System as S};

/// Y.3173 Table 7-2: for each level (rows L0..L5) the capability of each dimension (columns in
/// [`Dimension::ALL`] order: action implementation, data collection, analysis, decision, demand
/// mapping).
pub const TABLE_7_2: [[Capability; 5]; 6] = [
    [H, H, H, H, H],
    [HS, HS, H, H, H],
    [S, HS, HS, H, H],
    [S, S, HS, HS, H],
    [S, S, S, S, HS],
    [S, S, S, S, S],
];

impl IntelligenceLevel {
    /// All levels, lowest first.
    pub const ALL: [IntelligenceLevel; 6] =
        [Self::L0, Self::L1, Self::L2, Self::L3, Self::L4, Self::L5];

    /// The level's number, 0 to 5.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The level's name in Table 7-2.
    pub fn name(self) -> &'static str {
        match self {
            Self::L0 => "Manual network operation",
            Self::L1 => "Assisted network operation",
            Self::L2 => "Preliminary intelligence",
            Self::L3 => "Intermediate intelligence",
            Self::L4 => "Advanced intelligence",
            Self::L5 => "Full intelligence",
        }
    }

    /// The capability Table 7-2 gives this level for `dimension`.
    pub fn requirement(self, dimension: Dimension) -> Capability {
        TABLE_7_2[self as usize][dimension as usize]
    }

    /// The level of one dimension: the highest level whose Table 7-2 entry for `dimension`
    /// equals `capability` (Y.3173 §7.2, step 2).
    pub fn of_dimension(dimension: Dimension, capability: Capability) -> Self {
        Self::ALL
            .into_iter()
            .rev()
            .find(|l| l.requirement(dimension) == capability)
            .unwrap_or(Self::L0)
    }
}

impl fmt::Display for IntelligenceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{} ({})", self.number(), self.name())
    }
}

/// The Step-1 rating (Y.3173 Table 7-1) of the five dimensions for one use case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Who maps operator demands to network instructions.
    pub demand_mapping: Capability,
    /// Who sets the data collection rules.
    pub data_collection: Capability,
    /// Who defines the analysis rules.
    pub analysis: Capability,
    /// Who defines the decision rules.
    pub decision: Capability,
    /// Whether actions are carried out automatically (in some scenarios: HS; in all: S).
    pub action_implementation: Capability,
}

impl Capabilities {
    /// The capability rated for `dimension`.
    pub fn get(&self, dimension: Dimension) -> Capability {
        match dimension {
            Dimension::ActionImplementation => self.action_implementation,
            Dimension::DataCollection => self.data_collection,
            Dimension::Analysis => self.analysis,
            Dimension::Decision => self.decision,
            Dimension::DemandMapping => self.demand_mapping,
        }
    }

    /// Applies Y.3173 §7.2: a level per dimension from Table 7-2, and the lowest as the overall.
    pub fn assess(&self) -> LevelAssessment {
        let per_dimension: Vec<DimensionLevel> = Dimension::ALL
            .into_iter()
            .map(|dimension| {
                let capability = self.get(dimension);
                DimensionLevel {
                    dimension,
                    capability,
                    level: IntelligenceLevel::of_dimension(dimension, capability),
                }
            })
            .collect();
        let overall = per_dimension
            .iter()
            .map(|d| d.level)
            .min()
            .unwrap_or(IntelligenceLevel::L0);
        LevelAssessment {
            capabilities: *self,
            per_dimension,
            overall,
        }
    }
}

/// One dimension's rating and the level it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionLevel {
    /// The dimension.
    pub dimension: Dimension,
    /// Its Step-1 capability.
    pub capability: Capability,
    /// Its level from Table 7-2.
    pub level: IntelligenceLevel,
}

/// The result of a Y.3173 assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelAssessment {
    /// The Step-1 ratings.
    pub capabilities: Capabilities,
    /// Level per dimension, in Table 7-2 column order.
    pub per_dimension: Vec<DimensionLevel>,
    /// The overall level: the lowest per-dimension level (§7.2).
    pub overall: IntelligenceLevel,
}

impl LevelAssessment {
    /// The dimensions that hold the overall level down (those at the minimum).
    pub fn limiting(&self) -> Vec<Dimension> {
        self.per_dimension
            .iter()
            .filter(|d| d.level == self.overall)
            .map(|d| d.dimension)
            .collect()
    }
}

impl fmt::Display for LevelAssessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "intelligence level (ITU-T Y.3173): {}", self.overall)?;
        for d in &self.per_dimension {
            writeln!(
                f,
                "  {:<22} {:<3} -> L{}",
                d.dimension.name(),
                d.capability.code(),
                d.level.number()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntelligenceLevel::*;

    #[test]
    fn appendix_ii_1_coverage_optimisation() {
        let caps = Capabilities {
            demand_mapping: H,
            data_collection: HS,
            analysis: HS,
            decision: H,
            action_implementation: S,
        };
        let a = caps.assess();
        let level = |d: Dimension| {
            a.per_dimension
                .iter()
                .find(|x| x.dimension == d)
                .unwrap()
                .level
        };
        assert_eq!(level(Dimension::DemandMapping), L3);
        assert_eq!(level(Dimension::DataCollection), L2);
        assert_eq!(level(Dimension::Analysis), L3);
        assert_eq!(level(Dimension::Decision), L2);
        assert_eq!(level(Dimension::ActionImplementation), L5);
        assert_eq!(a.overall, L2);
        assert_eq!(a.overall.to_string(), "L2 (Preliminary intelligence)");
        assert_eq!(
            a.limiting(),
            vec![Dimension::DataCollection, Dimension::Decision]
        );
        let json = serde_json::to_string(&a).unwrap();
        assert!(
            json.contains("\"overall\":\"L2\"") && json.contains("\"human_system\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<LevelAssessment>(&json).unwrap(), a);
    }

    #[test]
    fn derived_lookup_and_extremes() {
        // The per-dimension lookup derived from Table 7-2 (reference §2.4).
        let expect = [
            (Dimension::ActionImplementation, [L0, L1, L5]),
            (Dimension::DataCollection, [L0, L2, L5]),
            (Dimension::Analysis, [L1, L3, L5]),
            (Dimension::Decision, [L2, L3, L5]),
            (Dimension::DemandMapping, [L3, L4, L5]),
        ];
        for (d, levels) in expect {
            for (c, l) in [H, HS, S].into_iter().zip(levels) {
                assert_eq!(IntelligenceLevel::of_dimension(d, c), l, "{d} {c}");
            }
        }
        let all = |c| Capabilities {
            demand_mapping: c,
            data_collection: c,
            analysis: c,
            decision: c,
            action_implementation: c,
        };
        assert_eq!(all(H).assess().overall, L0);
        assert_eq!(all(S).assess().overall, L5);
        // Every row of Table 7-2, read as capabilities, gives at least its own level.
        for l in IntelligenceLevel::ALL {
            let row = TABLE_7_2[l as usize];
            let caps = Capabilities {
                action_implementation: row[0],
                data_collection: row[1],
                analysis: row[2],
                decision: row[3],
                demand_mapping: row[4],
            };
            assert!(caps.assess().overall >= l);
        }
        assert!(H < HS && HS < S);
    }
}
