//! Card printer adapter: CUPS (issue 4).
