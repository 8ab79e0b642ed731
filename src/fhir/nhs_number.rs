//! NHS number check digit (NHS Data Dictionary): weights 10..2 over the first nine digits,
//! check = 11 − (sum mod 11); 11 becomes 0 and 10 means the number can never be valid.

use serde_json::Value;

use super::NHS_NUMBER_SYSTEM;
use super::path::JsonPath;

/// Why a string is not a valid NHS number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NhsNumberProblem {
    NotTenDigits,
    CheckDigitMismatch { expected: u32, found: u32 },
    CheckDigitImpossible,
}

impl std::fmt::Display for NhsNumberProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotTenDigits => f.write_str("is not exactly 10 digits"),
            Self::CheckDigitMismatch { expected, found } => {
                write!(f, "fails modulus 11: check digit is {found}, the first nine digits give {expected}")
            }
            Self::CheckDigitImpossible => {
                f.write_str("fails modulus 11: the first nine digits give check value 10, which no NHS number may have")
            }
        }
    }
}

pub fn check(number: &str) -> Result<(), NhsNumberProblem> {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if number.len() != 10 || digits.len() != 10 {
        return Err(NhsNumberProblem::NotTenDigits);
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    let expected = match 11 - sum % 11 {
        11 => 0,
        10 => return Err(NhsNumberProblem::CheckDigitImpossible),
        other => other,
    };
    if digits[9] == expected {
        Ok(())
    } else {
        Err(NhsNumberProblem::CheckDigitMismatch {
            expected,
            found: digits[9],
        })
    }
}

pub fn is_valid(number: &str) -> bool {
    check(number).is_ok()
}

/// Every identifier in `value` with the NHS number system: where it is and its value.
pub fn find_identifiers(value: &Value, root: &JsonPath) -> Vec<(JsonPath, Value)> {
    let mut found = Vec::new();
    walk(value, root.clone(), &mut found);
    found
}

fn walk(value: &Value, here: JsonPath, found: &mut Vec<(JsonPath, Value)>) {
    match value {
        Value::Object(map) => {
            if map.get("system").and_then(Value::as_str) == Some(NHS_NUMBER_SYSTEM) {
                found.push((
                    here.clone(),
                    map.get("value").cloned().unwrap_or(Value::Null),
                ));
            }
            for (key, child) in map {
                walk(child, here.child(key, child), found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, here.index(index), found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_test_numbers_have_the_documented_checksums() {
        for valid in [
            "9000000009",
            "9000000017",
            "9000000025",
            "9000000033",
            "9111231130",
            "9693632109",
            "9999999999",
            "9434765919",
            "9912003071",
        ] {
            assert_eq!(check(valid), Ok(()), "{valid}");
        }
        for invalid in [
            "9000000000",
            "1234567891",
            "9876544321",
            "9912003072",
            "9912003073",
        ] {
            assert!(check(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn shape_is_checked_before_the_checksum() {
        assert_eq!(check("900000000"), Err(NhsNumberProblem::NotTenDigits));
        assert_eq!(check("900 000 0009"), Err(NhsNumberProblem::NotTenDigits));
        assert_eq!(check("90000000a9"), Err(NhsNumberProblem::NotTenDigits));
        assert_eq!(
            check("９000000009"),
            Err(NhsNumberProblem::NotTenDigits),
            "full-width digit"
        );
        assert_eq!(
            check("9000000001"),
            Err(NhsNumberProblem::CheckDigitMismatch {
                expected: 9,
                found: 1
            })
        );
    }

    #[test]
    fn a_check_value_of_ten_is_never_valid() {
        // 1000000010: sum = 10*1 + 2*1 = 12 → 11 − 1 = 10.
        assert_eq!(
            check("1000000010"),
            Err(NhsNumberProblem::CheckDigitImpossible)
        );
    }

    #[test]
    fn identifiers_are_found_anywhere_in_a_body() {
        let bundle = serde_json::json!({
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Patient", "identifier": [
                {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"},
                {"system": "https://example.org/mrn", "value": "1"}
            ]}}]
        });
        let found = find_identifiers(&bundle, &JsonPath::resource_root(&bundle));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].0.fhirpath(),
            "Bundle.entry[0].resource.ofType(Patient).identifier[0]"
        );
        assert_eq!(found[0].1, "9000000009");
    }
}
