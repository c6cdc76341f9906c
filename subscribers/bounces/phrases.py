"""The phrases mail servers write for each reason, and for the SMTP command they refused at.

Tables of (reason, pattern), searched in order: the first match names the reason. Words
are matched case-insensitively in the server's text with addresses and links taken out.
The phrases come from Postfix, Exim, Sendmail, qmail, Exchange, Domino, Gmail, Yahoo,
Outlook.com, Amazon SES and the appliances in front of them, in the languages seen in
returned mail; `DEFINITE_HARD` holds the few that a mailbox's own system writes for a
missing mailbox and for nothing else.
"""

from __future__ import annotations

import re

from subscribers.bounces.reasons import Reason

Table = tuple[tuple[Reason, re.Pattern[str]], ...]


def _any(*phrases: str) -> re.Pattern[str]:
    return re.compile("|".join(phrases), re.IGNORECASE)


# Phrases that mean a dead address although they contain a soft word ("access denied",
# "blacklisted"), or that servers are known to write for one kind of failure only.
DEFINITE_HARD: Table = (
    (
        Reason.USER_UNKNOWN,
        _any(
            # Postfix and Exchange Online, at RCPT TO.
            r"recipient address rejected: access denied",
            r"recipient address rejected\.(?:\s|$)",
            # The mailbox's own system, in words it uses for nothing else.
            r"the recipient name is not recognized",  # Exchange 2000/2003
            r"resolver\.adr\.\w*notfound",  # Exchange
            r"the email address you entered couldn'?t be found",  # Exchange Online
            r"the email account that you tried to reach does not exist",  # Gmail
            r"this user doesn'?t have an? yahoo\.[a-z.]+ account",  # Yahoo, even after DATA
            r"not listed in (?:the )?(?:public )?name (?:&|and) address book",  # Domino
            r"not listed in (?:the )?domino directory",
            r"ディレクトリのリストにありません",  # Domino, Japanese
            r"requested action not taken: mailbox unavailable",  # Outlook.com
            r"no valid recipients for this mm",  # Verizon MMS
            r"invalid (?:final )?delivery userid",  # SMTP32
            r"unknown user:(?:\s|$)",  # IMail
            r"\(and other recipients in the same domain\)",  # InterScan MSS
        ),
    ),
    (
        Reason.HOST_UNKNOWN,
        # cPanel's Exim, when the domain has no mail server at all.
        _any(r"the account or domain may not exist"),
    ),
)

# Soft reasons first: their order decides when a text names several.
SOFT_TEXTS: Table = (
    (
        Reason.MAILBOX_FULL,
        _any(
            r"mailbox (?:is )?full",
            r"full mailbox",
            r"mail ?(?:box|folder) (?:is )?(?:full|over|exceed)",
            r"over ?quota",
            r"quota (?:exceeded|violation|full)",
            r"exceeding (?:their|the|its|his|her)? ?quota",
            r"exceeded (?:the )?(?:storage|quota|disk)",
            r"exceeds? (?:the )?(?:allowed|maximum)? ?(?:size|storage|quota)",
            r"(?:insufficient|not enough|not sufficient) (?:disk |storage )?space",
            r"no space left",
            r"user'?s? (?:disk )?quota",
            r"mailbox size limit",
            r"disk quota",
            r"too many messages (?:on|in)",
            r"postfach (?:ist )?voll",
            r"speicherplatz",
            r"bo[iî]te (?:du destinataire |aux lettres )?pleine",
            r"casella (?:di posta )?piena",
            r"buz[oó]n lleno",
        ),
    ),
    (
        Reason.TOO_BIG,
        _any(
            r"(?:message|mail|e-mail|email) (?:is )?(?:too (?:large|big)|size exceeds)",
            r"message (?:length|size) exceeds",
            r"exceed(?:s|ed|ing)? (?:the )?(?:maximum |max |allowed )?(?:incoming )?"
            r"(?:message )?size",
            r"size limit",
            r"message too long",
            r"mail too large",
        ),
    ),
    (
        Reason.MAILBOX_DISABLED,
        _any(
            r"(?:is |been |currently |temporarily )suspended",
            r"account (?:is |has been )?(?:disabled|deactivated|locked|inactive|frozen)",
            r"(?:account|mailbox)\b.{0,40}\b(?:is|has been) "
            r"(?:disabled|suspended|inactive|deactivated|locked|frozen)",
            r"mailbox (?:is )?(?:disabled|inactive|frozen|locked|suspended)",
            r"inactive (?:account|mailbox|user)",
            r"(?:user|recipient) (?:is )?(?:suspended|inactive|deactivated|disabled)",
            r"temporarily inactive",
            r"deactivated mailbox",
            r"archived recipient",
            r"mailbox unavailable or access denied",
        ),
    ),
    (
        Reason.SPAM,
        _any(
            r"\bspam(?!haus|cop|trap)",
            r"junk mail",
            r"virus",
            r"malware",
            r"content (?:rejected|filter|policy)",
            r"(?:message|mail) (?:content )?(?:rejected|refused) "
            r"(?:due to|because of|for) (?:content|policy)",
            r"filtered",
            r"bulk mail",
            r"unsolicited",
            r"\bUBE\b",
            r"\bUCE\b",
        ),
    ),
    (
        Reason.BLOCKED,
        _any(
            r"black ?list",
            r"block ?list",
            r"\bblocked\b",
            r"\bRBL\b",
            r"\bDNSBL\b",
            r"spamhaus",
            r"spamcop",
            r"barracuda",
            r"sorbs",
            r"reputation",
            r"reverse (?:dns|lookup)",
            r"\brDNS\b",
            r"\bPTR\b",
            r"no (?:dns )?reverse",
            r"\bSPF\b",
            r"\bDKIM\b",
            r"\bDMARC\b",
            r"sender (?:address |domain )?(?:rejected|denied|verify failed|refused)",
            r"domain of sender(?: address)?",
            r"sender (?:address |domain )?(?:\S+ )?(?:does not exist|unknown|not found|invalid)",
            r"(?:mail from|envelope sender|return path) .{0,40}(?:rejected|refused|invalid)",
            r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)",
            r"not permitted to relay",
            r"unable to relay",
            r"we do not relay",
            r"(?:client|connection|host|ip) (?:\S+ )?(?:rejected|refused|denied|blocked)",
            r"\bIP\b.{0,40}(?:listed|rejected|refused|blocked)",
            r"(?<!not )listed (?:on|in|at)",
            r"access denied",
            r"not accepting (?:mail|messages) from",
            r"unauthenticated senders?",
            r"invalid ip for sending",
            r"not authorized",
            r"authentication required",
            r"starttls",
            r"\bTLS\b",
            r"requires? (?:encryption|authentication)",
        ),
    ),
    (
        Reason.RATE_LIMIT,
        _any(
            r"rate ?limit",
            r"too many (?:messages|mails|recipients|connections|concurrent|sessions)",
            r"too fast",
            r"sending rate",
            r"rate that prevents",
            r"receiving mail at a rate",
            r"try again later",
            r"exceeded (?:the )?(?:limit|maximum number)",
            r"limit exceeded",
            r"greylist",
            r"gr[ae]ylisted",
        ),
    ),
    (
        Reason.EXPIRED,
        _any(
            r"expired",
            r"retry time(?:out)? (?:exceeded|not reached)",
            r"time(?:d)? out",
            r"timeout",
            r"could not be delivered (?:for|within|in) \d",
            r"(?:has been|was) (?:in|on) the queue (?:too long|for)",
            r"too long in (?:the )?queue",
            r"delivery attempts (?:have )?failed",
            r"maximum (?:time|number of (?:delivery )?attempts)",
            r"unable to deliver (?:the )?message after",
            r"(?:have|has) been failing for a long time",
            r"failed \d+ attempts",
            r"did not accept our requests to connect",
        ),
    ),
    (
        Reason.NETWORK,
        _any(
            r"host not found, try again",
            r"temporary failure in name resolution",
            r"\bservfail\b",
            r"dns (?:lookup )?(?:timeout|timed out|server failure|temporary)",
        ),
    ),
)

HARD_TEXTS: Table = (
    (
        Reason.MOVED,
        _any(
            r"has moved",
            r"(?:has been|was) replaced by",
            r"no (?:longer|more) (?:at|with) this",
            r"no forwarding address",
            r"address (?:has )?changed",
        ),
    ),
    (
        Reason.NO_MAIL_DOMAIN,
        _any(
            r"null ?mx",
            r"(?:host|domain|host/domain) does not accept mail",
            r"does not accept (?:e-?)?mail",
            r"mail receiving disabled",
            r"no mx record",
            r"accepts no mail",
        ),
    ),
    (
        Reason.HOST_UNKNOWN,
        _any(
            r"(?:host|domain)(?: name)? (?:is )?"
            r"(?:unknown|not found|does not exist|doesn't exist|not reachable|unreachable)",
            r"(?:unknown|non-?existent|invalid) (?:host|domain)",
            r"host or domain name not found",
            r"name or service not known",
            r"no such (?:host|domain)",
            r"domain must exist",
            r"unrout(?:e)?able (?:address|domain|mail domain)",
            r"couldn'?t find (?:a |any )?(?:mail exchanger|host|mx)",
            r"no (?:mx|mail exchanger|mail server)s? (?:records? )?(?:found )?for",
            r"domain (?:name )?(?:does not exist|not found|unknown)",
            r"mail domain .{0,40}unknown",
            r"\bNXDOMAIN\b",
            r"domain (?:name )?(?:lookup|resolution) failed",
            r"could not be resolved",
        ),
    ),
    (
        Reason.USER_UNKNOWN,
        _any(
            r"(?:user|recipient|addressee|mailbox|account|address|e-?mail address) "
            r"(?:name )?(?:is )?(?:unknown|not (?:found|known|exist|valid|present|local|listed)|"
            r"does ?n[o']t exist|doesn't exist|no longer (?:exists|valid|available|in use))",
            r"unknown (?:user|recipient|mailbox|account|address|local ?part|e-?mail address)",
            r"no such (?:user|recipient|mailbox|account|address|person|local user)",
            r"(?:invalid|bad|non-?existent|nonexistent|unrouteable) "
            r"(?:recipient|mailbox|user|address|destination mailbox)",
            r"not a valid (?:recipient|user|mailbox|address)",
            r"is not a known user",
            r"no (?:mail ?box|account) (?:here |found|available|by that name)",
            r"couldn'?t be found",
            r"could not be found",
            r"does not exist",
            r"doesn'?t have an? .{1,30}account",
            r"recip(?:ient)?notfound",
            r"resolver\.adr\.",
            r"not listed in (?:the )?(?:public |domino )?(?:name (?:&|and) address book|directory)",
            r"mailbox (?:is )?unavail",
            r"no valid recipients?",
            r"invalid (?:final )?delivery userid",
            r"(?:please )?(?:check|verify) (?:if |that |whether )?(?:the )?"
            r"(?:recipient'?s? )?(?:e-?mail )?address (?:is )?(?:correct|valid|spelled)",
            r"adresse[^.]{0,80}n'existe pas",
            r"ディレクトリのリストにありません",
            r"宛先(?:が)?(?:不明|見つかりません)",
            r"(?:ユーザ|アドレス|宛先)[^。]{0,10}存在しません",
            r"no (?:such|longer a) .{0,20}(?:user|address)",
            r"there is no one at this address",
            r"no longer accepts mail",
            r"(?:benutzer|empf[aä]nger|adresse|postfach) (?:ist )?"
            r"(?:unbekannt|existiert nicht|nicht gefunden)",
            r"unbekannte?r? (?:benutzer|empf[aä]nger|adresse)",
            r"utilisateur inconnu",
            r"destinataire inconnu",
            r"adresse (?:de destination |d'au moins un destinataire )?invalide",
            r"usuario (?:desconocido|no existe)",
            r"no existe",
            r"utente (?:sconosciuto|inesistente)",
            r"nessun utente",
        ),
    ),
)

LATE_SOFT_TEXTS: Table = (
    (
        Reason.NETWORK,
        _any(
            r"connection (?:refused|reset|closed|lost|dropped)",
            r"(?:dns|name server|nameserver) (?:error|failure|problem|lookup)",
            r"lost connection",
            r"network",
            r"unreachable",
            r"temporary (?:lookup )?failure",
        ),
    ),
    (
        Reason.SYSTEM,
        _any(
            r"system (?:error|failure|not accepting)",
            r"service (?:currently )?unavailable",
            r"not accepting connections",
            r"transaction failed",
            r"internal (?:server )?error",
            r"local (?:configuration|delivery) error",
            r"mailer error",
            r"configuration error",
            r"server error",
            r"i/o error",
            r"input/output error",
            r"loops? back",
            r"mail loop",
            r"too many hops",
            r"syntax error",
            r"protocol error",
        ),
    ),
)

# Where in the SMTP dialogue the server refused: after DATA a filter may speak, at
# RCPT TO the server judges the address, at MAIL FROM it objects to the sender.
AFTER_DATA = re.compile(
    r"after (?:end of )?data|in reply to (?:end of )?data|>>> data\b|"
    r"smtp command\W+data\b|while sending (?:the )?(?:message|data)|"
    # "550 : User unknown": the reply's address slot is empty, as after DATA.
    r"(?:^|\s)[45]\d\d\s?:\s+user unknown",
    re.IGNORECASE,
)
AT_RCPT = re.compile(
    r"rcpt to|in reply to rcpt|>>> rcpt\b|after rcpt|does not like recipient|"
    r"resolver\.adr\.|most progress was rcpt",
    re.IGNORECASE,
)
# Refused at MAIL FROM: the server objects to the sender, before it hears of a recipient.
AT_MAIL_FROM = re.compile(r"after mail from|in reply to mail from|>>> mail from\b", re.IGNORECASE)
