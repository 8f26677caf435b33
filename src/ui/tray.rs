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
    let card = [40, 90, 160, 255];
    let white = [255, 255, 255, 255];
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
        shown: Option<usize>,
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
            if self.shown != Some(pending) {
                let _ = self.icon.set_icon(icon(pending));
                let _ = self.icon.set_tooltip(Some(tooltip));
                self.shown = Some(pending);
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
    fn different_counts_draw_differently() {
        assert_ne!(badge_icon(1), badge_icon(7));
        assert_ne!(badge_icon(12), badge_icon(21));
        assert_ne!(badge_icon(99), badge_icon(150));
    }
}
