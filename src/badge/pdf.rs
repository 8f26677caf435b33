//! Layout → PDF with printpdf: one page per card side at exact card size,
//! vector barcodes, the embedded font subset into the file.

use super::layout::{Page, Prepared, Prim};
use super::template::Color;
use super::{BadgeData, BadgeError, Template, FONT_BOLD, FONT_REGULAR};
use image::RgbaImage;
use printpdf::{
    FontId, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Polygon, PolygonRing, Pt, RawImage, RawImageData, RawImageFormat, TextItem, XObjectId,
    XObjectTransform,
};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

type Images = HashMap<*const RgbaImage, (Arc<RgbaImage>, XObjectId)>;

const PT_PER_MM: f32 = 72.0 / 25.4;

static PARSED_FONTS: LazyLock<[ParsedFont; 2]> = LazyLock::new(|| {
    let parse = |bytes| {
        ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).expect("embedded DejaVu Sans parses")
    };
    [parse(FONT_REGULAR), parse(FONT_BOLD)]
});

/// Renders one card per `BadgeData` (front, then back if the template has
/// one) into a single PDF.
pub fn render_pdf(template: &Template, cards: &[BadgeData]) -> Result<Vec<u8>, BadgeError> {
    if cards.is_empty() {
        return Err(BadgeError::Empty);
    }
    let prepared = Prepared::new(template)?;
    let mut doc = PdfDocument::new(&format!("{} badges", template.name));
    let fonts = [
        doc.add_font(&PARSED_FONTS[0]),
        doc.add_font(&PARSED_FONTS[1]),
    ];
    // Each distinct image (the logo, each photo) is stored once. The map
    // holds the Arc so an address is never reused for another image.
    let mut images: Images = HashMap::new();
    let mut pages = Vec::with_capacity(cards.len() * 2);
    for card in cards {
        for page in prepared.pages(card)? {
            pages.push(pdf_page(&mut doc, &fonts, &mut images, &page));
        }
    }
    let options = PdfSaveOptions {
        // Keep the whole font: subsetting costs more time than the bytes save
        // on a batch, and a complete font keeps every name printable.
        subset_fonts: false,
        ..Default::default()
    };
    Ok(doc.with_pages(pages).save(&options, &mut Vec::new()))
}

fn rgb(c: Color) -> printpdf::Color {
    printpdf::Color::Rgb(printpdf::Rgb {
        r: f32::from(c.r) / 255.0,
        g: f32::from(c.g) / 255.0,
        b: f32::from(c.b) / 255.0,
        icc_profile: None,
    })
}

fn pdf_page(
    doc: &mut PdfDocument,
    fonts: &[FontId; 2],
    images: &mut Images,
    page: &Page,
) -> PdfPage {
    let page_h = page.h;
    // Millimetres from the top-left → points from the bottom-left.
    let pt = |x: f32, y: f32| Point {
        x: Pt(x * PT_PER_MM),
        y: Pt((page_h - y) * PT_PER_MM),
    };
    let ring = |x: f32, y: f32, w: f32, h: f32| PolygonRing {
        points: [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            .into_iter()
            .map(|(px, py)| LinePoint {
                p: pt(px, py),
                bezier: false,
            })
            .collect(),
    };
    let fill = |rings: Vec<PolygonRing>| Op::DrawPolygon {
        polygon: Polygon {
            rings,
            mode: printpdf::PaintMode::Fill,
            winding_order: printpdf::WindingOrder::NonZero,
        },
    };
    let mut ops = Vec::with_capacity(page.prims.len() * 4 + 4);
    if page.background != Color::WHITE {
        ops.push(Op::SetFillColor {
            col: rgb(page.background),
        });
        ops.push(fill(vec![ring(0.0, 0.0, page.w, page.h)]));
    }
    for prim in &page.prims {
        match prim {
            &Prim::Fill { x, y, w, h, color } => {
                ops.push(Op::SetFillColor { col: rgb(color) });
                ops.push(fill(vec![ring(x, y, w, h)]));
            }
            Prim::Bars { rects, color } => {
                ops.push(Op::SetFillColor { col: rgb(*color) });
                ops.push(fill(
                    rects.iter().map(|r| ring(r[0], r[1], r[2], r[3])).collect(),
                ));
            }
            Prim::Text {
                x,
                baseline,
                size,
                bold,
                color,
                text,
            } => {
                ops.push(Op::SetFillColor { col: rgb(*color) });
                ops.push(Op::StartTextSection);
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(fonts[usize::from(*bold)].clone()),
                    size: Pt(*size),
                });
                ops.push(Op::SetTextCursor {
                    pos: pt(*x, *baseline),
                });
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(text.clone())],
                });
                ops.push(Op::EndTextSection);
            }
            Prim::Image { x, y, w, h, image } => {
                let id = images
                    .entry(Arc::as_ptr(image))
                    .or_insert_with(|| (image.clone(), doc.add_image(&raw_image(image))))
                    .1
                    .clone();
                let bottom_left = pt(*x, y + h);
                ops.push(Op::UseXobject {
                    id,
                    transform: XObjectTransform {
                        translate_x: Some(bottom_left.x),
                        translate_y: Some(bottom_left.y),
                        // At 72 dpi one pixel is one point.
                        dpi: Some(72.0),
                        scale_x: Some(w * PT_PER_MM / image.width() as f32),
                        scale_y: Some(h * PT_PER_MM / image.height() as f32),
                        ..Default::default()
                    },
                });
            }
        }
    }
    PdfPage::new(Mm(page.w), Mm(page.h), ops)
}

fn raw_image(img: &RgbaImage) -> RawImage {
    let opaque = img.pixels().all(|p| p.0[3] == 255);
    let (pixels, data_format) = if opaque {
        let rgb: Vec<u8> = img
            .pixels()
            .flat_map(|p| [p.0[0], p.0[1], p.0[2]])
            .collect();
        (rgb, RawImageFormat::RGB8)
    } else {
        (img.as_raw().clone(), RawImageFormat::RGBA8)
    };
    RawImage {
        pixels: RawImageData::U8(pixels),
        width: img.width() as usize,
        height: img.height() as usize,
        data_format,
        tag: Vec::new(),
    }
}
