//! One module per subcommand.
pub mod bench;
pub mod demo;
pub mod hub;
pub mod intent;
pub mod run;
pub mod sandbox;
pub mod validate;
