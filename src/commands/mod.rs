//! One small file per subcommand, composing the library pieces.

pub mod hook;
pub mod verify;
