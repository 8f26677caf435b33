//! SMTP mailer: sends the outbox (issue 5).
