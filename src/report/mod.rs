//! Reports: the model, and one writer per format.

mod json;
mod model;
mod normalize;
mod table;

pub use json::{write_atomically, write_json};
pub use model::*;
pub use normalize::{normalize_text, normalized_json};
pub use table::{TableStyle, render_table};
