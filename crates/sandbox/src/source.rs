//! The sandbox network as a pipeline's source (Y.3172 §8.1 SRC over the Y.3181 simulated
//! underlay).

use std::sync::Arc;

use ai4ict_core::{
    Batch, ProblemAt, Source, SourceComponent, SourceError, SourceFactory, SourceProblem,
};

use crate::{Network, SandboxError, ScenarioConfig, KPIS};

/// One worker's share of the sandbox network: the cells it owns, one batch per interval, so
/// no row crosses a worker or process boundary twice.
pub struct SandboxSource {
    net: Arc<Network>,
    cells: Vec<usize>,
    fields: Vec<usize>,
    step: usize,
}

impl SandboxSource {
    /// The share of worker `index` of `peers`, reading the KPIs at positions `fields` of
    /// [`KPIS`].
    pub fn new(net: Arc<Network>, fields: Vec<usize>, index: usize, peers: usize) -> Self {
        let cells = (0..net.cells().len())
            .filter(|&c| net.entity(c).is_some_and(|e| e.owner(peers) == index))
            .collect();
        Self {
            net,
            cells,
            fields,
            step: 0,
        }
    }

    /// A factory giving every worker its share of `net`.
    pub fn factory(net: Arc<Network>, fields: Vec<usize>) -> SourceFactory {
        Arc::new(move |index, peers| {
            Ok(Box::new(SandboxSource::new(
                Arc::clone(&net),
                fields.clone(),
                index,
                peers,
            )) as Box<dyn Source>)
        })
    }
}

impl Source for SandboxSource {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        if self.step >= self.net.steps() {
            return None;
        }
        let b = self
            .net
            .batch(self.step, self.cells.iter().copied(), &self.fields);
        self.step += 1;
        Some(Ok(b))
    }
}

impl SourceComponent for ScenarioConfig {
    fn describe(&self) -> String {
        format!(
            "sandbox: {} network, {} cells, {} days, seed {}",
            self.scenario.as_str(),
            self.cells,
            self.days,
            self.seed
        )
    }

    fn target(&self) -> String {
        "the sandbox network".into()
    }

    fn fields(&self) -> Result<Vec<String>, SourceError> {
        Ok(KPIS.iter().map(|s| s.to_string()).collect())
    }

    /// Generates the network once; every worker reads its own cells of it. A field that is
    /// not a sandbox KPI is an error naming it.
    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError> {
        let idx = fields
            .iter()
            .map(|f| {
                KPIS.iter().position(|k| k == f).ok_or_else(|| {
                    SourceError(format!(
                        "the sandbox has no KPI `{f}` (it has {})",
                        KPIS.join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let net = Network::new(self).map_err(|e| SourceError(e.to_string()))?;
        Ok(SandboxSource::factory(Arc::new(net), idx))
    }

    /// A field out of range, and collected fields the sandbox does not simulate.
    fn problems(&self, fields: &[String], _remote: bool) -> Vec<SourceProblem> {
        let mut out = Vec::new();
        if let Err(SandboxError::InvalidConfig { field, message }) = self.validate() {
            out.push(SourceProblem::new(ProblemAt::Key(field), message, None));
        }
        let hint = format!("choose from {}", KPIS.join(", "));
        for f in fields.iter().filter(|f| !KPIS.contains(&f.as_str())) {
            out.push(SourceProblem::new(
                ProblemAt::CollectFields,
                format!("the sandbox has no KPI `{f}`"),
                Some(&hint),
            ));
        }
        out
    }
}
