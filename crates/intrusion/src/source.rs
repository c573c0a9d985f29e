//! Where a flow pipeline's records come from (Y.3172 §8.1 SRC for flows): the sandbox's
//! labelled flows, a flow table, or NetFlow / IPFIX exporters. A flow source feeds a
//! classifier (`model: classify`), which reads each record's flow features; it offers no rows
//! of KPI fields to the anomaly pipeline.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ai4ict_core::{
    leaves_working_dir, ProblemAt, SourceComponent, SourceError, SourceFactory, SourceProblem,
};
use ai4ict_netflow::{Collector, CollectorStats, DEFAULT_RECV_BUFFER};
use ai4ict_sandbox::{FlowConfig, Network, ScenarioConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{read_flows, FlowObs, IntrusionError, RowProblem};

/// The flow records of a pipeline (`source: { flows: … }` in an intent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FlowSourceConfig {
    /// Labelled flows of the simulated network (Y.3181 sandbox): normal traffic classes and
    /// attack campaigns, tied to its cells and sites.
    Sandbox(SandboxFlows),
    /// A flow table (CSV): `ai4ict sandbox flows` output, CICFlowMeter's layout, nfdump-style
    /// exports or `ai4ict collect` output; a label column, when present, is the ground truth.
    File(FlowFileSource),
    /// NetFlow v5 / v9 and IPFIX exporters sending to a UDP address (live: no ground truth).
    Netflow(NetflowSource),
}

/// The sandbox's flows: a network of `cells` over `days`, and `flows` records on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxFlows {
    /// Cells of the network.
    pub cells: u32,
    /// Days the flows spread over.
    pub days: u32,
    /// Seed of the network and its traffic.
    pub seed: u64,
    /// Flow records.
    pub flows: usize,
    /// Share of attack flows, 0 to 1.
    pub attack_share: f64,
}

impl Default for SandboxFlows {
    fn default() -> Self {
        Self {
            cells: 50,
            days: 1,
            seed: 7,
            flows: 100_000,
            attack_share: 0.2,
        }
    }
}

/// A flow table on disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowFileSource {
    /// The CSV file.
    #[schemars(with = "String")]
    pub path: PathBuf,
}

/// A NetFlow / IPFIX collector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetflowSource {
    /// The UDP address to receive on, e.g. `0.0.0.0:2055`.
    #[schemars(with = "String")]
    pub listen: SocketAddr,
    /// Stop after this many seconds; by default when the run is stopped (Ctrl-C, SIGTERM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// Flows read so far: the records, their classes when known, and what was skipped.
#[derive(Clone, Debug, Default)]
pub struct FlowBatch {
    /// The records.
    pub flows: Vec<FlowObs>,
    /// Each record's class (ground truth) when the source has one.
    pub classes: Vec<Option<String>>,
}

/// An open flow source, read batch by batch.
pub enum FlowReader {
    /// A finite set of flows (sandbox, file), handed over in time order.
    Finite {
        /// What is left to hand over.
        batch: Option<FlowBatch>,
        /// Rows skipped, with their line and column (files).
        problems: Vec<RowProblem>,
        /// Rows skipped past those listed.
        more_problems: u64,
    },
    /// A collector receiving until `until` or the stop flag.
    Live {
        /// The socket and its decoders.
        collector: Box<Collector>,
        /// When to stop.
        until: Option<Instant>,
    },
}

impl FlowSourceConfig {
    /// Opens the source. A finite source is read whole (sorted by start time: the host windows
    /// need it); a collector is bound at once, so a port already taken fails here.
    pub fn open(&self) -> Result<FlowReader, IntrusionError> {
        match self {
            Self::Sandbox(s) => {
                let records = s.records()?;
                let (flows, classes) = records
                    .iter()
                    .map(|r| Ok((FlowObs::from_sandbox(r)?, Some(r.label.name().to_string()))))
                    .collect::<Result<(Vec<_>, Vec<_>), IntrusionError>>()?;
                Ok(FlowReader::Finite {
                    batch: Some(FlowBatch { flows, classes }),
                    problems: Vec::new(),
                    more_problems: 0,
                })
            }
            Self::File(f) => {
                let file = read_flows(&f.path)?;
                let mut order: Vec<usize> = (0..file.flows.len()).collect();
                order.sort_by_key(|&i| file.flows[i].start);
                let batch = FlowBatch {
                    flows: order.iter().map(|&i| file.flows[i]).collect(),
                    classes: order.iter().map(|&i| file.classes[i].clone()).collect(),
                };
                Ok(FlowReader::Finite {
                    batch: Some(batch),
                    problems: file.problems,
                    more_problems: file.more_problems,
                })
            }
            Self::Netflow(n) => {
                let collector = Collector::bind(n.listen, DEFAULT_RECV_BUFFER)?;
                Ok(FlowReader::Live {
                    collector: Box::new(collector),
                    until: n
                        .seconds
                        .map(|s| Instant::now() + Duration::from_secs_f64(s.clamp(0.0, 1e9))),
                })
            }
        }
    }
}

impl SandboxFlows {
    /// The sandbox's flow records, in start order.
    pub fn records(&self) -> Result<Vec<ai4ict_sandbox::FlowRecord>, IntrusionError> {
        let net = Network::new(&ScenarioConfig {
            cells: self.cells,
            days: self.days,
            seed: self.seed,
            ..ScenarioConfig::default()
        })?;
        Ok(net.flows(&FlowConfig {
            flows: self.flows,
            attack_share: self.attack_share,
            seed: self.seed,
        })?)
    }
}

impl FlowReader {
    /// The next flows: all of a finite source at once, then `None`; from a collector what
    /// arrived within about a quarter of a second (possibly nothing), until `until` or `stop`.
    pub fn next_batch(&mut self, stop: &AtomicBool) -> Option<Result<FlowBatch, IntrusionError>> {
        match self {
            Self::Finite { batch, .. } => batch.take().map(Ok),
            Self::Live { collector, until } => {
                let began = Instant::now();
                if stop.load(Ordering::Relaxed) || until.is_some_and(|u| began >= u) {
                    return None;
                }
                let mut records = Vec::new();
                let mut batch = FlowBatch::default();
                while began.elapsed() < Duration::from_millis(250) && batch.flows.len() < 65_536 {
                    records.clear();
                    if let Err(e) = collector.receive(&mut records) {
                        return Some(Err(e.into()));
                    }
                    for r in &records {
                        batch.flows.push(FlowObs::from_export(r));
                        batch.classes.push(None);
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                Some(Ok(batch))
            }
        }
    }

    /// The collector's counts (records, sequence gaps, malformed datagrams, kernel drops).
    pub fn collector_stats(&self) -> Option<CollectorStats> {
        match self {
            Self::Live { collector, .. } => Some(collector.stats()),
            Self::Finite { .. } => None,
        }
    }

    /// Rows a file source skipped, listed and beyond the list.
    pub fn skipped(&self) -> (&[RowProblem], u64) {
        match self {
            Self::Finite {
                problems,
                more_problems,
                ..
            } => (problems, *more_problems),
            Self::Live { .. } => (&[], 0),
        }
    }
}

const NOT_ROWS: &str = "flow records go to a `classify` model, which reads their flow features; they are not rows of KPI fields";

impl SourceComponent for FlowSourceConfig {
    fn describe(&self) -> String {
        match self {
            Self::Sandbox(s) => format!(
                "sandbox flows: {} records ({:.0}% attacks) on {} cells over {} day(s), seed {}",
                s.flows,
                s.attack_share * 100.0,
                s.cells,
                s.days,
                s.seed
            ),
            Self::File(f) => format!("flow table {}", f.path.display()),
            Self::Netflow(n) => format!(
                "NetFlow v5/v9 and IPFIX on udp {}{}",
                n.listen,
                n.seconds.map_or(String::new(), |s| format!(" for {s} s"))
            ),
        }
    }

    fn target(&self) -> String {
        match self {
            Self::Sandbox(_) => "the sandbox's flows".into(),
            Self::File(f) => f.path.display().to_string(),
            Self::Netflow(n) => format!("udp {}", n.listen),
        }
    }

    fn is_live(&self) -> bool {
        matches!(self, Self::Netflow(_))
    }

    fn fields(&self) -> Result<Vec<String>, SourceError> {
        Err(SourceError(NOT_ROWS.into()))
    }

    fn open(&self, _fields: &[String]) -> Result<SourceFactory, SourceError> {
        Err(SourceError(NOT_ROWS.into()))
    }

    fn problems(&self, _fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let mut out = Vec::new();
        match self {
            Self::Sandbox(s) => {
                if !(0.0..=1.0).contains(&s.attack_share) {
                    out.push(SourceProblem::new(
                        ProblemAt::Key("attack_share"),
                        format!("{} is not in [0, 1]", s.attack_share),
                        None,
                    ));
                }
                if s.flows == 0 || s.flows > 50_000_000 {
                    out.push(SourceProblem::new(
                        ProblemAt::Key("flows"),
                        format!("{} flows: give 1 to 50,000,000", s.flows),
                        None,
                    ));
                }
            }
            Self::File(f) => {
                if remote && leaves_working_dir(&f.path) {
                    out.push(SourceProblem::new(
                        ProblemAt::Key("path"),
                        format!("`{}` leaves the working directory", f.path.display()),
                        Some("an intent submitted remotely may only name files below the working directory"),
                    ));
                }
            }
            Self::Netflow(n) => {
                if n.seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
                    out.push(SourceProblem::new(
                        ProblemAt::Key("seconds"),
                        "must be a number of seconds above 0",
                        None,
                    ));
                }
                if remote {
                    out.push(SourceProblem::new(
                        ProblemAt::Key("listen"),
                        "an intent submitted remotely may not open a collector port",
                        Some("run flow collectors from the command line"),
                    ));
                }
            }
        }
        out
    }
}
