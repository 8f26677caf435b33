//! Template + card data → positioned shapes, text and images (millimetres,
//! origin top-left). Both the PDF writer and the preview draw this.

use super::template::{Align, Color, Element, Side, Template};
use super::{BadgeData, BadgeError, FONT_BOLD, FONT_REGULAR, LOGO_PNG, MM_PER_PT};
use ab_glyph::{Font, FontRef};
use image::{DynamicImage, RgbaImage};
use std::sync::{Arc, LazyLock};

/// Images are resampled to at most this resolution on the card.
const MAX_DPI: f32 = 300.0;

pub(crate) static FONTS: LazyLock<[FontRef<'static>; 2]> = LazyLock::new(|| {
    [
        FontRef::try_from_slice(FONT_REGULAR).expect("embedded DejaVu Sans parses"),
        FontRef::try_from_slice(FONT_BOLD).expect("embedded DejaVu Sans Bold parses"),
    ]
});

static DEFAULT_LOGO: LazyLock<Arc<RgbaImage>> = LazyLock::new(|| {
    Arc::new(
        image::load_from_memory(LOGO_PNG)
            .expect("embedded logo decodes")
            .to_rgba8(),
    )
});

pub(crate) fn font(bold: bool) -> &'static FontRef<'static> {
    &FONTS[usize::from(bold)]
}

#[derive(Debug, Clone)]
pub(crate) enum Prim {
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Color,
    },
    /// Many small black-or-colour rectangles (barcode bars, QR modules).
    Bars { rects: Vec<[f32; 4]>, color: Color },
    Text {
        x: f32,
        baseline: f32,
        /// Em size in points.
        size: f32,
        bold: bool,
        color: Color,
        text: String,
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        image: Arc<RgbaImage>,
    },
    /// The cardholder's photo covering the box `(x, y, w, h)`, centred and
    /// cropped to it. Decoded only by whoever needs pixels.
    Photo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        photo: Arc<Photo>,
    },
}

/// A photo file a PDF can hold as it is.
#[derive(Debug)]
pub(crate) enum Embed {
    /// Baseline or progressive JPEG: the file is a DCTDecode stream.
    Jpeg { grey: bool },
    /// 8-bit, non-interlaced PNG without alpha: its IDAT data is a
    /// FlateDecode stream with PNG predictors.
    Png { data: Vec<u8>, grey: bool },
}

/// The concatenated IDAT data of an 8-bit, non-interlaced PNG, or None.
fn png_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rest = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n")?;
    let mut data = Vec::new();
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[0..4].try_into().ok()?) as usize;
        let kind = &rest[4..8];
        let body = rest.get(8..8 + len)?;
        match kind {
            // Bit depth 8, interlace method 0.
            b"IHDR" if body.len() == 13 && (body[8] != 8 || body[12] != 0) => return None,
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        rest = rest.get(12 + len..)?;
    }
    (!data.is_empty()).then_some(data)
}

/// The largest photo a badge takes: 8000 × 8000 pixels, 256 MB decoded. A
/// file that claims more (a 20 000 × 20 000 PNG is 1.6 GB of pixels) is
/// refused before anything is allocated.
pub const MAX_PHOTO_SIDE: u32 = 8000;

fn photo_limits() -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(MAX_PHOTO_SIDE);
    l.max_image_height = Some(MAX_PHOTO_SIDE);
    l.max_alloc = Some(256 * 1024 * 1024);
    l
}

/// A reader for photo bytes, within [`photo_limits`].
fn photo_reader(bytes: &[u8]) -> image::ImageReader<std::io::Cursor<&[u8]>> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .expect("reading from memory cannot fail");
    reader.limits(photo_limits());
    reader
}

fn photo_error(holder: &str) -> impl Fn(image::ImageError) -> BadgeError + '_ {
    move |e| BadgeError::Photo {
        holder: holder.to_string(),
        reason: e.to_string(),
    }
}

/// Decodes a JPEG or PNG within [`photo_limits`].
fn decode_photo(bytes: &[u8], holder: &str) -> Result<image::DynamicImage, BadgeError> {
    let err = photo_error(holder);
    let reader = photo_reader(bytes);
    match reader.format() {
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png) => reader.decode().map_err(err),
        _ => Err(BadgeError::Photo {
            holder: holder.to_string(),
            reason: "not a JPEG or PNG image".into(),
        }),
    }
}

/// Checks a photo before it is stored: a JPEG or PNG that decodes whole
/// (not truncated) within the size limits. Returns its pixel size.
pub fn check_photo(bytes: &[u8]) -> Result<(u32, u32), BadgeError> {
    let img = decode_photo(bytes, "this cardholder")?;
    // Decoders paint a cut-off JPEG grey and stop reading a PNG after its
    // pixels: a whole file ends with its end marker (JPEG FF D9, padding
    // aside; PNG the IEND chunk).
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let cut = if bytes.starts_with(&[0xFF, 0xD8]) {
        !bytes[..end].ends_with(&[0xFF, 0xD9])
    } else {
        !bytes.ends_with(b"\0\0\0\0IEND\xAE\x42\x60\x82")
    };
    if cut {
        return Err(BadgeError::Photo {
            holder: "this cardholder".into(),
            reason: "the file is cut short (no end marker)".into(),
        });
    }
    Ok((img.width(), img.height()))
}

/// A cardholder's photo as a badge shows it: cropped to a photo frame of
/// `w_mm` × `h_mm`, at most 300 dpi (for the screen's record view).
pub fn photo_in_frame(bytes: &[u8], w_mm: f32, h_mm: f32) -> Result<RgbaImage, BadgeError> {
    Ok(cover(decode_photo(bytes, "this cardholder")?, w_mm, h_mm))
}

/// A photo as stored (JPEG or PNG bytes) and its pixel size.
#[derive(Debug)]
pub(crate) struct Photo {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// How a PDF can carry the file without decoding it, if it can.
    pub embed: Option<Embed>,
    pub holder: String,
}

impl Photo {
    /// Reads the header only: size and whether the JPEG can pass through.
    fn inspect(bytes: &[u8], holder: &str) -> Result<Photo, BadgeError> {
        use image::ImageDecoder;
        let err = photo_error(holder);
        let reader = photo_reader(bytes);
        let format = reader.format();
        let decoder = reader.into_decoder().map_err(err)?;
        let (width, height) = decoder.dimensions();
        let color = decoder.original_color_type();
        let grey = color == image::ExtendedColorType::L8;
        let embed = match format {
            _ if !(grey || color == image::ExtendedColorType::Rgb8) => None,
            Some(image::ImageFormat::Jpeg) => Some(Embed::Jpeg { grey }),
            Some(image::ImageFormat::Png) => {
                png_stream(bytes).map(|data| Embed::Png { data, grey })
            }
            _ => None,
        };
        Ok(Photo {
            bytes: bytes.to_vec(),
            width,
            height,
            embed,
            holder: holder.to_string(),
        })
    }

    /// A JPEG (quality 90) of decoded pixels; transparency becomes white.
    pub fn from_pixels(pixels: &RgbaImage, holder: &str) -> Result<Photo, BadgeError> {
        let rgb = image::RgbImage::from_fn(pixels.width(), pixels.height(), |x, y| {
            let [r, g, b, a] = pixels.get_pixel(x, y).0;
            let over_white =
                |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
            image::Rgb([over_white(r), over_white(g), over_white(b)])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&rgb)
            .map_err(|e| BadgeError::Photo {
                holder: holder.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Photo {
            bytes,
            width: rgb.width(),
            height: rgb.height(),
            embed: Some(Embed::Jpeg { grey: false }),
            holder: holder.to_string(),
        })
    }

    /// Where the whole image goes so that it covers the box, centred
    /// (the parts outside the box are clipped or cropped).
    pub fn cover_rect(&self, x: f32, y: f32, w: f32, h: f32) -> [f32; 4] {
        let (iw, ih) = (self.width as f32, self.height as f32);
        let scale = (w / iw).max(h / ih);
        let (pw, ph) = (iw * scale, ih * scale);
        [x + (w - pw) / 2.0, y + (h - ph) / 2.0, pw, ph]
    }

    /// Decoded, cropped to the box's aspect ratio and at most `MAX_DPI`.
    pub fn pixels(&self, w_mm: f32, h_mm: f32) -> Result<RgbaImage, BadgeError> {
        Ok(cover(decode_photo(&self.bytes, &self.holder)?, w_mm, h_mm))
    }

    /// True when embedding the file as it is costs no more than twice the
    /// pixels a 300 dpi copy would have.
    pub fn pass_through(&self, w_mm: f32, h_mm: f32) -> bool {
        let wanted = (w_mm / 25.4 * MAX_DPI) * (h_mm / 25.4 * MAX_DPI);
        self.embed.is_some() && (self.width as f32 * self.height as f32) <= 2.0 * wanted
    }
}

pub(crate) struct Page {
    pub w: f32,
    pub h: f32,
    pub background: Color,
    pub prims: Vec<Prim>,
}

/// A template with its logo images decoded once for a whole batch.
pub(crate) struct Prepared<'t> {
    pub template: &'t Template,
    logos: Vec<Vec<Option<Arc<RgbaImage>>>>,
}

impl<'t> Prepared<'t> {
    pub fn new(template: &'t Template) -> Result<Self, BadgeError> {
        template.validate()?;
        let logos = template
            .sides()
            .map(|(_, side)| {
                side.elements
                    .iter()
                    .map(|e| match e {
                        Element::Logo { image: None, .. } => Ok(Some(DEFAULT_LOGO.clone())),
                        Element::Logo {
                            image: Some(b64), ..
                        } => super::template::decode_base64_image(b64)
                            .map(|i| Some(Arc::new(i)))
                            .map_err(|reason| BadgeError::Template {
                                template: template.name.clone(),
                                reason,
                            }),
                        _ => Ok(None),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Prepared { template, logos })
    }

    /// One page per side of one card.
    pub fn pages(&self, data: &BadgeData) -> Result<Vec<Page>, BadgeError> {
        let (w, h) = self.template.size_mm();
        let mut photo: Option<Arc<Photo>> = None;
        self.template
            .sides()
            .zip(&self.logos)
            .map(|((_, side), logos)| {
                Ok(Page {
                    w,
                    h,
                    background: side.background,
                    prims: side_prims(side, logos, data, &mut photo)?,
                })
            })
            .collect()
    }
}

fn side_prims(
    side: &Side,
    logos: &[Option<Arc<RgbaImage>>],
    data: &BadgeData,
    photo: &mut Option<Arc<Photo>>,
) -> Result<Vec<Prim>, BadgeError> {
    let mut prims = Vec::with_capacity(side.elements.len());
    for (e, logo) in side.elements.iter().zip(logos) {
        match e {
            &Element::Rect { x, y, w, h, color } => prims.push(Prim::Fill { x, y, w, h, color }),
            Element::Text {
                x,
                y,
                w,
                size,
                text,
                bold,
                align,
                color,
            } => {
                let Some(text) = data.fill(text) else {
                    continue;
                };
                let f = font(*bold);
                let mut size = *size;
                let width = text_width_mm(f, &text, size);
                if width > *w {
                    size *= w / width;
                }
                let width = text_width_mm(f, &text, size);
                let dx = match align {
                    Align::Left => 0.0,
                    Align::Center => (w - width) / 2.0,
                    Align::Right => w - width,
                };
                let ascent = f.ascent_unscaled() / units_per_em(f) * size * MM_PER_PT;
                prims.push(Prim::Text {
                    x: x + dx,
                    baseline: y + ascent,
                    size,
                    bold: *bold,
                    color: *color,
                    text,
                });
            }
            &Element::Photo { x, y, w, h } => {
                let Some(bytes) = &data.photo else {
                    continue;
                };
                if photo.is_none() {
                    *photo = Some(Arc::new(Photo::inspect(bytes, data.get("full_name"))?));
                }
                let photo = photo.clone().expect("set above");
                prims.push(Prim::Photo { x, y, w, h, photo });
            }
            &Element::Logo { x, y, w, h, .. } => {
                let image = logo.clone().expect("prepared for every logo");
                // Fit inside the box, centred, keeping the aspect ratio.
                let aspect = image.width() as f32 / image.height() as f32;
                let (fw, fh) = if w / h > aspect {
                    (h * aspect, h)
                } else {
                    (w, w / aspect)
                };
                prims.push(Prim::Image {
                    x: x + (w - fw) / 2.0,
                    y: y + (h - fh) / 2.0,
                    w: fw,
                    h: fh,
                    image,
                });
            }
            Element::Qr { x, y, size, value } => {
                let Some(value) = data.fill(value) else {
                    continue;
                };
                prims.push(Prim::Bars {
                    rects: qr_rects(&value, *x, *y, *size)?,
                    color: Color::BLACK,
                });
            }
            Element::Code128 { x, y, w, h, value } => {
                let Some(value) = data.fill(value) else {
                    continue;
                };
                prims.push(Prim::Bars {
                    rects: code128_rects(&value, *x, *y, *w, *h)?,
                    color: Color::BLACK,
                });
            }
        }
    }
    Ok(prims)
}

pub(crate) fn units_per_em(f: &FontRef) -> f32 {
    f.units_per_em().unwrap_or(2048.0)
}

/// Advance width of `text` (no kerning, as the PDF text operator draws it).
pub(crate) fn text_width_mm(f: &FontRef, text: &str, size_pt: f32) -> f32 {
    let units: f32 = text
        .chars()
        .map(|c| f.h_advance_unscaled(f.glyph_id(c)))
        .sum();
    units / units_per_em(f) * size_pt * MM_PER_PT
}

/// Crops the photo to the box's aspect ratio (centred); scales it down to
/// `MAX_DPI` only when it has more than twice the pixels that needs.
fn cover(img: DynamicImage, w_mm: f32, h_mm: f32) -> RgbaImage {
    let (iw, ih) = (img.width() as f32, img.height() as f32);
    let want = w_mm / h_mm;
    let (cw, ch) = if iw / ih > want {
        (ih * want, ih)
    } else {
        (iw, iw / want)
    };
    let cropped = img.crop_imm(
        ((iw - cw) / 2.0) as u32,
        ((ih - ch) / 2.0) as u32,
        cw.max(1.0) as u32,
        ch.max(1.0) as u32,
    );
    let max_w = (w_mm / 25.4 * MAX_DPI).round() as u32;
    let max_h = (h_mm / 25.4 * MAX_DPI).round() as u32;
    if u64::from(cropped.width()) * u64::from(cropped.height())
        > 2 * u64::from(max_w) * u64::from(max_h)
    {
        cropped
            .resize_exact(max_w, max_h, image::imageops::FilterType::Triangle)
            .to_rgba8()
    } else {
        cropped.to_rgba8()
    }
}

/// Dark QR modules as rectangles (horizontal runs merged); `size` includes
/// the 4-module quiet zone.
fn qr_rects(value: &str, x: f32, y: f32, size: f32) -> Result<Vec<[f32; 4]>, BadgeError> {
    let code = qrcode::QrCode::new(value.as_bytes()).map_err(|e| BadgeError::Barcode {
        symbology: "QR code",
        value: value.to_string(),
        reason: e.to_string(),
    })?;
    let n = code.width();
    let module = size / (n + 8) as f32;
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let mut rects = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if dark[row * n + col] {
                let start = col;
                while col < n && dark[row * n + col] {
                    col += 1;
                }
                rects.push([
                    x + (start + 4) as f32 * module,
                    y + (row + 4) as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ]);
            } else {
                col += 1;
            }
        }
    }
    Ok(rects)
}

/// Code 128 bars filling the box, with a 10-module quiet zone each side.
/// Digit strings of even length use the dense set C, the rest set B.
fn code128_rects(value: &str, x: f32, y: f32, w: f32, h: f32) -> Result<Vec<[f32; 4]>, BadgeError> {
    let err = |reason: &str| BadgeError::Barcode {
        symbology: "Code 128",
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let set = if value.len().is_multiple_of(2) && value.bytes().all(|b| b.is_ascii_digit()) {
        'Ć'
    } else if value.bytes().all(|b| (32..=126).contains(&b)) {
        'Ɓ'
    } else {
        return Err(err(
            "only ASCII letters, digits, spaces and punctuation fit in a Code 128 barcode",
        ));
    };
    let modules = barcoders::sym::code128::Code128::new(format!("{set}{value}"))
        .map_err(|e| err(&e.to_string()))?
        .encode();
    let module = w / (modules.len() + 20) as f32;
    let mut rects = Vec::new();
    let mut i = 0;
    while i < modules.len() {
        if modules[i] == 1 {
            let start = i;
            while i < modules.len() && modules[i] == 1 {
                i += 1;
            }
            rects.push([
                x + (start + 10) as f32 * module,
                y,
                (i - start) as f32 * module,
                h,
            ]);
        } else {
            i += 1;
        }
    }
    Ok(rects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_shrink_to_fit_their_box() {
        let t = Template::builtin().remove(0);
        let mut d = BadgeData::sample();
        d.set(
            "full_name",
            "Maximiliaan Alexander Wilhelmina van den Bosch-Oudshoorn",
        );
        let pages = Prepared::new(&t).unwrap().pages(&d).unwrap();
        let (size, text) = pages[0]
            .prims
            .iter()
            .find_map(|p| match p {
                Prim::Text { size, text, .. } if text.starts_with("Maxi") => Some((*size, text)),
                _ => None,
            })
            .unwrap();
        assert!(size < 12.0, "{size}");
        assert!(text_width_mm(font(true), text, size) <= 53.0 + 1e-3);
    }

    #[test]
    fn non_ascii_code128_is_refused_with_reason() {
        let e = code128_rects("Zoë", 0.0, 0.0, 40.0, 8.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Code 128 cannot encode \"Zoë\""), "{e}");
    }

    #[test]
    fn qr_fills_its_square() {
        let rects = qr_rects("12345", 10.0, 10.0, 29.0).unwrap();
        // Version 1 = 21 modules + 8 quiet = 29 → 1 mm modules; finder at 4 mm.
        assert!(rects.iter().any(|r| r[0] == 14.0 && r[1] == 14.0));
        assert!(rects
            .iter()
            .all(|r| r[0] + r[2] <= 35.0 && r[1] + r[3] <= 35.0));
    }
}
