//! Exit codes: part of the contract with CI scripts. Documented in README.md.

/// Why `mts` exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The command did its job; for `mts run`, the target is conformant (every judged
    /// requirement that blocks passed).
    Success = 0,
    /// At least one MUST requirement failed.
    NonConformant = 1,
    /// The command line was wrong.
    Usage = 2,
    /// A configuration, catalogue or feature file is invalid.
    InvalidInput = 3,
    /// Errors or timeouts stopped some requirements from being judged. Beats `NonConformant`.
    Incomplete = 4,
    /// A bug in mts itself.
    Internal = 70,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
