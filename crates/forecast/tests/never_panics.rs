//! Property: no input makes a forecaster panic; a fitted model predicts finite-or-error
//! output with lower ≤ upper.
use ai4ict_forecast::{Forecaster, ForecasterConfig, Method};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e6f64..1e6,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
        1 => Just(1e300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn no_input_panics(series in prop::collection::vec(value(), 0..160), season in 0usize..30, horizon in 0usize..40) {
        for method in [Method::SeasonalNaive, Method::Ets, Method::Mstl, Method::Linear, Method::Auto] {
            let f = ForecasterConfig::with_method(method);
            if let Ok(model) = f.fit(&series, season) {
                if let Ok(fc) = model.predict(horizon, 0.9) {
                    prop_assert_eq!(fc.mean.len(), horizon);
                    for (l, u) in fc.lower.iter().zip(&fc.upper) {
                        prop_assert!(l.partial_cmp(u) != Some(std::cmp::Ordering::Greater), "lower {} above upper {}", l, u);
                    }
                }
            }
        }
    }
}
