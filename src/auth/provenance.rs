//! The GP Connect provenance JWT: an unsigned JWT (`alg: none`, empty signature) a consumer
//! sends as the bearer token, saying who asks for which record and why. A provider validates
//! its encoding, claims, five-minute lifetime and embedded FHIR resources (SEC-JWT-001..003).
//! The same builder makes the correct token for every request and each deliberately broken one.

use serde_json::{Value, json};

use super::jwt::unsigned;

/// The claims GP Connect makes mandatory.
pub const MANDATORY_CLAIMS: [&str; 11] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "reason_for_request",
    "requested_record",
    "requested_scope",
    "requesting_device",
    "requesting_organization",
    "requesting_practitioner",
];

/// GP Connect fixes the lifetime: `exp` is exactly `iat` + 300 s.
pub const LIFETIME_SECONDS: i64 = 300;

/// Who is asking: the consumer organisation, practitioner and system.
#[derive(Debug, Clone)]
pub struct Requester {
    /// `iss`: the consuming system's URL.
    pub issuer: String,
    /// The consumer organisation's ODS code.
    pub ods_code: String,
    /// The practitioner's SDS user id (`sub`).
    pub sds_user_id: String,
}

impl Default for Requester {
    fn default() -> Self {
        Self {
            issuer: "https://consumer.mts.invalid/".into(),
            ods_code: "A11111".into(),
            sds_user_id: "G13579135".into(),
        }
    }
}

/// What is deliberately wrong with a provenance JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvenanceDefect {
    None,
    /// Header and payload sent as raw JSON text, not base64url.
    RawJson,
    /// A mandatory claim left out.
    MissingClaim(String),
    /// `exp` − `iat` in seconds (GP Connect requires exactly 300).
    Lifetime(i64),
    /// `iat` this many seconds from now (exp stays iat + 300).
    IssuedAt(i64),
    /// `requesting_device` is not a Device.
    DeviceWrongType,
    /// `requesting_device` is a Device whose content is not valid FHIR.
    DeviceInvalid,
    /// `requested_scope` for organisations on a patient endpoint.
    WrongScope,
    /// `reason_for_request` other than directcare.
    WrongReason,
}

impl ProvenanceDefect {
    /// The Gherkin wording of each defect.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.strip_prefix("with ").unwrap_or(text);
        if let Some(claim) = text.strip_prefix("without ") {
            return MANDATORY_CLAIMS
                .contains(&claim)
                .then(|| Self::MissingClaim(claim.to_owned()));
        }
        if let Some(seconds) = text
            .strip_prefix("a lifetime of ")
            .and_then(|rest| rest.strip_suffix(" seconds"))
        {
            return seconds.parse().ok().map(Self::Lifetime);
        }
        if let Some(seconds) = text
            .strip_prefix("iat ")
            .and_then(|rest| rest.strip_suffix(" seconds from now"))
        {
            return seconds.parse().ok().map(Self::IssuedAt);
        }
        Some(match text {
            "no defect" => Self::None,
            "raw JSON parts" => Self::RawJson,
            "a requesting_device that is not a Device" => Self::DeviceWrongType,
            "an invalid requesting_device" => Self::DeviceInvalid,
            "an organization scope" => Self::WrongScope,
            "reason_for_request foo" => Self::WrongReason,
            _ => return None,
        })
    }
}

/// The scope GP Connect expects for a request: `patient/*` or `organization/*`, read or write.
pub fn scope_for(method: &str, target: &str) -> String {
    let path = target.split('?').next().unwrap_or("");
    let resource = path
        .rsplit_once("/FHIR/R4/")
        .map_or(path, |(_, rest)| rest)
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    let compartment = if ["Organization", "Location", "HealthcareService"].contains(&resource) {
        "organization"
    } else {
        "patient"
    };
    let access = if matches!(method, "GET" | "HEAD") {
        "read"
    } else {
        "write"
    };
    format!("{compartment}/*.{access}")
}

/// A provenance JWT for a request to `audience` (the provider's FHIR base URL) about the patient
/// with `nhs_number`, at `now` (Unix seconds), broken as `defect` says.
pub fn token(
    requester: &Requester,
    audience: &str,
    scope: &str,
    nhs_number: &str,
    now: i64,
    defect: &ProvenanceDefect,
) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    let mut claims = claims(requester, audience, scope, nhs_number, now);
    match defect {
        ProvenanceDefect::None | ProvenanceDefect::RawJson => {}
        ProvenanceDefect::MissingClaim(claim) => {
            if let Some(object) = claims.as_object_mut() {
                object.remove(claim);
            }
        }
        ProvenanceDefect::Lifetime(seconds) => claims["exp"] = json!(now + seconds),
        ProvenanceDefect::IssuedAt(offset) => {
            claims["iat"] = json!(now + offset);
            claims["exp"] = json!(now + offset + LIFETIME_SECONDS);
        }
        ProvenanceDefect::DeviceWrongType => {
            claims["requesting_device"]["resourceType"] = json!("Organization")
        }
        ProvenanceDefect::DeviceInvalid => {
            claims["requesting_device"]["identifier"] = json!("not a list of identifiers")
        }
        ProvenanceDefect::WrongScope => {
            claims["requested_scope"] = json!(scope.replacen("patient/", "organization/", 1))
        }
        ProvenanceDefect::WrongReason => claims["reason_for_request"] = json!("foo"),
    }
    if *defect == ProvenanceDefect::RawJson {
        return format!("{header}.{claims}.");
    }
    unsigned(&header, &claims)
}

fn claims(requester: &Requester, audience: &str, scope: &str, nhs_number: &str, now: i64) -> Value {
    let record = if scope.starts_with("organization/") {
        json!({
            "resourceType": "Organization",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": requester.ods_code}]
        })
    } else {
        json!({
            "resourceType": "Patient",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}]
        })
    };
    json!({
        "iss": requester.issuer,
        "sub": requester.sds_user_id,
        "aud": audience,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
        "reason_for_request": "directcare",
        "requested_scope": scope,
        "requested_record": record,
        "requesting_device": {
            "resourceType": "Device",
            "id": "1",
            "identifier": [{"system": "https://consumer.mts.invalid/Id/device", "value": "mts"}],
            "deviceName": [{"name": "mts conformance harness", "type": "manufacturer-name"}],
            "version": [{"value": env!("CARGO_PKG_VERSION")}]
        },
        "requesting_organization": {
            "resourceType": "Organization",
            "id": "1",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": requester.ods_code}],
            "name": "mts conformance harness"
        },
        "requesting_practitioner": {
            "resourceType": "Practitioner",
            "id": "1",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": requester.sds_user_id}],
            "name": [{"family": "Harness", "given": ["Conformance"], "prefix": ["Dr"]}]
        }
    })
}

/// What is wrong with a provenance JWT, by the rule it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not three base64url parts of JSON.
    Encoding,
    MissingClaim,
    /// `exp` not exactly `iat` + 300, or already past.
    Lifetime,
    Reason,
    Scope,
    /// An embedded resource of the wrong type or with invalid content.
    Resource,
}

/// Why a provider refuses a provenance JWT: the rule, the HTTP status and Spine code GP Connect
/// gives for it, and a message.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub problem: Problem,
    pub status: u16,
    pub spine_code: &'static str,
    pub message: String,
}

/// The first rule a provenance JWT breaks, or `None` when it is acceptable (the sandbox's
/// rules, written from the GP Connect specification: 400 BAD_REQUEST for encoding, claims,
/// lifetime, scope and reason; 422 INVALID_RESOURCE for an embedded resource of the wrong type
/// or invalid content, as `valid_resource` judges it).
pub fn refusal(
    token: &str,
    method: &str,
    target: &str,
    now: i64,
    valid_resource: impl Fn(&Value) -> bool,
) -> Option<Refusal> {
    let bad = |problem: Problem, message: String| {
        Some(Refusal {
            problem,
            status: 400,
            spine_code: "BAD_REQUEST",
            message,
        })
    };
    let decoded = match super::jwt::decode(token) {
        Ok(decoded) => decoded,
        Err(why) => {
            return bad(
                Problem::Encoding,
                format!("The provenance JWT is malformed: {why}"),
            );
        }
    };
    let claims = &decoded.claims;
    if let Some(missing) = MANDATORY_CLAIMS.iter().find(|c| claims.get(**c).is_none()) {
        return bad(
            Problem::MissingClaim,
            format!("The provenance JWT has no {missing} claim"),
        );
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return bad(Problem::Lifetime, "iat and exp must be numbers".into());
    };
    if exp - iat != LIFETIME_SECONDS {
        return bad(
            Problem::Lifetime,
            format!(
                "exp must be exactly 300 seconds after iat, not {}",
                exp - iat
            ),
        );
    }
    if exp <= now {
        return bad(Problem::Lifetime, "The provenance JWT has expired".into());
    }
    if claims["reason_for_request"].as_str() != Some("directcare") {
        return bad(
            Problem::Reason,
            "reason_for_request must be directcare".into(),
        );
    }
    let scope = scope_for(method, target);
    if claims["requested_scope"].as_str() != Some(scope.as_str()) {
        return bad(
            Problem::Scope,
            format!("requested_scope must be {scope} for this request"),
        );
    }
    for (claim, kind) in [
        ("requesting_device", "Device"),
        ("requesting_organization", "Organization"),
        ("requesting_practitioner", "Practitioner"),
    ] {
        let resource = &claims[claim];
        if resource["resourceType"].as_str() != Some(kind) || !valid_resource(resource) {
            return Some(Refusal {
                problem: Problem::Resource,
                status: 422,
                spine_code: "INVALID_RESOURCE",
                message: format!("{claim} must be a valid {kind} resource"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const BASE: &str = "https://gpc.example/FHIR/R4";

    fn make(defect: &ProvenanceDefect) -> String {
        token(
            &Requester::default(),
            BASE,
            "patient/*.read",
            "9000000009",
            NOW,
            defect,
        )
    }

    fn judge(token: &str) -> Option<u16> {
        refusal(token, "GET", "Patient/9000000009", NOW, |r| {
            r.get("identifier").is_none_or(Value::is_array)
        })
        .map(|refusal| refusal.status)
    }

    #[test]
    fn a_correct_token_is_unsigned_and_accepted() {
        let token = make(&ProvenanceDefect::None);
        assert!(token.ends_with('.'), "empty signature");
        let decoded = crate::auth::jwt::decode(&token).unwrap();
        assert_eq!(decoded.header["alg"], "none");
        assert_eq!(
            decoded.claims["exp"].as_i64().unwrap() - decoded.claims["iat"].as_i64().unwrap(),
            300
        );
        assert_eq!(judge(&token), None);
    }

    #[test]
    fn every_defect_is_refused_with_the_status_gp_connect_gives() {
        let cases: Vec<(ProvenanceDefect, Option<u16>)> = vec![
            (ProvenanceDefect::RawJson, Some(400)),
            (ProvenanceDefect::Lifetime(299), Some(400)),
            (ProvenanceDefect::Lifetime(301), Some(400)),
            (ProvenanceDefect::Lifetime(-1), Some(400)),
            (ProvenanceDefect::Lifetime(300), None),
            (ProvenanceDefect::IssuedAt(-600), Some(400)),
            (ProvenanceDefect::IssuedAt(200), None),
            (ProvenanceDefect::DeviceWrongType, Some(422)),
            (ProvenanceDefect::DeviceInvalid, Some(422)),
            (ProvenanceDefect::WrongScope, Some(400)),
            (ProvenanceDefect::WrongReason, Some(400)),
        ];
        for (defect, expected) in cases {
            assert_eq!(judge(&make(&defect)), expected, "{defect:?}");
        }
        for claim in MANDATORY_CLAIMS {
            let defect = ProvenanceDefect::MissingClaim(claim.into());
            assert_eq!(judge(&make(&defect)), Some(400), "{defect:?}");
        }
    }

    #[test]
    fn the_embedded_resources_are_valid_fhir_r4_and_the_invalid_device_is_not() {
        let schema = crate::fhir::schema::FhirSchema::embedded().unwrap();
        let claims = |defect| crate::auth::jwt::decode(&make(&defect)).unwrap().claims;
        let correct = claims(ProvenanceDefect::None);
        for claim in [
            "requested_record",
            "requesting_device",
            "requesting_organization",
            "requesting_practitioner",
        ] {
            assert!(
                schema.is_valid(&correct[claim]),
                "{claim}: {:?}",
                schema.validate(&correct[claim])
            );
        }
        let broken = claims(ProvenanceDefect::DeviceInvalid);
        assert!(!schema.is_valid(&broken["requesting_device"]));
    }

    #[test]
    fn raw_json_parts_are_not_base64url() {
        let token = make(&ProvenanceDefect::RawJson);
        assert!(token.starts_with("{\""), "{token}");
        assert!(crate::auth::jwt::decode(&token).is_err());
    }

    #[test]
    fn gherkin_wording_parses() {
        assert_eq!(
            ProvenanceDefect::parse("without requested_scope"),
            Some(ProvenanceDefect::MissingClaim("requested_scope".into()))
        );
        assert_eq!(ProvenanceDefect::parse("without nonsense"), None);
        assert_eq!(
            ProvenanceDefect::parse("a lifetime of -1 seconds"),
            Some(ProvenanceDefect::Lifetime(-1))
        );
        assert_eq!(
            ProvenanceDefect::parse("iat -600 seconds from now"),
            Some(ProvenanceDefect::IssuedAt(-600))
        );
    }

    #[test]
    fn scopes_follow_the_endpoint_and_verb() {
        assert_eq!(scope_for("GET", "Patient/1"), "patient/*.read");
        assert_eq!(scope_for("POST", "AllergyIntolerance"), "patient/*.write");
        assert_eq!(scope_for("GET", "Organization?x=1"), "organization/*.read");
        assert_eq!(
            scope_for("GET", "https://h/FHIR/R4/Patient/1"),
            "patient/*.read"
        );
    }
}
