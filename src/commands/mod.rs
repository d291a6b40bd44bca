//! One small file per subcommand, composing the library's pieces.

pub mod log;
