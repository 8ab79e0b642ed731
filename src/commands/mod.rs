//! One file per command. (The older commands still live in `app.rs`; they move here one by one.)

pub mod validate;
