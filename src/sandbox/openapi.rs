//! The sandbox's own OpenAPI 3 description, served at `[base]/openapi.json`, so that the
//! response-conformance checks (API-DOC-002) have a document to hold the server to.

use serde_json::{Value, json};

fn outcome_responses() -> Value {
    // Errors mirror X-Request-ID when the request had one, so the header is not required here.
    let outcome = json!({"description": "An OperationOutcome with a Spine error code",
        "content": {"application/fhir+json": {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}});
    json!({"400": outcome, "401": outcome, "403": outcome, "404": outcome, "405": outcome, "406": outcome,
        "409": outcome, "412": outcome, "413": outcome, "415": outcome, "422": outcome, "429": outcome, "4XX": outcome, "500": outcome})
}

fn ok(schema: &str, media: &str) -> Value {
    json!({"description": "Success",
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/XRequestID"}},
        "content": {media: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

/// The CapabilityStatement: served to requests without X-Request-ID too, so the echo is
/// conditional there.
fn ok_metadata(media: &str) -> Value {
    json!({"description": "Success",
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/XRequestIDIfSent"}},
        "content": {media: {"schema": {"$ref": "#/components/schemas/CapabilityStatement"}}}})
}

fn with_errors(mut responses: Value) -> Value {
    if let (Some(map), Some(errors)) = (responses.as_object_mut(), outcome_responses().as_object())
    {
        for (status, response) in errors {
            map.insert(status.clone(), response.clone());
        }
    }
    responses
}

fn resource_schema(kind: &str) -> Value {
    json!({"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string", "enum": [kind]}, "id": {"type": "string"}}})
}

/// The document. `drift` declares Patient reads as `application/json` (the server sends
/// `application/fhir+json`): the fault that API-DOC-002 must catch.
pub fn document(drift: bool) -> Value {
    let fhir = "application/fhir+json";
    let patient_media = if drift { "application/json" } else { fhir };
    let id_param =
        json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    // Data endpoints refuse requests without a UUID X-Request-ID (API-HDR-002).
    let request_id = json!({"$ref": "#/components/parameters/XRequestID"});
    // Every query parameter each search takes, as the server's own lists say (an OpenAPI
    // operation's parameters are the complete list: mts plans from them).
    let query = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|name| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}}))
            .collect()
    };
    let search = |kind: &str, params: &[&str]| {
        let mut parameters = vec![request_id.clone()];
        parameters.extend(query(params));
        json!({"get": {"summary": format!("Search {kind}"), "parameters": parameters,
        "responses": with_errors(json!({"200": ok("Bundle", fhir)}))}})
    };
    // A search by patient takes its date, code, category and status parameters too.
    let by_patient = |kind: &str, date: &'static str| -> Value {
        let tokens = super::server::tokens::token_parameters(kind)
            .iter()
            .map(|(name, _)| *name);
        let names: Vec<&str> = ["patient", date, "_lastUpdated"]
            .into_iter()
            .chain(tokens)
            .chain(["_include", "_count", "_offset", "_format"])
            .collect();
        search(kind, &names)
    };
    let read = |kind: &str, media: &str| {
        json!({"get": {"summary": format!("Read {kind}"), "parameters": [id_param.clone(), request_id.clone()],
        "responses": with_errors(json!({"200": ok(kind, media)}))}})
    };
    json!({
        "openapi": "3.0.3",
        "info": {"title": "mts reference sandbox", "version": env!("CARGO_PKG_VERSION"),
            "description": "NHS API-platform style FHIR R4 server used to prove mts's checks."},
        "servers": [{"url": "/FHIR/R4"}],
        "paths": {
            "/": {"post": {"summary": "A transaction (all or nothing) or a batch (each entry on its own) of Observation creates",
                "parameters": [request_id.clone()],
                "responses": with_errors(json!({"200": ok("ResponseBundle", fhir)}))}},
            "/metadata": {"get": {"summary": "CapabilityStatement", "responses": with_errors(json!({"200": ok_metadata(fhir)}))}},
            "/Patient/{id}": read("Patient", patient_media),
            "/Patient/{id}/$everything": {"get": {"summary": "The patient's record (Patient $everything)",
                "parameters": [id_param.clone(), request_id.clone()],
                "responses": with_errors(json!({"200": ok("Bundle", fhir)}))}},
            "/Patient": search("Patient", &["identifier", "family", "given", "gender", "birthdate", "_id", "_revinclude", "_count", "_offset", "_format"]),
            "/AllergyIntolerance/{id}": read("AllergyIntolerance", fhir),
            "/AllergyIntolerance": by_patient("AllergyIntolerance", "date"),
            "/MedicationStatement/{id}": read("MedicationStatement", fhir),
            "/MedicationStatement": by_patient("MedicationStatement", "effective"),
            "/Condition/{id}": read("Condition", fhir),
            "/Condition": by_patient("Condition", "recorded-date"),
            "/Encounter/{id}": read("Encounter", fhir),
            "/Encounter": by_patient("Encounter", "date"),
            "/MedicationRequest/{id}": read("MedicationRequest", fhir),
            "/MedicationRequest": by_patient("MedicationRequest", "authoredon"),
            "/Procedure/{id}": read("Procedure", fhir),
            "/Procedure": by_patient("Procedure", "date"),
            "/Observation": {
                "parameters": [request_id.clone()],
                "get": {"summary": "Search Observation", "parameters": query(&["identifier"]), "responses": with_errors(json!({"200": ok("Bundle", fhir)}))},
                "post": {"summary": "Create Observation (conditionally, with If-None-Exist: identifier=system|value)",
                    "parameters": [{"name": "If-None-Exist", "in": "header", "required": false, "schema": {"type": "string"}}],
                    "responses": with_errors(json!({"201": {"description": "Created",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    "content": {fhir: {"schema": {"type": "object"}}}},
                    "200": ok("Observation", fhir)}))}
            },
            "/Observation/{id}": {
                "parameters": [id_param, request_id],
                "get": {"summary": "Read Observation", "responses": with_errors(json!({"200": ok("Observation", fhir)}))},
                "put": {"summary": "Update Observation", "responses": with_errors(json!({"200": {"description": "Updated",
                    "content": {fhir: {"schema": {"type": "object"}}}}}))},
                "delete": {"summary": "Delete Observation", "responses": with_errors(json!({"204": {"description": "Deleted",
                    "headers": {"X-Request-ID": {"$ref": "#/components/headers/XRequestID"}}}}))}
            },
            "/_ping": {"get": {"summary": "Liveness", "responses": {"200": {"description": "Alive",
                "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}}}}}}
        },
        "components": {
            "headers": {
                "XRequestID": {"required": true, "description": "Mirrors the request's X-Request-ID", "schema": {"type": "string", "format": "uuid"}},
                "XRequestIDIfSent": {"required": false, "description": "Mirrors the request's X-Request-ID when it had one", "schema": {"type": "string", "format": "uuid"}}
            },
            "parameters": {"XRequestID": {"name": "X-Request-ID", "in": "header", "required": true,
                "description": "A UUID identifying the request, echoed back", "schema": {"type": "string", "format": "uuid"}}},
            "schemas": {
                "CapabilityStatement": resource_schema("CapabilityStatement"),
                "Patient": resource_schema("Patient"),
                "AllergyIntolerance": resource_schema("AllergyIntolerance"),
                "MedicationStatement": resource_schema("MedicationStatement"),
                "Observation": resource_schema("Observation"),
                "Condition": resource_schema("Condition"),
                "Encounter": resource_schema("Encounter"),
                "MedicationRequest": resource_schema("MedicationRequest"),
                "Procedure": resource_schema("Procedure"),
                "Bundle": {"type": "object", "required": ["resourceType", "type"],
                    "properties": {"resourceType": {"enum": ["Bundle"]}, "type": {"enum": ["searchset"]}, "entry": {"type": "array"}}},
                "ResponseBundle": {"type": "object", "required": ["resourceType", "type", "entry"],
                    "properties": {"resourceType": {"enum": ["Bundle"]}, "type": {"enum": ["transaction-response", "batch-response"]}, "entry": {"type": "array"}}},
                "OperationOutcome": {"type": "object", "required": ["resourceType", "issue"],
                    "properties": {"resourceType": {"enum": ["OperationOutcome"]}, "issue": {"type": "array", "minItems": 1}}}
            }
        }
    })
}
