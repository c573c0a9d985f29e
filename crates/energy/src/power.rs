//! The EARTH base-station power model.
//!
//! Source: G. Auer, V. Giannini, C. Desset, I. Gódor, P. Skillermark, M. Olsson, M. A. Imran,
//! D. Sabella, M. J. Gonzalez, O. Blume, A. Fehske, "How much energy is needed to run a
//! wireless network?", IEEE Wireless Communications 18(5), pp. 40–49, October 2011
//! (EU FP7 project EARTH), equation (1) and Table 2:
//!
//! ```text
//! P_in = N_TRX · (P0 + Δp · P_out)   for 0 < P_out ≤ P_max
//! P_in = N_TRX · P_sleep             for P_out = 0 (sleep mode)
//! ```
//!
//! | type  | N_TRX | P_max [W] | P0 [W] | Δp  | P_sleep [W] |
//! |-------|-------|-----------|--------|-----|-------------|
//! | macro | 6     | 20.0      | 130.0  | 4.7 | 75.0        |
//! | RRH   | 6     | 20.0      | 84.0   | 2.8 | 56.0        |
//! | micro | 2     | 6.3       | 56.0   | 2.6 | 39.0        |
//! | pico  | 2     | 0.13      | 6.8    | 4.0 | 4.3         |
//! | femto | 2     | 0.05      | 4.8    | 8.0 | 2.9         |
//!
//! The macro row is a three-sector site with two antennas per sector; we apply it per sector
//! and per carrier (N_TRX = 2 each: one 10 MHz carrier, 2×2 MIMO, as in the paper's reference
//! configuration), so a sector with two carriers has 4 TRX chains. The RF output power is taken
//! proportional to the load, `P_out = load · P_max` (the paper's linear load dependence).

pub use ai4ict_policy::BsClass;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of one radio unit (a carrier of a sector, or a small cell) in the EARTH model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerModel {
    /// Transceiver chains (antennas) of the unit.
    pub n_trx: f64,
    /// Maximum RF output power per chain at full load, W.
    pub p_max_w: f64,
    /// Power consumption per chain at the minimum non-zero output (idle but on), W.
    pub p0_w: f64,
    /// Slope of the load-dependent consumption (dimensionless).
    pub delta_p: f64,
    /// Power consumption per chain in sleep mode, W.
    pub p_sleep_w: f64,
}

impl PowerModel {
    /// The parameters of Table 2 of Auer et al. (2011) for a class, per unit of 2 TRX chains.
    pub fn earth(class: BsClass) -> Self {
        let (p_max_w, p0_w, delta_p, p_sleep_w) = match class {
            BsClass::Macro => (20.0, 130.0, 4.7, 75.0),
            BsClass::Rrh => (20.0, 84.0, 2.8, 56.0),
            BsClass::Micro => (6.3, 56.0, 2.6, 39.0),
            BsClass::Pico => (0.13, 6.8, 4.0, 4.3),
            BsClass::Femto => (0.05, 4.8, 8.0, 2.9),
        };
        Self {
            n_trx: 2.0,
            p_max_w,
            p0_w,
            delta_p,
            p_sleep_w,
        }
    }

    /// Input power, W, of an active unit at `load` (fraction of capacity, clamped to [0, 1]).
    pub fn active_w(&self, load: f64) -> f64 {
        let load = if load.is_finite() {
            load.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.n_trx * (self.p0_w + self.delta_p * load * self.p_max_w)
    }

    /// Input power, W, of a sleeping unit.
    pub fn sleep_w(&self) -> f64 {
        self.n_trx * self.p_sleep_w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earth_table_values() {
        let m = PowerModel::earth(BsClass::Macro);
        // Full load: 2 · (130 + 4.7 · 20) = 448 W per sector-carrier (1344 W for 6 TRX, the
        // paper's macro site at full load).
        assert!((m.active_w(1.0) - 448.0).abs() < 1e-9);
        assert!((m.active_w(0.0) - 260.0).abs() < 1e-9);
        assert!((m.sleep_w() - 150.0).abs() < 1e-9);
        assert!(
            (PowerModel::earth(BsClass::Micro).active_w(1.0) - 2.0 * (56.0 + 2.6 * 6.3)).abs()
                < 1e-9
        );
        assert_eq!(m.active_w(f64::NAN), m.active_w(0.0));
        assert!(
            PowerModel::earth(BsClass::Pico).sleep_w()
                < PowerModel::earth(BsClass::Pico).active_w(0.0)
        );
    }
}
