//! Commands as values: everything the window asks of the desk is one
//! [`DeskCommand`], run by [`super::Desk::execute`] (`execute.rs`) on the desk worker's thread, and
//! answered with a [`DeskOutcome`] or the real [`DeskError`]. Being values,
//! commands can be logged (passwords are [`Secret`]s), replayed in tests and
//! listed; the window applies every reply in one place.

use super::TempCardRequest;
use super::{
    Assigned, CardholderInput, CardholderRecord, ConnectCard, CredentialAction, IssueOptions,
    LoginPolicy, PreparedPrint, RequestFields, Session, StateChanged, TempCard, TempCardFilter,
    TempOrder,
};
use crate::domain::{Role, Secret, SmtpSettings, TempCardState};
use std::path::PathBuf;

/// One operator action or query.
#[derive(Debug, Clone)]
pub enum DeskCommand {
    Login {
        name: String,
        password: Secret,
    },
    /// First run: the first administrator (and, for a demo database, the
    /// demo data).
    SetUp {
        name: String,
        email: Option<String>,
        password: Secret,
        /// "en" or "nl".
        language: String,
        site: String,
        demo_data: bool,
    },
    CreateCardholder {
        input: Box<CardholderInput>,
        /// A JPEG or PNG to read on the worker thread.
        photo_path: Option<PathBuf>,
        request: Option<RequestFields>,
    },
    ModifyRequest {
        id: i64,
        fields: RequestFields,
    },
    DenyRequests {
        ids: Vec<i64>,
        reason: Option<String>,
    },
    ConnectCard {
        request_id: i64,
        how: ConnectCard,
    },
    CloseRequests {
        ids: Vec<i64>,
        /// How the cards shipped to a site were sent (request, note).
        shipping: Vec<(i64, String)>,
    },
    /// Badge previews of these requests (id, name shown).
    BadgePreviews {
        requests: Vec<(i64, String)>,
    },
    /// Every badge template drawn with sample data.
    TemplatePreviews,
    StartRequestPrint {
        request_id: i64,
        printer: String,
    },
    RepeatPrintJob {
        job_id: i64,
        printer: Option<String>,
    },
    VerifyAudit,
    /// The card printer and the PIN letter printer (Settings, first run).
    ChoosePrinters(super::PrinterChoice),
    /// The first-run set-up is done (or left): not shown again.
    FinishSetUp,
    /// A sample badge for the card printer (Settings, first run).
    PrepareTestCard {
        printer: String,
    },
    ConfigureMail(SmtpSettings),
    QueueTestMail {
        to: String,
    },
    RetryMail {
        id: i64,
        to: Option<String>,
    },
    SearchTempCards(TempCardFilter),
    IssueTempCards {
        ids: Vec<i64>,
        options: IssueOptions,
    },
    CompleteTempOrder {
        id: i64,
    },
    CancelTempOrder {
        id: i64,
    },
    /// The window was locked after idle time: the same operator's password.
    Unlock {
        password: Secret,
    },
    /// The operator's own password (required after a reset).
    ChangePassword {
        current: Secret,
        new: Secret,
    },
    AddOperator {
        name: String,
        email: Option<String>,
        role: Role,
        password: Secret,
    },
    SetOperatorActive {
        name: String,
        active: bool,
    },
    SetOperatorRole {
        name: String,
        role: Role,
    },
    ResetOperatorPassword {
        name: String,
        password: Secret,
    },
    SetLoginPolicy(LoginPolicy),
    /// A cardholder's record, with their photo cropped to the badge frame.
    OpenCardholder {
        id: i64,
    },
    UpdateCardholder {
        id: i64,
        input: Box<CardholderInput>,
        /// A new JPEG or PNG to read on the worker thread.
        photo_path: Option<PathBuf>,
    },
    ChangeCredentialState {
        id: i64,
        action: CredentialAction,
        reason: Option<String>,
        replace: bool,
    },
    /// A card request for an existing cardholder.
    RequestCard {
        cardholder_id: i64,
        fields: RequestFields,
    },
    /// The Temporary cards page: search, or the card presented at a reader.
    FindTempCards(TempCardFilter),
    FindTempCardByUid {
        uid: String,
    },
    RequestTempCards(TempCardRequest),
    /// Lock, unlock or abort a temporary card.
    SetTempCardState {
        id: i64,
        to: TempCardState,
    },
    AssignTempCard {
        id: i64,
        cardholder_id: i64,
        /// The holder's last day (none: as long as the card is valid).
        until: Option<chrono::NaiveDate>,
    },
    ReturnTempCard {
        id: i64,
    },
    /// Shows a card's PUK once (audited).
    RevealPuk {
        id: i64,
    },
    /// Batch orders still open (one a stopped app left producing, too).
    OpenTempOrders,
    /// An open batch order and its cards, to resume, repeat or cancel.
    OpenTempOrder {
        id: i64,
    },
    /// Settings → Door readers: list, add, remove.
    DoorReaders,
    AddDoorReader(super::NewDoorReader),
    RemoveDoorReader {
        name: String,
    },
}

/// A badge drawn for the screen: its name and one image per side.
#[derive(Debug, Clone)]
pub struct NamedPreview {
    pub name: String,
    pub sides: Vec<image::RgbaImage>,
}

/// What a command produced.
#[derive(Debug)]
pub enum DeskOutcome {
    Session(Session),
    CardholderCreated {
        name: String,
        request_id: Option<i64>,
    },
    RequestModified,
    RequestsDenied(usize),
    Assigned(Assigned),
    RequestsClosed(usize),
    Previews(Vec<NamedPreview>),
    /// A print job was recorded; its document goes to the printer as a job.
    PrintPrepared(Box<PreparedPrint>),
    AuditIntact(u64),
    MailConfigured,
    PrintersChosen,
    SetUpFinished,
    /// The test card to send to the card printer (recorded in the trail).
    TestCardPrepared(Box<crate::devices::printer::PrintDocument>),
    TestMailQueued(i64),
    MailRequeued(i64),
    /// Requested temporary cards and the certificate profiles.
    TempCards {
        cards: Vec<TempCard>,
        profiles: Vec<String>,
    },
    /// A batch order and its cards.
    TempOrder {
        order: TempOrder,
        cards: Vec<TempCard>,
    },
    /// Operators or the login policy changed; what to tell the operator.
    OperatorsChanged(String),
    CardholderRecord {
        record: Box<CardholderRecord>,
        /// The photo as the badge frame shows it.
        photo: Option<image::RgbaImage>,
    },
    CardholderUpdated(String),
    CredentialChanged(StateChanged),
    CardRequested(i64),
    /// A temporary card after an action on it.
    TempCardChanged(TempCard),
    /// Open batch orders, oldest first.
    TempOrders(Vec<TempOrder>),
    /// A card's PUK, to be shown once.
    Puk {
        card: TempCard,
        puk: Secret,
    },
    /// The door readers, and what changed (if anything).
    DoorReaders {
        readers: Vec<crate::store::door_readers::DoorReader>,
        changed: Option<String>,
    },
}

impl DeskCommand {
    /// The command's name, for logs and for routing its reply.
    pub fn name(&self) -> &'static str {
        match self {
            DeskCommand::Login { .. } => "login",
            DeskCommand::SetUp { .. } => "set_up",
            DeskCommand::CreateCardholder { .. } => "create_cardholder",
            DeskCommand::ModifyRequest { .. } => "modify_request",
            DeskCommand::DenyRequests { .. } => "deny_requests",
            DeskCommand::ConnectCard { .. } => "connect_card",
            DeskCommand::CloseRequests { .. } => "close_requests",
            DeskCommand::BadgePreviews { .. } => "badge_previews",
            DeskCommand::TemplatePreviews => "template_previews",
            DeskCommand::StartRequestPrint { .. } => "start_request_print",
            DeskCommand::RepeatPrintJob { .. } => "repeat_print_job",
            DeskCommand::VerifyAudit => "verify_audit",
            DeskCommand::ChoosePrinters(_) => "choose_printers",
            DeskCommand::PrepareTestCard { .. } => "prepare_test_card",
            DeskCommand::FinishSetUp => "finish_set_up",
            DeskCommand::ConfigureMail(_) => "configure_mail",
            DeskCommand::QueueTestMail { .. } => "queue_test_mail",
            DeskCommand::RetryMail { .. } => "retry_mail",
            DeskCommand::SearchTempCards(_) => "search_temp_cards",
            DeskCommand::IssueTempCards { .. } => "issue_temp_cards",
            DeskCommand::CompleteTempOrder { .. } => "complete_temp_order",
            DeskCommand::CancelTempOrder { .. } => "cancel_temp_order",
            DeskCommand::Unlock { .. } => "unlock",
            DeskCommand::ChangePassword { .. } => "change_password",
            DeskCommand::AddOperator { .. }
            | DeskCommand::SetOperatorActive { .. }
            | DeskCommand::SetOperatorRole { .. }
            | DeskCommand::ResetOperatorPassword { .. }
            | DeskCommand::SetLoginPolicy(_) => "operators",
            DeskCommand::OpenCardholder { .. } => "open_cardholder",
            DeskCommand::UpdateCardholder { .. } => "update_cardholder",
            DeskCommand::ChangeCredentialState { .. } => "change_credential_state",
            DeskCommand::RequestCard { .. } => "request_card",
            DeskCommand::FindTempCards(_) | DeskCommand::FindTempCardByUid { .. } => {
                "find_temp_cards"
            }
            DeskCommand::RequestTempCards(_) => "request_temp_cards",
            DeskCommand::SetTempCardState { .. }
            | DeskCommand::AssignTempCard { .. }
            | DeskCommand::ReturnTempCard { .. } => "temp_card_changed",
            DeskCommand::RevealPuk { .. } => "reveal_puk",
            DeskCommand::OpenTempOrders => "open_temp_orders",
            DeskCommand::OpenTempOrder { .. } => "open_temp_order",
            DeskCommand::DoorReaders
            | DeskCommand::AddDoorReader(_)
            | DeskCommand::RemoveDoorReader { .. } => "door_readers",
        }
    }
}
