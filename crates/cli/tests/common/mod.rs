//! Helpers shared by the CLI's test files.

pub mod browser;
