//! Host-level detection of labelled attacks: the sandbox's campaigns or a labelled file.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ai4ict_sandbox::FlowRecord;

use crate::{BehaviourConfig, FlowObs, HostWatch, IntrusionError, WindowConfig};

/// Whether a label names normal traffic (no label, `benign`, `normal`, `background`, `0`).
pub fn is_normal(label: Option<&str>) -> bool {
    label.is_none_or(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.is_empty() || l == "benign" || l == "normal" || l == "background" || l == "0"
    })
}

/// The flows of sandbox records, with their classes as labels.
pub fn sandbox_flows(
    records: &[FlowRecord],
) -> Result<(Vec<FlowObs>, Vec<Option<String>>), IntrusionError> {
    let flows = records
        .iter()
        .map(FlowObs::from_sandbox)
        .collect::<Result<Vec<_>, _>>()?;
    let labels = records
        .iter()
        .map(|r| r.label.is_attack().then(|| r.label.name().to_string()))
        .collect();
    Ok((flows, labels))
}

/// How well one attack class's actors were found.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDetection {
    /// The attack's label.
    pub class: String,
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

/// Runs [`HostWatch`] over `flows` (in start order) and scores its alerts against `labels`
/// (one per flow; see [`is_normal`]). An attack's actor is its flows' initiator, except for
/// floods and denial of service (a label with `flood` or `dos`), whose sources are spoofed:
/// there it is the responder.
pub fn evaluate(
    flows: &[FlowObs],
    labels: &[Option<String>],
    window: WindowConfig,
    behaviour: BehaviourConfig,
) -> Result<Evaluation, IntrusionError> {
    let span = window.hop_ms * window.hops as i64;
    let mut watch = HostWatch::new(window, behaviour)?;
    // Ground truth: each host's attack time span, and each actor's class and first flow.
    let mut involved: HashMap<IpAddr, (i64, i64)> = HashMap::new();
    let mut actors: BTreeMap<(String, IpAddr), (i64, Option<i64>)> = BTreeMap::new();
    let mut hosts: HashMap<IpAddr, bool> = HashMap::new();
    for (o, label) in flows.iter().zip(labels) {
        let t = o.start.0;
        let attack = !is_normal(label.as_deref());
        for ip in [o.src, o.dst] {
            *hosts.entry(ip).or_insert(false) |= attack;
            if attack {
                let e = involved.entry(ip).or_insert((t, t));
                *e = (e.0.min(t), e.1.max(t));
            }
        }
        if let (true, Some(class)) = (attack, label) {
            let l = class.to_ascii_lowercase();
            let actor = if l.contains("flood") || l.contains("dos") {
                o.dst
            } else {
                o.src
            };
            actors.entry((class.clone(), actor)).or_insert((t, None));
        }
    }
    let (mut alerts, mut true_alerts, mut peak_state_bytes, mut peak_hosts) = (0, 0, 0, 0);
    let mut normal_alerted: HashMap<IpAddr, ()> = HashMap::new();
    let mut out = Vec::new();
    let mut judge = |out: &mut Vec<crate::HostAlert>| {
        for a in out.drain(..) {
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
    for o in flows {
        if watch.push(o, &mut out) {
            peak_state_bytes = peak_state_bytes.max(watch.windows().state_bytes());
            peak_hosts = peak_hosts.max(watch.windows().hosts());
            judge(&mut out);
        }
    }
    watch.finish(&mut out);
    judge(&mut out);
    let mut classes: Vec<ClassDetection> = Vec::new();
    for ((class, _), (_, found)) in &actors {
        if classes.last().map(|c| &c.class) != Some(class) {
            classes.push(ClassDetection {
                class: class.clone(),
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
        windows: watch.windows().stats().windows,
        alerts,
        true_alerts,
        normal_hosts_alerted: normal_alerted.len(),
        normal_hosts: hosts.values().filter(|a| !**a).count(),
        classes,
        peak_state_bytes,
        peak_hosts,
    })
}
