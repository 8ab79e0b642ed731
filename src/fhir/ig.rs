//! Implementation guides: UK Core 2.0.2 embedded in the binary (NHS England's published FHIR XML,
//! packed by `scripts/defs/bundle_uk_core.py` and read with mts's own XML reader on first use),
//! and any other guide loaded from a folder or an NPM package (`--ig DIR|PACKAGE.tgz`): its
//! StructureDefinitions, ValueSets and CodeSystems, in FHIR JSON or FHIR XML, added to the core
//! definitions. Other resources in a guide (examples, the guide itself) are left out.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::definitions::Definitions;
use super::xml;

/// UK Core's conformance resources as one gzipped FHIR XML Bundle.
const UK_CORE: &[u8] = include_bytes!("../../standards/uk-core/conformance.xml.gz");

/// Where UK Core's profiles and extensions live.
pub const UK_CORE_PREFIX: &str = "https://fhir.hl7.org.uk/StructureDefinition/";

/// The largest file of a guide read (the biggest R4 core file is 4.6 MB).
const MAX_FILE: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IgError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
}

fn read_error(path: &Path, message: impl std::fmt::Display) -> IgError {
    IgError::Read {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// The FHIR R4 core definitions with UK Core 2.0.2 added, built once per process.
pub fn uk_core() -> Result<Arc<Definitions>, String> {
    static WITH_UK_CORE: OnceLock<Result<Arc<Definitions>, String>> = OnceLock::new();
    WITH_UK_CORE
        .get_or_init(|| {
            let core = Definitions::core()?;
            let mut definitions = Definitions::clone(&core);
            add_uk_core(&mut definitions).map_err(|e| e.to_string())?;
            Ok(Arc::new(definitions))
        })
        .clone()
}

/// Adds UK Core's StructureDefinitions, ValueSets and CodeSystems; returns how many.
pub fn add_uk_core(definitions: &mut Definitions) -> Result<usize, IgError> {
    let source = Path::new("standards/uk-core/conformance.xml.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(UK_CORE)
        .read_to_string(&mut text)
        .map_err(|e| read_error(source, e))?;
    let bundle = xml::to_json(&text, definitions).map_err(|e| read_error(source, e))?;
    add_document(definitions, bundle).map_err(|e| read_error(source, e))
}

/// Adds every conformance resource of the guide at `path`: a folder (searched recursively for
/// `.json` and `.xml` files) or an NPM package (`.tgz`). Returns how many were added.
pub fn load(definitions: &mut Definitions, path: &Path) -> Result<usize, IgError> {
    let mut files = BTreeMap::new();
    if path.is_dir() {
        collect_folder(path, &mut files, 0)?;
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tgz") || e.eq_ignore_ascii_case("gz"))
    {
        collect_package(path, &mut files)?;
    } else {
        let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
        files.insert(path.display().to_string(), bytes);
    }
    let mut added = 0;
    for (name, bytes) in files {
        let name = Path::new(&name);
        // A guide's folder holds other JSON too (package.json, .index.json): only FHIR counts.
        let Ok(document) = parse_document(&bytes, definitions) else {
            continue;
        };
        added += add_document(definitions, document).map_err(|e| read_error(name, e))?;
    }
    Ok(added)
}

/// Adds `document` if it is a StructureDefinition, ValueSet or CodeSystem, or the ones a Bundle
/// holds; returns how many.
fn add_document(definitions: &mut Definitions, document: Value) -> Result<usize, String> {
    match document["resourceType"].as_str() {
        Some("StructureDefinition" | "ValueSet" | "CodeSystem") => {
            definitions.add(document).map_err(|e| e.to_string())?;
            Ok(1)
        }
        Some("Bundle") => {
            let mut added = 0;
            let entries = match document {
                Value::Object(mut object) => object.remove("entry"),
                _ => None,
            };
            for mut entry in entries
                .and_then(|e| match e {
                    Value::Array(items) => Some(items),
                    _ => None,
                })
                .into_iter()
                .flatten()
            {
                let resource = entry["resource"].take();
                added += add_document(definitions, resource)?;
            }
            Ok(added)
        }
        _ => Ok(0),
    }
}

fn collect_folder(
    folder: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
    depth: usize,
) -> Result<(), IgError> {
    if depth > 16 {
        return Ok(());
    }
    let entries = std::fs::read_dir(folder).map_err(|e| read_error(folder, e))?;
    for entry in entries {
        let path = entry.map_err(|e| read_error(folder, e))?.path();
        if path.is_dir() {
            collect_folder(&path, files, depth + 1)?;
        } else if is_fhir_file(&path.to_string_lossy()) {
            let size = path.metadata().map(|m| m.len()).unwrap_or(0);
            if size > MAX_FILE {
                return Err(read_error(&path, format!("larger than {MAX_FILE} bytes")));
            }
            let bytes = std::fs::read(&path).map_err(|e| read_error(&path, e))?;
            files.insert(path.display().to_string(), bytes);
        }
    }
    Ok(())
}

fn collect_package(package: &Path, files: &mut BTreeMap<String, Vec<u8>>) -> Result<(), IgError> {
    let file = std::fs::File::open(package).map_err(|e| read_error(package, e))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = archive.entries().map_err(|e| read_error(package, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| read_error(package, e))?;
        let name = entry
            .path()
            .map(|p| p.display().to_string())
            .map_err(|e| read_error(package, e))?;
        // NPM packages keep examples under package/example/: not conformance resources.
        if !is_fhir_file(&name) || name.contains("/example/") {
            continue;
        }
        if entry.size() > MAX_FILE {
            return Err(read_error(
                package,
                format!("{name} is larger than {MAX_FILE} bytes"),
            ));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| read_error(package, format!("{name}: {e}")))?;
        files.insert(format!("{}!{name}", package.display()), bytes);
    }
    Ok(())
}

fn is_fhir_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json") || lower.ends_with(".xml")
}

/// One FHIR document, JSON or XML (told by its first character that is not blank or a byte order
/// mark); XML is read against `definitions`.
pub fn parse_document(bytes: &[u8], definitions: &Definitions) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let text = text.trim_start_matches('\u{feff}');
    match text.trim_start().chars().next() {
        Some('<') => xml::to_json(text, definitions).map_err(|e| e.to_string()),
        Some('{') => {
            let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
            if value["resourceType"].is_string() {
                Ok(value)
            } else {
                Err("a JSON object without a resourceType".into())
            }
        }
        _ => Err("neither FHIR JSON nor FHIR XML".into()),
    }
}

/// The profile a guide gives each resource type for its own (`UKCore-Patient` for Patient):
/// type → canonical URL, for the guide's profiles whose id is `<prefix><Type>`.
pub fn type_profiles(definitions: &Definitions, url_prefix: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for url in definitions.structure_urls() {
        // Only the guide's own are read (the core ones stay unparsed).
        let Some(structure) = url
            .starts_with(url_prefix)
            .then(|| definitions.structure(url))
            .flatten()
        else {
            continue;
        };
        let Some(kind) = structure["type"].as_str() else {
            continue;
        };
        if url == format!("{url_prefix}{kind}")
            && structure["derivation"] == "constraint"
            && definitions.is_resource_type(kind)
        {
            found.insert(kind.to_owned(), url.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_core_loads_with_its_profiles_value_sets_and_code_systems() {
        let definitions = uk_core().unwrap();
        let patient = definitions
            .structure("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
            .unwrap();
        assert_eq!(patient["type"], "Patient");
        assert!(
            definitions
                .value_set("https://fhir.hl7.org.uk/ValueSet/UKCore-EthnicCategory")
                .is_some()
        );
        let by_type = type_profiles(&definitions, &format!("{UK_CORE_PREFIX}UKCore-"));
        assert_eq!(
            by_type.get("Patient").map(String::as_str),
            Some("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
        );
        // Core stays untouched for those who did not ask for UK Core.
        let core = Definitions::core().unwrap();
        assert!(
            core.structure("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
                .is_none()
        );
    }

    #[test]
    fn a_folder_guide_adds_json_and_xml_conformance_resources_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("sd.json"),
            r#"{"resourceType": "StructureDefinition", "url": "http://example.org/sd/a", "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint", "differential": {"element": [{"id": "Patient", "path": "Patient"}]}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("vs.xml"),
            r#"<ValueSet xmlns="http://hl7.org/fhir"><url value="http://example.org/vs/b"/><status value="active"/></ValueSet>"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("package.json"), r#"{"name": "x"}"#).unwrap();
        std::fs::write(
            dir.path().join("example.json"),
            r#"{"resourceType": "Patient", "id": "p"}"#,
        )
        .unwrap();
        let mut definitions = Definitions::clone(&Definitions::core().unwrap());
        assert_eq!(load(&mut definitions, dir.path()).unwrap(), 2);
        assert!(definitions.structure("http://example.org/sd/a").is_some());
        assert!(definitions.value_set("http://example.org/vs/b").is_some());
    }

    /// An NPM package as the FHIR registries publish one: gzipped tar, files under `package/`,
    /// examples under `package/example/` (skipped), a package.json (not FHIR).
    #[test]
    fn an_npm_package_adds_its_profiles_and_skips_examples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.guide-1.0.0.tgz");
        let profile = serde_json::json!({
            "resourceType": "StructureDefinition",
            "url": "https://example.org/StructureDefinition/BornPatient",
            "name": "BornPatient", "status": "draft", "kind": "resource", "abstract": false,
            "type": "Patient", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]}
        });
        let files: [(&str, String); 3] = [
            ("package/package.json", r#"{"name": "example.guide", "version": "1.0.0"}"#.into()),
            ("package/StructureDefinition-BornPatient.json", profile.to_string()),
            ("package/example/Patient-a.json", r#"{"resourceType": "StructureDefinition", "url": "https://example.org/not-loaded"}"#.into()),
        ];
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, text) in &files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, text.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();

        let mut definitions = Definitions::clone(&Definitions::core().unwrap());
        assert_eq!(load(&mut definitions, &path).unwrap(), 1);
        assert!(
            definitions
                .structure("https://example.org/not-loaded")
                .is_none()
        );
        let validator = crate::fhir::profile::validator(std::sync::Arc::new(definitions));
        let issues = validator.validate(
            &serde_json::json!({"resourceType": "Patient"}),
            "https://example.org/StructureDefinition/BornPatient",
        );
        assert!(
            issues
                .iter()
                .any(|i| i.location == "Patient.birthDate" && i.rule == "cardinality"),
            "{issues:?}"
        );
    }

    #[test]
    fn documents_are_told_apart_by_their_first_character() {
        let core = Definitions::core().unwrap();
        let json = parse_document(b"\xef\xbb\xbf {\"resourceType\": \"Patient\"}", &core).unwrap();
        assert_eq!(json["resourceType"], "Patient");
        let xml = parse_document(
            br#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>"#,
            &core,
        )
        .unwrap();
        assert_eq!(xml["active"], true);
        assert!(parse_document(b"[1, 2]", &core).is_err());
        assert!(parse_document(b"{\"a\": 1}", &core).is_err());
        assert!(parse_document(b"\xff\xfe", &core).is_err());
    }
}
