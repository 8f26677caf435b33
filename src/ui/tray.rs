//! The Card requests icon in the OS notification tray: it shows the pending
//! count as a red badge, and a click (or its "Card requests" menu item)
//! brings the window forward on the Card requests dialog. A desktop without
//! a tray host is normal (kiosk, Xvfb): the app then runs without it.

/// Side of the square tray icon, in pixels.
pub const ICON_SIZE: u32 = 32;

/// 3×5 pixel digits, one row per 3 bits.
const DIGITS: [[u8; 5]; 10] = [
    [7, 5, 5, 5, 7],
    [2, 6, 2, 2, 7],
    [7, 1, 7, 4, 7],
    [7, 1, 7, 1, 7],
    [5, 5, 7, 1, 1],
    [7, 4, 7, 1, 7],
    [7, 4, 7, 5, 7],
    [7, 1, 1, 1, 1],
    [7, 5, 7, 5, 7],
    [7, 5, 7, 1, 7],
];

const CARD_BLUE: [u8; 4] = [40, 90, 160, 255];
const WHITE: [u8; 4] = [255, 255, 255, 255];

/// The application's icon at `size`×`size` as RGBA (the desktop menu, the
/// window): the tray icon's card, centred, with smooth edges. The card's
/// proportions are the tray icon's: 26×18 of 32, the light stripe 4–7 of its
/// 18 rows.
pub fn app_icon(size: u32) -> Vec<u8> {
    let n = size as f32;
    let (w, h) = (n * 26.0 / 32.0, n * 18.0 / 32.0);
    let (x0, y0) = ((n - w) / 2.0, (n - h) / 2.0);
    let radius = n * 2.5 / 32.0;
    // Four by four samples a pixel: the share inside the card is its alpha.
    const SAMPLES: usize = 4;
    let inside = |x: f32, y: f32| {
        let (dx, dy) = (x - x0, y - y0);
        if !(0.0..w).contains(&dx) || !(0.0..h).contains(&dy) {
            return false;
        }
        // Rounded corners: outside the quarter circles is outside the card.
        let cx = dx.clamp(radius, w - radius);
        let cy = dy.clamp(radius, h - radius);
        (dx - cx).powi(2) + (dy - cy).powi(2) <= radius * radius
    };
    let mut rgba = vec![0u8; (size * size * 4) as usize];
    for py in 0..size {
        for px in 0..size {
            let mut hits = 0;
            for sy in 0..SAMPLES {
                for sx in 0..SAMPLES {
                    let x = px as f32 + (sx as f32 + 0.5) / SAMPLES as f32;
                    let y = py as f32 + (sy as f32 + 0.5) / SAMPLES as f32;
                    hits += usize::from(inside(x, y));
                }
            }
            if hits == 0 {
                continue;
            }
            let row = (py as f32 + 0.5 - y0) / h * 18.0;
            let colour = if (4.0..7.0).contains(&row) {
                WHITE
            } else {
                CARD_BLUE
            };
            let i = ((py * size + px) * 4) as usize;
            rgba[i..i + 3].copy_from_slice(&colour[..3]);
            rgba[i + 3] = (255 * hits / (SAMPLES * SAMPLES)) as u8;
        }
    }
    rgba
}

/// The icon as RGBA: a white card outline, and for a non-zero count a red
/// disc with the count (99+ above 99) in white.
pub fn badge_icon(pending: usize) -> Vec<u8> {
    let n = ICON_SIZE as i32;
    let mut rgba = vec![0u8; (n * n * 4) as usize];
    let mut put = |x: i32, y: i32, c: [u8; 4]| {
        if (0..n).contains(&x) && (0..n).contains(&y) {
            let i = ((y * n + x) * 4) as usize;
            rgba[i..i + 4].copy_from_slice(&c);
        }
    };
    let (card, white) = (CARD_BLUE, WHITE);
    // The card: a filled rounded-ish rectangle with a light stripe.
    for y in 8..26 {
        for x in 1..27 {
            let corner = (x == 1 || x == 26) && (y == 8 || y == 25);
            if !corner {
                put(x, y, if (12..15).contains(&y) { white } else { card });
            }
        }
    }
    if pending == 0 {
        return rgba;
    }
    let red = [210, 30, 30, 255];
    let (cx, cy, r): (i32, i32, i32) = (22, 9, 9);
    for y in cy - r..=cy + r {
        for x in cx - r..=cx + r {
            if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                put(x, y, red);
            }
        }
    }
    let text = if pending > 99 {
        "99".to_string()
    } else {
        pending.to_string()
    };
    let width = text.len() as i32 * 4 - 1;
    let (mut x0, y0) = (cx - width / 2, cy - 2);
    for ch in text.chars() {
        let d = DIGITS[ch.to_digit(10).unwrap_or(0) as usize];
        for (row, bits) in d.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) != 0 {
                    put(x0 + col, y0 + row as i32, white);
                }
            }
        }
        x0 += 4;
    }
    if pending > 99 {
        put(cx + 4, cy - 6, white);
        put(cx + 4, cy - 5, white);
        put(cx + 3, cy - 5, white);
        put(cx + 5, cy - 5, white);
    }
    rgba
}

/// Whether the desktop has a tray to show the icon in: a
/// StatusNotifierWatcher on the session bus (KDE, XFCE, GNOME with the
/// AppIndicator extension, …). The tray library registers its icon either
/// way, so without one a window hidden in the tray could never be opened.
#[cfg(all(feature = "tray", target_os = "linux"))]
pub fn tray_host_present() -> bool {
    let watcher = || -> zbus::Result<bool> {
        let conn = zbus::blocking::Connection::session()?;
        let bus = zbus::blocking::fdo::DBusProxy::new(&conn)?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher")?;
        Ok(bus.name_has_owner(name)?)
    };
    watcher().unwrap_or(false)
}

/// Elsewhere the OS always has a tray (the notification area, the menu bar).
#[cfg(all(feature = "tray", not(target_os = "linux")))]
pub fn tray_host_present() -> bool {
    true
}

#[cfg(feature = "tray")]
mod os {
    use super::{badge_icon, ICON_SIZE};
    use std::sync::mpsc::{self, Receiver};
    use tray_icon::menu::{Menu, MenuEvent, MenuItem};
    use tray_icon::{
        Icon, MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent,
    };

    /// The live tray icon; dropped, it leaves the tray.
    pub struct Tray {
        icon: TrayIcon,
        /// The count and tooltip shown (redrawn only when they change).
        shown: Option<(usize, String)>,
        clicks: Receiver<()>,
    }

    fn icon(pending: usize) -> Option<Icon> {
        Icon::from_rgba(badge_icon(pending), ICON_SIZE, ICON_SIZE).ok()
    }

    impl Tray {
        /// Installs the icon. `wake` is called from the tray's thread when
        /// it is clicked, so the UI wakes up even while idle.
        pub fn install(wake: crate::desk::station::Notify, title: &str) -> Result<Tray, String> {
            let (tx, clicks) = mpsc::channel();
            let item = MenuItem::new(title, true, None);
            let menu = Menu::new();
            menu.append(&item).map_err(|e| e.to_string())?;
            let item_id = item.id().clone();
            let (tx2, wake2) = (tx.clone(), wake.clone());
            MenuEvent::set_event_handler(Some(move |e: MenuEvent| {
                if e.id == item_id {
                    let _ = tx2.send(());
                    wake2();
                }
            }));
            TrayIconEvent::set_event_handler(Some(move |e: TrayIconEvent| {
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = e
                {
                    let _ = tx.send(());
                    wake();
                }
            }));
            let icon = TrayIconBuilder::new()
                .with_tooltip(title)
                .with_menu(Box::new(menu))
                .with_menu_on_left_click(false)
                .with_icon(icon(0).ok_or("cannot build the tray icon image")?)
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Tray {
                icon,
                shown: None,
                clicks,
            })
        }

        /// Shows `pending` on the badge (only redraws when it changed).
        pub fn set_pending(&mut self, pending: usize, tooltip: &str) {
            let now = (pending, tooltip.to_string());
            if self.shown.as_ref() != Some(&now) {
                if self.shown.as_ref().map(|s| s.0) != Some(pending) {
                    let _ = self.icon.set_icon(icon(pending));
                }
                let _ = self.icon.set_tooltip(Some(tooltip));
                self.shown = Some(now);
            }
        }

        /// True if the operator clicked the icon (or its menu item) since
        /// the last call.
        pub fn clicked(&self) -> bool {
            self.clicks.try_iter().count() > 0
        }
    }
}

#[cfg(feature = "tray")]
pub use os::Tray;

#[cfg(test)]
mod tests {
    use super::*;

    fn red_pixels(rgba: &[u8]) -> usize {
        rgba.chunks(4).filter(|p| p == &[210, 30, 30, 255]).count()
    }

    #[test]
    fn badge_only_when_something_is_pending() {
        assert_eq!(red_pixels(&badge_icon(0)), 0);
        assert!(red_pixels(&badge_icon(3)) > 100);
        assert_eq!(badge_icon(0).len(), (ICON_SIZE * ICON_SIZE * 4) as usize);
    }

    #[test]
    fn the_app_icon_is_the_tray_card_at_any_size() {
        for size in [16, 48, 256] {
            let icon = app_icon(size);
            assert_eq!(icon.len(), (size * size * 4) as usize);
            let px = |x: u32, y: u32| {
                let i = ((y * size + x) * 4) as usize;
                [icon[i], icon[i + 1], icon[i + 2], icon[i + 3]]
            };
            // Transparent corners, the card's blue in the middle below the
            // stripe, and the stripe white.
            assert_eq!(px(0, 0)[3], 0);
            assert_eq!(px(size / 2, size * 2 / 3), CARD_BLUE);
            let stripe = size / 2 - size * 9 / 32 + size * 11 / 64;
            assert_eq!(px(size / 2, stripe), WHITE, "size {size}");
        }
    }

    #[test]
    fn different_counts_draw_differently() {
        assert_ne!(badge_icon(1), badge_icon(7));
        assert_ne!(badge_icon(12), badge_icon(21));
        assert_ne!(badge_icon(99), badge_icon(150));
    }
}
