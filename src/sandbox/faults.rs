//! Deliberate violations the sandbox can switch on, one requirement-breaking behaviour each.
//! The fault matrix (tests/fault_matrix.rs) proves that every automated requirement fails
//! against at least one of them, and passes against the clean sandbox.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

macro_rules! faults {
    ($( $variant:ident = $name:literal : $description:literal => [$($breaks:literal),*] ; )*) => {
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

            /// The requirements a run must fail when this fault is on, and only those: the
            /// fault matrix test holds every fault to this list.
            pub fn breaks(self) -> &'static [&'static str] {
                match self { $( Fault::$variant => &[$($breaks),*], )* }
            }
        }
    };
}

faults! {
    NoMetadata = "no-metadata": "GET /metadata answers 404 instead of a CapabilityStatement" => ["IOP-FHIR-001"];
    WrongFhirVersion = "wrong-fhir-version": "the CapabilityStatement declares fhirVersion 3.0.1" => ["IOP-FHIR-002"];
    WrongPatientId = "wrong-patient-id": "reading a patient returns a different patient" => ["IOP-FHIR-007"];
    NoRequestIdEcho = "no-request-id-echo": "responses do not mirror X-Request-ID" => ["API-HDR-001"];
    TextErrors = "text-errors": "errors are plain text, not OperationOutcome" => ["API-ERR-001"];
    ServerErrors = "server-errors": "unknown resource types cause a 500" => ["API-ERR-001"];
    InvalidPatient = "invalid-patient": "patients carry gender \"F\", which the FHIR R4 schema forbids" => ["IOP-FHIR-006"];
    BadNhsNumber = "bad-nhs-number": "patients carry an NHS number that fails modulus 11" => ["IOP-UKC-002"];
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
