//! List selection the way every desktop list works: click selects one,
//! Ctrl-click toggles, Shift-click selects the range from the anchor.
//! Selection is by id, so it survives the list being reloaded.

use std::collections::BTreeSet;

#[derive(Debug, Default, Clone)]
pub struct Selection {
    selected: BTreeSet<i64>,
    /// The row a Shift-click range starts from.
    anchor: Option<i64>,
}

impl Selection {
    /// Applies a click on `id`; `ids` is the list in display order.
    pub fn click(&mut self, ids: &[i64], id: i64, shift: bool, ctrl: bool) {
        match (shift, self.anchor) {
            (true, Some(anchor)) => {
                let a = ids.iter().position(|&x| x == anchor);
                let b = ids.iter().position(|&x| x == id);
                if let (Some(a), Some(b)) = (a, b) {
                    let (lo, hi) = (a.min(b), a.max(b));
                    if !ctrl {
                        self.selected.clear();
                    }
                    self.selected.extend(&ids[lo..=hi]);
                    return;
                }
                self.select_only(id);
            }
            _ if ctrl => {
                if !self.selected.remove(&id) {
                    self.selected.insert(id);
                }
                self.anchor = Some(id);
            }
            _ => self.select_only(id),
        }
    }

    pub fn select_all(&mut self, ids: &[i64]) {
        self.selected = ids.iter().copied().collect();
        self.anchor = ids.first().copied();
    }

    fn select_only(&mut self, id: i64) {
        self.selected.clear();
        self.selected.insert(id);
        self.anchor = Some(id);
    }

    pub fn is_selected(&self, id: i64) -> bool {
        self.selected.contains(&id)
    }

    /// Drops ids that are no longer in the list (answered elsewhere).
    pub fn retain(&mut self, ids: &[i64]) {
        let present: BTreeSet<i64> = ids.iter().copied().collect();
        self.selected.retain(|id| present.contains(id));
        if self.anchor.is_some_and(|a| !present.contains(&a)) {
            self.anchor = None;
        }
    }

    pub fn ids(&self) -> Vec<i64> {
        self.selected.iter().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.selected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }

    pub fn clear(&mut self) {
        self.selected.clear();
        self.anchor = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [i64; 6] = [10, 11, 12, 13, 14, 15];

    #[test]
    fn shift_selects_a_range_in_display_order() {
        let mut s = Selection::default();
        s.click(&IDS, 14, false, false);
        s.click(&IDS, 11, true, false);
        assert_eq!(s.ids(), vec![11, 12, 13, 14]);
    }

    #[test]
    fn ctrl_toggles_and_moves_the_anchor() {
        let mut s = Selection::default();
        s.click(&IDS, 10, false, false);
        s.click(&IDS, 12, false, true);
        s.click(&IDS, 10, false, true);
        assert_eq!(s.ids(), vec![12]);
        s.click(&IDS, 14, true, true);
        assert_eq!(s.ids(), vec![10, 11, 12, 13, 14]);
    }

    #[test]
    fn plain_click_replaces_and_reload_drops_missing() {
        let mut s = Selection::default();
        s.click(&IDS, 10, false, false);
        s.click(&IDS, 13, true, false);
        s.click(&IDS, 15, false, false);
        assert_eq!(s.ids(), vec![15]);
        s.retain(&[10, 11]);
        assert!(s.is_empty());
    }
}
