//! Hostile input, generated (bounded property runs; each prints its cases
//! and time): CSV imports, badge template JSON and photos. Nothing panics,
//! every refusal is a specific error, and a refused input changes nothing.
//! Card-format definitions (any field positions and lengths, including the
//! u16 edges) are validated, encoded and decoded the same way.

mod common;

use carddesk::badge::{render_pdf, BadgeData, Template};
use carddesk::desk::{CardholderInput, DeskError};
use carddesk::domain::card_format::{FieldSpec, FieldValues, Parity, ParitySpec, WiegandFormat};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::time::Instant;

fn run<S: Strategy>(
    what: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner.run(&strategy, test).unwrap();
    eprintln!(
        "hostile input {what}: {cases} cases in {:.1} s, no crash",
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------- card formats

fn any_u16() -> impl Strategy<Value = u16> {
    // Mostly small positions, with the edges of u16 that wrap around.
    prop_oneof![
        0u16..140,
        Just(u16::MAX),
        Just(u16::MAX - 1),
        65_000u16..=u16::MAX
    ]
}

/// Well-formed layouts: fields side by side after a parity bit, a
/// trailing parity bit, bits in 3..=128.
fn laid_out() -> impl Strategy<Value = WiegandFormat> {
    prop::collection::vec(1u16..=40, 1..4)
        .prop_flat_map(|lens| {
            let used: u16 = lens.iter().sum::<u16>() + 2;
            (Just(lens), used..=128u16, any::<bool>())
        })
        .prop_filter("fits in 128 bits", |(lens, bits, _)| {
            lens.iter().sum::<u16>() + 2 <= *bits
        })
        .prop_map(|(lens, bits, odd)| {
            let mut start = 1;
            let fields: Vec<FieldSpec> = lens
                .iter()
                .enumerate()
                .map(|(i, &len)| {
                    let f = FieldSpec {
                        name: format!("f{i}"),
                        start,
                        len,
                    };
                    start += len;
                    f
                })
                .collect();
            let kind = if odd { Parity::Odd } else { Parity::Even };
            WiegandFormat {
                name: "fuzz".into(),
                description: String::new(),
                bits,
                parity: vec![
                    ParitySpec {
                        position: 0,
                        kind,
                        covers: (1..start).collect(),
                    },
                    ParitySpec {
                        position: start,
                        kind,
                        covers: (1..start).collect(),
                    },
                ],
                fields,
            }
        })
}

fn definition() -> impl Strategy<Value = WiegandFormat> {
    prop_oneof![laid_out(), hostile()]
}

fn hostile() -> impl Strategy<Value = WiegandFormat> {
    let field = ("[a-z]{1,3}", any_u16(), any_u16()).prop_map(|(name, start, len)| FieldSpec {
        name,
        start,
        len,
    });
    let parity = (
        any_u16(),
        any::<bool>(),
        prop::collection::vec(any_u16(), 0..8),
    )
        .prop_map(|(position, odd, covers)| ParitySpec {
            position,
            kind: if odd { Parity::Odd } else { Parity::Even },
            covers,
        });
    (
        any_u16(),
        prop::collection::vec(field, 0..5),
        prop::collection::vec(parity, 0..3),
    )
        .prop_map(|(bits, fields, parity)| WiegandFormat {
            name: "fuzz".into(),
            description: String::new(),
            bits,
            fields,
            parity,
        })
}

#[test]
fn card_format_definitions_never_panic_and_accepted_ones_round_trip() {
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    run(
        "card-format definitions",
        5000,
        (definition(), any::<u64>()),
        |(w, seed)| {
            let bits = "1".repeat(usize::from(w.bits.min(200)));
            if w.validate().is_err() {
                // Refused definitions are refused everywhere, never used.
                prop_assert!(w.encode(&FieldValues::new()).is_err());
                prop_assert!(w.decode(&bits).is_err());
                return Ok(());
            }
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let values: FieldValues = w
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), seed.rotate_left(i as u32 * 7) & f.max()))
                .collect();
            let encoded = w.encode(&values).unwrap();
            prop_assert_eq!(encoded.len(), usize::from(w.bits));
            let decoded = w.decode(&encoded).unwrap();
            prop_assert_eq!(decoded.fields.into_iter().collect::<FieldValues>(), values);
            // Any bit string of the right length decodes without panicking.
            let _ = w.decode(&bits);
            Ok(())
        },
    );
    let accepted = accepted.into_inner();
    eprintln!("hostile input card-format definitions: {accepted} accepted and round-tripped");
    assert!(
        accepted > 1000,
        "the generator makes too few valid definitions"
    );
}

// ---------------------------------------------------------------- CSV

fn csv_text() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        "[A-Za-zÀ-ÿ ]{0,12}",
        Just(String::new()),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "[a-z]{1,6}@[a-z]{1,6}\\.[a-z]{2}",
        ".{0,20}",
        Just("\"".to_string()),
        Just("\"unterminated".to_string()),
    ];
    let row = prop::collection::vec(cell, 0..9).prop_map(|cells| cells.join(","));
    let header = prop_oneof![
        Just("first_name,last_name,email,department,site,activation,expiry".to_string()),
        Just("first_name,last_name".to_string()),
        "[a-z_,]{0,40}",
    ];
    (header, prop::collection::vec(row, 0..12))
        .prop_map(|(h, rows)| format!("{h}\n{}", rows.join("\n")))
}

#[test]
fn csv_imports_never_panic_and_all_or_nothing_holds() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let t = std::cell::RefCell::new(&mut t);
    run(
        "CSV import",
        400,
        (csv_text(), any::<bool>()),
        |(text, skip_bad)| {
            let mut t = t.borrow_mut();
            let before = t.dump();
            match t
                .desk
                .import_cardholders(&admin, text.as_bytes(), None, skip_bad)
            {
                Ok(report) => {
                    prop_assert!(skip_bad || report.skipped.is_empty());
                }
                Err(e) => {
                    // A refused file writes nothing, and says why.
                    prop_assert!(!e.to_string().is_empty());
                    prop_assert_eq!(t.dump(), before);
                }
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------- templates

/// A shipped template's JSON with values replaced at random places: mostly
/// by a hostile value of the same kind (a huge, negative or NaN-like number
/// for a number, any text for a text), sometimes by anything at all.
fn template_json(base: serde_json::Value) -> impl Strategy<Value = String> {
    let number = prop_oneof![
        -1.0e12f64..1.0e12,
        -5.0f64..200.0,
        Just(0.0),
        Just(f64::MAX),
        Just(-f64::MAX),
    ];
    let edit = (any::<prop::sample::Index>(), number, ".{0,16}", 0u8..10);
    prop::collection::vec(edit, 1..4).prop_map(move |edits| {
        let mut v = base.clone();
        for (at, n, text, kind) in edits {
            let mut leaves = Vec::new();
            collect_paths(&v, &mut Vec::new(), &mut leaves);
            let path = at.get(&leaves).clone();
            let Some(slot) = path.iter().try_fold(&mut v, |v, k| match k {
                Key::Field(f) => v.get_mut(f.as_str()),
                Key::Item(i) => v.get_mut(*i),
            }) else {
                continue;
            };
            *slot = match (kind, &*slot) {
                (0, _) => serde_json::Value::Null,
                (1, _) => serde_json::json!([]),
                (_, serde_json::Value::Number(_)) => serde_json::json!(n),
                (_, serde_json::Value::String(_)) => serde_json::Value::from(text),
                (2..=4, serde_json::Value::Object(_) | serde_json::Value::Array(_)) => continue,
                _ => serde_json::Value::from(text),
            };
        }
        v.to_string()
    })
}

#[derive(Clone, Debug)]
enum Key {
    Field(String),
    Item(usize),
}

fn collect_paths(v: &serde_json::Value, here: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    out.push(here.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                here.push(Key::Field(k.clone()));
                collect_paths(child, here, out);
                here.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                here.push(Key::Item(i));
                collect_paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn badge_template_json_never_panics_and_accepted_ones_render() {
    let t = TestDesk::new();
    let base = serde_json::to_value(t.desk.badge_template(&t.admin, "Standard").unwrap()).unwrap();
    let sample = BadgeData::sample();
    let rendered = std::sync::atomic::AtomicUsize::new(0);
    run("badge template JSON", 300, template_json(base), |json| {
        if let Ok(template) = Template::from_json(&json) {
            // Accepted means renderable (or a clear badge error), never a panic.
            if let Ok(pdf) = render_pdf(&template, std::slice::from_ref(&sample)) {
                prop_assert!(pdf.starts_with(b"%PDF"));
                rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    });
    let rendered = rendered.into_inner();
    eprintln!("hostile input badge template JSON: {rendered} mutated templates rendered");
    assert!(
        rendered > 0,
        "no mutated template was accepted: the generator is too blunt"
    );
    // Not JSON at all, and JSON of the wrong shape.
    for bad in ["", "{", "[]", "null", "{\"name\": 5}", "\u{0}"] {
        assert!(Template::from_json(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------- photos

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 120, 40]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([40, 120, 200]));
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

/// CRC-32 (IEEE) of a PNG chunk's type and data, to forge valid chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header says 20 000 × 20 000 RGB (1.2 GB of pixels) with a
/// few bytes of data: decoding it naively would try to allocate it all.
fn gigantic_png() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

fn with_photo(t: &mut TestDesk, bytes: Vec<u8>) -> Result<i64, DeskError> {
    let input = CardholderInput {
        photo: Some((bytes, "image/png".into())),
        ..person("Photo", "Test")
    };
    t.desk
        .create_cardholder(&t.admin, &input, None)
        .map(|(id, _)| id)
}

#[test]
fn photos_that_are_not_whole_images_are_refused_with_a_reason() {
    let mut t = TestDesk::new();
    // Good ones pass.
    with_photo(&mut t, png(300, 400)).unwrap();
    with_photo(&mut t, jpeg(300, 400)).unwrap();
    let before = t.dump();
    for (what, bytes) in [
        ("text", b"hello, not a picture".to_vec()),
        ("PNG magic only", b"\x89PNG\r\n\x1a\n".to_vec()),
        ("20000 x 20000 PNG", gigantic_png()),
        ("empty", Vec::new()),
    ] {
        let err = with_photo(&mut t, bytes).unwrap_err().to_string();
        assert!(err.starts_with("photo: cannot be used ("), "{what}: {err}");
        assert!(err.contains("8000 × 8000"), "{what}: {err}");
    }
    let huge = with_photo(&mut t, gigantic_png()).unwrap_err().to_string();
    assert!(huge.to_lowercase().contains("limit"), "{huge}");
    assert_eq!(t.dump(), before, "a refused photo wrote nothing");
}

#[test]
fn truncated_photos_never_panic_and_never_get_stored() {
    let mut t = TestDesk::new();
    let (p, j) = (png(64, 48), jpeg(64, 48));
    let t = std::cell::RefCell::new(&mut t);
    run(
        "truncated photos",
        300,
        (any::<bool>(), any::<prop::sample::Index>()),
        |(is_png, cut)| {
            let whole = if is_png { &p } else { &j };
            let at = cut.index(whole.len() - 1).max(1);
            let mut t = t.borrow_mut();
            match with_photo(&mut t, whole[..at].to_vec()) {
                Ok(_) => prop_assert!(false, "cut at {at} of {} accepted", whole.len()),
                Err(e) => prop_assert!(e.to_string().starts_with("photo: "), "{e}"),
            }
            Ok(())
        },
    );
}
