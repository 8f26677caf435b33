//! Card reader adapter: PC/SC (issue 3).
