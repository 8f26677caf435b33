//! Badges as the card printer will get them: the PDF is checked with
//! poppler-utils (pdfinfo, pdftotext, pdfimages, pdftoppm) and zbar-tools
//! (zbarimg), the same programs an inspector would use. Printing to CUPS is
//! in tests/printing.rs.

mod common;

use carddesk::badge::{self, BadgeData, Template};
use carddesk::desk::RequestFields;
use carddesk::desk::{CardholderInput, DeskError};
use carddesk::domain::Role;
use common::{manual, TestDesk};
use std::path::Path;
use std::process::Command;

const NAME: &str = "Zoë Ğüneş-Ødegård";

/// Runs a tool and returns stdout; a missing tool fails with the package name.
fn tool(program: &str, args: &[&str], package: &str) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed for this test ({e}); apt-get install {package}")
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A 120 × 160 px photo: a size no other image on the card has.
fn photo_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(120, 160, |x, y| {
        image::Rgb([(x * 2) as u8, (y + 60) as u8, 180])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

/// A request for Zoë with a photo and an H10301 card (card number 12345).
fn request_with_card(t: &mut TestDesk, template: &str) -> i64 {
    let input = CardholderInput {
        first_name: "Zoë".into(),
        last_name: "Ğüneş-Ødegård".into(),
        department: Some("Facilities".into()),
        photo: Some((photo_png(), "image/png".into())),
        expiry: Some("2027-12-31".into()),
        ..Default::default()
    };
    let fields = RequestFields {
        badge_template: template.into(),
        ..common::request(false)
    };
    let admin = t.admin.clone();
    let (_, request) = t
        .desk
        .create_cardholder(&admin, &input, Some(&fields))
        .unwrap();
    let request = request.unwrap();
    t.desk
        .connect_card(
            &admin,
            request,
            &manual("H10301", &[("facility", "12"), ("card", "12345")]),
        )
        .unwrap();
    request
}

fn write_pdf(dir: &Path, pdf: &[u8]) -> String {
    let path = dir.join("badge.pdf");
    std::fs::write(&path, pdf).unwrap();
    path.to_string_lossy().into_owned()
}

fn page_size(pdf: &str) -> (f64, f64) {
    let info = tool("pdfinfo", &[pdf], "poppler-utils");
    let line = info
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .expect("pdfinfo prints the page size");
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

fn decode_barcodes(pdf: &str, dir: &Path) -> String {
    let prefix = dir.join("page");
    tool(
        "pdftoppm",
        &[
            "-r",
            "600",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            pdf,
            &prefix.to_string_lossy(),
        ],
        "poppler-utils",
    );
    let png = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .unwrap();
    tool("zbarimg", &["-q", &png.to_string_lossy()], "zbar-tools")
}

#[test]
fn request_badge_pdf_has_card_size_name_codes_and_photo() {
    let mut t = TestDesk::new();
    let request = request_with_card(&mut t, "Standard");
    let pdf = t.desk.render_request_badge(&t.admin, request).unwrap();
    let pdf = write_pdf(t.dir.path(), &pdf);

    let (w, h) = page_size(&pdf);
    assert!(
        (w - 242.65).abs() < 0.1 && (h - 153.01).abs() < 0.1,
        "{w} x {h}"
    );

    let text = tool("pdftotext", &[&pdf, "-"], "poppler-utils");
    assert!(text.contains(NAME), "{text}");
    assert!(text.contains("Facilities"), "{text}");
    assert!(text.contains("Valid until 2027-12-31"), "{text}");

    let codes = decode_barcodes(&pdf, t.dir.path());
    assert!(codes.contains("QR-Code:12345"), "{codes}");
    assert!(codes.contains("CODE-128:12345"), "{codes}");

    let images = tool("pdfimages", &["-list", &pdf], "poppler-utils");
    assert!(
        images.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 4 && f[2] == "image" && f[3] == "120" && f[4] == "160"
        }),
        "the 120 x 160 photo is not in the PDF:\n{images}"
    );
}

#[test]
fn visitor_template_is_portrait_with_a_back() {
    let mut t = TestDesk::new();
    let request = request_with_card(&mut t, "Visitor");
    let pdf = write_pdf(
        t.dir.path(),
        &t.desk.render_request_badge(&t.admin, request).unwrap(),
    );
    let info = tool("pdfinfo", &[&pdf], "poppler-utils");
    assert!(info.contains("Pages:           2"), "{info}");
    let (w, h) = page_size(&pdf);
    assert!(
        (w - 153.01).abs() < 0.1 && (h - 242.65).abs() < 0.1,
        "{w} x {h}"
    );
    let back = tool(
        "pdftotext",
        &["-f", "2", "-l", "2", &pdf, "-"],
        "poppler-utils",
    );
    assert!(back.contains("Card 12345"), "{back}");
}

#[test]
fn batch_renders_one_page_per_card_side() {
    let t = Template::builtin().remove(0);
    let cards: Vec<BadgeData> = (0..25)
        .map(|i| {
            let mut d = BadgeData::sample();
            d.set("full_name", format!("Holder {i:02}"));
            d
        })
        .collect();
    let pdf = badge::render_pdf(&t, &cards).unwrap();
    let dir = common::private_dir();
    let path = write_pdf(dir.path(), &pdf);
    let info = tool("pdfinfo", &[&path], "poppler-utils");
    assert!(info.contains("Pages:           25"), "{info}");
    let last = tool(
        "pdftotext",
        &["-f", "25", "-l", "25", &path, "-"],
        "poppler-utils",
    );
    assert!(last.contains("Holder 24"), "{last}");
    assert!(matches!(
        badge::render_pdf(&t, &[]),
        Err(badge::BadgeError::Empty)
    ));
}

/// The preview is drawn from the same layout and font as the PDF: compared
/// with poppler's rendering of the PDF at the same resolution, nearly every
/// pixel agrees.
/// A wide JPEG photo: it goes into the PDF unchanged and is clipped there,
/// while the preview crops the decoded pixels.
fn wide_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(240, 120, |x, y| {
        if !(80..160).contains(&x) {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([(y * 2) as u8, 90, 160])
        }
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    bytes
}

/// A tall PNG with transparency: decoded, cropped and re-encoded.
fn tall_rgba_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(100, 260, |x, y| {
        image::Rgba([
            (x * 2) as u8,
            120,
            (y / 2) as u8,
            if y < 20 { 0 } else { 255 },
        ])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

#[test]
fn jpeg_photo_is_embedded_unchanged() {
    let t = Template::builtin().remove(0);
    let mut data = BadgeData::sample();
    data.photo = Some(wide_jpeg());
    let dir = common::private_dir();
    let pdf = write_pdf(dir.path(), &badge::render_pdf(&t, &[data]).unwrap());
    let images = tool("pdfimages", &["-list", &pdf], "poppler-utils");
    assert!(
        images.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 8 && f[3] == "240" && f[4] == "120" && f[8] == "jpeg"
        }),
        "the 240 x 120 JPEG is not in the PDF as it was:\n{images}"
    );
}

#[test]
fn preview_matches_the_pdf() {
    let dir = common::private_dir();
    let cases = Template::builtin().into_iter().map(|t| (t, None)).chain([
        (Template::builtin().remove(0), Some(wide_jpeg())),
        (Template::builtin().remove(1), Some(tall_rgba_png())),
    ]);
    for (i, (mut t, photo)) in cases.enumerate() {
        t.name = format!("{}{i}", t.name);
        let mut data = BadgeData::sample();
        if photo.is_some() {
            data.photo = photo;
        }
        let preview = badge::preview_at(&t, &data, 10.0).unwrap().remove(0);
        let (pw, ph) = (preview.width().to_string(), preview.height().to_string());
        let pdf = write_pdf(
            dir.path(),
            &badge::render_pdf(&t, std::slice::from_ref(&data)).unwrap(),
        );
        let prefix = dir.path().join(format!("{}-pdf", t.name));
        tool(
            "pdftoppm",
            &[
                "-scale-to-x",
                &pw,
                "-scale-to-y",
                &ph,
                "-f",
                "1",
                "-l",
                "1",
                "-png",
                &pdf,
                &prefix.to_string_lossy(),
            ],
            "poppler-utils",
        );
        let rendered_path = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{}-pdf", t.name))
            })
            .unwrap();
        let rendered = image::open(&rendered_path).unwrap().to_rgba8();
        assert_eq!(rendered.dimensions(), preview.dimensions(), "{}", t.name);
        let same = differing(&rendered, &preview);
        // The check is sensitive: a preview with another name would fail it.
        let mut other = data.clone();
        other.set("full_name", "Someone Else Entirely");
        let changed = differing(&rendered, &badge::preview_at(&t, &other, 10.0).unwrap()[0]);
        eprintln!(
            "{}: {same:.4} differ; with another name {changed:.4}",
            t.name
        );
        assert!(
            same < 0.01,
            "{}: {:.2}% of pixels differ between preview and PDF",
            t.name,
            100.0 * same
        );
        assert!(
            changed > 0.01,
            "{}: another name passed as a match ({changed})",
            t.name
        );
    }
}

/// Fraction of pixels whose colour differs clearly (anti-aliasing aside).
fn differing(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    let n = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| (0..3).any(|c| (i32::from(p.0[c]) - i32::from(q.0[c])).abs() > 96))
        .count();
    n as f64 / f64::from(a.width() * a.height())
}

#[test]
fn templates_are_seeded_and_requests_must_name_one() {
    let mut t = TestDesk::new();
    let names: Vec<String> = t
        .desk
        .badge_templates(&t.admin)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Standard", "Visitor"]);
    let admin = t.admin.clone();
    let fields = RequestFields {
        badge_template: "Contractor".into(),
        ..common::request(false)
    };
    let err = t
        .desk
        .create_cardholder(&admin, &common::person("A", "B"), Some(&fields))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "badge template: \"Contractor\" does not exist (templates: Standard, Visitor)"
    );
}

#[test]
fn saving_a_template_needs_manage_settings_and_a_valid_definition() {
    let mut t = TestDesk::new();
    let mut contractor = Template::builtin().remove(0);
    contractor.name = "Contractor".into();
    let op = t.operator("olga", Role::Operator, None);
    let err = t.desk.save_badge_template(&op, &contractor).unwrap_err();
    assert!(matches!(err, DeskError::Forbidden { .. }), "{err}");

    let admin = t.admin.clone();
    t.desk.save_badge_template(&admin, &contractor).unwrap();
    assert_eq!(
        t.desk.badge_template(&admin, "contractor").unwrap(),
        contractor
    );

    let mut bad = contractor.clone();
    bad.front.elements.push(badge::Element::Qr {
        x: 80.0,
        y: 40.0,
        size: 20.0,
        value: "{card_number}".into(),
    });
    let err = t
        .desk
        .save_badge_template(&admin, &bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not fit on the landscape card"), "{err}");
}

#[test]
fn printing_needs_the_privilege_and_a_connected_card() {
    let mut t = TestDesk::new();
    let viewer = t.operator("vera", Role::Viewer, None);
    let request = request_with_card(&mut t, "Standard");
    let before = t.dump();
    let err = t
        .desk
        .start_request_print(&viewer, request, "CardPrinter")
        .unwrap_err();
    assert!(matches!(err, DeskError::Forbidden { .. }), "{err}");

    let admin = t.admin.clone();
    let bare = t.request_for(&admin, "No", "Card", false);
    let err = t
        .desk
        .start_request_print(&admin, bare, "CardPrinter")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!("card request {bare} has no card connected yet; connect a card before printing its badge")
    );
    // Refusals leave no print job behind (the bare request itself is new).
    assert!(t
        .desk
        .print_jobs_for_request(&t.admin, request)
        .unwrap()
        .is_empty());
    assert!(t
        .desk
        .print_jobs_for_request(&t.admin, bare)
        .unwrap()
        .is_empty());
    assert!(before.lines().all(|l| t.dump().contains(l)));
}

#[test]
fn badge_data_binds_cardholder_and_card_fields() {
    let mut t = TestDesk::new();
    let request = request_with_card(&mut t, "Standard");
    let d = t.desk.badge_data_for_request(&t.admin, request).unwrap();
    assert_eq!(d.get("full_name"), NAME);
    assert_eq!(d.get("card_number"), "12345");
    assert_eq!(d.get("card_format"), "H10301");
    assert_eq!(d.get("expiry"), "2027-12-31");
    assert_eq!(d.get("request_id"), request.to_string());
    assert_eq!(d.photo.as_deref(), Some(photo_png().as_slice()));
}

#[test]
fn lost_card_is_not_printed() {
    use carddesk::domain::CredentialState;
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let card = carddesk::store::credentials::insert(
        &t.db(),
        &carddesk::store::credentials::NewCredential {
            format: "UID",
            value: "04A1B2C3",
            fields: &serde_json::json!({}),
            uid: Some("04A1B2C3"),
            state: CredentialState::Lost,
            cardholder_id: None,
        },
    )
    .unwrap();
    let err = t
        .desk
        .start_card_print(&admin, card, "Visitor", "CardPrinter")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "card: UID 04A1B2C3 is lost; only unassigned or active cards are printed"
    );
    assert!(t
        .desk
        .print_jobs_for_credential(&admin, card)
        .unwrap()
        .is_empty());
}

/// The operator's "print all selected": several requests' badges in one
/// PDF, a page each, from the command line too; mixed templates must be
/// settled with --template.
#[test]
fn several_requests_render_into_one_pdf() {
    let mut t = TestDesk::new();
    let a = request_with_card(&mut t, "Standard");
    let admin = t.admin.clone();
    let b = t.request_for(&admin, "Kim", "Keller", false);
    t.desk
        .connect_card(
            &admin,
            b,
            &manual("H10301", &[("facility", "12"), ("card", "777")]),
        )
        .unwrap();
    let pdf = t.desk.render_badges(&admin, &[a, b], None).unwrap();
    let dir = common::private_dir();
    let path = write_pdf(dir.path(), &pdf);
    let info = tool("pdfinfo", &[&path], "poppler-utils");
    assert!(info.contains("Pages:           2"), "{info}");
    let text = tool("pdftotext", &[&path, "-"], "poppler-utils");
    assert!(text.contains("Kim Keller"), "{text}");

    let c = request_with_card_named(&mut t, "Visitor");
    let err = t
        .desk
        .render_badges(&admin, &[a, c], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "the requests use different templates (Standard, Visitor); choose one with --template"
        ),
        "{err}"
    );
    assert!(t
        .desk
        .render_badges(&admin, &[a, c], Some("Standard"))
        .is_ok());

    // The CLI: --request repeated, one file.
    let out = dir.path().join("all.pdf");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_carddesk"))
        .arg("--db")
        .arg(t.db_path())
        .args([
            "badge",
            "render",
            "--request",
            &a.to_string(),
            "--request",
            &b.to_string(),
            "--out",
        ])
        .arg(&out)
        .env("CARDDESK_OPERATOR", "admin")
        .env("CARDDESK_PASSWORD", common::PASSWORD)
        .env_remove("CARDDESK_DB")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let info = tool("pdfinfo", &[out.to_str().unwrap()], "poppler-utils");
    assert!(info.contains("Pages:           2"), "{info}");
}

/// A request for another person with a card, on `template`.
fn request_with_card_named(t: &mut TestDesk, template: &str) -> i64 {
    let admin = t.admin.clone();
    let fields = RequestFields {
        badge_template: template.into(),
        ..common::request(false)
    };
    let (_, r) = t
        .desk
        .create_cardholder(
            &admin,
            &CardholderInput {
                first_name: "Vic".into(),
                last_name: "Visitor".into(),
                ..Default::default()
            },
            Some(&fields),
        )
        .unwrap();
    let r = r.unwrap();
    t.desk
        .connect_card(
            &admin,
            r,
            &manual("H10301", &[("facility", "12"), ("card", "888")]),
        )
        .unwrap();
    r
}
