//! Stored network-intelligence levels (ITU-T Y.3173 cl. 7). The level itself is computed by
//! `ai4ict-eval` (module `level`); the hub keeps the latest result per subject (a use case,
//! intent or network) so it can be shown next to the use cases.

use serde::{Deserialize, Serialize};

use crate::error::{HubError, Result};
use crate::store::{RowExt, Store, Value};

/// The latest Y.3173 intelligence level recorded for a subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LevelRecord {
    /// What was rated: a use case, an intent or a network.
    pub subject: String,
    /// Overall level, 0 (L0, manual) to 5 (L5, full intelligence).
    pub level: u8,
    /// The calculator's output (per-dimension capabilities and levels), as given.
    pub detail: serde_json::Value,
    /// When it was recorded (RFC 3339).
    pub at: String,
}

pub(crate) fn record(
    store: &mut Store,
    subject: &str,
    level: u8,
    detail: &serde_json::Value,
) -> Result<()> {
    if subject.trim().is_empty() {
        return Err(HubError::invalid("subject", "must not be empty"));
    }
    if level > 5 {
        return Err(HubError::invalid(
            "level",
            format!("L{level} does not exist (L0 to L5)"),
        ));
    }
    store.execute(
        "INSERT INTO intelligence_levels (subject, level, detail, at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (subject) DO UPDATE SET level = excluded.level, detail = excluded.detail, \
         at = excluded.at",
        &[
            subject.trim().into(),
            Value::Int(level.into()),
            serde_json::to_string(detail)?.into(),
            crate::now_rfc3339().into(),
        ],
    )?;
    Ok(())
}

pub(crate) fn list(store: &mut Store) -> Result<Vec<LevelRecord>> {
    store
        .query(
            "SELECT subject, level, detail, at FROM intelligence_levels ORDER BY subject",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(LevelRecord {
                subject: r.text(0)?,
                level: u8::try_from(r.int(1)?).map_err(|_| HubError::Corrupt("level".into()))?,
                detail: serde_json::from_str(&r.text(2)?)?,
                at: r.text(3)?,
            })
        })
        .collect()
}
