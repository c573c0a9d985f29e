//! The simulated network's topology: cells grouped in sites, backhaul links, and which cells
//! cover the same ground (Y.3181 simulated NFs; the "underlay" of Y.3172 §8).

use std::collections::HashMap;

use ai4ict_core::Entity;
use serde::Serialize;

use crate::config::ScenarioConfig;
use crate::rng::{Key, Stream};

/// Where a cell is: it sets site spacing, capacity, number of users and latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Dense city centre, sites about 0.5 km apart.
    Urban,
    /// Suburbs, sites about 1.5 km apart.
    Suburban,
    /// Countryside, sites about 5 km apart.
    Rural,
}

impl Area {
    const ALL: [Area; 3] = [Area::Urban, Area::Suburban, Area::Rural];

    /// Typical distance between neighbouring macro sites, km.
    fn site_spacing_km(self) -> f64 {
        match self {
            Self::Urban => 0.5,
            Self::Suburban => 1.5,
            Self::Rural => 5.0,
        }
    }
}

/// Who uses a cell, which sets its daily and weekly traffic shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Offices: busy on weekday working hours, quiet at night, on weekends and holidays.
    Business,
    /// Homes: busiest in the evening and on weekends and holidays.
    Residential,
    /// Stations and interchanges: morning and evening commute peaks on weekdays.
    TransportHub,
    /// A blend of business and residential use.
    Mixed,
}

/// Macro sector or small cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// A sector of a macro site (directional antenna, high power).
    Macro,
    /// A small cell (omnidirectional, low power, capacity layer under the macros).
    Small,
}

/// Another cell that covers part of the same ground.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Neighbour {
    /// Index of the overlapping cell.
    pub cell: usize,
    /// Fraction (0..1) of *this* cell's coverage area that the other cell also covers: the
    /// share of this cell's demand it could take over (energy saving, load balancing).
    pub overlap: f64,
}

/// One cell (a macro sector or a small cell) of the simulated radio access network.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// Position of the cell in `Network::cells()`.
    pub index: usize,
    /// The entity name used in telemetry, e.g. `cell-0042`.
    pub name: Entity,
    /// Index of the site the cell belongs to.
    pub site: usize,
    /// Macro sector or small cell.
    pub kind: CellKind,
    /// Urban, suburban or rural.
    pub area: Area,
    /// Traffic profile.
    pub profile: Profile,
    /// Antenna bearing in degrees (0 = north); `None` for omnidirectional small cells.
    pub azimuth_deg: Option<f64>,
    /// Coverage radius, km.
    pub radius_km: f64,
    /// Downlink capacity with every PRB in use, Mbit/s.
    pub capacity_dl_mbps: f64,
    /// Uplink capacity with every PRB in use, Mbit/s.
    pub capacity_ul_mbps: f64,
    /// Typical busy-hour number of active users.
    pub busy_hour_users: f64,
    /// Cells covering part of the same ground, largest overlap first.
    pub neighbours: Vec<Neighbour>,
}

/// A site: one location with its cells and one backhaul link.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    /// Position of the site in `Network::sites()`.
    pub index: usize,
    /// Name, e.g. `site-0007`.
    pub name: String,
    /// Urban, suburban or rural.
    pub area: Area,
    /// East coordinate, km from the centre of the simulated region.
    pub x_km: f64,
    /// North coordinate, km from the centre of the simulated region.
    pub y_km: f64,
    /// Indices of the cells on this site.
    pub cells: Vec<usize>,
    /// Index of the site's backhaul link in `Network::links()`.
    pub link: usize,
}

/// The backhaul (transport) link of a site.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    /// Position of the link in `Network::links()`.
    pub index: usize,
    /// Name, e.g. `link-0007`.
    pub name: String,
    /// Index of the site it serves.
    pub site: usize,
    /// Capacity, Mbit/s.
    pub capacity_mbps: f64,
}

/// Per-cell parameters of the traffic and KPI model (not part of the published topology).
#[derive(Clone, Debug)]
pub(crate) struct CellModel {
    /// Busy-hour offered DL load as a fraction of DL capacity.
    pub busy_load: f64,
    /// UL/DL traffic ratio.
    pub ul_ratio: f64,
    /// Latency at zero load, ms.
    pub base_latency: f64,
    /// RRC setup success at low load.
    pub rrc_base: f64,
    /// Drop rate at low load.
    pub drop_base: f64,
    /// Power at zero load, W.
    pub power_idle: f64,
    /// Extra power at full load, W.
    pub power_load: f64,
    /// Relative traffic growth per year.
    pub growth: f64,
    /// Shift of the daily profile, hours.
    pub phase_h: f64,
}

pub(crate) struct Topology {
    pub cells: Vec<Cell>,
    pub models: Vec<CellModel>,
    pub sites: Vec<Site>,
    pub links: Vec<Link>,
}

struct SitePlan {
    area: Area,
    small: bool,
    sectors: usize,
}

pub(crate) fn build(config: &ScenarioConfig) -> Topology {
    let n = config.cells as usize;
    let key = Key::new(config.seed, Stream::Topology);
    let mix = config.scenario.area_mix();

    // Pass 1: what each site is.
    let mut plans = Vec::new();
    let mut placed = 0;
    while placed < n {
        let k = key.at(plans.len() as u64);
        let area = Area::ALL[k.pick(0, &mix)];
        let small_share = match area {
            Area::Urban => 0.25,
            Area::Suburban => 0.08,
            Area::Rural => 0.0,
        };
        let small = k.uniform(1) < small_share;
        let sectors = if small {
            1
        } else {
            match area {
                Area::Rural => [3, 3, 2, 1][k.below(2, 4) as usize],
                _ => [3, 3, 3, 3, 2][k.below(2, 5) as usize],
            }
        };
        let sectors = sectors.min(n - placed);
        placed += sectors;
        plans.push(SitePlan {
            area,
            small,
            sectors,
        });
    }

    // Pass 2: geometry. Urban sites fill a disc, suburban and rural ones rings around it,
    // each at its area's site density (a hexagonal grid's area per site).
    let count = |a: Area| plans.iter().filter(|p| p.area == a && !p.small).count() as f64;
    let per_site = |a: Area| 0.866 * a.site_spacing_km().powi(2);
    let r_urban = (count(Area::Urban) * per_site(Area::Urban) / std::f64::consts::PI).sqrt();
    let r_sub = (r_urban.powi(2)
        + count(Area::Suburban) * per_site(Area::Suburban) / std::f64::consts::PI)
        .sqrt();
    let r_rural =
        (r_sub.powi(2) + count(Area::Rural) * per_site(Area::Rural) / std::f64::consts::PI).sqrt();
    let ring = |a: Area| match a {
        Area::Urban => (0.0, r_urban.max(0.3)),
        Area::Suburban => (r_urban, r_sub.max(r_urban + 1.0)),
        Area::Rural => (r_sub, r_rural.max(r_sub + 3.0)),
    };

    let mut cells = Vec::with_capacity(n);
    let mut models = Vec::with_capacity(n);
    let mut sites = Vec::with_capacity(plans.len());
    let mut links = Vec::with_capacity(plans.len());
    let width = digits(n.saturating_sub(1)).max(4);
    let site_width = digits(plans.len().saturating_sub(1)).max(4);
    for (s, plan) in plans.iter().enumerate() {
        let k = key.at(s as u64);
        let (r0, r1) = ring(plan.area);
        // Uniform over the ring's area.
        let r = (r0 * r0 + (r1 * r1 - r0 * r0) * k.uniform(3)).sqrt();
        let theta = std::f64::consts::TAU * k.uniform(4);
        let (x, y) = (r * theta.cos(), r * theta.sin());
        let first_azimuth = k.range(5, 0.0, 120.0);
        let mut site_cells = Vec::with_capacity(plan.sectors);
        let mut site_capacity = 0.0;
        for sector in 0..plan.sectors {
            let index = cells.len();
            let ck = Key::new(config.seed, Stream::Cell).at(index as u64);
            let profile = pick_profile(plan.area, ck.uniform(0));
            let (kind, azimuth, radius) = if plan.small {
                (CellKind::Small, None, 0.12)
            } else {
                let az = (first_azimuth + 120.0 * sector as f64) % 360.0;
                (
                    CellKind::Macro,
                    Some(az),
                    plan.area.site_spacing_km() * 0.67,
                )
            };
            let (cap, users, latency) = match (kind, plan.area) {
                (CellKind::Small, _) => (
                    ck.range(1, 80.0, 150.0),
                    ck.range(2, 10.0, 30.0),
                    ck.range(3, 8.0, 12.0),
                ),
                (_, Area::Urban) => (
                    ck.range(1, 150.0, 300.0),
                    ck.range(2, 40.0, 90.0),
                    ck.range(3, 10.0, 14.0),
                ),
                (_, Area::Suburban) => (
                    ck.range(1, 100.0, 200.0),
                    ck.range(2, 25.0, 60.0),
                    ck.range(3, 12.0, 18.0),
                ),
                (_, Area::Rural) => (
                    ck.range(1, 50.0, 120.0),
                    ck.range(2, 8.0, 30.0),
                    ck.range(3, 18.0, 30.0),
                ),
            };
            let users = if profile == Profile::TransportHub {
                users * 1.3
            } else {
                users
            };
            let (power_idle, power_load) = match kind {
                CellKind::Macro => (ck.range(4, 120.0, 150.0), ck.range(5, 150.0, 220.0)),
                CellKind::Small => (ck.range(4, 8.0, 12.0), ck.range(5, 8.0, 15.0)),
            };
            site_capacity += cap;
            cells.push(Cell {
                index,
                name: Entity::new(format!("cell-{index:0width$}")),
                site: s,
                kind,
                area: plan.area,
                profile,
                azimuth_deg: azimuth,
                radius_km: radius,
                capacity_dl_mbps: round(cap, 1),
                capacity_ul_mbps: round(cap * 0.3, 1),
                busy_hour_users: round(users, 1),
                neighbours: Vec::new(),
            });
            models.push(CellModel {
                busy_load: ck.range(6, 0.35, 0.65),
                ul_ratio: ck.range(7, 0.10, 0.18),
                base_latency: latency,
                rrc_base: ck.range(8, 0.990, 0.998),
                drop_base: ck.range(9, 0.002, 0.008),
                power_idle,
                power_load,
                growth: ck.range(10, -0.05, 0.25),
                phase_h: 0.5 * ck.normal(6),
            });
            site_cells.push(index);
        }
        let capacity = (site_capacity * k.range(6, 1.1, 2.0) / 100.0).ceil() * 100.0;
        links.push(Link {
            index: s,
            name: format!("link-{s:0site_width$}"),
            site: s,
            capacity_mbps: capacity,
        });
        sites.push(Site {
            index: s,
            name: format!("site-{s:0site_width$}"),
            area: plan.area,
            x_km: round(x, 3),
            y_km: round(y, 3),
            cells: site_cells,
            link: s,
        });
    }
    add_neighbours(&mut cells, &sites);
    Topology {
        cells,
        models,
        sites,
        links,
    }
}

fn pick_profile(area: Area, u: f64) -> Profile {
    // Cumulative shares of business, residential, transport hub (the rest is mixed).
    let (b, r, t) = match area {
        Area::Urban => (0.40, 0.70, 0.80),
        Area::Suburban => (0.15, 0.75, 0.80),
        Area::Rural => (0.0, 0.50, 0.55),
    };
    if u < b {
        Profile::Business
    } else if u < r {
        Profile::Residential
    } else if u < t {
        Profile::TransportHub
    } else {
        Profile::Mixed
    }
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

pub(crate) fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// The disc a cell mostly covers: a sector's lobe sits half a radius out along its bearing.
fn footprint(cell: &Cell, site: &Site) -> (f64, f64, f64) {
    match cell.azimuth_deg {
        Some(az) => {
            let a = az.to_radians();
            let off = cell.radius_km * 0.5;
            (
                site.x_km + off * a.sin(),
                site.y_km + off * a.cos(),
                cell.radius_km * 0.6,
            )
        }
        None => (site.x_km, site.y_km, cell.radius_km),
    }
}

/// Area of the intersection of two discs at distance `d`.
fn lens_area(d: f64, r1: f64, r2: f64) -> f64 {
    if d >= r1 + r2 {
        return 0.0;
    }
    if d <= (r1 - r2).abs() {
        return std::f64::consts::PI * r1.min(r2).powi(2);
    }
    let a1 = ((d * d + r1 * r1 - r2 * r2) / (2.0 * d * r1))
        .clamp(-1.0, 1.0)
        .acos();
    let a2 = ((d * d + r2 * r2 - r1 * r1) / (2.0 * d * r2))
        .clamp(-1.0, 1.0)
        .acos();
    let k = ((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
        .max(0.0)
        .sqrt();
    r1 * r1 * a1 + r2 * r2 * a2 - 0.5 * k
}

const MAX_NEIGHBOURS: usize = 12;

fn add_neighbours(cells: &mut [Cell], sites: &[Site]) {
    let discs: Vec<(f64, f64, f64)> = cells.iter().map(|c| footprint(c, &sites[c.site])).collect();
    let r_max = discs.iter().map(|d| d.2).fold(0.0, f64::max);
    let grid = 1.0;
    let bucket = |x: f64, y: f64| ((x / grid).floor() as i64, (y / grid).floor() as i64);
    let mut buckets: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, d) in discs.iter().enumerate() {
        buckets.entry(bucket(d.0, d.1)).or_default().push(i);
    }
    for (i, cell) in cells.iter_mut().enumerate() {
        let (x, y, r) = discs[i];
        let reach = ((r + r_max) / grid).ceil() as i64;
        let (bx, by) = bucket(x, y);
        let own = std::f64::consts::PI * r * r;
        let mut found = Vec::new();
        for gx in bx - reach..=bx + reach {
            for gy in by - reach..=by + reach {
                for &j in buckets.get(&(gx, gy)).into_iter().flatten() {
                    if j == i {
                        continue;
                    }
                    let (xj, yj, rj) = discs[j];
                    let overlap = lens_area((x - xj).hypot(y - yj), r, rj) / own;
                    if overlap >= 0.02 {
                        found.push(Neighbour {
                            cell: j,
                            overlap: round(overlap.min(0.95), 3),
                        });
                    }
                }
            }
        }
        found.sort_by(|a, b| b.overlap.total_cmp(&a.overlap).then(a.cell.cmp(&b.cell)));
        found.truncate(MAX_NEIGHBOURS);
        cell.neighbours = found;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_is_consistent() {
        let config = ScenarioConfig {
            cells: 300,
            ..ScenarioConfig::default()
        };
        let t = build(&config);
        assert_eq!(t.cells.len(), 300);
        assert_eq!(t.sites.len(), t.links.len());
        assert_eq!(t.sites.iter().map(|s| s.cells.len()).sum::<usize>(), 300);
        for (i, c) in t.cells.iter().enumerate() {
            assert_eq!(c.index, i);
            assert!(t.sites[c.site].cells.contains(&i));
            assert!(c
                .neighbours
                .iter()
                .all(|n| n.cell != i && n.overlap > 0.0 && n.overlap <= 0.95));
        }
        assert!(t.cells.iter().any(|c| c.kind == CellKind::Small));
        let with_neighbours = t.cells.iter().filter(|c| !c.neighbours.is_empty()).count();
        assert!(with_neighbours > 250, "{with_neighbours}");
        // Small cells sit under a macro's umbrella.
        let small_covered = t
            .cells
            .iter()
            .filter(|c| c.kind == CellKind::Small)
            .filter(|c| c.neighbours.iter().any(|n| n.overlap > 0.5))
            .count();
        assert!(small_covered > 0);
    }

    #[test]
    fn lens_area_limits() {
        let pi = std::f64::consts::PI;
        assert_eq!(lens_area(3.0, 1.0, 1.0), 0.0);
        assert!((lens_area(0.0, 1.0, 2.0) - pi).abs() < 1e-12);
        let half = lens_area(1e-9, 1.0, 1.0);
        assert!((half - pi).abs() < 1e-6);
    }
}
