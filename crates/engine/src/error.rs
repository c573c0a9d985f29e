/// Why a pipeline could not be planned or run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The intent cannot be turned into a pipeline.
    #[error("plan: {0}")]
    Plan(String),
    /// A source failed.
    #[error("source: {0}")]
    Source(String),
    /// The cluster could not be formed or a worker failed.
    #[error("cluster: {0}")]
    Cluster(String),
    /// A model state could not be read or does not fit the pipeline.
    #[error("model state: {0}")]
    State(#[from] crate::state::StateError),
    /// A series could not be forecast.
    #[error("{series}: {source}")]
    Forecast {
        /// The series, as `entity/field`.
        series: String,
        /// Why.
        #[source]
        source: ai4ict_forecast::ForecastError,
    },
    /// A checkpoint could not be read or used.
    #[error("{0}")]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// Writing a report or output failed.
    #[error("output: {0}")]
    Output(String),
}
