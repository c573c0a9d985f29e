//! Host-level detection of the sandbox's attack campaigns, against its ground truth.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ai4ict_core::Interval;
use ai4ict_sandbox::{FlowClass, FlowRecord};

use crate::{Behaviour, BehaviourConfig, FlowObs, HostWindows, IntrusionError, WindowConfig};

/// How well one attack class's actors were found.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDetection {
    /// The attack.
    pub class: FlowClass,
    /// Its actors: the attacker (scans, brute force), the victim (SYN flood: its sources are
    /// spoofed) or the compromised UE (exfiltration, beaconing).
    pub actors: usize,
    /// Actors alerted on while the attack ran or within a window after it.
    pub detected: usize,
    /// From an actor's first attack flow to its first alert, ms, per detected actor.
    pub delays_ms: Vec<i64>,
}

/// Detection of the attacks of a flow stream by [`Behaviour`], which never sees a label.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Flows read.
    pub flows: usize,
    /// Host windows scored.
    pub windows: u64,
    /// Alerts raised.
    pub alerts: usize,
    /// Alerts on a host taking part in an attack (either side) while it ran.
    pub true_alerts: usize,
    /// Hosts never in an attack that alerted, and all such hosts.
    pub normal_hosts_alerted: usize,
    /// Hosts never in an attack.
    pub normal_hosts: usize,
    /// Per attack class.
    pub classes: Vec<ClassDetection>,
    /// Largest state of the windows, bytes.
    pub peak_state_bytes: usize,
    /// Most hosts followed at once.
    pub peak_hosts: usize,
}

impl Evaluation {
    /// Share of alerts that were on attacks.
    pub fn precision(&self) -> f64 {
        if self.alerts == 0 {
            1.0
        } else {
            self.true_alerts as f64 / self.alerts as f64
        }
    }

    /// Share of all actors, of every class, that alerted.
    pub fn recall(&self) -> f64 {
        let actors: usize = self.classes.iter().map(|c| c.actors).sum();
        let found: usize = self.classes.iter().map(|c| c.detected).sum();
        if actors == 0 {
            1.0
        } else {
            found as f64 / actors as f64
        }
    }
}

/// Runs the windows and the behaviour detector over `flows` (in start order) and scores the
/// alerts against their labels.
pub fn evaluate(
    flows: &[FlowRecord],
    window: WindowConfig,
    behaviour: BehaviourConfig,
) -> Result<Evaluation, IntrusionError> {
    let span = window.hop_ms * window.hops as i64;
    let mut windows = HostWindows::new(window.clone())?;
    let mut detector = Behaviour::new(behaviour, Interval::from_millis(window.hop_ms))?;
    // Ground truth: each host's attack time span, and each actor's class and first flow.
    let mut involved: HashMap<IpAddr, (i64, i64)> = HashMap::new();
    let mut actors: BTreeMap<(FlowClass, IpAddr), (i64, Option<i64>)> = BTreeMap::new();
    let mut hosts: HashMap<IpAddr, bool> = HashMap::new();
    let mut obs = Vec::with_capacity(flows.len());
    for f in flows {
        let o = FlowObs::from_sandbox(f)?;
        let t = o.start.0;
        for ip in [o.src, o.dst] {
            let attacked = hosts.entry(ip).or_insert(false);
            *attacked |= f.label.is_attack();
            if f.label.is_attack() {
                let e = involved.entry(ip).or_insert((t, t));
                *e = (e.0.min(t), e.1.max(t));
            }
        }
        if f.label.is_attack() {
            let actor = match f.label {
                FlowClass::SynFlood => o.dst,
                _ => o.src,
            };
            actors.entry((f.label, actor)).or_insert((t, None));
        }
        obs.push(o);
    }
    let (mut alerts, mut true_alerts, mut peak_state_bytes, mut peak_hosts) = (0, 0, 0, 0);
    let mut normal_alerted: HashMap<IpAddr, ()> = HashMap::new();
    let mut out = Vec::new();
    let mut judge = |out: &mut Vec<crate::HostWindow>, detector: &mut Behaviour| {
        for w in out.drain(..) {
            let Some(a) = detector.score(&w) else {
                continue;
            };
            alerts += 1;
            let t = a.time.0;
            match involved.get(&a.host) {
                Some(&(first, last)) if t > first && t <= last + span => {
                    true_alerts += 1;
                    for ((_, ip), (start, found)) in actors.iter_mut() {
                        if *ip == a.host && found.is_none() && t > *start {
                            *found = Some(t - *start);
                        }
                    }
                }
                Some(_) => {}
                None => {
                    normal_alerted.insert(a.host, ());
                }
            }
        }
    };
    for o in &obs {
        windows.push(o, &mut out);
        if !out.is_empty() {
            peak_state_bytes = peak_state_bytes.max(windows.state_bytes());
            peak_hosts = peak_hosts.max(windows.hosts());
            judge(&mut out, &mut detector);
        }
    }
    windows.finish(&mut out);
    judge(&mut out, &mut detector);
    let mut classes: Vec<ClassDetection> = Vec::new();
    for ((class, _), (_, found)) in &actors {
        if classes.last().map(|c| c.class) != Some(*class) {
            classes.push(ClassDetection {
                class: *class,
                actors: 0,
                detected: 0,
                delays_ms: Vec::new(),
            });
        }
        if let Some(c) = classes.last_mut() {
            c.actors += 1;
            if let Some(d) = found {
                c.detected += 1;
                c.delays_ms.push(*d);
            }
        }
    }
    Ok(Evaluation {
        flows: flows.len(),
        windows: windows.stats().windows,
        alerts,
        true_alerts,
        normal_hosts_alerted: normal_alerted.len(),
        normal_hosts: hosts.values().filter(|a| !**a).count(),
        classes,
        peak_state_bytes,
        peak_hosts,
    })
}
