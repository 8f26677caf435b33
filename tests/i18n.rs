//! Every string a screen passes to `t`/`tf` has a Dutch translation, so no
//! English text leaks into the Dutch desk.

use carddesk::ui::i18n::dutch;

/// The string literals passed directly to `t(` or `tf(` in a source file.
fn translated_literals(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for call in ["t(\"", "tf(\""] {
        let mut rest = source;
        while let Some(i) = rest.find(call) {
            // Skip identifiers that merely end in "t(" (e.g. `print(`).
            let before = rest[..i].chars().last();
            rest = &rest[i + call.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_string());
            }
        }
    }
    found
}

#[test]
fn every_screen_string_has_a_dutch_translation() {
    // Every screen, in sub-folders too (ui/app/).
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/ui"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut missing = Vec::new();
    let mut count = 0;
    for path in files {
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
            for s in translated_literals(&std::fs::read_to_string(&path).unwrap()) {
                count += 1;
                if dutch(&s).is_none() {
                    missing.push(format!("{}: {s:?}", path.display()));
                }
            }
        }
    }
    assert!(count > 50, "found only {count} translated strings");
    assert!(missing.is_empty(), "no Dutch for:\n{}", missing.join("\n"));
}
