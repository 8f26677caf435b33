# shellcheck shell=bash
# Sourced (not executed) by run-tests.sh and packaging/*.sh: exports where the
# harness services are, so the integration tests can find them. Every variable
# can be overridden by setting it before sourcing; the defaults match the
# start-*.sh scripts in this directory.
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export HARNESS_DIR                                              # this directory (scripts)
export HARNESS_STATE="${HARNESS_STATE:-/tmp/carddesk-harness}"  # pids/ logs/ card-pdf/ mail/
export CARD_QUEUE="${CARD_QUEUE:-CardPrinter}"                  # CUPS queue of the card printer
export CARD_PDF_DIR="${CARD_PDF_DIR:-$HARNESS_STATE/card-pdf}"  # printed badges: *-job_<ID>.pdf
export LETTER_QUEUE="${LETTER_QUEUE:-OfficePrinter}"            # ordinary printer (PIN letters)
export LETTER_PDF_DIR="${LETTER_PDF_DIR:-$HARNESS_STATE/letter-pdf}"
export SMTP_HOST="${SMTP_HOST:-127.0.0.1}"                      # SMTP sink (no TLS, no AUTH)
export SMTP_PORT="${SMTP_PORT:-8025}"
export SMTP_DIR="${SMTP_DIR:-$HARNESS_STATE/mail}"              # received mail: *.eml + index.jsonl
export PCSC_READER="${PCSC_READER:-Virtual PCD 00 00}"          # reader fed by present_card.py
export VPCD_PORT="${VPCD_PORT:-35963}"                          # its vpcd card socket
export PRESENT_CARD="${PRESENT_CARD:-$HARNESS_DIR/present_card.py}"
export PRINTER_FAULT="${PRINTER_FAULT:-$HARNESS_DIR/printer-fault.sh}"
export OSDP_PYTHON="${OSDP_PYTHON:-$HARNESS_STATE/osdp-venv/bin/python}"  # venv with PyPI libosdp (start-osdp.sh)
export OSDP_PD="${OSDP_PD:-$HARNESS_DIR/osdp_pd.py}"            # OSDP door reader double: $OSDP_PYTHON $OSDP_PD --link PATH --address N
export PG_PORT="${PG_PORT:-55432}"                              # throwaway PostgreSQL 15 (start-postgres.sh), 127.0.0.1 only
export PG_PASSWORD="${PG_PASSWORD:-carddesk-test-only}"         # role carddesk_test's password (scram-sha-256; URL-safe characters only)
export CARDDESK_TEST_POSTGRES="${CARDDESK_TEST_POSTGRES:-postgres://carddesk_test:$PG_PASSWORD@127.0.0.1:$PG_PORT/carddesk_test}"  # CREATEDB role: a database per test
export PG_CA="${PG_CA:-$HARNESS_STATE/postgres-ca.pem}"             # the test site CA that signed the server's TLS certificate
