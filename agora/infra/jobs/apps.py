from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Holds ``manage.py run_jobs``; the job rows are django-tasks-db's (app ``django_tasks_db``)."""

    name = "agora.infra.jobs"
    label = "agora_jobs"
    verbose_name = "Jobs"
