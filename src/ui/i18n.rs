//! Every string a screen shows goes through `t`, keyed by its English text.
//! Dutch (Nederlands) is the second language; the language comes from the OS
//! locale and can be switched in Settings.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Nl,
}

static CURRENT: AtomicU8 = AtomicU8::new(0);

pub fn set_lang(lang: Lang) {
    CURRENT.store(lang as u8, Ordering::Relaxed);
}

pub fn lang() -> Lang {
    match CURRENT.load(Ordering::Relaxed) {
        1 => Lang::Nl,
        _ => Lang::En,
    }
}

/// Dutch if the OS locale says so (LC_ALL, LC_MESSAGES, LANG), else English.
pub fn lang_from_env() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .filter(|v| v.to_ascii_lowercase().starts_with("nl"))
        .map_or(Lang::En, |_| Lang::Nl)
}

/// The text in the current language.
pub fn t(english: &'static str) -> &'static str {
    match lang() {
        Lang::En => english,
        Lang::Nl => dutch(english).unwrap_or(english),
    }
}

/// `t` with `{name}` placeholders filled in.
pub fn tf(english: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut s = t(english).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), &value.to_string());
    }
    s
}

pub fn dutch(english: &str) -> Option<&'static str> {
    DUTCH
        .binary_search_by(|(en, _)| en.cmp(&english))
        .ok()
        .map(|i| DUTCH[i].1)
}

/// (English, Dutch), sorted by English (a test keeps it sorted).
#[rustfmt::skip]
pub static DUTCH: &[(&str, &str)] = &[
    ("#{n} is now {state}.", "#{n} is nu {state}."),
    ("#{n}: {state}", "#{n}: {state}"),
    ("(none)", "(geen)"),
    ("A card already connected to this request is put back in stock.", "Een kaart die al aan deze aanvraag gekoppeld is, gaat terug naar de voorraad."),
    ("Abort", "Afbreken"),
    ("Activation", "Activering"),
    ("Activation (YYYY-MM-DD)", "Activering (JJJJ-MM-DD)"),
    ("Actor", "Gebruiker"),
    ("Add a door reader", "Een deurlezer toevoegen"),
    ("Add an operator", "Een operator toevoegen"),
    ("Add door reader", "Deurlezer toevoegen"),
    ("Add operator", "Operator toevoegen"),
    ("Address", "Adres"),
    ("All", "Alle"),
    ("All states", "Alle statussen"),
    ("An administrator reset your password. Choose a new one before you continue.", "Een beheerder heeft uw wachtwoord opnieuw ingesteld. Kies een nieuw voordat u verdergaat."),
    ("Answered", "Beantwoord"),
    ("Assign", "Toewijzen"),
    ("Assign to", "Toewijzen aan"),
    ("Assigned {credential} to {name}.", "{credential} toegewezen aan {name}."),
    ("Audit trail", "Audittrail"),
    ("Audit trail intact: {n} events.", "Audittrail intact: {n} gebeurtenissen."),
    ("Automatic entry", "Automatische invoer"),
    ("Badge template", "Badgesjabloon"),
    ("Badge templates", "Badgesjablonen"),
    ("Batch order {id}", "Batchorder {id}"),
    ("Batch order {id} cancelled.", "Batchorder {id} geannuleerd."),
    ("Batch order {id} completed.", "Batchorder {id} voltooid."),
    ("Batch order {id} of {when}", "Batchorder {id} van {when}"),
    ("Batch orders", "Batchorders"),
    ("Baud", "Baud"),
    ("Baud rate", "Baudrate"),
    ("Bits", "Bits"),
    ("Cancel", "Annuleren"),
    ("Card number", "Kaartnummer"),
    ("Card request {id} raised.", "Kaartaanvraag {id} ingediend."),
    ("Card requests", "Kaartaanvragen"),
    ("Card requests ({n})", "Kaartaanvragen ({n})"),
    ("CardDesk is locked", "CardDesk is vergrendeld"),
    ("Cardholder", "Kaarthouder"),
    ("Cardholder {name} created.", "Kaarthouder {name} aangemaakt."),
    ("Cardholder {name} created; card request {id} raised.", "Kaarthouder {name} aangemaakt; kaartaanvraag {id} ingediend."),
    ("Cardholder: {name}", "Kaarthouder: {name}"),
    ("Cardholders", "Kaarthouders"),
    ("Cardholders: {n}", "Kaarthouders: {n}"),
    ("Certificates", "Certificaten"),
    ("Change password", "Wachtwoord wijzigen"),
    ("Channel", "Kanaal"),
    ("Choose a card format.", "Kies een kaartformaat."),
    ("Choose a cardholder", "Kies een kaarthouder"),
    ("Choose a new password", "Kies een nieuw wachtwoord"),
    ("Choose a photo", "Kies een foto"),
    ("Choose a reader", "Kies een lezer"),
    ("Choose a reader.", "Kies een lezer."),
    ("Choose photo…", "Foto kiezen…"),
    ("Clear", "Wissen"),
    ("Close", "Sluiten"),
    ("Close {n} request(s)", "{n} aanvraag/aanvragen sluiten"),
    ("Closed {n} request(s).", "{n} aanvraag/aanvragen gesloten."),
    ("Complete order", "Order voltooien"),
    ("Completed", "Voltooid"),
    ("Confirm", "Bevestigen"),
    ("Connect a card to every selected request first.", "Koppel eerst een kaart aan elke geselecteerde aanvraag."),
    ("Connect card", "Kaarten verbinden"),
    ("Connect card for {name}", "Kaart verbinden voor {name}"),
    ("Connect card for {name} ({i} of {n})", "Kaart verbinden voor {name} ({i} van {n})"),
    ("Count", "Aantal"),
    ("Count: give a whole number of cards.", "Aantal: geef een heel aantal kaarten."),
    ("Create", "Aanmaken"),
    ("Create cardholder", "Kaarthouder aanmaken"),
    ("Created", "Aangemaakt"),
    ("Credential", "Credential"),
    ("Credential management", "Credentialbeheer"),
    ("Credentials", "Credentials"),
    ("Credentials: {n}", "Credentials: {n}"),
    ("Current password", "Huidig wachtwoord"),
    ("DEMO database", "DEMO-database"),
    ("Deactivate", "Deactiveren"),
    ("Demo data never goes into a site's database. To try CardDesk first, open the demo: a separate database with simulated devices.", "Demogegevens komen nooit in de database van een locatie. Wilt u CardDesk eerst uitproberen, open dan de demo: een aparte database met gesimuleerde apparaten."),
    ("Demo data: about 200 cardholders, 40 credentials and 12 pending requests.", "Demogegevens: ongeveer 200 kaarthouders, 40 credentials en 12 openstaande aanvragen."),
    ("Demo mode: simulated reader and printer.", "Demomodus: gesimuleerde lezer en printer."),
    ("Denied", "Geweigerd"),
    ("Denied {n} request(s).", "{n} aanvraag/aanvragen geweigerd."),
    ("Deny", "Weigeren"),
    ("Deny request", "Aanvraag weigeren"),
    ("Deny {n} request(s)", "{n} aanvraag/aanvragen weigeren"),
    ("Department", "Afdeling"),
    ("Disable", "Uitschakelen"),
    ("Discard", "Weggooien"),
    ("Discard them? The PINs cannot be shown again.", "Weggooien? De pincodes kunnen niet opnieuw worden getoond."),
    ("Done", "Gereed"),
    ("Door readers", "Deurlezers"),
    ("Door readers on RS-485 (OSDP). A card read at one is enrolled like a card at the desk reader, and the reader shows the answer: green and one beep, or red and two.", "Deurlezers op RS-485 (OSDP). Een kaart die daar gelezen wordt, wordt gekoppeld als een kaart op de bureaulezer, en de lezer toont het antwoord: groen en één piep, of rood en twee."),
    ("Double-click a credential to assign it.", "Dubbelklik op een credential om het toe te wijzen."),
    ("E-mail", "E-mail"),
    ("Edit details", "Gegevens bewerken"),
    ("Email me when the card is ready", "Mij e-mailen wanneer de kaart klaar is"),
    ("Enable", "Inschakelen"),
    ("Encode the temporary card", "De tijdelijke kaart coderen"),
    ("English", "Engels"),
    ("Entity", "Object"),
    ("Existing credential", "Bestaand credential"),
    ("Expiry", "Vervaldatum"),
    ("Expiry (YYYY-MM-DD)", "Vervaldatum (JJJJ-MM-DD)"),
    ("Failed logins before lock-out", "Mislukte aanmeldingen vóór blokkering"),
    ("Failed: {error}", "Mislukt: {error}"),
    ("Filter", "Filter"),
    ("First name", "Voornaam"),
    ("First password", "Eerste wachtwoord"),
    ("Format", "Formaat"),
    ("From address", "Afzenderadres"),
    ("General", "Algemeen"),
    ("Hide", "Verbergen"),
    ("History", "Geschiedenis"),
    ("Holder", "Houder"),
    ("Host", "Host"),
    ("How were the cards sent?", "Hoe zijn de kaarten verzonden?"),
    ("Idle minutes before the window locks", "Minuten inactief voordat het venster vergrendelt"),
    ("Issue multiple temporary cards", "Meerdere tijdelijke kaarten uitgeven"),
    ("Keep", "Bewaren"),
    ("Language", "Taal"),
    ("Last day", "Laatste dag"),
    ("Last error", "Laatste fout"),
    ("Last name", "Achternaam"),
    ("Lent until the end of {day}.", "Uitgeleend tot het einde van {day}."),
    ("Letter printer", "Printer voor brieven"),
    ("Load demo data", "Demogegevens laden"),
    ("Lock", "Blokkeren"),
    ("Lock-out minutes", "Minuten blokkering"),
    ("Locked after idle time. {name}, enter your password to continue where you were.", "Vergrendeld na inactiviteit. {name}, voer uw wachtwoord in om verder te gaan waar u was."),
    ("Log in", "Aanmelden"),
    ("Log out", "Afmelden"),
    ("Logged in as {name}", "Aangemeld als {name}"),
    ("Login policy", "Aanmeldbeleid"),
    ("Login policy: give whole numbers.", "Aanmeldbeleid: geef hele getallen."),
    ("Looking for printers…", "Printers zoeken…"),
    ("Mail", "Mail"),
    ("Mail server", "Mailserver"),
    ("Mail settings saved.", "Mailinstellingen opgeslagen."),
    ("Mail {id} queued again.", "Mail {id} opnieuw in de wachtrij gezet."),
    ("Manual entry", "Handmatige invoer"),
    ("Modify", "Aanpassen"),
    ("Modify request", "Aanvraag wijzigen"),
    ("Name", "Naam"),
    ("Nederlands", "Nederlands"),
    ("New password", "Nieuw wachtwoord"),
    ("New password for {name}", "Nieuw wachtwoord voor {name}"),
    ("Next", "Volgende"),
    ("No credentials.", "Geen referenties."),
    ("No door readers yet.", "Nog geen deurlezers."),
    ("No pending card requests.", "Geen openstaande kaartaanvragen."),
    ("No photo", "Geen foto"),
    ("No printers found.", "Geen printers gevonden."),
    ("No readers found. Connect a reader.", "Geen lezers gevonden. Sluit een lezer aan."),
    ("No requests.", "Geen aanvragen."),
    ("Not allowed for your role.", "Niet toegestaan voor uw rol."),
    ("Note", "Notitie"),
    ("Number", "Nummer"),
    ("Number or holder", "Nummer of houder"),
    ("OK", "OK"),
    ("OSDP address (0–126)", "OSDP-adres (0–126)"),
    ("OSDP address: {address} is not a number from 0 to 126.", "OSDP-adres: {address} is geen getal van 0 tot 126."),
    ("Open batch orders (resume, repeat or cancel):", "Open batchorders (hervatten, herhalen of annuleren):"),
    ("Open record", "Dossier openen"),
    ("Open the demo instead", "Open in plaats daarvan de demo"),
    ("Operator", "Operator"),
    ("Operator e-mail", "E-mail van de operator"),
    ("Operator name", "Naam van de operator"),
    ("Operators", "Operators"),
    ("Or hold a card to the reader.", "Of houd een kaart bij de lezer."),
    ("Outbox: {pending} queued, {sent} sent, {failed} failed", "Postvak uit: {pending} in wachtrij, {sent} verzonden, {failed} mislukt"),
    ("PIN length", "PIN-lengte"),
    ("PIN letters as one PDF", "Pinbrieven als één pdf"),
    ("PIN letters printed on {queue} (job {job}).", "Pinbrieven afgedrukt op {queue} (opdracht {job})."),
    ("PIN letters saved to {path}.", "Pinbrieven opgeslagen in {path}."),
    ("PUK length", "PUK-lengte"),
    ("PUK of {card}: {puk}", "PUK van {card}: {puk}"),
    ("Parity", "Pariteit"),
    ("Parity OK", "Pariteit OK"),
    ("Password", "Wachtwoord"),
    ("Password changed.", "Wachtwoord gewijzigd."),
    ("Pending", "In behandeling"),
    ("Pending card requests", "Openstaande kaartaanvragen"),
    ("Photo", "Foto"),
    ("Photo file (JPEG or PNG)", "Fotobestand (JPEG of PNG)"),
    ("Port", "Poort"),
    ("Present simulated card", "Gesimuleerde kaart aanbieden"),
    ("Present the card to {reader}…", "Houd de kaart bij {reader}…"),
    ("Print PIN letters", "Pinbrieven afdrukken"),
    ("Print and close each one", "Elke kaart afdrukken en sluiten"),
    ("Print cards", "Kaarten afdrukken"),
    ("Print or save the PIN letters first (or discard them).", "Druk eerst de pinbrieven af of sla ze op (of gooi ze weg)."),
    ("Print {n} card(s)", "{n} kaart(en) afdrukken"),
    ("Printed (printer job {job})", "Afgedrukt (printertaak {job})"),
    ("Printer", "Printer"),
    ("Printing…", "Bezig met afdrukken…"),
    ("Producing {n} of {total}; errors so far: {errors}", "Produceren: {n} van {total}; fouten tot nu toe: {errors}"),
    ("Reactivate", "Opnieuw activeren"),
    ("Reader", "Lezer"),
    ("Reason", "Reden"),
    ("Reason (optional)", "Reden (optioneel)"),
    ("Register", "Registreren"),
    ("Registered and assigned {credential} to {name}.", "{credential} geregistreerd en toegewezen aan {name}."),
    ("Rejected: {error}", "Geweigerd: {error}"),
    ("Remove", "Verwijderen"),
    ("Repeat", "Herhalen"),
    ("Repeat password", "Herhaal wachtwoord"),
    ("Repeat production", "Productie herhalen"),
    ("Report damaged", "Beschadigd melden"),
    ("Report lost", "Verlies melden"),
    ("Report stolen", "Diefstal melden"),
    ("Request", "Aanvragen"),
    ("Request a card", "Kaart aanvragen"),
    ("Request a replacement", "Vervanging aanvragen"),
    ("Request card", "Kaart aanvragen"),
    ("Request temporary cards", "Tijdelijke kaarten aanvragen"),
    ("Requested by", "Aangevraagd door"),
    ("Requested since", "Aangevraagd sinds"),
    ("Requested since: {date} is not a date (YYYY-MM-DD).", "Aangevraagd sinds: {date} is geen datum (JJJJ-MM-DD)."),
    ("Requested {n} temporary card(s): {numbers}.", "{n} tijdelijke kaart(en) aangevraagd: {numbers}."),
    ("Reset password", "Wachtwoord opnieuw instellen"),
    ("Retry", "Opnieuw"),
    ("Return to stock", "Terug naar voorraad"),
    ("Reveal PUK", "PUK tonen"),
    ("Revoke", "Intrekken"),
    ("Role", "Rol"),
    ("Save", "Opslaan"),
    ("Save PIN letters as one PDF…", "Pinbrieven als één pdf opslaan…"),
    ("Save login policy", "Aanmeldbeleid opslaan"),
    ("Save mail settings", "Mailinstellingen opslaan"),
    ("Save the PIN letters", "De pinbrieven opslaan"),
    ("Saved {name}.", "{name} opgeslagen."),
    ("Search", "Zoeken"),
    ("Secure channel key (optional, 32 hex digits)", "Sleutel beveiligd kanaal (optioneel, 32 hexadecimale cijfers)"),
    ("Security", "Beveiliging"),
    ("Select exactly one request.", "Selecteer precies één aanvraag."),
    ("Select one or more requests.", "Selecteer een of meer aanvragen."),
    ("Send a test message to", "Stuur een testbericht naar"),
    ("Send test message", "Testbericht versturen"),
    ("Sent to the printer (job {job})…", "Naar de printer gestuurd (taak {job})…"),
    ("Serial port (e.g. /dev/ttyUSB0)", "Seriële poort (bijv. /dev/ttyUSB0)"),
    ("Set password", "Wachtwoord instellen"),
    ("Set up CardDesk", "CardDesk instellen"),
    ("Settings", "Instellingen"),
    ("Ship to site", "Verzenden naar locatie"),
    ("Show", "Tonen"),
    ("Shown this once; the reveal is in the audit trail.", "Eenmalig getoond; het tonen staat in de audittrail."),
    ("Simulated card UID", "UID gesimuleerde kaart"),
    ("Site", "Locatie"),
    ("Skip", "Overslaan"),
    ("State", "Status"),
    ("Status", "Status"),
    ("Subject", "Onderwerp"),
    ("Take back", "Terugnemen"),
    ("Temporary card #{n}: {state}, valid until {until}", "Tijdelijke kaart #{n}: {state}, geldig tot {until}"),
    ("Temporary cards", "Tijdelijke kaarten"),
    ("Test message {id} queued.", "Testbericht {id} in de wachtrij gezet."),
    ("The badge for request {id} was not printed ({error}); the request stays pending.", "De badge voor aanvraag {id} is niet afgedrukt ({error}); de aanvraag blijft open."),
    ("The holder's use ended on {day}; the card no longer opens doors. Take it back.", "Het gebruik door de houder eindigde op {day}; de kaart opent geen deuren meer. Neem haar terug."),
    ("The passwords differ.", "De wachtwoorden verschillen."),
    ("The requester's e-mail tells them (courier, tracking number).", "De e-mail aan de aanvrager vermeldt het (koerier, volgnummer)."),
    ("The system cannot confirm that this data matches a physical card.", "Het systeem kan niet bevestigen dat deze gegevens bij een fysieke kaart horen."),
    ("This database is new. Create the first administrator.", "Deze database is nieuw. Maak de eerste beheerder aan."),
    ("Time", "Tijd"),
    ("To", "Aan"),
    ("Tries", "Pogingen"),
    ("Unassigned credentials", "Niet-toegewezen credentials"),
    ("Unlock", "Ontgrendelen"),
    ("User (optional)", "Gebruiker (optioneel)"),
    ("Valid until", "Geldig tot"),
    ("Verify audit trail", "Audittrail controleren"),
    ("Waiting for the reader…", "Wachten op de lezer…"),
    ("What happened", "Wat is er gebeurd"),
    ("Why a card is needed", "Waarom een kaart nodig is"),
    ("Working…", "Bezig…"),
    ("Yes", "Ja"),
    ("Yes, discard", "Ja, weggooien"),
    ("Your privileges do not allow this.", "Uw rechten staan dit niet toe."),
    ("aborted", "afgebroken"),
    ("active", "actief"),
    ("administrator", "beheerder"),
    ("and {n} more", "en nog {n}"),
    ("assigned", "toegewezen"),
    ("clear", "onbeveiligd"),
    ("connecting…", "verbinden…"),
    ("disabled", "uitgeschakeld"),
    ("expired", "verlopen"),
    ("failed", "mislukt"),
    ("locked", "geblokkeerd"),
    ("locked until {time}", "geblokkeerd tot {time}"),
    ("must change password", "moet wachtwoord wijzigen"),
    ("none besides the card printer", "geen behalve de kaartprinter"),
    ("online", "online"),
    ("operator", "operator"),
    ("port: {value} is not a port number (1–65535)", "poort: {value} is geen poortnummer (1–65535)"),
    ("requested", "aangevraagd"),
    ("secure", "beveiligd"),
    ("supervisor", "supervisor"),
    ("unassigned", "niet toegewezen"),
    ("viewer", "kijker"),
    ("{action}: {credential}", "{action}: {credential}"),
    ("{by} at {at}", "{by} om {at}"),
    ("{by} at {at}: {reason}", "{by} om {at}: {reason}"),
    ("{card}: temporary cards are found by their chip UID; hold the card to the desk reader.", "{card}: tijdelijke kaarten worden gevonden aan de UID van hun chip; houd de kaart bij de bureaulezer."),
    ("{credential} is now {state}.", "{credential} is nu {state}."),
    ("{credential} is now {state}; replacement request {request} raised.", "{credential} is nu {state}; vervangingsaanvraag {request} ingediend."),
    ("{day} (ended)", "{day} (verlopen)"),
    ("{errors} of {n} card(s) failed; tick them and choose Repeat production.", "{errors} van {n} kaart(en) mislukt; vink ze aan en kies Productie herhalen."),
    ("{n} PIN letter(s) are ready. They will not be shown again: print or save them now.", "{n} pinbrief/pinbrieven klaar. Ze worden niet opnieuw getoond: druk ze nu af of sla ze op."),
    ("{n} card(s) produced.", "{n} kaart(en) geproduceerd."),
    ("{n} of {total} requests have their card.", "{n} van {total} aanvragen hebben hun kaart."),
    ("{n} print job(s) left unfinished by the last run were settled with the printer.", "{n} afdruktaak/-taken die de vorige keer onaf bleven, zijn met de printer afgehandeld."),
    ("{n} requested card(s), {m} ticked", "{n} aangevraagde kaart(en), {m} aangevinkt"),
    ("{n} selected", "{n} geselecteerd"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in DUTCH.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "{:?} must come before {:?}",
                w[1].0,
                w[0].0
            );
        }
    }

    #[test]
    fn placeholders_survive_translation() {
        for (en, nl) in DUTCH {
            for part in en.split('{').skip(1) {
                let name = part.split('}').next().unwrap();
                assert!(
                    nl.contains(&format!("{{{name}}}")),
                    "{nl:?} lacks {{{name}}}"
                );
            }
        }
    }
}
