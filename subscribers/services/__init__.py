"""The audience's services: subscribe, confirm, unsubscribe, preferences, erasure, recipients.

Every function takes the session first and only flushes; the caller (a request, a
command, a job) commits. Nothing here reads the Flask app: the callers pass in the key
ring (`newsticker.core.site.site_keyring`), the links (`site_links`), the settings and
the suppression salts (`suppression_salts` of the secret keys).

One module per concern; this package re-exports the public names, so
`from subscribers import services` and `services.request_subscription` keep working:

- links: signed personal links, VERP tokens, suppression salts
- lookups: finding and creating subscribers and subscriptions
- consent: the consent log and confirmation links
- signup: the double opt-in request and its mail
- preferences: unsubscribing and the preferences page
- privacy: data copy and erasure
- admin: what editors do with the list
- recipients: who receives an issue
- retention: purging unconfirmed sign-ups
- bounces: counting bounces, complaints, unsubscribe mails, reinstating
- returns: reading the bounce mailbox, one run and each message once
- proofs: the proof of each double opt-in, kept for years
"""

from subscribers.models import BounceKind, BounceRun
from subscribers.services.admin import (
    BLOCKED_FILTER,
    SUBSCRIBED_ACTIONS,
    WITHDRAWN_ACTIONS,
    SubscriberFilters,
    WeekGrowth,
    add_subscriber,
    block_subscriber,
    consent_log,
    growth_by_week,
    mail_sent_times,
    recent_imports,
    returns_since,
    search_subscribers,
    subscription_counts,
    unblock_subscriber,
    withdrawn_since,
)
from subscribers.services.bounces import (
    BounceOutcome,
    BouncePolicy,
    bounce_history,
    record_bounce,
    record_complaint,
    record_hard_bounce,
    record_soft_bounce,
    record_unsubscribe_mail,
    reinstate_subscriber,
)
from subscribers.services.consent import (
    CONSENT_TEXT_VERSION,
    CONSENT_TEXTS,
    ConfirmResult,
    ConfirmState,
    confirm_subscription,
    inspect_confirmation,
    log_consent,
)
from subscribers.services.links import (
    DATA_COPY_LINK_DAYS,
    ONE_CLICK_BODY,
    PREFERENCES_PURPOSE,
    SUPPRESSION_CONTEXT,
    UNSUBSCRIBE_PURPOSE,
    VERP_PURPOSE,
    LinkPrefixes,
    confirm_url,
    data_copy_url,
    list_unsubscribe_headers,
    personal_links,
    preferences_token,
    preferences_url,
    read_data_copy_token,
    read_preferences_token,
    read_unsubscribe_token,
    suppression_salts,
    unsubscribe_token,
    verp_subscriber_id,
    verp_token,
)
from subscribers.services.lookups import (
    LANGUAGES,
    SubscriberError,
    confirmed_publications,
    find_subscriber,
    get_subscriber,
    is_suppressed,
    subscription_of,
)
from subscribers.services.preferences import (
    PreferenceChanges,
    UnsubscribeOutcome,
    is_subscribed,
    unsubscribe,
    update_preferences,
)
from subscribers.services.privacy import (
    MAIL_PURPOSES,
    erase_subscriber,
    send_data_copy,
    subscriber_data,
    subscriber_data_json,
)
from subscribers.services.proofs import (
    ProofMail,
    consent_proofs,
    get_proof,
    proof_ended_at,
    purge_consent_proofs,
    read_proof_mail,
)
from subscribers.services.recipients import (
    Recipient,
    count_per_publication,
    count_recipients,
    receiving_subscriber_ids,
    recipient_languages,
    recipient_rows,
)
from subscribers.services.retention import PurgeRun, purge_pending_signups
from subscribers.services.returns import (
    Disposition,
    Outcome,
    ReturnSettings,
    finish_run,
    handle_message,
    purge_bounce_runs,
    recent_runs,
    removed_in_run,
    start_run,
)
from subscribers.services.signup import (
    MailWindow,
    SignupOutcome,
    SignupRequest,
    request_subscription,
    resend_confirmation,
)

__all__ = [
    "BLOCKED_FILTER",
    "CONSENT_TEXTS",
    "CONSENT_TEXT_VERSION",
    "DATA_COPY_LINK_DAYS",
    "LANGUAGES",
    "MAIL_PURPOSES",
    "ONE_CLICK_BODY",
    "PREFERENCES_PURPOSE",
    "SUBSCRIBED_ACTIONS",
    "SUPPRESSION_CONTEXT",
    "UNSUBSCRIBE_PURPOSE",
    "VERP_PURPOSE",
    "WITHDRAWN_ACTIONS",
    "BounceKind",
    "BounceOutcome",
    "BouncePolicy",
    "BounceRun",
    "ConfirmResult",
    "ConfirmState",
    "Disposition",
    "LinkPrefixes",
    "MailWindow",
    "Outcome",
    "PreferenceChanges",
    "ProofMail",
    "PurgeRun",
    "Recipient",
    "ReturnSettings",
    "SignupOutcome",
    "SignupRequest",
    "SubscriberError",
    "SubscriberFilters",
    "UnsubscribeOutcome",
    "WeekGrowth",
    "add_subscriber",
    "block_subscriber",
    "bounce_history",
    "confirm_subscription",
    "confirm_url",
    "confirmed_publications",
    "consent_log",
    "consent_proofs",
    "count_per_publication",
    "count_recipients",
    "data_copy_url",
    "erase_subscriber",
    "find_subscriber",
    "finish_run",
    "get_proof",
    "get_subscriber",
    "growth_by_week",
    "handle_message",
    "inspect_confirmation",
    "is_subscribed",
    "is_suppressed",
    "list_unsubscribe_headers",
    "log_consent",
    "mail_sent_times",
    "personal_links",
    "preferences_token",
    "preferences_url",
    "proof_ended_at",
    "purge_bounce_runs",
    "purge_consent_proofs",
    "purge_pending_signups",
    "read_data_copy_token",
    "read_preferences_token",
    "read_proof_mail",
    "read_unsubscribe_token",
    "receiving_subscriber_ids",
    "recent_imports",
    "recent_runs",
    "recipient_languages",
    "recipient_rows",
    "record_bounce",
    "record_complaint",
    "record_hard_bounce",
    "record_soft_bounce",
    "record_unsubscribe_mail",
    "reinstate_subscriber",
    "removed_in_run",
    "request_subscription",
    "resend_confirmation",
    "returns_since",
    "search_subscribers",
    "send_data_copy",
    "start_run",
    "subscriber_data",
    "subscriber_data_json",
    "subscription_counts",
    "subscription_of",
    "suppression_salts",
    "unblock_subscriber",
    "unsubscribe",
    "unsubscribe_token",
    "update_preferences",
    "verp_subscriber_id",
    "verp_token",
    "withdrawn_since",
]
