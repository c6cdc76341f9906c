"""Services for issues: drafting from approved items, composing, the way to sent, queries.

Every change goes through here; views, the CLI and jobs only call these functions and
own the transaction (services flush, never commit). The package has a module per
concern, and this module re-exports the names the rest of the code imports:

- `audience`: the publications an issue goes to (special editions) and their counts;
- `changes`: IssueError, StaleIssue, the version check every change makes;
- `drafting`: the next draft from approved items, issue numbers, send times;
- `composing`: subject, editorial, entries and their order, checks of editor text;
- `images`: the one image of the editorial or of an article;
- `figures`: the key figures of "facts and figures";
- `lifecycle`: the transition table, scheduling, sending, test sends;
- `queries`: the editor's list, the archive, items to add by hand;
- `versions`: articles' texts in more languages.
"""

from __future__ import annotations

from newsticker.issues.services.audience import (
    AudienceCount,
    PublicationCount,
    choose_publications,
    count_audience,
    extra_publications,
    issue_publications,
)
from newsticker.issues.services.changes import (
    IssueError,
    StaleIssue,
    begin_change,
    check_version,
    current_time,
)
from newsticker.issues.services.composing import (
    EDITORIAL_MAX,
    PREHEADER_MAX,
    SUBJECT_MAX,
    add_article,
    add_item,
    check_link,
    check_markdown,
    move_entry,
    remove_entry,
    reorder_section,
    set_article_image,
    update_issue,
)
from newsticker.issues.services.drafting import (
    MAX_CANDIDATES,
    WEEKDAYS,
    Candidate,
    DraftResult,
    candidates,
    claimed_keys,
    draft_issue,
    local_send_time,
    next_send_time,
    open_draft,
    publication_settings,
)
from newsticker.issues.services.figures import (
    MAX_FIGURE_ABS,
    MAX_FIGURES,
    FigureData,
    add_figure,
    figure_input_value,
    move_figure,
    parse_figure_value,
    remove_figure,
    update_figure,
)
from newsticker.issues.services.images import ImageChange
from newsticker.issues.services.lifecycle import (
    MAX_TEST_ADDRESSES,
    REFUSALS,
    TRANSITIONS,
    IssueAction,
    allows,
    bring_forward,
    cancel_issue,
    check_sendable,
    due_issues,
    mark_sent,
    parse_addresses,
    rendered_entry_count,
    require,
    restore_issue,
    schedule_at_local_time,
    schedule_issue,
    send_test,
    size_problem,
    start_sending,
    stop_sending,
    transition,
    unschedule_issue,
)
from newsticker.issues.services.queries import (
    archive_version,
    archived_issue,
    archived_issues,
    available_items,
    editor_issues,
    next_occurrence,
)
from newsticker.issues.services.versions import (
    ArticleVersionInput,
    approve_article_version,
    article_version_errors,
    delete_article_version,
    propose_article_version,
)

__all__ = [
    "EDITORIAL_MAX",
    "MAX_CANDIDATES",
    "MAX_FIGURES",
    "MAX_FIGURE_ABS",
    "MAX_TEST_ADDRESSES",
    "PREHEADER_MAX",
    "REFUSALS",
    "SUBJECT_MAX",
    "TRANSITIONS",
    "WEEKDAYS",
    "ArticleVersionInput",
    "AudienceCount",
    "Candidate",
    "DraftResult",
    "FigureData",
    "ImageChange",
    "IssueAction",
    "IssueError",
    "PublicationCount",
    "StaleIssue",
    "add_article",
    "add_figure",
    "add_item",
    "allows",
    "approve_article_version",
    "archive_version",
    "archived_issue",
    "archived_issues",
    "article_version_errors",
    "available_items",
    "begin_change",
    "bring_forward",
    "cancel_issue",
    "candidates",
    "check_link",
    "check_markdown",
    "check_sendable",
    "check_version",
    "choose_publications",
    "claimed_keys",
    "count_audience",
    "current_time",
    "delete_article_version",
    "draft_issue",
    "due_issues",
    "editor_issues",
    "extra_publications",
    "figure_input_value",
    "issue_publications",
    "local_send_time",
    "mark_sent",
    "move_entry",
    "move_figure",
    "next_occurrence",
    "next_send_time",
    "open_draft",
    "parse_addresses",
    "parse_figure_value",
    "propose_article_version",
    "publication_settings",
    "remove_entry",
    "remove_figure",
    "rendered_entry_count",
    "reorder_section",
    "require",
    "restore_issue",
    "schedule_at_local_time",
    "schedule_issue",
    "send_test",
    "set_article_image",
    "size_problem",
    "start_sending",
    "stop_sending",
    "transition",
    "unschedule_issue",
    "update_figure",
    "update_issue",
]
