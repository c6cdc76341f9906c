"""Volunteer translators: the editors' list of them, requests for a version, the private link.

`models` (Translator, TranslationRequest), `services/` (`people`: the list the editors
keep; `requests`: asking, the translator's answer, expiry, what the dashboard shows),
`mails`, `forms`, `editor_views` (under /redaktion/uebersetzungen) and `views` (the
translator's page behind the private link, /uebersetzen/<token>).
"""
