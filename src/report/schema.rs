//! The JSON Schema of `report.json`, generated from the report types. The committed copy
//! (`standards/schema/report.schema.json`) is compared with it by a test, so the two cannot drift.

use super::model::Report;

/// Where the committed copy lives, relative to the repository.
pub const COMMITTED_PATH: &str = "standards/schema/report.schema.json";

pub fn report_schema() -> serde_json::Value {
    // What mts writes: a field always written is required, though the reader defaults it.
    let generator = schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<Report>()).unwrap_or_default();
    schema["$id"] = serde_json::json!(format!(
        "https://mts.invalid/schema/report-v{}.schema.json",
        super::model::REPORT_SCHEMA_VERSION
    ));
    schema
}

/// The schema as committed: pretty JSON with a final newline.
pub fn report_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&report_schema()).unwrap_or_default();
    text.push('\n');
    text
}
