//! The tray badge at login: the package installs an XDG autostart entry for
//! every user (/etc/xdg/autostart/carddesk-tray.desktop); an operator turns
//! it off or on for themselves in Settings. Per the XDG Autostart
//! Specification, an entry of the same name in $XDG_CONFIG_HOME/autostart
//! takes its place, and `Hidden=true` there means "do not start".

use std::path::PathBuf;

const ENTRY: &str = "carddesk-tray.desktop";

/// The system entry the package installs, if any ($XDG_CONFIG_DIRS, by
/// default /etc/xdg).
fn system_entry() -> Option<PathBuf> {
    let dirs = std::env::var("XDG_CONFIG_DIRS")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/etc/xdg".into());
    dirs.split(':')
        .map(|d| PathBuf::from(d).join("autostart").join(ENTRY))
        .find(|p| p.exists())
}

fn user_entry() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.config_dir().join("autostart").join(ENTRY))
}

/// Whether CardDesk starts in the tray when this user logs in.
pub fn enabled() -> bool {
    match user_entry().and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) => !text
            .lines()
            .any(|l| l.trim().eq_ignore_ascii_case("hidden=true")),
        None => system_entry().is_some(),
    }
}

/// Turns starting in the tray at login on or off for this user.
pub fn set_enabled(on: bool) -> std::io::Result<()> {
    let path = user_entry().ok_or_else(|| std::io::Error::other("no home folder"))?;
    if on && system_entry().is_some() {
        // The package's entry applies again.
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let exe = std::env::current_exe()?;
    let text = format!(
        "[Desktop Entry]\nType=Application\nName=CardDesk card requests\n\
         Exec=\"{}\" --minimized\nIcon=carddesk\nTerminal=false\nNoDisplay=true\n{}",
        exe.display(),
        if on { "" } else { "Hidden=true\n" }
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[serial_test::serial(xdg_env)]
    fn turned_off_and_on_again_for_this_user() {
        let home = tempfile::tempdir().unwrap();
        let system = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(system.path().join("autostart")).unwrap();
        std::fs::write(
            system.path().join("autostart").join(ENTRY),
            "[Desktop Entry]\n",
        )
        .unwrap();
        // SAFETY: this test is serialised against every other one that
        // reads these variables.
        unsafe {
            std::env::set_var("XDG_CONFIG_HOME", home.path());
            std::env::set_var("XDG_CONFIG_DIRS", system.path());
        }
        assert!(enabled(), "the package's entry starts it");
        set_enabled(false).unwrap();
        assert!(!enabled());
        let written = std::fs::read_to_string(home.path().join("autostart").join(ENTRY)).unwrap();
        assert!(written.contains("Hidden=true"), "{written}");
        set_enabled(true).unwrap();
        assert!(enabled());
        assert!(!home.path().join("autostart").join(ENTRY).exists());
        // Without the package: an entry of the user's own.
        std::fs::remove_file(system.path().join("autostart").join(ENTRY)).unwrap();
        assert!(!enabled());
        set_enabled(true).unwrap();
        assert!(enabled());
        unsafe {
            std::env::remove_var("XDG_CONFIG_HOME");
            std::env::remove_var("XDG_CONFIG_DIRS");
        }
    }
}
