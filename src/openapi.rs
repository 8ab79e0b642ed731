//! The supplier's own OpenAPI 3 document: whether it is itself sound (API-DOC-001), and whether
//! every response of the run matches it (API-DOC-002): status declared for the operation,
//! content type declared, body valid against the declared schema, required headers present.
//! The same response-conformance idea as Schemathesis, tied to each exchange.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

use crate::http::Exchange;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("the OpenAPI document is neither JSON nor YAML: {0}")]
    Parse(String),
    #[error("the OpenAPI document is not an object")]
    NotAnObject,
}

/// One operation of the document, as the target model reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredOperation {
    /// Upper case (`GET`).
    pub method: String,
    /// The path template as written (`/Patient/{id}`).
    pub path: String,
    /// Query parameters: name, and whether required.
    pub query: Vec<(String, bool)>,
    /// Header parameters: name, and whether required.
    pub headers: Vec<(String, bool)>,
    /// Media types of the request body.
    pub request_media: Vec<String>,
    /// The member of an object body that holds the content (`patches` for PDS).
    pub request_envelope: Option<String>,
}

pub struct OpenApi {
    document: Value,
    /// JSON Schema dialect of the document's schemas (OpenAPI 3.0: draft 4 with `nullable`;
    /// 3.1: 2020-12).
    draft: Draft,
    /// Path prefixes from `servers[].url`.
    server_paths: Vec<String>,
    validators: Mutex<HashMap<String, Option<Arc<Validator>>>>,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi")
            .field("server_paths", &self.server_paths)
            .finish()
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn path_of_url(url: &str) -> String {
    let without_scheme = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let path = if url.contains("://") {
        without_scheme
    } else {
        url
    };
    path.split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned()
}

impl OpenApi {
    pub fn parse(text: &str) -> Result<Self, OpenApiError> {
        let document: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(_) => {
                serde_yaml_ng::from_str(text).map_err(|e| OpenApiError::Parse(e.to_string()))?
            }
        };
        if !document.is_object() {
            return Err(OpenApiError::NotAnObject);
        }
        let version = document["openapi"].as_str().unwrap_or("");
        let (draft, document) = if version.starts_with("3.1") {
            (Draft::Draft202012, document)
        } else {
            let mut document = document;
            nullable_to_type(&mut document);
            (Draft::Draft4, document)
        };
        let server_paths = document["servers"]
            .as_array()
            .map(|servers| {
                servers
                    .iter()
                    .filter_map(|s| s["url"].as_str())
                    .map(path_of_url)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            document,
            draft,
            server_paths,
            validators: Mutex::default(),
        })
    }

    /// Problems with the document itself; empty when it is a sound OpenAPI 3 description.
    pub fn problems(&self) -> Vec<String> {
        let doc = &self.document;
        let mut problems = Vec::new();
        let version = doc["openapi"].as_str().unwrap_or("");
        if !(version.starts_with("3.0.") || version.starts_with("3.1.")) {
            problems.push(format!(
                "`openapi` is {}, not a 3.0.x or 3.1.x version",
                if version.is_empty() {
                    "missing".into()
                } else {
                    format!("`{version}`")
                }
            ));
        }
        for key in ["title", "version"] {
            if doc["info"][key].as_str().is_none() {
                problems.push(format!("info.{key} is missing"));
            }
        }
        match doc["paths"].as_object() {
            None if version.starts_with("3.1")
                && (doc.get("webhooks").is_some() || doc.get("components").is_some()) => {}
            None => problems.push("paths is missing".into()),
            Some(paths) => {
                for (path, item) in paths {
                    if !path.starts_with('/') {
                        problems.push(format!("path `{path}` does not start with /"));
                    }
                    let item = self.resolve(item).unwrap_or(item);
                    for method in METHODS {
                        let Some(operation) = item.get(*method) else {
                            continue;
                        };
                        match operation["responses"].as_object() {
                            Some(responses) if !responses.is_empty() => {
                                for (status, response) in responses {
                                    let valid_status = status == "default"
                                        || (status.len() == 3
                                            && status
                                                .chars()
                                                .next()
                                                .is_some_and(|c| ('1'..='5').contains(&c))
                                            && status[1..].chars().all(|c| {
                                                c.is_ascii_digit() || c == 'X' || c == 'x'
                                            }));
                                    if !valid_status {
                                        problems.push(format!("{method} {path}: response key `{status}` is not a status code"));
                                    }
                                    match self.resolve(response) {
                                        Some(r) if r["description"].is_string() => {}
                                        Some(_) => problems.push(format!(
                                            "{method} {path} {status}: response has no description"
                                        )),
                                        None => problems.push(format!(
                                            "{method} {path} {status}: $ref does not resolve"
                                        )),
                                    }
                                }
                            }
                            _ => problems.push(format!("{method} {path}: no responses")),
                        }
                    }
                }
            }
        }
        let mut dangling = Vec::new();
        collect_dangling_refs(doc, doc, &mut dangling);
        problems.extend(
            dangling
                .into_iter()
                .map(|r| format!("$ref {r} does not resolve")),
        );
        problems
    }

    /// Follows local `$ref`s (`#/components/...`).
    fn resolve<'a>(&'a self, mut value: &'a Value) -> Option<&'a Value> {
        for _ in 0..16 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => value = self.document.pointer(reference.strip_prefix('#')?)?,
                None => return Some(value),
            }
        }
        None
    }

    /// The operation (and its path template) that documents a request path and method.
    fn operation(
        &self,
        request_path: &str,
        method: &str,
        base_path: &str,
    ) -> Option<(String, &Value)> {
        let paths = self.document["paths"].as_object()?;
        let mut candidates: Vec<&str> = Vec::new();
        for prefix in self
            .server_paths
            .iter()
            .map(String::as_str)
            .chain([base_path, ""])
        {
            if let Some(rest) = request_path.strip_prefix(prefix)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                candidates.push(rest);
            }
        }
        let mut best: Option<(usize, String, &Value)> = None;
        for candidate in candidates {
            let segments: Vec<&str> = candidate.trim_start_matches('/').split('/').collect();
            for (template, item) in paths {
                let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
                if parts.len() != segments.len() {
                    continue;
                }
                let mut variables = 0;
                let matches = parts.iter().zip(&segments).all(|(p, s)| {
                    if p.starts_with('{') && p.ends_with('}') {
                        variables += 1;
                        !s.is_empty()
                    } else {
                        p == s
                    }
                });
                let item = self.resolve(item).unwrap_or(item);
                if matches
                    && let Some(operation) = item.get(method)
                    && best.as_ref().is_none_or(|(v, _, _)| variables < *v)
                {
                    best = Some((variables, template.clone(), operation));
                }
            }
        }
        best.map(|(_, template, operation)| (template, operation))
    }

    /// Problems with one exchange against the document; `None` when the document does not
    /// describe the operation called (probes of undocumented paths are not judged).
    pub fn judge(&self, exchange: &Exchange, base_url: &str) -> Option<Vec<String>> {
        let response = exchange.response.as_ref()?;
        let method = exchange.request.method.to_ascii_lowercase();
        let request_path = path_of_url(&exchange.request.url);
        let (template, operation) =
            self.operation(&request_path, &method, &path_of_url(base_url))?;
        let responses = operation["responses"].as_object()?;
        let status = response.status.to_string();
        let key = response_key(responses, response.status);
        let where_ = format!("{} {template}", method.to_ascii_uppercase());
        let Some(key) = key else {
            let declared: Vec<&String> = responses.keys().collect();
            return Some(vec![format!(
                "{where_} answered {status}, which the document does not declare (declares {declared:?})"
            )]);
        };
        let declared = self.resolve(&responses[key])?;
        let mut problems = Vec::new();
        if let Some(headers) = declared["headers"].as_object() {
            for (name, header) in headers {
                let header = self.resolve(header).unwrap_or(header);
                if header["required"] == true
                    && !name.eq_ignore_ascii_case("content-type")
                    && response.header(name).is_none()
                {
                    problems.push(format!(
                        "{where_} {status}: required header {name} is missing"
                    ));
                }
            }
        }
        let Some(content) = declared["content"].as_object() else {
            return Some(problems);
        };
        if response.body.is_empty() {
            return Some(problems);
        }
        let media = response.media_type().unwrap_or_default();
        let matching = content.iter().find(|(declared_media, _)| {
            let declared_media = declared_media
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            declared_media == media
                || declared_media == "*/*"
                || declared_media
                    .strip_suffix("/*")
                    .is_some_and(|kind| media.starts_with(&format!("{kind}/")))
        });
        let Some((declared_media, _)) = matching else {
            let media_types: Vec<&String> = content.keys().collect();
            problems.push(format!(
                "{where_} {status}: Content-Type {} is not declared (declares {media_types:?})",
                if media.is_empty() {
                    "(none)".into()
                } else {
                    media
                }
            ));
            return Some(problems);
        };
        let Some(body) = response.body.json() else {
            return Some(problems);
        };
        let pointer = format!(
            "/paths/{}/{method}/responses/{}/content/{}/schema",
            escape(&template),
            escape(key),
            escape(declared_media)
        );
        if let Some(validator) = self.validator(&pointer, &responses[key]) {
            for error in validator.iter_errors(body).take(3) {
                let at = error.instance_path().as_str();
                problems.push(format!(
                    "{where_} {status}: body does not match the declared schema at {}: {}",
                    if at.is_empty() { "/" } else { at },
                    crate::fhir::schema::shorten(&error.to_string())
                ));
            }
        }
        Some(problems)
    }

    /// Whether the operation that documents this exchange declares its response (for the
    /// status it got) in `media`, its type without parameters.
    pub fn declares_response_media(
        &self,
        exchange: &Exchange,
        base_url: &str,
        media: &str,
    ) -> bool {
        let Some(response) = exchange.response.as_ref() else {
            return false;
        };
        let method = exchange.request.method.to_ascii_lowercase();
        let Some((_, operation)) = self.operation(
            &path_of_url(&exchange.request.url),
            &method,
            &path_of_url(base_url),
        ) else {
            return false;
        };
        let Some(responses) = operation["responses"].as_object() else {
            return false;
        };
        let declared = response_key(responses, response.status)
            .and_then(|key| responses.get(key))
            .and_then(|r| self.resolve(r));
        declared
            .and_then(|r| r["content"].as_object())
            .into_iter()
            .flatten()
            .any(|(declared, _)| {
                declared
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(media)
            })
    }

    /// Every operation the document declares, with its parameters resolved (what the target
    /// model is built from).
    pub fn declared_operations(&self) -> Vec<DeclaredOperation> {
        let mut out = Vec::new();
        let Some(paths) = self.document["paths"].as_object() else {
            return out;
        };
        for (path, item) in paths {
            let item = self.resolve(item).unwrap_or(item);
            let shared = item["parameters"].as_array().cloned().unwrap_or_default();
            for method in METHODS {
                let Some(operation) = item.get(*method) else {
                    continue;
                };
                let mut declared = DeclaredOperation {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    ..DeclaredOperation::default()
                };
                let own = operation["parameters"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for parameter in shared.iter().chain(&own) {
                    let Some(parameter) = self.resolve(parameter) else {
                        continue;
                    };
                    let (Some(name), Some(place)) =
                        (parameter["name"].as_str(), parameter["in"].as_str())
                    else {
                        continue;
                    };
                    let entry = (name.to_owned(), parameter["required"] == true);
                    match place {
                        "query" => declared.query.push(entry),
                        "header" => declared.headers.push(entry),
                        _ => {}
                    }
                }
                let body = operation
                    .get("requestBody")
                    .and_then(|b| self.resolve(b))
                    .and_then(|b| b["content"].as_object());
                for (media, content) in body.into_iter().flatten() {
                    declared.request_media.push(media.clone());
                    let schema = self
                        .resolve(&content["schema"])
                        .unwrap_or(&content["schema"]);
                    // `{"patches": [...]}`: an object whose one required member carries the body.
                    let required: Vec<&str> = schema["required"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    if schema["type"] == "object"
                        && let [member] = required[..]
                        && schema["properties"].get(member).is_some()
                    {
                        declared.request_envelope = Some(member.to_owned());
                    }
                }
                out.push(declared);
            }
        }
        out
    }

    /// A validator for the schema at `pointer`, compiled once. Responses given by `$ref` are
    /// resolved to where their schema really lives.
    fn validator(&self, pointer: &str, response: &Value) -> Option<Arc<Validator>> {
        let pointer = match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let (_, tail) = pointer.split_once("/content/")?;
                format!("{}/content/{tail}", reference.strip_prefix('#')?)
            }
            None => pointer.to_owned(),
        };
        self.document.pointer(&pointer)?;
        let mut cache = self.validators.lock().ok()?;
        if let Some(found) = cache.get(&pointer) {
            return found.clone();
        }
        let mut root = json!({"$ref": format!("#{}", fragment(&pointer))});
        for key in ["components", "paths", "definitions"] {
            if let Some(part) = self.document.get(key) {
                root[key] = part.clone();
            }
        }
        let compiled = jsonschema::options()
            .with_draft(self.draft)
            .build(&root)
            .ok()
            .map(Arc::new);
        cache.insert(pointer, compiled.clone());
        compiled
    }
}

/// A JSON pointer written as a URI fragment: path templates' braces must be percent-encoded.
fn fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// OpenAPI 3.0's `nullable: true` is `type: [T, "null"]` in JSON Schema.
fn nullable_to_type(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(kind)) = map.get("type").cloned()
            {
                map.insert("type".into(), json!([kind, "null"]));
            }
            for child in map.values_mut() {
                nullable_to_type(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_type),
        _ => {}
    }
}

fn collect_dangling_refs(root: &Value, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref")
                && let Some(pointer) = reference.strip_prefix('#')
                && root.pointer(pointer).is_none()
                && !out.contains(reference)
            {
                out.push(reference.clone());
            }
            map.values()
                .for_each(|child| collect_dangling_refs(root, child, out));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| collect_dangling_refs(root, child, out)),
        _ => {}
    }
}

/// The key of `responses` that describes `status`: the code itself, its range (`4XX`, either
/// case), else `default` (OpenAPI 3 Responses Object).
fn response_key(responses: &serde_json::Map<String, Value>, status: u16) -> Option<&str> {
    let code = status.to_string();
    let range = format!("{}XX", status / 100);
    [
        code,
        range.clone(),
        range.to_lowercase(),
        "default".to_owned(),
    ]
    .into_iter()
    .find_map(|key| responses.get_key_value(&key).map(|(k, _)| k.as_str()))
}

#[cfg(test)]
mod tests;
