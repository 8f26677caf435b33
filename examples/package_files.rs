//! Writes the Debian package's files that are made from the code itself, so
//! they cannot drift from it: the man pages (from the command line's own
//! definition, one page per command) and the application icon at every size
//! the hicolor theme asks for (drawn by the code that draws the tray icon).
//!
//!   cargo run --release --example package_files -- OUT_DIR
//!
//! `packaging/build-deb.sh` runs it before `cargo deb`; the package takes
//! OUT_DIR/man/*.1 and OUT_DIR/icons/hicolor/….

use clap::CommandFactory;
use std::path::{Path, PathBuf};

const ICON_SIZES: [u32; 7] = [16, 22, 24, 32, 48, 128, 256];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: package_files OUT_DIR")?
        .into();
    write_man_pages(&out.join("man"))?;
    write_icons(&out.join("icons/hicolor"))?;
    println!("wrote man pages and icons under {}", out.display());
    Ok(())
}

fn write_man_pages(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let cmd = carddesk::cli::Cli::command().version(env!("CARGO_PKG_VERSION"));
    clap_mangen::generate_to(cmd, dir)?;
    Ok(())
}

fn write_icons(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    for size in ICON_SIZES {
        let folder = dir.join(format!("{size}x{size}/apps"));
        std::fs::create_dir_all(&folder)?;
        let rgba = carddesk::ui::tray::app_icon(size);
        image::RgbaImage::from_raw(size, size, rgba)
            .ok_or("icon buffer has the wrong size")?
            .save(folder.join("carddesk.png"))?;
    }
    Ok(())
}
