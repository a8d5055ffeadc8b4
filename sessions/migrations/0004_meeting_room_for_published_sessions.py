"""Every session out of draft has its meeting room (sessions/meeting/rooms.py makes it when a
session leaves draft from now on; the session page only reads it)."""

import secrets

from django.db import migrations

from sessions.meeting.rules import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH


def rooms_for_published(apps, schema_editor):
    TopicSession = apps.get_model("topic_sessions", "TopicSession")
    MeetingRoom = apps.get_model("topic_sessions", "MeetingRoom")
    taken = set(MeetingRoom.objects.values_list("join_code", flat=True))
    for session_id in TopicSession.objects.exclude(state="draft").filter(meeting_room__isnull=True).values_list("pk", flat=True):
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _i in range(JOIN_CODE_LENGTH))
        while code in taken:
            code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _i in range(JOIN_CODE_LENGTH))
        taken.add(code)
        MeetingRoom.objects.create(
            session_id=session_id, join_code=code, checkin_token=secrets.token_urlsafe(18), projector_token=secrets.token_urlsafe(24)
        )


class Migration(migrations.Migration):
    dependencies = [("topic_sessions", "0003_message_idempotency_key")]

    operations = [migrations.RunPython(rooms_for_published, migrations.RunPython.noop)]
