//! `mts keygen`: an Ed25519 signing key.

use std::path::PathBuf;

use crate::exit::ExitCode;
use crate::report;

use super::*;

/// `mts keygen`: an Ed25519 key pair for `--sign-key` and `mts verify --public-key`.
pub(crate) fn keygen(args: &crate::cli::KeygenArgs) -> Result<ExitCode, CmdError> {
    if args.out.exists() {
        return Err(CmdError::usage(format!(
            "{} exists; a key is never overwritten",
            args.out.display()
        )));
    }
    let (private, public) = match report::SigningKey::generate() {
        Ok(pair) => pair,
        Err(error) => {
            return Err(CmdError::internal(format!("cannot make a key: {error}")));
        }
    };
    let public_path = PathBuf::from(format!("{}.pub", args.out.display()));
    let written =
        write_private(&args.out, &private).and_then(|()| std::fs::write(&public_path, &public));
    if let Err(error) = written {
        return Err(CmdError::internal(format!("cannot write the key: {error}")));
    }
    outln!("private key: {} (keep it secret)", args.out.display());
    outln!("public key:  {}", public_path.display());
    Ok(ExitCode::Success)
}
