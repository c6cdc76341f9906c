"""Auto-replies and challenge-response mails: a person's robot answered, the address works.

RFC 3834 marks replies with Auto-Submitted: auto-replied; older robots use X-Autoreply,
X-Autorespond, Precedence: auto_reply or vendor headers, and many only show it in the
subject, in the person's language. Challenge-response systems ask the sender to prove
it is a person before the mail is delivered; they are robots answering too.

This is asked only of mail that is neither a delivery status report nor a failure notice:
mail servers put Auto-Submitted on their bounces, and a bounce stays a bounce.
"""

from __future__ import annotations

import re
from email.message import Message

from subscribers.bounces.parsing import header

_SUBJECT = re.compile(
    r"out of (?:the )?office|\booo\b|automatic reply|auto(?:matic)?[- ]?(?:reply|response|answer)|"
    r"autoreply|autoresponder|vacation|on holiday|on leave|away from (?:the |my )?(?:office|desk)|"
    r"abwesen|automatische antwort|nicht im b[üu]ro|urlaub|"
    r"r[ée]ponse automatique|absence|absent du bureau|"
    r"respuesta autom[áa]tica|fuera de (?:la )?oficina|ausente|"
    r"risposta automatica|fuori (?:ufficio|sede)|assente|"
    r"automatisch antwoord|afwezig|niet aanwezig|"
    r"autosvar|fr[åa]nvaro|frav[æe]r|poza biurem|automatyczna odpowied|"
    r"otomatik yan[ıi]t|ofis d[ıi]ş[ıi]nda|izindeyim|"
    r"автоответ|автоматический ответ|не в офисе|в отпуске|автовідповідь|відпустц|"
    r"自動応答|自動返信|不在|自动回复|رد تلقائي|خارج المكتب|پاسخ خودکار|خارج از دفتر",
    re.IGNORECASE,
)
_CHALLENGE_SUBJECT = re.compile(
    r"please confirm (?:your|that)|verify (?:your|that you)|awaiting (?:your )?verification|"
    r"confirm your (?:message|e-?mail)|challenge|sender verification|"
    r"bitte best[äa]tigen sie|absender(?:best[äa]tigung|verifizierung)",
    re.IGNORECASE,
)
_CHALLENGE_HEADERS = ("X-Boxbe-Challenge", "X-Challenge", "X-SpamArrest", "X-Bounce-Challenge")


def is_auto_reply(message: Message) -> bool:
    """Return whether a mail is an automatic reply or a challenge, not a failure."""
    auto_submitted = header(message, "Auto-Submitted").casefold()
    if auto_submitted.startswith("auto-replied"):
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation"):
        if header(message, name):
            return True
    if header(message, "Precedence").casefold() == "auto_reply":
        return True
    if header(message, "X-Apple-Action").casefold() == "vacation":
        return True
    if "autoresponder" in header(message, "X-POST-MessageClass").casefold():
        return True
    if any(header(message, name) for name in _CHALLENGE_HEADERS):
        return True
    subject = header(message, "Subject")
    if _SUBJECT.search(subject) or _CHALLENGE_SUBJECT.search(subject):
        return True
    # "auto-generated" with In-Reply-To is what some robots write instead of auto-replied.
    return auto_submitted.startswith("auto-generated") and bool(header(message, "In-Reply-To"))
