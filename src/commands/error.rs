//! Why a command could not do its job, and the one place that turns a command's outcome into
//! the process's exit code. A failing supplier is not an error: `run` returns its verdict's
//! code.

use std::error::Error;

use crate::exit::ExitCode;

/// A command's failure: what to tell the user, and the exit code that says what kind it was.
#[derive(Debug)]
pub struct CmdError {
    code: ExitCode,
    error: Box<dyn Error + Send + Sync>,
}

impl CmdError {
    /// The command line was wrong (exit 2).
    pub fn usage(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::new(ExitCode::Usage, error)
    }

    /// A configuration, catalogue, feature, report or key file is invalid (exit 3).
    pub fn invalid(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::new(ExitCode::InvalidInput, error)
    }

    /// mts itself failed: a file it could not write, a runtime it could not start (exit 70).
    pub fn internal(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::new(ExitCode::Internal, error)
    }

    fn new(code: ExitCode, error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }

    pub fn code(&self) -> ExitCode {
        self.code
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl Error for CmdError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// What a command ends in: its own code, or its error printed with its causes and the error's
/// code.
pub fn exit_code(outcome: Result<ExitCode, CmdError>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(error) => {
            print_error(&error);
            error.code()
        }
    }
}

/// `error: …`, then each cause on its own line.
fn print_error(error: &dyn Error) {
    let mut message = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn each_kind_has_its_code_and_keeps_the_causes() {
        assert_eq!(CmdError::usage("x").code(), ExitCode::Usage);
        assert_eq!(CmdError::invalid("x").code(), ExitCode::InvalidInput);
        assert_eq!(CmdError::internal("x").code(), ExitCode::Internal);
        let error = CmdError::invalid(Outer(std::io::Error::other("inner")));
        assert_eq!(error.to_string(), "outer");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("inner")
        );
        assert_eq!(exit_code(Err(error)), ExitCode::InvalidInput);
        assert_eq!(
            exit_code(Ok(ExitCode::NonConformant)),
            ExitCode::NonConformant
        );
    }
}
