"""The pages of an owners' decision: the moderator's list, draft and steps, the decision page,
the owner's ballot (online and in the room), the notices, the reminder banner and the archive
entry (docs/decisions-over-days.md, "Pages")."""
