//! Unit tests of the card formats: published vectors, parity, range and
//! field errors, UID normalisation and custom definitions.

use super::*;

fn fmt(name: &str) -> CardFormat {
    builtin_formats()
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap()
}

fn vals(pairs: &[(&str, u64)]) -> FieldValues {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn builtin_definitions_are_valid() {
    for f in builtin_formats() {
        if let CardFormat::Wiegand(w) = f {
            w.validate().unwrap();
        }
    }
}

#[test]
fn h10301_published_vector() {
    let f = fmt("H10301");
    let bits = f.encode(&vals(&[("facility", 1), ("card", 1)])).unwrap();
    assert_eq!(bits, "10000000100000000000000010");
    let d = f.decode(&bits).unwrap();
    assert!(d.parity_ok);
    assert_eq!(d.fields, vec![("facility".into(), 1), ("card".into(), 1)]);
}

#[test]
fn out_of_range_names_field_value_and_range() {
    let f = fmt("H10301");
    let err = f
        .parse_fields(&[
            ("facility".into(), "12".into()),
            ("card".into(), "70000".into()),
        ])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "card 70000 is out of range for H10301 (0–65535)"
    );
    let err = f
        .parse_fields(&[
            ("facility".into(), "abc".into()),
            ("card".into(), "1".into()),
        ])
        .unwrap_err();
    assert!(
        err.to_string().contains("facility \"abc\" is not a number"),
        "{err}"
    );
    let err = f
        .parse_fields(&[
            ("facility".into(), "-1".into()),
            ("card".into(), "1".into()),
        ])
        .unwrap_err();
    assert!(matches!(err, FormatError::OutOfRange { .. }), "{err}");
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let f = fmt("H10301");
    let err = f.parse_fields(&[("card".into(), "5".into())]).unwrap_err();
    assert_eq!(err.to_string(), "H10301 needs a value for facility");
    let err = f
        .parse_fields(&[("company".into(), "5".into())])
        .unwrap_err();
    assert!(err.to_string().contains("facility, card"), "{err}");
}

#[test]
fn wrong_length_and_non_binary_bits_are_refused() {
    let f = fmt("H10301");
    assert_eq!(
        f.decode("1010").unwrap_err().to_string(),
        "H10301 takes 26 bits, got 4"
    );
    assert!(matches!(
        f.decode("1000000010000000000000001x").unwrap_err(),
        FormatError::NotBinary('x')
    ));
}

#[test]
fn flipped_bit_fails_parity() {
    let f = fmt("H10301");
    let mut bits: Vec<char> = "10000000100000000000000010".chars().collect();
    bits[5] = '1';
    let s: String = bits.into_iter().collect();
    assert!(!f.decode(&s).unwrap().parity_ok);
}

#[test]
fn uid_normalisation() {
    assert_eq!(normalize_uid("04 a1:b2c3d4e5f6").unwrap(), "04A1B2C3D4E5F6");
    assert!(normalize_uid("04A1B2").is_err());
    assert!(normalize_uid("ZZA1B2C3").is_err());
}

#[test]
fn custom_format_round_trips_through_json() {
    let f = fmt("H10304");
    let json = serde_json::to_string(&f).unwrap();
    let back: CardFormat = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f);
}

#[test]
fn overlapping_custom_definition_is_refused() {
    let w = WiegandFormat {
        name: "X".into(),
        description: String::new(),
        bits: 10,
        fields: vec![field("a", 0, 6), field("b", 5, 5)],
        parity: vec![],
    };
    assert!(w
        .validate()
        .unwrap_err()
        .to_string()
        .contains("bit 5 is used twice"));
}

mod hostile_definitions {
    //! A definition whose field starts near u16::MAX (the property run over
    //! any definition is in tests/hostile_input.rs).
    use super::*;

    #[test]
    fn a_field_starting_near_u16_max_is_refused_with_its_bits() {
        let w = WiegandFormat {
            name: "wrap".into(),
            description: String::new(),
            bits: 26,
            fields: vec![FieldSpec {
                name: "card".into(),
                start: 65535,
                len: 2,
            }],
            parity: vec![],
        };
        let err = w.validate().unwrap_err().to_string();
        assert!(
            err.contains("field card (bits 65535–65536) runs past bit 25"),
            "{err}"
        );
    }
}
