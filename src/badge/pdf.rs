//! Layout → PDF with printpdf: one page per card side at exact card size,
//! vector barcodes, the embedded font subset into the file.

use super::layout::{Embed, Page, Photo, Prepared, Prim};
use super::template::Color;
use super::{BadgeData, BadgeError, Template, FONT_BOLD, FONT_REGULAR};
use image::RgbaImage;
use printpdf::{
    DictItem, ExternalStream, ExternalXObject, FontId, LinePoint, Mm, Op, ParsedFont, PdfDocument,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Px, RawImage,
    RawImageData, RawImageFormat, TextItem, XObjectId, XObjectTransform,
};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

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
    let mut w = Writer {
        fonts: [
            doc.add_font(&PARSED_FONTS[0]),
            doc.add_font(&PARSED_FONTS[1]),
        ],
        doc,
        images: HashMap::new(),
        photos: HashMap::new(),
    };
    let mut pages = Vec::with_capacity(cards.len() * 2);
    for card in cards {
        for page in prepared.pages(card)? {
            pages.push(w.page(&page)?);
        }
    }
    let options = PdfSaveOptions {
        // Keep the whole font: subsetting costs more time than the bytes save
        // on a batch, and a complete font keeps every name printable.
        subset_fonts: false,
        ..Default::default()
    };
    Ok(w.doc.with_pages(pages).save(&options, &mut Vec::new()))
}

fn rgb(c: Color) -> printpdf::Color {
    printpdf::Color::Rgb(printpdf::Rgb {
        r: f32::from(c.r) / 255.0,
        g: f32::from(c.g) / 255.0,
        b: f32::from(c.b) / 255.0,
        icc_profile: None,
    })
}

/// Each distinct image (the logo, each photo) is stored once; the maps hold
/// the Arcs so an address is never reused for another image.
struct Writer {
    doc: PdfDocument,
    fonts: [FontId; 2],
    images: HashMap<*const RgbaImage, (Arc<RgbaImage>, XObjectId)>,
    photos: HashMap<*const Photo, (Arc<Photo>, XObjectId)>,
}

/// Millimetres from the top-left → points from the bottom-left.
struct Frame {
    page_h: f32,
}

impl Frame {
    fn pt(&self, x: f32, y: f32) -> Point {
        Point {
            x: Pt(x * PT_PER_MM),
            y: Pt((self.page_h - y) * PT_PER_MM),
        }
    }

    fn ring(&self, x: f32, y: f32, w: f32, h: f32) -> PolygonRing {
        PolygonRing {
            points: [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
                .into_iter()
                .map(|(px, py)| LinePoint {
                    p: self.pt(px, py),
                    bezier: false,
                })
                .collect(),
        }
    }

    fn polygon(&self, rings: Vec<PolygonRing>, mode: printpdf::PaintMode) -> Op {
        Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode,
                winding_order: printpdf::WindingOrder::NonZero,
            },
        }
    }

    /// Draws an XObject of `px_w` × `px_h` pixels into the box.
    fn place(&self, id: XObjectId, r: [f32; 4], px_w: u32, px_h: u32) -> Op {
        let bottom_left = self.pt(r[0], r[1] + r[3]);
        Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(bottom_left.x),
                translate_y: Some(bottom_left.y),
                // At 72 dpi one pixel is one point.
                dpi: Some(72.0),
                scale_x: Some(r[2] * PT_PER_MM / px_w as f32),
                scale_y: Some(r[3] * PT_PER_MM / px_h as f32),
                ..Default::default()
            },
        }
    }
}

impl Writer {
    fn image_id(&mut self, image: &Arc<RgbaImage>) -> XObjectId {
        let doc = &mut self.doc;
        self.images
            .entry(Arc::as_ptr(image))
            .or_insert_with(|| (image.clone(), doc.add_image(&raw_image(image))))
            .1
            .clone()
    }

    fn page(&mut self, page: &Page) -> Result<PdfPage, BadgeError> {
        use printpdf::PaintMode::{Clip, Fill};
        let f = Frame { page_h: page.h };
        let mut ops = Vec::with_capacity(page.prims.len() * 4 + 4);
        if page.background != Color::WHITE {
            ops.push(Op::SetFillColor {
                col: rgb(page.background),
            });
            ops.push(f.polygon(vec![f.ring(0.0, 0.0, page.w, page.h)], Fill));
        }
        for prim in &page.prims {
            match prim {
                &Prim::Fill { x, y, w, h, color } => {
                    ops.push(Op::SetFillColor { col: rgb(color) });
                    ops.push(f.polygon(vec![f.ring(x, y, w, h)], Fill));
                }
                Prim::Bars { rects, color } => {
                    ops.push(Op::SetFillColor { col: rgb(*color) });
                    let rings = rects.iter().map(|r| f.ring(r[0], r[1], r[2], r[3]));
                    ops.push(f.polygon(rings.collect(), Fill));
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
                        font: PdfFontHandle::External(self.fonts[usize::from(*bold)].clone()),
                        size: Pt(*size),
                    });
                    ops.push(Op::SetTextCursor {
                        pos: f.pt(*x, *baseline),
                    });
                    ops.push(Op::ShowText {
                        items: vec![TextItem::Text(text.clone())],
                    });
                    ops.push(Op::EndTextSection);
                }
                &Prim::Photo {
                    x,
                    y,
                    w,
                    h,
                    ref photo,
                } => {
                    if photo.pass_through(w, h) {
                        // The file goes in as it is, scaled to cover the box
                        // and clipped to it: no decoding, no re-encoding.
                        let doc = &mut self.doc;
                        let id = self
                            .photos
                            .entry(Arc::as_ptr(photo))
                            .or_insert_with(|| {
                                (photo.clone(), doc.add_xobject(&photo_xobject(photo)))
                            })
                            .1
                            .clone();
                        ops.push(Op::SaveGraphicsState);
                        ops.push(f.polygon(vec![f.ring(x, y, w, h)], Clip));
                        ops.push(f.place(
                            id,
                            photo.cover_rect(x, y, w, h),
                            photo.width,
                            photo.height,
                        ));
                        ops.push(Op::RestoreGraphicsState);
                    } else {
                        // Decoded and cropped (as the preview shows it), then
                        // stored as a JPEG.
                        let pixels = photo.pixels(w, h)?;
                        let xobject = photo_xobject(&Photo::from_pixels(&pixels, &photo.holder)?);
                        let id = self.doc.add_xobject(&xobject);
                        ops.push(f.place(id, [x, y, w, h], pixels.width(), pixels.height()));
                    }
                }
                Prim::Image { x, y, w, h, image } => {
                    let id = self.image_id(image);
                    ops.push(f.place(id, [*x, *y, *w, *h], image.width(), image.height()));
                }
            }
        }
        Ok(PdfPage::new(Mm(page.w), Mm(page.h), ops))
    }
}

/// A photo file embedded unchanged: a JPEG as a DCTDecode stream, a PNG's
/// IDAT data as a FlateDecode stream with PNG predictors.
fn photo_xobject(photo: &Photo) -> ExternalXObject {
    let name = |n: &str| DictItem::Name(n.as_bytes().to_vec());
    let (content, grey, filter, parms) = match &photo.embed {
        Some(Embed::Png { data, grey }) => {
            let parms = [
                ("Predictor", DictItem::Int(15)),
                ("Colors", DictItem::Int(if *grey { 1 } else { 3 })),
                ("BitsPerComponent", DictItem::Int(8)),
                ("Columns", DictItem::Int(i64::from(photo.width))),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            (data.clone(), *grey, "FlateDecode", Some(parms))
        }
        Some(Embed::Jpeg { grey }) => (photo.bytes.clone(), *grey, "DCTDecode", None),
        None => unreachable!("only embeddable photos pass through"),
    };
    let mut dict: std::collections::BTreeMap<String, DictItem> = [
        ("Type", name("XObject")),
        ("Subtype", name("Image")),
        ("Width", DictItem::Int(i64::from(photo.width))),
        ("Height", DictItem::Int(i64::from(photo.height))),
        (
            "ColorSpace",
            name(if grey { "DeviceGray" } else { "DeviceRGB" }),
        ),
        ("BitsPerComponent", DictItem::Int(8)),
        ("Filter", name(filter)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(map) = parms {
        dict.insert("DecodeParms".into(), DictItem::Dict { map });
    }
    ExternalXObject {
        stream: ExternalStream {
            dict,
            content,
            compress: false,
        },
        width: Some(Px(photo.width as usize)),
        height: Some(Px(photo.height as usize)),
        dpi: Some(72.0),
    }
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
