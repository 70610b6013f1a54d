"""Every text the portal shows, in German (first) and English (second).

Plain words, short sentences, one instruction each: the readers are over 80 or helping someone
who is. Placeholders are `str.format` fields; the values are escaped by the templates.
"""

from __future__ import annotations

M: dict[str, tuple[str, str]] = {
    # frame
    "site.name": ("Impftermine Westfalen-Lippe", "Vaccination appointments Westfalen-Lippe"),
    "skip": ("Zum Inhalt springen", "Skip to main content"),
    "nav.language": ("Sprache", "Language"),
    "nav.start": ("Startseite", "Start page"),
    "nav.manage": ("Buchung ansehen oder absagen", "View or cancel a booking"),
    "nav.mailbox": ("Test-Postfach", "Test mailbox"),
    "footer.hotline": (
        "Fragen? Die Hotline 116 117 hilft Ihnen, auch beim Buchen am Telefon.",
        "Questions? The hotline 116 117 helps you, and books by phone too.",
    ),
    "error.prefix": ("Fehler", "Error"),
    "error.summary": ("Bitte korrigieren Sie Folgendes", "Please correct the following"),
    "form.optional": ("freiwillig", "optional"),
    "form.continue": ("Weiter", "Continue"),
    "form.back": ("Zurück zum Formular", "Back to the form"),
    # start
    "start.title": ("Impftermine buchen", "Book vaccination appointments"),
    "start.what": (
        "Hier buchen Sie die Termine für Ihre Corona-Schutzimpfung in einem Impfzentrum in "
        "Westfalen-Lippe: die erste und die zweite Impfung zusammen. Die Impfung ist kostenlos.",
        "Here you book the appointments for your COVID-19 vaccination at a vaccination centre in "
        "Westfalen-Lippe: the first and the second dose together. The vaccination is free.",
    ),
    "start.now": ("Wer jetzt buchen kann", "Who can book now"),
    "start.nobody_yet": ("Im Moment kann noch niemand buchen.", "Nobody can book yet."),
    "start.next": ("Wer als Nächstes an der Reihe ist", "Who is next"),
    "start.opens_at": ("ab {when}", "from {when}"),
    "start.how": ("So geht es", "How it works"),
    "start.step1": (
        "Geburtsdatum und Postleitzahl eingeben.",
        "Enter your date of birth and postcode.",
    ),
    "start.step2": (
        "Handynummer mit einer PIN per SMS bestätigen.",
        "Confirm your mobile number with a PIN sent by text message.",
    ),
    "start.step3": (
        "Die beiden Termine auswählen – auf Wunsch für zwei Personen.",
        "Choose both appointments – for two persons if you like.",
    ),
    "start.step4": (
        "Name und Adresse eingeben. Sie bekommen einen Buchungscode.",
        "Enter name and address. You get a booking code.",
    ),
    "start.need_phone": (
        "Sie brauchen ein Handy, das SMS empfangen kann. Ohne Handy buchen Sie über die "
        "Hotline 116 117.",
        "You need a mobile phone that receives text messages. Without one, book through the "
        "hotline 116 117.",
    ),
    "start.begin": ("Termin suchen", "Find an appointment"),
    "start.have_booking": ("Sie haben schon gebucht?", "Already booked?"),
    "start.manage_link": (
        "Buchung ansehen, umbuchen oder absagen",
        "View, change or cancel your booking",
    ),
    "cohort.min": ("{age} Jahre und älter", "aged {age} and over"),
    "cohort.range": ("{low} bis {high} Jahre", "aged {low} to {high}"),
    # eligibility
    "elig.title": ("Wer soll geimpft werden?", "Who is to be vaccinated?"),
    "elig.intro": (
        "Mit dem Geburtsdatum und der Postleitzahl der Person, die geimpft werden soll, sehen "
        "Sie, ob sie schon buchen kann.",
        "With the date of birth and the postcode of the person to be vaccinated you see "
        "whether they can book already.",
    ),
    "field.birth_date": ("Geburtsdatum", "Date of birth"),
    "hint.birth_date": ("Zum Beispiel 01.05.1939", "For example 01.05.1939 (day.month.year)"),
    "hint.birth_date_any": (
        "Geburtsdatum einer Person aus der Buchung, zum Beispiel 01.05.1939",
        "Date of birth of a person in the booking, for example 01.05.1939",
    ),
    "field.postcode": ("Postleitzahl", "Postcode"),
    "hint.postcode": ("Fünf Ziffern, zum Beispiel 33602", "Five digits, for example 33602"),
    "elig.title.result": ("Ergebnis", "Result"),
    "result.yes.title": ("Sie können jetzt Termine buchen", "You can book appointments now"),
    "result.yes.vaccines": ("Impfstoff: {vaccines}.", "Vaccine: {vaccines}."),
    "result.yes.home": ("Ihr Impfzentrum: {centre}.", "Your vaccination centre: {centre}."),
    "result.yes.others": (
        "Sie dürfen auch in {count} anderen Impfzentren buchen",
        "You may also book at {count} other centres",
    ),
    "result.yes.from": (
        "{vaccine}: die erste Impfung ist ab {day} möglich, denn dann haben Sie das Alter dafür.",
        "{vaccine}: the first dose is possible from {day}, when you reach the age for it.",
    ),
    "result.next.phone": ("Weiter: Handynummer bestätigen", "Next: confirm your mobile number"),
    "result.next.choose": ("Weiter: Termine auswählen", "Next: choose appointments"),
    "result.no.title": ("Sie können noch nicht buchen", "You cannot book yet"),
    "result.no.opens": (
        "Ihre Altersgruppe ist ab {when} an der Reihe.",
        "Your age group can book from {when}.",
    ),
    "result.no.birthday": (
        "Ab {day} haben Sie das Alter einer Gruppe, die schon buchen darf. Termine ab diesem Tag "
        "sind noch nicht freigegeben: Das Buchungsfenster reicht noch nicht so weit.",
        "From {day} you reach the age of a group that may book already. Appointments from that "
        "day are not open yet: the booking window does not reach that far.",
    ),
    "result.no.come_back": (
        "Kommen Sie dann wieder. Ihre Angaben müssen Sie dann noch einmal eingeben.",
        "Please come back then. You will enter your details again.",
    ),
    "result.no.never": (
        "Für Ihr Alter ist in dieser Impfaktion noch keine Gruppe geöffnet oder geplant. Die "
        "Hotline 116 117 sagt Ihnen, wann und wo Sie sich impfen lassen können.",
        "No group for your age is open or scheduled yet in this campaign. The hotline 116 117 "
        "tells you when and where you can be vaccinated.",
    ),
    "result.change": ("Angaben ändern", "Change the details"),
    # phone and PIN
    "phone.title": ("Wie lautet Ihre Handynummer?", "What is your mobile number?"),
    "phone.intro": (
        "Wir schicken eine SMS mit einer PIN aus 6 Ziffern an diese Nummer. An diese Nummer "
        "geht auch die Bestätigung der Buchung.",
        "We send a text message with a 6-digit PIN to this number. The booking confirmation "
        "goes to this number too.",
    ),
    "field.phone": ("Handynummer", "Mobile number"),
    "hint.phone": ("Zum Beispiel 0170 1234567", "For example 0170 1234567 or +49 170 1234567"),
    "phone.send": ("PIN per SMS schicken", "Send PIN by text message"),
    "pin.title": ("Geben Sie die PIN aus der SMS ein", "Enter the PIN from the text message"),
    "pin.sent": ("Wir haben eine SMS an {phone} geschickt.", "We sent a text message to {phone}."),
    "pin.valid": (
        "Die PIN gilt {minutes} Minuten, also bis {until}.",
        "The PIN is valid for {minutes} minutes, until {until}.",
    ),
    "field.pin": ("PIN", "PIN"),
    "hint.pin": ("6 Ziffern, zum Beispiel 123456", "6 digits, for example 123456"),
    "pin.confirm": ("PIN bestätigen", "Confirm PIN"),
    "pin.no_sms.title": ("Keine SMS bekommen?", "No text message?"),
    "pin.no_sms.wait": (
        "Eine SMS kann einige Minuten brauchen. Schauen Sie bitte noch einmal nach.",
        "A text message can take a few minutes. Please look again.",
    ),
    "pin.no_sms.check": ("Stimmt die Nummer {phone}?", "Is the number {phone} right?"),
    "pin.change_number": ("Nummer ändern", "Change the number"),
    "pin.no_sms.resend": (
        "Ab {when} können Sie eine neue PIN anfordern.",
        "From {when} you can ask for a new PIN.",
    ),
    "pin.no_sms.hotline": (
        "Kommt auch dann keine SMS, rufen Sie die Hotline 116 117 an. Dort können Sie auch "
        "am Telefon buchen.",
        "If still no text message comes, call the hotline 116 117. You can book by phone there.",
    ),
    "pin.resend": ("Neue PIN schicken", "Send a new PIN"),
    "pin.resent": ("Wir haben eine neue PIN geschickt.", "We sent a new PIN."),
    # choose
    "choose.title": ("Wählen Sie Ihre Termine", "Choose your appointments"),
    "choose.intro": (
        "Jedes Angebot enthält beide Termine: die erste und die zweite Impfung.",
        "Every offer holds both appointments: the first and the second dose.",
    ),
    "choose.vaccine": ("Impfstoff", "Vaccine"),
    "choose.vaccine_only": ("Impfstoff: {name}", "Vaccine: {name}"),
    "choose.two": ("Für zwei Personen buchen", "Book for two persons"),
    "choose.two_hint": (
        "Zum Beispiel für ein Ehepaar: Sie werden zur selben Zeit geimpft.",
        "For example a couple: you are vaccinated at the same time.",
    ),
    "choose.for_two": ("Termine für zwei Personen.", "Appointments for two persons."),
    "choose.show": ("Passende Termine zeigen", "Show matching appointments"),
    "choose.home": ("Ihr Impfzentrum: {name}", "Your vaccination centre: {name}"),
    "choose.other": ("{name}", "{name}"),
    "choose.others_title": (
        "Andere Impfzentren mit freien Terminen",
        "Other centres with free appointments",
    ),
    "choose.distance": ("{km} km entfernt", "{km} km away"),
    "choose.take": ("Diese Termine wählen", "Choose these appointments"),
    "choose.take_book": ("Diese Termine buchen", "Book these appointments"),
    "choose.centre_full": (
        "Hier ist gerade kein Terminpaar frei.",
        "No pair of appointments is free here at the moment.",
    ),
    "choose.none.title": ("Zurzeit sind keine Termine frei", "No appointments are free right now"),
    "choose.none.next": (
        "Neue Termine werden am {when} freigegeben.",
        "New appointments are released on {when}.",
    ),
    "choose.none.unknown": (
        "Wann neue Termine kommen, steht noch nicht fest.",
        "It is not known yet when new appointments come.",
    ),
    "choose.none.waitlist": (
        "Tragen Sie sich in die Warteliste ein: Wir schicken Ihnen eine SMS, sobald wieder "
        "Termine frei sind.",
        "Join the waiting list: we send you a text message as soon as appointments are free.",
    ),
    "choose.none.waitlist_button": ("In die Warteliste eintragen", "Join the waiting list"),
    "dose.first": ("1. Impfung:", "1st dose:"),
    "dose.second": ("2. Impfung:", "2nd dose:"),
    "dose.single": ("Impfung (nur eine):", "Vaccination (single dose):"),
    "taken.notice": (
        "Der gewählte Termin wurde gerade von jemand anderem gebucht. Hier sind die Termine, "
        "die jetzt frei sind. Ihre Angaben sind gespeichert: Ein Klick bucht.",
        "The appointment you chose was just booked by someone else. Here are the appointments "
        "free now. Your details are kept: one click books.",
    ),
    "taken.for": ("Buchung für: {names}", "Booking for: {names}"),
    "taken.title": ("Bitte wählen Sie neue Termine", "Please choose new appointments"),
    # details
    "details.title": ("Ihre Angaben", "Your details"),
    "details.chosen": ("Ihre Termine", "Your appointments"),
    "details.change": ("Andere Termine wählen", "Choose other appointments"),
    "details.person": ("Person {n}", "Person {n}"),
    "details.person_one": ("Die Person, die geimpft wird", "The person to be vaccinated"),
    "field.first_name": ("Vorname", "First name"),
    "field.last_name": ("Nachname", "Last name"),
    "field.street": ("Straße", "Street"),
    "field.house_number": ("Hausnummer", "House number"),
    "hint.house_number": ("Zum Beispiel 12 oder 12a", "For example 12 or 12a"),
    "field.city": ("Ort", "Town or city"),
    "field.email": ("E-Mail-Adresse", "E-mail address"),
    "hint.email": (
        "Dann bekommen Sie die Bestätigung auch per E-Mail.",
        "Then you get the confirmation by e-mail too.",
    ),
    "field.code": ("Buchungscode", "Booking code"),
    "hint.code": (
        "12 Zeichen, zum Beispiel K7QM-3XPA-9RTD",
        "12 characters, for example K7QM-3XPA-9RTD",
    ),
    "field.centre": ("Impfzentrum", "Vaccination centre"),
    "field.vaccine": ("Impfstoff", "Vaccine"),
    "details.sms_to": (
        "Die Bestätigung schicken wir per SMS an {phone}.",
        "We send the confirmation by text message to {phone}.",
    ),
    "details.book": ("Verbindlich buchen", "Book now"),
    "token.expired": (
        "Die Bestätigung Ihrer Handynummer ist abgelaufen (sie gilt 2 Stunden). Bitte fordern "
        "Sie eine neue PIN an. Ihre Angaben bleiben gespeichert.",
        "The confirmation of your mobile number has run out (it lasts 2 hours). Please ask "
        "for a new PIN. Your details are kept.",
    ),
    "flow.restart": (
        "Bitte beginnen Sie mit Geburtsdatum und Postleitzahl.",
        "Please start with date of birth and postcode.",
    ),
    "flow.need_phone": (
        "Bitte bestätigen Sie zuerst Ihre Handynummer.",
        "Please confirm your mobile number first.",
    ),
    # confirmation
    "confirm.title": ("Ihre Termine sind gebucht", "Your appointments are booked"),
    "confirm.rebooked": ("Ihre neuen Termine sind gebucht", "Your new appointments are booked"),
    "confirm.code": ("Ihr Buchungscode", "Your booking code"),
    "confirm.where": ("Ort", "Place"),
    "confirm.bring": ("Bitte mitbringen", "Please bring"),
    "confirm.bring.id": ("Personalausweis oder Reisepass", "Identity card or passport"),
    "confirm.bring.card": ("Krankenversichertenkarte", "Health insurance card"),
    "confirm.bring.pass": ("Impfpass, falls vorhanden", "Vaccination record, if you have one"),
    "confirm.bring.code": (
        "Diesen Buchungscode (ausgedruckt oder aufgeschrieben)",
        "This booking code (printed or written down)",
    ),
    "confirm.messages": ("Bestätigung", "Confirmation"),
    "confirm.sms": (
        "Eine SMS an {phone} ist unterwegs.",
        "A text message to {phone} is on its way.",
    ),
    "confirm.email": (
        "Eine E-Mail an {emails} ist unterwegs.",
        "An e-mail to {emails} is on its way.",
    ),
    "confirm.no_message": (
        "Ihre Buchung gilt auch, wenn die Nachrichten später ankommen: Entscheidend ist der "
        "Buchungscode auf dieser Seite.",
        "Your booking stands even if the messages arrive late: the booking code on this page "
        "is what counts.",
    ),
    "confirm.print": (
        "Drucken Sie diese Seite aus (im Browser-Menü: Drucken) oder schreiben Sie den Code auf.",
        "Print this page (browser menu: Print) or write the code down.",
    ),
    "confirm.manage": (
        "Später ansehen, umbuchen oder absagen",
        "View, change or cancel later",
    ),
    "code.spelled": ("Buchungscode: {letters}", "Booking code: {letters}"),
    # manage
    "manage.title": ("Buchung ansehen", "View a booking"),
    "manage.intro": (
        "Mit dem Buchungscode und dem Geburtsdatum sehen Sie Ihre Termine. Sie können sie "
        "dann umbuchen oder absagen.",
        "With the booking code and the date of birth you see your appointments. You can then "
        "change or cancel them.",
    ),
    "manage.find": ("Buchung anzeigen", "Show booking"),
    "manage.view.title": ("Ihre Buchung", "Your booking"),
    "manage.status": ("Stand", "Status"),
    "manage.vaccine": ("Impfstoff", "Vaccine"),
    "status.booked": ("gebucht", "booked"),
    "status.cancelled": ("abgesagt", "cancelled"),
    "manage.rebook": ("Andere Termine wählen", "Choose other appointments"),
    "manage.cancel": ("Termine absagen", "Cancel appointments"),
    "manage.cancelled_hint": (
        "Diese Termine sind abgesagt und wieder frei für andere.",
        "These appointments are cancelled and free for others again.",
    ),
    "manage.again": (
        "Bitte geben Sie Code und Geburtsdatum ein.",
        "Please enter code and date of birth.",
    ),
    "cancel.title": ("Termine wirklich absagen?", "Really cancel the appointments?"),
    "cancel.what": ("Buchung {code}:", "Booking {code}:"),
    "cancel.final": (
        "Nach der Absage sind die Termine sofort für andere frei. Das lässt sich nicht "
        "rückgängig machen.",
        "After cancelling, the appointments are free for others at once. This cannot be undone.",
    ),
    "cancel.yes": ("Ja, Termine absagen", "Yes, cancel the appointments"),
    "cancel.no": ("Nein, zurück", "No, go back"),
    "cancel.done": (
        "Ihre Termine sind abgesagt. Wir schicken Ihnen eine Bestätigung per SMS.",
        "Your appointments are cancelled. We send you a confirmation by text message.",
    ),
    "rebook.title": ("Neue Termine wählen", "Choose new appointments"),
    "rebook.intro": (
        "Ihre bisherigen Termine bleiben gebucht, bis die neuen gebucht sind.",
        "Your current appointments stay booked until the new ones are booked.",
    ),
    "rebook.take": ("Auf diese Termine umbuchen", "Change to these appointments"),
    "rebook.taken": (
        "Der gewählte Termin wurde gerade von jemand anderem gebucht. Ihre bisherigen Termine "
        "bleiben gebucht. Hier sind die Termine, die jetzt frei sind.",
        "The appointment you chose was just booked by someone else. Your current appointments "
        "stay booked. Here are the appointments free now.",
    ),
    "rebook.back": ("Zurück zur Buchung", "Back to the booking"),
    "rebook.done": (
        "Umgebucht. Die alten Termine sind freigegeben. Eine SMS mit den neuen Terminen ist "
        "unterwegs.",
        "Changed. The old appointments are released. A text message with the new ones is on "
        "its way.",
    ),
    "rebook.too_often": (
        "Diese Buchung wurde gerade schon mehrmals umgebucht. Versuchen Sie es in {wait} noch "
        "einmal oder rufen Sie die Hotline 116 117 an.",
        "This booking was changed several times just now. Try again in {wait} or call the "
        "hotline 116 117.",
    ),
    "cancel.too_often": (
        "Für diese Buchung kam gerade schon mehrmals eine Absage. Versuchen Sie es in {wait} "
        "noch einmal oder rufen Sie die Hotline 116 117 an.",
        "Cancelling was asked for this booking several times just now. Try again in {wait} or "
        "call the hotline 116 117.",
    ),
    # waitlist
    "waitlist.too_often": (
        "Mit dieser Nummer haben Sie sich gerade schon oft eingetragen. Versuchen Sie es in "
        "{wait} noch einmal.",
        "This number joined waiting lists many times just now. Try again in {wait}.",
    ),
    "waitlist.title": ("Warteliste", "Waiting list"),
    "waitlist.intro": (
        "Sobald im gewählten Impfzentrum wieder Termine frei sind, schicken wir eine SMS an "
        "{phone}. Dann buchen Sie hier wie gewohnt.",
        "As soon as appointments are free at the chosen centre, we send a text message to "
        "{phone}. Then you book here as usual.",
    ),
    "waitlist.join": ("Eintragen", "Join"),
    "waitlist.done.title": ("Sie stehen auf der Warteliste", "You are on the waiting list"),
    "waitlist.done.text": (
        "Wir schicken eine SMS an {phone}, sobald in {centre} wieder Termine für {vaccine} frei "
        "sind.",
        "We send a text message to {phone} as soon as appointments for {vaccine} are free at "
        "{centre}.",
    ),
    "waitlist.done.already": (
        "Sie standen schon auf dieser Warteliste. Sie bekommen nur eine SMS.",
        "You were on this waiting list already. You get one text message only.",
    ),
    # dev mailbox
    "mailbox.title": ("Test-Postfach", "Test mailbox"),
    "mailbox.intro": (
        "Nur im Demo-Betrieb: Diese SMS und E-Mails würden verschickt.",
        "Demo mode only: these text messages and e-mails would have been sent.",
    ),
    "mailbox.to": ("Empfänger", "Recipient"),
    "mailbox.filter": ("Filtern", "Filter"),
    "mailbox.empty": ("Keine Nachrichten.", "No messages."),
    # error pages
    "page.404.title": ("Seite nicht gefunden", "Page not found"),
    "page.404.text": (
        "Diese Seite gibt es nicht. Prüfen Sie die Adresse oder beginnen Sie auf der Startseite.",
        "This page does not exist. Check the address or begin on the start page.",
    ),
    "page.405.title": ("Seite nicht gefunden", "Page not found"),
    "page.403.title": ("Das Formular konnte nicht angenommen werden", "The form was not accepted"),
    "page.403.text": (
        "Aus Sicherheitsgründen haben wir das Formular nicht angenommen: Es kam nicht von "
        "dieser Seite oder Ihr Browser hat keine Cookies erlaubt. Es wurde nichts gespeichert.",
        "For your safety we did not accept the form: it did not come from this site or your "
        "browser does not allow cookies. Nothing was stored.",
    ),
    "page.403.what": (
        "Gehen Sie zurück, laden Sie die Seite neu und senden Sie das Formular noch einmal.",
        "Go back, reload the page and send the form again.",
    ),
    "page.400.title": ("Die Eingabe war nicht lesbar", "The input could not be read"),
    "page.400.text": (
        "Wir konnten das Formular nicht lesen. Es wurde nichts gespeichert. Bitte versuchen "
        "Sie es noch einmal.",
        "We could not read the form. Nothing was stored. Please try again.",
    ),
    "page.429.title": ("Bitte warten Sie kurz", "Please wait a moment"),
    "page.429.text": (
        "Gerade sind sehr viele Anfragen da. Versuchen Sie es in {wait} noch einmal.",
        "There are very many requests right now. Try again in {wait}.",
    ),
    "page.503.title": (
        "Wir können Ihre Anfrage gerade nicht bearbeiten",
        "We cannot handle your request right now",
    ),
    "page.503.text": (
        "Unsere Datenbank antwortet gerade nicht. Gebucht ist nur, wenn Sie einen "
        "Buchungscode gesehen haben. Versuchen Sie es in {wait} noch einmal.",
        "Our database is not answering right now. You have booked only if you saw a booking "
        "code. Try again in {wait}.",
    ),
    "page.500.title": ("Ein Fehler bei uns", "An error on our side"),
    "page.500.text": (
        "Etwas ist bei uns schiefgegangen. Gebucht ist nur, wenn Sie einen Buchungscode gesehen "
        "haben. Versuchen Sie es gleich noch einmal.",
        "Something went wrong on our side. You have booked only if you saw a booking code. "
        "Please try again in a moment.",
    ),
    "page.back_start": ("Zur Startseite", "To the start page"),
    # messages for bad input (domain errors mapped to plain words)
    "err.missing": ("{label} fehlt.", "{label} is missing."),
    "err.too_long": (
        "{label} ist zu lang: höchstens {n} Zeichen.",
        "{label} is too long: at most {n} characters.",
    ),
    "err.chars.name": (
        "{label}: bitte nur Buchstaben, Leerzeichen und Bindestriche.",
        "{label}: please use letters, spaces and hyphens only.",
    ),
    "err.chars.street": (
        "Straße: bitte nur Buchstaben, Ziffern, Leerzeichen, Punkt und Bindestrich.",
        "Street: please use letters, digits, spaces, full stops and hyphens only.",
    ),
    "err.format.house_number": (
        "Hausnummer bitte so schreiben: 12 oder 12a.",
        "Write the house number like 12 or 12a.",
    ),
    "err.format.postcode": (
        "Die Postleitzahl hat fünf Ziffern, zum Beispiel 33602.",
        "The postcode has five digits, for example 33602.",
    ),
    "err.format.email": (
        "E-Mail-Adresse bitte so schreiben: name@beispiel.de",
        "Write the e-mail address like name@example.org",
    ),
    "err.date.format": (
        "Geburtsdatum bitte so schreiben: Tag.Monat.Jahr, zum Beispiel 01.05.1939.",
        "Write the date of birth as day.month.year, for example 01.05.1939.",
    ),
    "err.date.real": (
        "Dieses Datum gibt es nicht. Prüfen Sie Tag und Monat.",
        "This date does not exist. Check the day and the month.",
    ),
    "err.date.future": (
        "Das Geburtsdatum liegt in der Zukunft. Prüfen Sie das Jahr.",
        "The date of birth lies in the future. Check the year.",
    ),
    "err.date.old": (
        "Ein Geburtsdatum vor mehr als 130 Jahren kann nicht stimmen. Prüfen Sie das Jahr.",
        "A date of birth more than 130 years ago cannot be right. Check the year.",
    ),
    "err.invalid_phone": (
        "Das ist keine deutsche Handynummer. Schreiben Sie sie so: 0170 1234567.",
        "This is not a German mobile number. Write it like 0170 1234567.",
    ),
    "err.unknown_postcode": (
        "Diese Postleitzahl gehört zu keinem Impfzentrum in Westfalen-Lippe. Prüfen Sie sie "
        "oder rufen Sie die Hotline 116 117 an.",
        "This postcode belongs to no vaccination centre in Westfalen-Lippe. Check it or call "
        "the hotline 116 117.",
    ),
    "err.resend_too_soon": (
        "Eine PIN wurde gerade erst geschickt. Eine neue können Sie in {seconds} Sekunden "
        "anfordern.",
        "A PIN was sent a moment ago. You can ask for a new one in {seconds} seconds.",
    ),
    "err.too_many_pins": (
        "Diese Nummer hat in den letzten 24 Stunden schon 5 PINs bekommen. Versuchen Sie es "
        "später wieder (spätestens nach 24 Stunden geht es) oder rufen Sie die Hotline 116 117 "
        "an.",
        "This number got 5 PINs within the last 24 hours. Try again later (after 24 hours at "
        "the latest) or call the hotline 116 117.",
    ),
    "err.invalid_pin": (
        "Die PIN hat 6 Ziffern. Geben Sie sie so ein, wie sie in der SMS steht.",
        "The PIN has 6 digits. Type it as it stands in the text message.",
    ),
    "err.wrong_pin": (
        "Die PIN stimmt nicht. Prüfen Sie die SMS und versuchen Sie es noch einmal.",
        "The PIN is not right. Check the text message and try again.",
    ),
    "err.pin_expired": (
        "Die PIN ist abgelaufen (sie gilt 30 Minuten). Fordern Sie unten eine neue an.",
        "The PIN has expired (it is valid for 30 minutes). Ask for a new one below.",
    ),
    "err.verification_used": (
        "Diese PIN wurde schon benutzt. Fordern Sie unten eine neue an.",
        "This PIN was used already. Ask for a new one below.",
    ),
    "err.too_many_attempts": (
        "Zu viele falsche Versuche. Fordern Sie unten eine neue PIN an.",
        "Too many wrong tries. Ask for a new PIN below.",
    ),
    "err.no_pin": (
        "Bitte fordern Sie zuerst eine PIN an.",
        "Please ask for a PIN first.",
    ),
    "err.already_booked": (
        "Für eine Person hier gibt es schon eine Buchung. Unter „Buchung ansehen“ können Sie "
        "sie umbuchen oder absagen.",
        "A person here has a booking already. Under “View a booking” you can change or cancel it.",
    ),
    "err.token_used": (
        "Mit dieser Handy-Bestätigung wurde schon gebucht. Für eine weitere Buchung bestätigen "
        "Sie die Nummer bitte noch einmal.",
        "This phone confirmation was used for a booking already. For another booking, confirm "
        "the number again.",
    ),
    "err.not_eligible": (
        "Diese Person kann diese Termine nicht buchen: Alter, Impfstoff oder Impfzentrum passen "
        "nicht. Prüfen Sie Geburtsdatum und Postleitzahl.",
        "This person cannot book these appointments: age, vaccine or centre do not fit. Check "
        "the date of birth and the postcode.",
    ),
    "err.same_person": (
        "Dieselbe Person ist zweimal eingetragen.",
        "The same person is entered twice.",
    ),
    "err.offer_gone": (
        "Dieses Angebot gibt es so nicht mehr. Bitte wählen Sie eines der aktuellen Angebote.",
        "This offer is no longer available. Please choose one of the current offers.",
    ),
    "err.invalid_code": (
        "Ein Buchungscode hat 12 Zeichen (Buchstaben und Ziffern), zum Beispiel K7QM-3XPA-9RTD.",
        "A booking code has 12 characters (letters and digits), for example K7QM-3XPA-9RTD.",
    ),
    "err.booking_not_found": (
        "Wir finden keine Buchung mit diesem Code und diesem Geburtsdatum. Prüfen Sie beides.",
        "We find no booking with this code and this date of birth. Check both.",
    ),
    "err.lookup_locked": (
        "Für diesen Buchungscode wurden zu viele falsche Geburtsdaten eingegeben. Versuchen Sie "
        "es in {wait} noch einmal oder rufen Sie die Hotline an.",
        "Too many wrong dates of birth were entered for this booking code. Try again in {wait} "
        "or call the hotline.",
    ),
    "err.booking_cancelled": (
        "Diese Buchung ist abgesagt. Abgesagte Termine lassen sich nicht umbuchen.",
        "This booking is cancelled. Cancelled appointments cannot be changed.",
    ),
    "err.centre": (
        "Bitte wählen Sie ein Impfzentrum aus der Liste.",
        "Please choose a centre from the list.",
    ),
    "err.vaccine": (
        "Bitte wählen Sie einen Impfstoff aus der Liste.",
        "Please choose a vaccine from the list.",
    ),
    "err.generic": ("Bitte prüfen Sie die Eingabe: {message}", "Please check the input: {message}"),
    # waiting room
    "queue.title": ("Sie sind in der Warteschlange", "You are in the queue"),
    "queue.intro": (
        "Gerade möchten sehr viele Menschen buchen. Damit die Seite für alle funktioniert, "
        "lassen wir nach und nach Menschen herein. Ihr Platz ist sicher.",
        "Very many people want to book right now. So that the site works for everyone, we "
        "let people in step by step. Your place is safe.",
    ),
    "queue.position": ("Ihre Nummer", "Your number"),
    "queue.serving": ("Zuletzt hereingelassen", "Last let in"),
    "queue.ahead": ("Menschen vor Ihnen", "People ahead of you"),
    "queue.wait": ("Geschätzte Wartezeit", "Estimated wait"),
    "queue.wait.minutes": ("etwa {minutes} Minuten", "about {minutes} minutes"),
    "queue.wait.soon": ("weniger als eine Minute", "less than a minute"),
    "queue.before.title": ("Die Buchung beginnt bald", "Booking opens soon"),
    "queue.before": (
        "Die Buchung beginnt {when}. Dann wird die Reihenfolge aller, die jetzt schon warten, "
        "ausgelost: Wer früher kommt, hat keinen Nachteil und keinen Vorteil.",
        "Booking opens {when}. Then the order of everyone already waiting is drawn by lot: "
        "coming earlier is neither an advantage nor a disadvantage.",
    ),
    "queue.before.now": ("in Kürze", "shortly"),
    "queue.refresh": (
        "Diese Seite lädt sich von selbst neu (etwa alle {seconds} Sekunden). Bitte lassen "
        "Sie sie offen. Sobald Sie an der Reihe sind, geht es automatisch weiter.",
        "This page reloads by itself (about every {seconds} seconds). Please keep it open. "
        "When it is your turn you continue automatically.",
    ),
    "queue.admitted_for": (
        "Wenn Sie an der Reihe sind, haben Sie {minutes} Minuten Zeit für die Buchung.",
        "When it is your turn you have {minutes} minutes to book.",
    ),
    "queue.reload": ("Jetzt neu laden", "Reload now"),
    "queue.paused.title": ("Die Warteschlange ist kurz angehalten", "The queue is paused"),
    "queue.paused": (
        "Wir haben gerade eine technische Störung. Im Moment wird niemand hereingelassen, "
        "auch nicht außer der Reihe. Ihr Platz bleibt erhalten. Die Seite versucht es in "
        "{seconds} Sekunden von selbst wieder.",
        "We have a technical problem right now. Nobody is being let in at the moment, not "
        "even out of turn. Your place is kept. The page tries again by itself in {seconds} "
        "seconds.",
    ),
    "queue.expired": (
        "Sie waren an der Reihe, haben aber die Zeit zum Buchen nicht genutzt. Sie sind wieder "
        "in der Warteschlange.",
        "It was your turn, but the time to book ran out. You are back in the queue.",
    ),
    # staff pages (staff/pages.py): login, start, audit log
    "staff.site": ("Kontingent – Mitarbeiter", "Kontingent – staff"),
    "staff.login.title": ("Anmelden", "Log in"),
    "staff.login.intro": (
        "Für Mitarbeiterinnen und Mitarbeiter der Hotline, der Impfzentren und der Verwaltung.",
        "For staff of the hotline, the vaccination centres and the administration.",
    ),
    "staff.field.username": ("Benutzername", "User name"),
    "staff.field.password": ("Passwort", "Password"),
    "staff.login.submit": ("Anmelden", "Log in"),
    "staff.login.failed": (
        "Benutzername oder Passwort ist falsch. Nach fünf falschen Versuchen ist die "
        "Anmeldung 15 Minuten lang gesperrt.",
        "The user name or password is wrong. After five wrong attempts logging in is locked "
        "for 15 minutes.",
    ),
    "staff.login.locked": (
        "Zu viele falsche Passwörter. Versuchen Sie es in {minutes} Minuten wieder oder bitten "
        "Sie die Verwaltung, Ihr Passwort zurückzusetzen.",
        "Too many wrong passwords. Try again in {minutes} minutes, or ask an administrator to "
        "reset your password.",
    ),
    "staff.login.missing": ("Geben Sie {what} ein.", "Enter your {what}."),
    "staff.home.title": ("Übersicht", "Overview"),
    "staff.home.who": (
        "Angemeldet als {name}, Rolle: {role}.",
        "Logged in as {name}, role: {role}.",
    ),
    "staff.home.centres": ("Ihre Impfzentren: {ids}", "Your vaccination centres: {ids}"),
    "staff.home.nothing": (
        "Die Arbeitsseiten Ihrer Rolle folgen. Bis dahin steht Ihnen die Programmierschnittstelle "
        "zur Verfügung.",
        "The working pages of your role are coming. Until then the API is available to you.",
    ),
    "staff.logout": ("Abmelden", "Log out"),
    "staff.logged_out": ("Sie sind abgemeldet.", "You are logged out."),
    "staff.role.agent": ("Hotline", "Hotline agent"),
    "staff.role.centre_staff": ("Impfzentrum", "Centre staff"),
    "staff.role.admin": ("Verwaltung", "Administrator"),
    "staff.audit.title": ("Protokoll", "Audit log"),
    "staff.audit.filter": ("Filtern", "Filter"),
    "staff.audit.user": ("Benutzer", "User"),
    "staff.audit.action": ("Aktion", "Action"),
    "staff.audit.target": ("Ziel", "Target"),
    "staff.audit.at": ("Zeit", "Time"),
    "staff.audit.role": ("Rolle", "Role"),
    "staff.audit.channel": ("Weg", "Channel"),
    "staff.audit.ip": ("IP-Adresse", "IP address"),
    "staff.audit.empty": ("Keine Einträge für diese Auswahl.", "No entries for this selection."),
    "staff.audit.older": ("Ältere Einträge", "Older entries"),
    "staff.audit.caption": (
        "Einträge, die neuesten zuerst",
        "Entries, newest first",
    ),
}
