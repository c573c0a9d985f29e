use std::path::PathBuf;

use crate::EngineError;

/// Where the pipeline's workers run: threads in this process, and optionally several
/// processes on one or more hosts (timely's cluster mode; every process runs the same
/// command with its own `process` index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// Worker threads per process.
    pub workers: usize,
    /// Number of processes.
    pub processes: usize,
    /// This process's index, `0..processes`.
    pub process: usize,
    /// File with one `host:port` per line, one line per process. Without it, processes
    /// listen on 127.0.0.1 from `base_port` up.
    pub hostfile: Option<PathBuf>,
    /// First port used without a hostfile.
    pub base_port: u16,
}

impl Default for Cluster {
    fn default() -> Self {
        Self {
            workers: 1,
            processes: 1,
            process: 0,
            hostfile: None,
            base_port: 2101,
        }
    }
}

impl Cluster {
    /// The timely configuration for this cluster.
    pub fn timely_config(&self) -> Result<timely::Config, EngineError> {
        if self.workers == 0 || self.processes == 0 {
            return Err(EngineError::Cluster(
                "workers and processes must be at least 1".into(),
            ));
        }
        if self.process >= self.processes {
            return Err(EngineError::Cluster(format!(
                "process index {} is not below the number of processes {}",
                self.process, self.processes
            )));
        }
        let communication = if self.processes > 1 {
            let addresses = match &self.hostfile {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| EngineError::Cluster(format!("{}: {e}", path.display())))?;
                    let hosts: Vec<String> = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_string)
                        .collect();
                    if hosts.len() < self.processes {
                        return Err(EngineError::Cluster(format!(
                            "{}: {} hosts listed, {} processes requested",
                            path.display(),
                            hosts.len(),
                            self.processes
                        )));
                    }
                    hosts[..self.processes].to_vec()
                }
                None => (0..self.processes)
                    .map(|i| format!("127.0.0.1:{}", usize::from(self.base_port) + i))
                    .collect(),
            };
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses,
                report: false,
                zerocopy: false,
            }
        } else if self.workers > 1 {
            timely::CommunicationConfig::Process(self.workers)
        } else {
            timely::CommunicationConfig::Thread
        };
        Ok(timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        })
    }
}

/// The first worker of every process (the ones that gather a run's results), among `peers`
/// workers run `per_process` to a process.
pub(crate) fn leaders(peers: usize, per_process: usize) -> Vec<u32> {
    (0..peers)
        .step_by(per_process.max(1))
        .map(|w| w as u32)
        .collect()
}
