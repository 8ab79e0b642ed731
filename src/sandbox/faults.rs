//! Deliberate violations the sandbox can switch on, one requirement-breaking behaviour each.
//! The fault matrix (tests/fault_matrix.rs) proves that every automated requirement fails
//! against at least one of them, and passes against the clean sandbox.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

macro_rules! faults {
    (@tls tls) => { true };
    (@tls) => { false };
    ($( $variant:ident = $name:literal in $profile:ident $($tls:ident)? : $description:literal => [$($breaks:literal),*] ; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Fault { $( $variant, )* }

        impl Fault {
            pub const ALL: &'static [Fault] = &[ $( Fault::$variant, )* ];

            pub fn name(self) -> &'static str {
                match self { $( Fault::$variant => $name, )* }
            }

            /// What the sandbox does wrong when the fault is on.
            pub fn description(self) -> &'static str {
                match self { $( Fault::$variant => $description, )* }
            }

            /// Whether the fault only exists on the HTTPS sandbox (`mts sandbox --tls`).
            pub fn needs_tls(self) -> bool {
                match self { $( Fault::$variant => faults!(@tls $($tls)?), )* }
            }

            /// The profile a run must use to judge the requirements this fault breaks.
            pub fn profile(self) -> crate::catalogue::Profile {
                match self { $( Fault::$variant => crate::catalogue::Profile::$profile, )* }
            }

            /// The requirements a run must fail when this fault is on, and only those: the
            /// fault matrix test holds every fault to this list.
            pub fn breaks(self) -> &'static [&'static str] {
                match self { $( Fault::$variant => &[$($breaks),*], )* }
            }
        }
    };
}

faults! {
    NoMetadata = "no-metadata" in Apim: "GET /metadata answers 404 instead of a CapabilityStatement" => ["IOP-FHIR-001"];
    WrongFhirVersion = "wrong-fhir-version" in Apim: "the CapabilityStatement declares fhirVersion 3.0.1" => ["IOP-FHIR-002"];
    WrongPatientId = "wrong-patient-id" in Apim: "reading a patient returns a different patient" => ["IOP-FHIR-007", "IOP-UKC-001", "IOP-UKC-007"];
    NoRequestIdEcho = "no-request-id-echo" in Apim: "responses do not mirror X-Request-ID" => ["API-HDR-001", "API-DOC-002"];
    RequestIdNotChecked = "request-id-not-checked" in Apim: "a missing or non-UUID X-Request-ID is accepted" => ["API-HDR-002", "API-DOC-002"];
    CorrelationIdInvented = "correlation-id-invented" in Apim: "responses carry an X-Correlation-ID the client never sent" => ["API-HDR-003"];
    DuplicateOnRetry = "duplicate-on-retry" in Apim: "a create retried with the same X-Request-ID creates a second resource" => ["API-HDR-004"];
    EtagMismatch = "etag-mismatch" in Apim: "the ETag does not match meta.versionId" => ["API-HDR-005"];
    IfMatchIgnored = "if-match-ignored" in Apim: "updates ignore If-Match" => ["API-HDR-006"];
    DropsElementsOnWrite = "drops-elements-on-write" in Apim: "creates and updates store an Observation without its value" => ["IOP-FHIR-010"];
    IfNoneExistIgnored = "if-none-exist-ignored" in Apim: "creates ignore If-None-Exist, though conditional create is declared" => ["IOP-FHIR-009"];
    HalfAppliedTransaction = "half-applied-transaction" in Apim: "a transaction with a failing entry is refused, yet the entries before it stay written" => ["IOP-FHIR-011"];
    BatchAllOrNothing = "batch-all-or-nothing" in Apim: "a batch with one failing entry is refused as a whole" => ["IOP-FHIR-012"];
    NoGzip = "no-gzip" in Apim: "responses are never gzip-compressed" => ["API-HDR-007"];
    PreferIgnored = "prefer-ignored" in Apim: "creates ignore Prefer and send no Location" => ["API-HDR-008"];
    TextErrors = "text-errors" in Apim: "errors are plain text, not OperationOutcome" => ["API-ERR-001", "API-DOC-002", "SEC-AUTH-001", "SEC-AUTH-002", "SEC-AUTH-004", "SEC-AUTH-006", "SEC-HTTP-001", "SEC-INP-001", "SEC-INP-002", "SEC-INP-003", "SEC-INP-007", "API-HDR-002", "API-HDR-006", "IOP-SRCH-004", "IOP-SRCH-005", "IOP-SRCH-010", "IOP-UKC-003", "SEC-RATE-001"];
    ServerErrors = "server-errors" in Apim: "unknown resource types cause a 500" => ["API-ERR-001", "IOP-FHIR-003", "SEC-HTTP-001", "SEC-INP-007"];
    OutcomeWarningSeverity = "outcome-warning-severity" in Apim: "error OperationOutcomes carry severity warning" => ["API-ERR-002"];
    NoSpineCode = "no-spine-code" in Apim: "OperationOutcomes carry no Spine error code" => ["API-ERR-003", "API-HDR-002", "SEC-RATE-001"];
    WrongStatusForCode = "wrong-status-for-code" in Apim: "not-found answers carry the Spine code BAD_REQUEST" => ["API-ERR-004"];
    UnversionedBase = "unversioned-base" in Apim: "the API is served at /fhir, which names no FHIR release" => ["API-VER-001"];
    Undocumented = "undocumented" in Apim: "neither a CapabilityStatement nor an OpenAPI document is published" => ["IOP-FHIR-001", "API-DOC-001"];
    OpenapiDrift = "openapi-drift" in Apim: "the OpenAPI document declares Patient reads as application/json; the server answers application/fhir+json" => ["API-DOC-002"];
    PingLeaks = "ping-leaks" in Apim: "/_ping discloses the server software and host" => ["API-OPS-001"];
    DeclaredNotImplemented = "declared-not-implemented" in Apim: "the CapabilityStatement declares Immunization search, which answers 404" => ["IOP-FHIR-003"];
    NoUkcoreProfiles = "no-ukcore-profiles" in Ukca: "the CapabilityStatement names no UK Core profile" => ["IOP-FHIR-004"];
    FormatIgnored = "format-ignored" in Apim: "_format does not override Accept" => ["IOP-FHIR-005", "SEC-INP-003"];
    InvalidPatient = "invalid-patient" in Apim: "patients carry gender \"F\", which the FHIR R4 schema forbids" => ["IOP-FHIR-006", "IOP-UKC-008"];
    NoMeta = "no-meta" in Apim: "resources carry no meta.versionId, lastUpdated or profile" => ["IOP-FHIR-008", "API-HDR-005", "IOP-UKC-007"];
    EmptySearch404 = "empty-search-404" in Apim: "a search with no match answers 404" => ["IOP-SRCH-001", "IOP-FHIR-003", "SEC-INP-006"];
    RelativeFullUrl = "relative-full-url" in Apim: "search entries have relative fullUrls and no search mode" => ["IOP-SRCH-002"];
    ImpreciseIdentifierSearch = "imprecise-identifier-search" in Apim: "an NHS number search returns every patient" => ["IOP-SRCH-003", "IOP-SRCH-001", "SEC-INP-006"];
    LenientTokens = "lenient-tokens" in Apim: "malformed identifier tokens are searched anyway" => ["IOP-SRCH-004", "IOP-UKC-003"];
    UnknownParamInSelfLink = "unknown-param-in-self-link" in Apim: "unknown search parameters are accepted and claimed in the self link" => ["IOP-SRCH-005"];
    StrictHandlingIgnored = "strict-handling-ignored" in Apim: "unknown search parameters are ignored even with Prefer: handling=strict" => ["IOP-SRCH-010"];
    PagingDuplicates = "paging-duplicates" in Apim: "the next page repeats the first page" => ["IOP-SRCH-006"];
    ClinicalSearchIgnoresPatient = "clinical-search-ignores-patient" in Ukca: "searches by patient return other patients' records" => ["IOP-SRCH-007", "IOP-SRCH-011"];
    EverythingLeaks = "everything-leaks" in Apim: "Patient $everything also returns another patient's records" => ["IOP-SRCH-012"];
    BrokenInclude = "broken-include" in Apim: "searches by patient declare _include of the patient and leave the patient out" => ["IOP-SRCH-013"];
    TokenSearchIgnored = "token-search-ignored" in Apim: "searches by patient take code, category and status, claim them in the self link, and ignore them" => ["IOP-SRCH-014"];
    RevincludeLeaks = "revinclude-leaks" in Apim: "a patient search with _revinclude brings every patient's records of the type" => ["IOP-SRCH-015"];
    DatePrefixIgnored = "date-prefix-ignored" in Ukca: "date prefixes are ignored (birthdate and the clinical record's dates)" => ["IOP-SRCH-008"];
    DanglingReference = "dangling-reference" in Apim: "an allergy refers to a patient that does not exist, and a search for the test patient returns it" => ["IOP-SRCH-009", "IOP-SRCH-011", "IOP-SRCH-013"];
    DuplicateNhsNumberIdentifier = "duplicate-nhs-number-identifier" in Apim: "patients carry their NHS number identifier twice" => ["IOP-UKC-001", "IOP-UKC-008"];
    BadNhsNumber = "bad-nhs-number" in Apim: "patients carry an NHS number that fails modulus 11" => ["IOP-UKC-001", "IOP-UKC-002", "IOP-SRCH-003"];
    InvalidNhsNumber404 = "invalid-nhs-number-404" in Apim: "a checksum-invalid NHS number is answered 404, as if valid" => ["IOP-UKC-003", "IOP-SRCH-004"];
    BadVerificationStatus = "bad-verification-status" in Apim: "the NHS number verification status uses an unknown code system" => ["IOP-UKC-004", "IOP-UKC-008"];
    BadOdsCode = "bad-ods-code" in Apim: "GP practice ODS codes are lower case" => ["IOP-UKC-005"];
    LegacyIdentifierSystem = "legacy-identifier-system" in Apim: "an identifier uses a deprecated http://fhir.nhs.net system" => ["IOP-UKC-006", "IOP-UKC-005"];
    UkCoreSlice = "uk-core-slice" in Ukca: "patients carry two ethnic category extensions, where UK Core's slice allows one" => ["IOP-UKC-008"];
    UkCoreBinding = "uk-core-binding" in Ukca: "patients carry a birth sex outside UK Core's required value set" => ["IOP-UKC-008"];
    UkCoreCardinality = "uk-core-cardinality" in Ukca: "medication statements carry an identifier without the system UK Core requires" => ["IOP-UKC-008"];
    UkCoreInvariant = "uk-core-invariant" in Ukca: "allergies entered in error still carry a clinical status, breaking the invariant ait-2" => ["IOP-UKC-008"];
    RestrictedLeaksAddress = "restricted-leaks-address" in Apim: "the restricted patient's address, telecom and GP are returned" => ["IOP-UKC-007"];
    BadSnomedCode = "bad-snomed-code" in Apim: "a SNOMED CT coding uses a misspelled system and an invalid check digit" => ["IOP-TERM-001"];
    BadDmdCode = "bad-dmd-code" in Apim: "a dm+d code fails the Verhoeff check" => ["IOP-TERM-002"];
    CodingWithoutDisplay = "coding-without-display" in Apim: "SNOMED CT and dm+d codings carry no display" => ["IOP-TERM-003"];
    NoCacheControlOnErrors = "no-cache-control-on-errors" in Apim: "error responses carry no Cache-Control" => ["SEC-HDR-002"];
    NoNosniff = "no-nosniff" in Apim: "responses carry no X-Content-Type-Options" => ["SEC-HDR-003"];
    ServerVersionHeader = "server-version-header" in Apim: "responses carry Server: Apache/2.4.52 (Ubuntu)" => ["SEC-HDR-004"];
    MetadataAsText = "metadata-as-text" in Apim: "the CapabilityStatement is labelled text/plain" => ["SEC-HDR-005", "API-DOC-002"];
    CorsAnyOriginWithCredentials = "cors-any-origin-with-credentials" in Apim: "CORS preflights echo any origin and allow credentials" => ["SEC-HDR-006"];
    StackTraceInErrors = "stack-trace-in-errors" in Apim: "not-found errors carry a Java stack trace in diagnostics" => ["SEC-ERR-001"];
    AcceptsUnknownElements = "accepts-unknown-elements" in Apim: "created resources are not validated: unknown elements are stored and returned" => ["SEC-INP-001", "IOP-FHIR-006", "IOP-UKC-008"];
    IgnoresContentType = "ignores-content-type" in Apim: "request bodies are read whatever their Content-Type" => ["SEC-INP-002"];
    AcceptIgnored = "accept-ignored" in Apim: "any Accept header is answered with JSON" => ["SEC-INP-003", "IOP-FHIR-005"];
    NoSizeLimit = "no-size-limit" in Apim: "request bodies of any size are accepted" => ["SEC-INP-004"];
    ReflectsInput = "reflects-input" in Apim: "search values and ids are echoed unescaped into responses" => ["SEC-INP-005"];
    IdentifierOr = "identifier-or" in Apim: "repeated identifier parameters are combined with OR" => ["SEC-INP-006"];
    CaseInsensitivePaths = "case-insensitive-paths" in Apim: "paths are matched without regard to case" => ["SEC-INP-007"];
    TraceEnabled = "trace-enabled" in Apim: "TRACE echoes the request" => ["SEC-HTTP-001"];
    PlainHttpServed = "plain-http-served" in Apim tls: "plain HTTP is answered with data on the HTTPS port" => ["SEC-TLS-001"];
    Tls13Only = "tls13-only" in Apim tls: "only TLS 1.3 is offered, so TLS 1.2 clients cannot connect" => ["SEC-TLS-002"];
    Tls10Accepted = "tls10-accepted" in Apim tls: "TLS 1.0 and 1.1 ClientHellos are accepted" => ["SEC-TLS-003"];
    WeakCipherAccepted = "weak-cipher-accepted" in Apim tls: "a ClientHello offering only weak cipher suites is accepted" => ["SEC-TLS-004"];
    ExpiredCertificate = "expired-certificate" in Apim tls: "the server certificate expired yesterday" => ["SEC-TLS-005"];
    WrongHostnameCertificate = "wrong-hostname-certificate" in Apim tls: "the server certificate names another host" => ["SEC-TLS-005"];
    NoHsts = "no-hsts" in Apim tls: "HTTPS responses carry no Strict-Transport-Security" => ["SEC-HDR-001"];
    ShortHsts = "short-hsts" in Apim tls: "Strict-Transport-Security max-age is five minutes" => ["SEC-HDR-001"];
    AuthBypass = "auth-bypass" in Apim tls: "data endpoints serve any request, with or without a valid token" => ["SEC-AUTH-001", "SEC-AUTH-002", "SEC-AUTH-004", "SEC-AUTH-006"];
    NoWwwAuthenticate = "no-www-authenticate" in Apim tls: "401 answers carry no WWW-Authenticate challenge" => ["SEC-AUTH-003"];
    ScopeNotEnforced = "scope-not-enforced" in Apim tls: "a read-only token may create and update" => ["SEC-AUTH-004"];
    TokenInQueryAccepted = "token-in-query-accepted" in Apim tls: "an access_token query parameter is accepted as a credential" => ["SEC-AUTH-006"];
    AlgNoneAccepted = "alg-none-accepted" in Apim tls: "the token endpoint accepts unsigned and HS256 client assertions" => ["SEC-JWT-004"];
    JtiReplayAccepted = "jti-replay-accepted" in Apim tls: "the token endpoint accepts a client assertion's jti twice" => ["SEC-JWT-004"];
    LongExpiryAccepted = "long-expiry-accepted" in Apim tls: "the token endpoint accepts client assertions expiring more than five minutes ahead" => ["SEC-JWT-004"];
    ClientCertOptional = "client-certificate-optional" in Gpc tls: "under mutual TLS, connections without a client certificate are served" => ["SEC-TLS-006"];
    ClientCertAnyIssuer = "client-certificate-any-issuer" in Gpc tls: "under mutual TLS, client certificates from any issuer are accepted" => ["SEC-TLS-006"];
    ClientCertExpiredAccepted = "client-certificate-expired-accepted" in Gpc tls: "under mutual TLS, expired client certificates are accepted" => ["SEC-TLS-006"];
    ClientCertRevocationIgnored = "client-certificate-revocation-ignored" in Gpc tls: "under mutual TLS, revoked client certificates are accepted (the CRL is ignored)" => ["SEC-TLS-006"];
    ClientCertNameUnchecked = "client-certificate-name-unchecked" in Gpc tls: "under mutual TLS, a certificate for any system name is accepted" => ["SEC-TLS-006"];
    NoRateLimit = "no-rate-limit" in Apim tls: "requests past the application's rate limit are still served" => ["SEC-RATE-001"];
    NoRetryAfter = "no-retry-after" in Apim tls: "429 answers do not say when to retry" => ["SEC-RATE-002"];
    SspHeadersIgnored = "ssp-headers-ignored" in Gpc: "requests missing Spine Secure Proxy headers are served" => ["GPC-SSP-001"];
    SspToIgnored = "ssp-to-ignored" in Gpc: "requests addressed to another ASID are served" => ["GPC-SSP-002"];
    InteractionIdIgnored = "interaction-id-ignored" in Gpc: "Ssp-InteractionID is not checked against the endpoint" => ["GPC-SSP-003"];
    BundleIdNotTraceId = "bundle-id-not-trace-id" in Gpc: "search Bundles do not carry the request's Ssp-TraceID as id" => ["GPC-SSP-004"];
    ProvenanceClaimsUnchecked = "provenance-claims-unchecked" in Gpc: "provenance JWTs are accepted however encoded and whatever claims they lack" => ["SEC-JWT-001", "SEC-AUTH-002"];
    ProvenanceLifetimeUnchecked = "provenance-lifetime-unchecked" in Gpc: "provenance JWTs are accepted whatever their lifetime, even expired" => ["SEC-JWT-002"];
    ProvenanceContentUnchecked = "provenance-content-unchecked" in Gpc: "the provenance JWT's scope, reason and embedded resources are not validated" => ["SEC-JWT-003"];
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                let hint = crate::util::did_you_mean(text, names.iter().copied())
                    .map(|n| format!(" (did you mean {n}?)"))
                    .unwrap_or_default();
                format!(
                    "unknown fault `{text}`{hint}; known faults: {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
            assert!(!fault.description().is_empty());
        }
        assert!(
            "no-metdata"
                .parse::<Fault>()
                .unwrap_err()
                .contains("did you mean no-metadata")
        );
    }
}
