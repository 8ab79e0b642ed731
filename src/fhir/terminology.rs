//! SNOMED CT identifier syntax: 6–18 digits, no leading zero, a partition identifier in the
//! two digits before the check digit, and a Verhoeff check digit (SNOMED CT Technical Guide).

pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
pub const DMD_SYSTEM: &str = "https://dmd.nhs.uk";

/// Partition identifiers in use: concepts, descriptions and relationships, in the
/// international (0x) and extension (1x) namespaces.
const PARTITIONS: &[&str] = &["00", "01", "02", "10", "11", "12"];

/// Verhoeff's table `d`: multiplication in the dihedral group D5 (elements 0-4 rotations, 5-9
/// reflections). Published: Verhoeff, "Error Detecting Decimal Codes" (1969), as reproduced in the
/// Wikipedia article "Verhoeff algorithm" and OEIS A374967.
const MULTIPLY: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Verhoeff's table `p`: row `i` applies the permutation (1 5 8 9 4 2 7 0)(3 6) `i` times to a
/// digit in position `i` (counted from the right, check digit at 0). Same sources as `MULTIPLY`;
/// the tests rebuild every row from the cycle, so a mistyped entry cannot hide.
const PERMUTE: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Whether a string of digits carries a valid Verhoeff check digit (its last digit).
pub fn verhoeff_valid(digits: &str) -> bool {
    let mut check = 0u8;
    for (position, c) in digits.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return false;
        }
        check = MULTIPLY[check as usize][PERMUTE[position % 8][(c - b'0') as usize] as usize];
    }
    !digits.is_empty() && check == 0
}

/// Why a code is not a SNOMED CT identifier, or `None` when it is one.
pub fn sctid_problem(code: &str) -> Option<String> {
    if code.is_empty() {
        return Some("the code is empty".into());
    }
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("`{code}` is not an SCTID: only digits are allowed"));
    }
    if !(6..=18).contains(&code.len()) {
        return Some(format!(
            "`{code}` has {} digits; an SCTID has 6 to 18",
            code.len()
        ));
    }
    if code.starts_with('0') {
        return Some(format!("`{code}` starts with 0, which no SCTID does"));
    }
    let partition = &code[code.len() - 3..code.len() - 1];
    if !PARTITIONS.contains(&partition) {
        return Some(format!(
            "`{code}` has partition identifier {partition}, which is not one of 00, 01, 02, 10, 11, 12"
        ));
    }
    if !verhoeff_valid(code) {
        return Some(format!("`{code}` fails the Verhoeff check digit"));
    }
    None
}

/// A SNOMED CT compositional-grammar expression rather than a single identifier.
pub fn is_expression(code: &str) -> bool {
    code.contains([':', '=', '{', '}', '|', '+'])
}

/// A system that is meant to be SNOMED CT but is not spelled `http://snomed.info/sct`.
pub fn is_misspelled_snomed(system: &str) -> bool {
    system != SNOMED_SYSTEM && system.to_ascii_lowercase().contains("snomed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_concept_ids_pass() {
        for code in [
            "91936005",
            "300916003",
            "322236009",
            "227493005",
            "39720311000001101",
            "1240581000000104",
        ] {
            assert_eq!(sctid_problem(code), None, "{code}");
        }
    }

    /// The codes a user found failing before the permutation table was mended (issue 18): each has
    /// a 6, 7 or 8 in a position where the mistyped row 4 of `p` applied.
    #[test]
    fn everyday_clinical_codes_pass() {
        for code in [
            "195967001",
            "75367002",
            "364075005",
            "50373000",
            "39579001",
            "185389009",
            "319773006",
            "41946511000001109",
        ] {
            assert_eq!(sctid_problem(code), None, "{code}");
        }
    }

    /// Every row of `p` is the cycle (1 5 8 9 4 2 7 0)(3 6) applied once more than the row above,
    /// and the eighth application is the identity again.
    #[test]
    fn the_permutation_table_is_the_powers_of_its_generator() {
        let mut generator = [0u8; 10];
        for cycle in [&[1u8, 5, 8, 9, 4, 2, 7, 0][..], &[3, 6]] {
            for (i, &digit) in cycle.iter().enumerate() {
                generator[digit as usize] = cycle[(i + 1) % cycle.len()];
            }
        }
        let mut row: [u8; 10] = std::array::from_fn(|d| d as u8);
        for (power, published) in PERMUTE.iter().enumerate() {
            assert_eq!(&row, published, "row {power} of the permutation table");
            row = row.map(|d| generator[d as usize]);
        }
        assert_eq!(row, PERMUTE[0], "the generator has order 8");
    }

    /// `d` is the Cayley table of D5: 0 is the identity, every element has an inverse, the
    /// operation is associative, rotations commute and reflections do not.
    #[test]
    fn the_multiplication_table_is_the_dihedral_group() {
        let d = |a: u8, b: u8| MULTIPLY[a as usize][b as usize];
        for a in 0..10u8 {
            assert_eq!((d(0, a), d(a, 0)), (a, a));
            assert!(
                (0..10).any(|b| d(a, b) == 0 && d(b, a) == 0),
                "{a} has an inverse"
            );
            let mut row: Vec<u8> = MULTIPLY[a as usize].to_vec();
            row.sort_unstable();
            assert_eq!(
                row,
                (0..10).collect::<Vec<u8>>(),
                "row {a} is a permutation"
            );
            for b in 0..10u8 {
                for c in 0..10u8 {
                    assert_eq!(d(d(a, b), c), d(a, d(b, c)), "({a}·{b})·{c}");
                }
            }
        }
        for a in 0..5u8 {
            for b in 0..5u8 {
                assert_eq!(d(a, b), (a + b) % 5, "rotations add modulo 5");
            }
        }
        assert_ne!(d(5, 1), d(1, 5), "reflections and rotations do not commute");
    }

    #[test]
    fn broken_ids_are_explained() {
        assert!(sctid_problem("91936006").unwrap().contains("Verhoeff"));
        assert!(sctid_problem("12345").unwrap().contains("5 digits"));
        assert!(
            sctid_problem("091936005")
                .unwrap()
                .contains("starts with 0")
        );
        assert!(sctid_problem("91936A05").unwrap().contains("only digits"));
        assert!(sctid_problem("1234567891").unwrap().contains("partition"));
        assert!(sctid_problem("").is_some());
    }

    #[test]
    fn systems_and_expressions_are_recognised() {
        assert!(is_misspelled_snomed("https://snomed.info/sct"));
        assert!(is_misspelled_snomed("http://snomed.info/sct/"));
        assert!(!is_misspelled_snomed(SNOMED_SYSTEM));
        assert!(!is_misspelled_snomed("https://dmd.nhs.uk"));
        assert!(is_expression(
            "71388002 |Procedure| : 405815000 = 122456005"
        ));
        assert!(!is_expression("71388002"));
    }
}
