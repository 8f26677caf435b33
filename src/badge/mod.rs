//! Badge templates and rendering to PDF (issue 4).
