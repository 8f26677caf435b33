//! Renders the sample badge of every shipped template:
//! `cargo run --example badge_sample -- OUT_DIR` writes `<template>.pdf` and
//! `<template>-preview-<side>.png` for each.
use carddesk::badge::{preview, render_pdf, BadgeData, Template};

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out).expect("create output folder");
    let data = BadgeData::sample();
    for t in Template::builtin() {
        let pdf = render_pdf(&t, std::slice::from_ref(&data)).expect("render");
        std::fs::write(out.join(format!("{}.pdf", t.name)), pdf).expect("write pdf");
        for (i, img) in preview(&t, &data).expect("preview").iter().enumerate() {
            let side = if i == 0 { "front" } else { "back" };
            img.save(out.join(format!("{}-preview-{side}.png", t.name)))
                .expect("write png");
        }
    }
}
