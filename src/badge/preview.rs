//! Layout → RGBA image: the same shapes, the same font outlines and the same
//! images as the PDF, rasterised for the Print cards dialog.

use super::layout::{font, units_per_em, Page, Prepared, Prim};
use super::template::Color;
use super::{BadgeData, BadgeError, Template, MM_PER_PT};
use ab_glyph::{point, Font, PxScale, ScaleFont};
use image::{imageops, Rgba, RgbaImage};

/// Pixels per millimetre of [`preview`]: 10 px/mm ≈ 254 dpi, 856 × 540 px
/// for a landscape card.
pub const PREVIEW_PX_PER_MM: f32 = 10.0;

/// One image per card side (front, then back), at [`PREVIEW_PX_PER_MM`].
/// Pixels are non-premultiplied RGBA, as `egui::ColorImage::from_rgba_unmultiplied` wants.
pub fn preview(template: &Template, data: &BadgeData) -> Result<Vec<RgbaImage>, BadgeError> {
    preview_at(template, data, PREVIEW_PX_PER_MM)
}

/// Like [`preview`] at a chosen resolution.
pub fn preview_at(
    template: &Template,
    data: &BadgeData,
    px_per_mm: f32,
) -> Result<Vec<RgbaImage>, BadgeError> {
    let pages = Prepared::new(template)?.pages(data)?;
    pages.iter().map(|p| raster(p, px_per_mm)).collect()
}

fn px(c: Color) -> Rgba<u8> {
    Rgba([c.r, c.g, c.b, 255])
}

fn raster(page: &Page, s: f32) -> Result<RgbaImage, BadgeError> {
    let (w, h) = ((page.w * s).round() as u32, (page.h * s).round() as u32);
    let mut img = RgbaImage::from_pixel(w, h, px(page.background));
    for prim in &page.prims {
        match prim {
            &Prim::Fill { x, y, w, h, color } => fill(&mut img, [x, y, w, h], s, color),
            Prim::Bars { rects, color } => {
                for r in rects {
                    fill(&mut img, *r, s, *color);
                }
            }
            Prim::Text {
                x,
                baseline,
                size,
                bold,
                color,
                text,
            } => draw_text(
                &mut img,
                *x * s,
                *baseline * s,
                *size,
                *bold,
                *color,
                text,
                s,
            ),
            Prim::Photo { x, y, w, h, photo } => {
                let image = photo.pixels(*w, *h)?;
                draw_image(&mut img, *x, *y, *w, *h, &image, s);
            }
            Prim::Image { x, y, w, h, image } => draw_image(&mut img, *x, *y, *w, *h, image, s),
        }
    }
    Ok(img)
}

/// Draws `image` scaled into the box (x, y, w, h) in millimetres.
fn draw_image(img: &mut RgbaImage, x: f32, y: f32, w: f32, h: f32, image: &RgbaImage, s: f32) {
    let (left, top) = ((x * s).round(), (y * s).round());
    let (tw, th) = (((x + w) * s).round() - left, ((y + h) * s).round() - top);
    if tw < 1.0 || th < 1.0 {
        return;
    }
    let scaled = imageops::resize(image, tw as u32, th as u32, imageops::FilterType::Triangle);
    imageops::overlay(img, &scaled, left as i64, top as i64);
}

/// Fills a rectangle, with partial coverage at its edges.
fn fill(img: &mut RgbaImage, r: [f32; 4], s: f32, color: Color) {
    let (x0, y0, x1, y1) = (r[0] * s, r[1] * s, (r[0] + r[2]) * s, (r[1] + r[3]) * s);
    let (w, h) = (img.width() as f32, img.height() as f32);
    for py in y0.floor().max(0.0) as u32..y1.ceil().min(h) as u32 {
        let cy = (y1.min(py as f32 + 1.0) - y0.max(py as f32)).clamp(0.0, 1.0);
        for pxl in x0.floor().max(0.0) as u32..x1.ceil().min(w) as u32 {
            let cx = (x1.min(pxl as f32 + 1.0) - x0.max(pxl as f32)).clamp(0.0, 1.0);
            blend(img.get_pixel_mut(pxl, py), color, cx * cy);
        }
    }
}

fn blend(p: &mut Rgba<u8>, c: Color, a: f32) {
    let mix = |old: u8, new: u8| (f32::from(old) * (1.0 - a) + f32::from(new) * a).round() as u8;
    p.0 = [mix(p.0[0], c.r), mix(p.0[1], c.g), mix(p.0[2], c.b), 255];
}

#[allow(clippy::too_many_arguments)]
fn draw_text(
    img: &mut RgbaImage,
    x: f32,
    baseline: f32,
    size_pt: f32,
    bold: bool,
    color: Color,
    text: &str,
    s: f32,
) {
    let f = font(bold);
    let em_px = size_pt * MM_PER_PT * s;
    // ab_glyph scales by the font's height (ascent − descent), not its em.
    let scale = PxScale::from(em_px * f.height_unscaled() / units_per_em(f));
    let scaled = f.as_scaled(scale);
    let mut caret = x;
    for c in text.chars() {
        let id = f.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, point(caret, baseline));
        caret += scaled.h_advance(id);
        if let Some(outline) = f.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                let (tx, ty) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if tx >= 0 && ty >= 0 && (tx as u32) < img.width() && (ty as u32) < img.height() {
                    blend(img.get_pixel_mut(tx as u32, ty as u32), color, cov.min(1.0));
                }
            });
        }
    }
}
