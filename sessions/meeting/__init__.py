"""Running a hybrid meeting: agenda, the floor, moderation, join codes, check-in, projector."""
